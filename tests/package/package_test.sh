#!/usr/bin/env bash
# The Debian packages of a build tree, installed for real on this machine as
# an admin would (apt-get install ./x.deb), then purged:
#   - cpack -G DEB makes libapache2-mod-cscguard and cscguard;
#   - their contents are where Debian's httpd and man look (paths from the
#     build's own configuration, i.e. from apxs);
#   - after `a2enmod cscguard`, `apachectl configtest` passes with the module
#     loaded, `cscguard --version` and `man -w cscguard` work;
#   - installing it again over itself (an upgrade) while it is enabled and
#     its conf edited keeps both, and asks apache2 to restart (postinst);
#   - removing the module's package while it is enabled disables it (prerm)
#     and keeps its conffiles; purging leaves no file and no a2enmod state
#     (postrm); configtest passes after each.
# Everything it changes is undone on every exit. It never starts httpd: a
# policy-rc.d forbids service actions while it runs (as in a chroot), so the
# maintainer scripts' reload of apache2 does nothing.
#
#   tests/package/package_test.sh BUILD_DIR
set -euo pipefail
[ $# -eq 1 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build=$(cd "$1" && pwd)
export DEBIAN_FRONTEND=noninteractive

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for pkg in libapache2-mod-cscguard cscguard; do
  if installed "$pkg"; then
    fail "$pkg is installed on this machine already: this test installs and purges it, so it will not touch that install (remove it first)"
  fi
done

tmp=$(mktemp -d /tmp/cscguard-package.XXXXXX)
# Modules a2enmod enables along with cscguard (ssl, socache_shmcb) are
# disabled again unless they were enabled before.
enabled_before=" $(cd /etc/apache2/mods-enabled && ls *.load 2>/dev/null | tr '\n' ' ') "
# a2enmod/a2dismod's memory of what the admin or a package enabled or
# disabled: put back as it was (a2dismod below would mark ssl "disabled by
# the admin", and a later package could not enable it).
module_state=/var/lib/apache2/module
[ -d "$module_state" ] && cp -a "$module_state" "$tmp/module-state"
own_policy_rc=no
. "$(dirname "$0")/../support/exit_traps.sh"
cleanup() {
  local status=$?
  set +e
  stop_watchdog
  [ -e /etc/apache2/mods-enabled/cscguard.load ] && a2dismod -q -f cscguard >/dev/null
  for pkg in libapache2-mod-cscguard cscguard; do
    dpkg-query -W "$pkg" >/dev/null 2>&1 && dpkg --purge "$pkg" >/dev/null 2>&1
  done
  for load in /etc/apache2/mods-enabled/*.load; do
    [ -e "$load" ] || [ -L "$load" ] || continue
    case $enabled_before in *" $(basename "$load") "*) ;; *) a2dismod -q -f "$(basename "$load" .load)" >/dev/null ;; esac
  done
  if [ -d "$tmp/module-state" ]; then
    rm -rf "$module_state" && cp -a "$tmp/module-state" "$module_state"
  fi
  [ "$own_policy_rc" = yes ] && rm -f /usr/sbin/policy-rc.d
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
exit_traps 240  # ctest's TIMEOUT is 300 s, less an apt or dpkg run
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# package_test.sh: no service actions while it runs\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  own_policy_rc=yes
fi

libexec=$(apxs -q LIBEXECDIR)
sysconf=$(apxs -q SYSCONFDIR)

echo "== cpack -G DEB in $build"
(cd "$build" && cpack -G DEB -B "$tmp/debs" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
module_deb=$(ls "$tmp"/debs/libapache2-mod-cscguard_*.deb)
tool_deb=$(ls "$tmp"/debs/cscguard_*.deb)
echo "made $(basename "$module_deb") and $(basename "$tool_deb")"

echo "== contents"
contains() {  # DEB PATH
  dpkg-deb --contents "$1" | awk '{print $6}' | grep -qx "\.$2" || fail "$(basename "$1") lacks $2"
}
contains "$module_deb" "$libexec/mod_cscguard.so"
contains "$module_deb" "$sysconf/mods-available/cscguard.load"
contains "$module_deb" "$sysconf/mods-available/cscguard.conf"
contains "$module_deb" /usr/share/doc/libapache2-mod-cscguard/README.md
contains "$tool_deb" /usr/bin/cscguard
contains "$tool_deb" /usr/share/man/man1/cscguard.1.gz
contains "$tool_deb" /usr/share/doc/cscguard/README.md
dpkg-deb --field "$module_deb" Depends | grep -q 'apache2-api-20120211' || fail "the module does not depend on httpd's module ABI"
dpkg-deb --field "$module_deb" Depends | grep -q 'libhiredis' || fail "the module's library dependencies are missing"
dpkg-deb --field "$module_deb" Depends | grep -qF 'apache2-bin (>= 2.4.47)' ||
  fail "the module (built for ap_ssl_var_lookup) does not depend on httpd 2.4.47 or later"
dpkg-deb --ctrl-tarfile "$module_deb" | tar -xO ./conffiles | grep -qx "$sysconf/mods-available/cscguard.conf" ||
  fail "cscguard.conf is not a conffile"

echo "== apt-get install"
apt-get -o DPkg::Lock::Timeout=120 install -y -q --no-install-recommends "$module_deb" "$tool_deb" </dev/null \
  >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log" >&2; fail "apt-get install failed"; }
installed libapache2-mod-cscguard || fail "libapache2-mod-cscguard is not installed"
installed cscguard || fail "cscguard is not installed"
[ ! -e /etc/apache2/mods-enabled/cscguard.load ] || fail "the package enabled the module by itself"

echo "== a2enmod cscguard && apachectl configtest"
a2enmod -q cscguard
[ -L /etc/apache2/mods-enabled/cscguard.load ] || fail "a2enmod did not enable cscguard"
[ -L /etc/apache2/mods-enabled/ssl.load ] || fail "a2enmod did not enable cscguard's dependency ssl"
loaded=$(awk '$1 == "LoadModule" {print $3}' /etc/apache2/mods-enabled/cscguard.load)
[ "$loaded" = "$libexec/mod_cscguard.so" ] && [ -f "$loaded" ] || fail "LoadModule names '$loaded'"
apachectl configtest 2>&1 | tee "$tmp/configtest.log" | grep -q "Syntax OK" ||
  { cat "$tmp/configtest.log" >&2; fail "apachectl configtest failed with the module enabled"; }
apachectl -M 2>/dev/null | grep -q "cscguard_module (shared)" || fail "httpd does not list cscguard_module"

echo "== the tool"
cscguard --version | grep -qx "cscguard [0-9][0-9.]*" || fail "cscguard --version"
cscguard --help | grep -q "^verbs:" || fail "cscguard --help"
[ "$(man -w cscguard)" = /usr/share/man/man1/cscguard.1.gz ] || fail "man -w cscguard: $(man -w cscguard 2>&1)"
warnings=$(LC_ALL=C.UTF-8 man --warnings -l /usr/share/man/man1/cscguard.1.gz 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "the man page renders with warnings: $warnings"
cscguard --dir "$tmp/ca" init --name package-ca >/dev/null || fail "cscguard init"

echo "== the same package again over itself (an upgrade), the module enabled and its conf edited"
echo "# edited by package_test.sh" >>"$sysconf/mods-available/cscguard.conf"
dpkg -i "$module_deb" >"$tmp/upgrade.log" 2>&1 </dev/null || { cat "$tmp/upgrade.log" >&2; fail "the upgrade failed"; }
[ -L /etc/apache2/mods-enabled/cscguard.load ] || fail "the upgrade disabled the module"
grep -q "edited by package_test.sh" "$sysconf/mods-available/cscguard.conf" || fail "the upgrade replaced the admin's cscguard.conf"
# The policy-rc.d in place (ours, or a container's) refuses service actions,
# and invoke-rc.d says so when postinst asks it to restart apache2.
policy_rc=0
/usr/sbin/policy-rc.d apache2 restart >/dev/null 2>&1 || policy_rc=$?
if [ "$policy_rc" -eq 101 ]; then
  grep -q "policy-rc.d denied execution of restart" "$tmp/upgrade.log" ||
    { cat "$tmp/upgrade.log" >&2; fail "the upgrade did not restart apache2 (postinst)"; }
fi
apachectl configtest >"$tmp/configtest.log" 2>&1 || { cat "$tmp/configtest.log" >&2; fail "configtest fails after the upgrade"; }

echo "== dpkg --remove, the module still enabled"
dpkg --remove libapache2-mod-cscguard >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "remove failed"; }
[ ! -e /etc/apache2/mods-enabled/cscguard.load ] && [ ! -L /etc/apache2/mods-enabled/cscguard.load ] ||
  fail "removing the package left a dangling mods-enabled/cscguard.load"
[ ! -e "$libexec/mod_cscguard.so" ] || fail "the module is left after remove"
[ -e "$sysconf/mods-available/cscguard.conf" ] || fail "remove (not purge) took the admin's cscguard.conf"
apachectl configtest >"$tmp/configtest.log" 2>&1 || { cat "$tmp/configtest.log" >&2; fail "configtest fails after remove"; }

echo "== dpkg --purge"
dpkg --purge libapache2-mod-cscguard cscguard >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "purge failed"; }
for f in "$libexec/mod_cscguard.so" "$sysconf/mods-available/cscguard.load" "$sysconf/mods-available/cscguard.conf" \
         /usr/bin/cscguard /usr/share/man/man1/cscguard.1.gz; do
  [ ! -e "$f" ] || fail "$f is left after purge"
done
left=$(find "$module_state" -name 'cscguard*' 2>/dev/null)
[ -z "$left" ] || fail "purge left a2enmod's state of the module: $left"
apachectl configtest >"$tmp/configtest.log" 2>&1 || { cat "$tmp/configtest.log" >&2; fail "configtest fails after purge"; }
echo "package_test: OK"
