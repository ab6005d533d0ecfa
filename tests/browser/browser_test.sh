#!/usr/bin/env bash
# A real browser, end to end: Debian's headless Chromium with client
# certificates imported from the .p12 bundles the cscguard tool writes, as
# end users do, against a real httpd with mod_ssl and mod_cscguard.
#
#  1. cscguard issues a CA, a server certificate and three clients: eager (on
#     the allowlist; its .p12 in both profiles, compat and modern), lazy (not
#     on it) and leaver (on it, revoked in step 4).
#  2. Each run of Chromium gets a fresh profile and a fresh NSS database
#     ($HOME/.pki/nssdb) holding one client's .p12, imported with pk12util,
#     and the CA trusted with certutil (no --ignore-certificate-errors). A
#     managed policy (AutoSelectCertificateForUrls) has Chromium present that
#     certificate to the test's site without asking.
#  3. eager gets the page (both profiles); lazy gets the friendly 403 page.
#  4. `cscguard revoke leaver --publish`: without restarting httpd, leaver is
#     denied within seconds (the module reloads the CRL).
#  5. The status page (SetHandler cscguard-status) renders for eager.
# Every check reads the page's DOM (--dump-dom) and httpd's access log (the
# real status code), and saves a screenshot of the page in OUT_DIR.
#
#   tests/browser/browser_test.sh MODULE.so CSCGUARD_TOOL OUT_DIR
#
# Chromium reads policies only from /etc/chromium/policies/managed: the test
# writes one file there, named for its process, and removes it on every exit.
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
module=$(realpath "$1") tool=$(realpath "$2") out=$3
chromium=$(command -v chromium || echo /usr/bin/chromium)
[ -x "$chromium" ] || { echo "browser_test: no chromium (scripts/bootstrap installs it)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.png

fail() { echo "browser_test: FAIL: $*" >&2; exit 1; }

site=$(mktemp -d /tmp/cscguard-browser.XXXXXX)
chmod 755 "$site"
policy_dir=/etc/chromium/policies/managed
policy=$policy_dir/cscguard-browser-test-$$.json
pid=""
. "$(dirname "$0")/../support/exit_traps.sh"
cleanup() {
  local status=$?
  set +e
  rm -f "$policy"
  stop_watchdog
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
  fi
  if [ "$status" -ne 0 ] && [ -f "$site/error.log" ]; then
    echo "---- httpd error log" >&2
    tail -n 30 "$site/error.log" >&2
  fi
  if [ "$status" -ne 0 ] && [ -s "$site/chromium.log" ]; then
    echo "---- chromium's output" >&2
    tail -n 30 "$site/chromium.log" >&2
  fi
  rm -rf "$site"
  exit "$status"
}
trap cleanup EXIT
exit_traps 500  # ctest's TIMEOUT is 600 s, less a chromium run (70 s at most)

# --- 1. the PKI, with the project's own tool --------------------------------
ca() { "$tool" --dir "$site/ca" "$@"; }
ca init --name kitty-ca --publish-dir "$site/pub" >/dev/null
server_json=$(ca --json issue server localhost --san IP:127.0.0.1)
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }
server_crt=$(field "$server_json" certificate)
server_key=$(field "$server_json" key)
ca issue client eager --email eager@kitty.example --group employees --p12 compat --p12-pass pass:eager >/dev/null
ca issue client lazy --email lazy@kitty.example --p12 compat --p12-pass pass:lazy >/dev/null
ca issue client leaver --email leaver@kitty.example --group employees --p12 compat --p12-pass pass:leaver >/dev/null
ca export-p12 eager modern --p12-pass pass:eager --out "$site/eager-modern.p12" >/dev/null
ca publish >/dev/null
chmod -R a+rX "$site/pub" "$site/ca"
[ -f "$site/ca/p12/eager.p12" ] && [ -f "$site/eager-modern.p12" ] || fail "the tool wrote no .p12 bundles"

# --- httpd --------------------------------------------------------------------
while :; do  # a free loopback port (nobody answers on it)
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
modules=$(apxs -q LIBEXECDIR)
httpd=$(command -v apache2 || echo /usr/sbin/apache2)
mkdir -p "$site/docs/pictures" "$site/docs/errors"
printf '<!DOCTYPE html><title>Pictures</title><h1>Kitty pictures</h1><p>Welcome, <!--#echo var="REMOTE_USER" -->: let in by <!--#echo var="CSCGUARD_RULE" -->.</p>\n' \
  >"$site/docs/pictures/index.html"
printf '<!DOCTYPE html><title>No access</title><h1>No access with this certificate</h1><p>Your certificate does not let you in here. Ask the Kitty admins.</p>\n' \
  >"$site/docs/errors/no-access.html"
chmod -R a+rX "$site/docs"
user_lines=""
[ "$(id -u)" -eq 0 ] && user_lines=$'User www-data\nGroup www-data'
cat >"$site/httpd.conf" <<CONF
ServerRoot $site
ServerName localhost
PidFile $site/httpd.pid
ErrorLog $site/error.log
DefaultRuntimeDir $site
Mutex file:$site
LogLevel warn cscguard:info
LogFormat "%u \"%r\" %>s" short
CustomLog $site/access.log short
$user_lines
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule socache_shmcb_module $modules/mod_socache_shmcb.so
LoadModule ssl_module $modules/mod_ssl.so
LoadModule dir_module $modules/mod_dir.so
LoadModule mime_module $modules/mod_mime.so
LoadModule include_module $modules/mod_include.so
LoadModule cscguard_module $module
TypesConfig /etc/mime.types
SSLSessionCache shmcb:$site/ssl_scache(512000)
Listen 127.0.0.1:$port https
DocumentRoot $site/docs
<Directory $site/docs>
  Options +Includes
  SetOutputFilter INCLUDES
</Directory>
CSCGuardIssuer kitty-ca $site/pub/ca.crt
CSCGuardCRL $site/pub/crl.pem
CSCGuardAllowlist employees $site/pub/employees.list
CSCGuardReloadInterval 1
<VirtualHost 127.0.0.1:$port>
  SSLEngine on
  SSLCertificateFile $server_crt
  SSLCertificateKeyFile $server_key
  SSLCACertificateFile $site/pub/ca.crt
  SSLVerifyClient optional
  ErrorDocument 403 /errors/no-access.html
  <Location /errors>
    Require all granted
  </Location>
  <Location /pictures>
    Require cscguard-allowlist employees
  </Location>
  <Location /cscguard-status>
    SetHandler cscguard-status
    Require cscguard-allowlist employees
  </Location>
</VirtualHost>
CONF
"$httpd" -t -f "$site/httpd.conf" >"$site/configtest.log" 2>&1 || { cat "$site/configtest.log" >&2; fail "configtest"; }
"$httpd" -f "$site/httpd.conf" -DFOREGROUND &
pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "httpd did not start"
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "httpd does not listen on $port after 10 s"
base=https://127.0.0.1:$port
echo "httpd on $base (pid $pid)"

# --- 2. Chromium: the policy, a fresh NSS database per client ---------------
mkdir -p "$policy_dir"
printf '{"AutoSelectCertificateForUrls": ["{\\"pattern\\":\\"%s\\",\\"filter\\":{}}"]}\n' "$base" >"$policy"

# Makes HOME for CLIENT: an NSS database with the CA trusted and one .p12.
make_home() {  # NAME P12 PASSWORD
  local home=$site/home-$1
  mkdir -p "$home/.pki/nssdb"
  certutil -N -d "sql:$home/.pki/nssdb" --empty-password
  certutil -A -d "sql:$home/.pki/nssdb" -n kitty-ca -t "C,," -i "$site/pub/ca.crt"
  pk12util -d "sql:$home/.pki/nssdb" -i "$2" -W "$3" >/dev/null ||
    fail "pk12util could not import $2"
  certutil -L -d "sql:$home/.pki/nssdb" | grep -q "u,u,u" || fail "no client key in the NSS database of $1"
}
make_home eager-compat "$site/ca/p12/eager.p12" eager
make_home eager-modern "$site/eager-modern.p12" eager
make_home lazy "$site/ca/p12/lazy.p12" lazy
make_home leaver "$site/ca/p12/leaver.p12" leaver

chrome() {  # HOME-NAME -- chromium arguments...
  local home=$site/home-$1
  shift
  local profile rc=0
  profile=$(mktemp -d "$site/profile.XXXXXX")
  HOME=$home timeout -k 10 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --user-data-dir="$profile" "$@" 2>>"$site/chromium.log" || rc=$?
  rm -rf "$profile"
  [ "$rc" -eq 0 ] || fail "chromium ended with status $rc (124: it took over 60 s)"
}

# The page CLIENT's Chromium gets at PATH?shot=SHOT (a query of its own, so
# that the access log tells this visit from the others): its DOM on stdout; a
# screenshot in OUT_DIR/SHOT.png.
visit() {  # CLIENT PATH SHOT
  chrome "$1" --window-size=1024,768 --screenshot="$out/$3.png" "$base$2?shot=$3" >/dev/null
  [ -s "$out/$3.png" ] || fail "no screenshot of $2 for $1"
  chrome "$1" --dump-dom "$base$2?shot=$3"
}

# The status httpd answered the last request for PATH?shot=SHOT with.
last_status() { grep -F "\"GET $1?shot=$2 " "$site/access.log" | tail -n 1 | awk '{print $NF}'; }

expect() {  # CLIENT PATH SHOT WANT-STATUS WANT-TEXT
  local dom
  dom=$(visit "$1" "$2" "$3")
  printf '%s' "$dom" | grep -qF "$5" || fail "$1 at $2: the page does not say '$5':
$(printf '%s' "$dom" | head -c 2000)"
  [ "$(last_status "$2" "$3")" = "$4" ] || fail "$1 at $2: httpd answered '$(last_status "$2" "$3")', not $4"
  echo "ok: $1 $2 -> $4 ($out/$3.png)"
}

# --- 3. allowed and denied ----------------------------------------------------
expect eager-compat /pictures/ allowed-compat 200 "Welcome, kitty-ca:"
expect eager-modern /pictures/ allowed-modern 200 "Welcome, kitty-ca:"
expect lazy /pictures/ denied 403 "No access with this certificate"
# Denied for its certificate, not for sending none (which gets the same page).
grep -q "CSG0002: deny kitty-ca:[0-9A-F]* (CN=lazy)" "$site/error.log" ||
  fail "the error log does not say lazy's certificate was denied"
expect leaver /pictures/ leaver-before 200 "Welcome, kitty-ca:"

# --- 4. revoked, without a restart -------------------------------------------
ca revoke leaver --publish >/dev/null
deadline=$((SECONDS + 20))
until grep -q "CSG0202: CSCGuardCRL" "$site/error.log"; do
  [ $SECONDS -lt $deadline ] || fail "the new CRL was not reloaded within 20 s"
  sleep 0.2
done
expect leaver /pictures/ revoked 403 "No access with this certificate"
grep -q "CSG0002: deny kitty-ca:.*(CN=leaver,OU=employees) is revoked by" "$site/error.log" ||
  fail "the error log does not say leaver was denied as revoked"
[ "$(cat "$site/httpd.pid")" = "$pid" ] || fail "httpd was restarted"

# --- 5. the status page --------------------------------------------------------
expect eager-compat /cscguard-status status 200 "<title>mod_cscguard status</title>"
dom=$(chrome eager-compat --dump-dom "$base/cscguard-status")
printf '%s' "$dom" | grep -q "<td>kitty-ca</td>" || fail "the status page does not list the issuer kitty-ca"
printf '%s' "$dom" | grep -qE '<td class="num">1</td></tr>' || fail "the status page does not count leaver's revocation"

echo "browser_test: OK (screenshots in $out)"
