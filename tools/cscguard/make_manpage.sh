#!/usr/bin/env bash
# Writes cscguard(1), gzipped, from the tool's own --help texts, so the man
# page never says something the tool does not (run by the build).
#
#   tools/cscguard/make_manpage.sh BUILT_CSCGUARD OUT.1.gz
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
tool=$1 out=$2

# roff: a backslash is \e; a line starting with . or ' would be a request.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/^-/\\-/; s/ -/ \\-/g'; }

version=$("$tool" --version | awk '{print $2}')
general=$("$tool" --help)
verbs=$(printf '%s\n' "$general" | sed -n '/^verbs:/,/for each/p' | sed 's/^verbs://; s/(cscguard VERB --help for each)//' |
  tr ',' '\n' | tr -d ' ' | grep -v '^$')

{
  printf '.TH CSCGUARD 1 "" "cscguard %s" "User Commands"\n' "$version"
  printf '.SH NAME\ncscguard \\- a small CA for client-certificate sites protected by mod_cscguard\n'
  printf '.SH SYNOPSIS\n.nf\n'
  printf '%s\n' "$general" | sed -n '1p' | sed 's/^usage: //' | roff
  printf '.fi\n.SH DESCRIPTION\n.nf\n'
  printf '%s\n' "$general" | sed '1,2d' | roff
  printf '.fi\n.SH VERBS\n'
  for verb in $verbs; do
    printf '.SS %s\n.nf\n' "$verb"
    "$tool" "$verb" --help | roff
    printf '.fi\n'
  done
  printf '.SH FILES\n.TP\n.I /etc/apache2/mods-available/cscguard.conf\n'
  printf 'where mod_cscguard is configured (package libapache2-mod-cscguard)\n'
  printf '.SH SEE ALSO\n.BR apache2 (8),\n.BR a2enmod (8),\n/usr/share/doc/cscguard/README.md\n'
} | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
