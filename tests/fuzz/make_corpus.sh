#!/usr/bin/env bash
# Makes the fuzz targets' fixed test CAs and the seed corpus, with the openssl
# command line only (independent of the code under test). Run it from
# anywhere; it writes only inside tests/fuzz/:
#
#   pki/kitty-ca.{key,crt}   two test CAs (P-256), made once: kept when present,
#   pki/acme-ca.{key,crt}    so re-running keeps the CAs the targets embed
#   corpus/TARGET/...        seed inputs, rewritten on every run
#   fuzz_pki.h               the CAs (certificate and key) and one client
#                            certificate of the corpus as C++ string constants,
#                            embedded by the crl, certificate and require targets
#                            (generated on every run: rebuild the targets after it)
#
# The CA keys are throw-away test keys: the crl target embeds them too, to
# re-sign mutated CRLs so the fuzzer gets past the signature check.
#
#   tests/fuzz/make_corpus.sh            # keep the CAs, rewrite the seeds
#   tests/fuzz/make_corpus.sh --new-cas  # new CA keys too (then rebuild the targets)
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD

if [ "${1:-}" = "--new-cas" ]; then
  rm -f pki/kitty-ca.key pki/kitty-ca.crt pki/acme-ca.key pki/acme-ca.crt
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENSSL_CONF=/dev/null  # no site defaults leaking into the fixtures

# The extension sections of the demo's and the integration tests' PKI
# (scripts/lib/pki.sh), with UTF-8 subjects: the corpus holds non-ASCII names.
PKI_DIR=$tmp . "$here/../../scripts/lib/pki.sh"
_pki_ext "$tmp/ext.cnf"
sed -i 's/^distinguished_name = dn$/&\nstring_mask = utf8only/' "$tmp/ext.cnf"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# --- the fixed CAs -------------------------------------------------------
mkdir -p pki
make_ca() {  # NAME SUBJECT
  [ -s "pki/$1.key" ] && [ -s "pki/$1.crt" ] && return 0
  key "pki/$1.key"
  openssl req -x509 -new -key "pki/$1.key" -subj "$2" -days 36500 -sha256 -config "$tmp/ext.cnf" \
    -extensions ca -out "pki/$1.crt"
}
make_ca kitty-ca "/O=Kitty/CN=kitty-ca"
make_ca acme-ca "/O=Acme Corp/CN=acme-ca"
# Same DN as kitty-ca, another key: its CRLs must be refused. Not embedded.
key "$tmp/impostor.key"
openssl req -x509 -new -key "$tmp/impostor.key" -subj "/O=Kitty/CN=kitty-ca" -days 3650 -sha256 \
  -config "$tmp/ext.cnf" -extensions ca -out "$tmp/impostor.crt"


rm -rf corpus
mkdir -p corpus/{serial,allowlist,require,duration,crl,crl_der,certificate,database,snapshot,cache_entry,reload_status}

# --- serial: every accepted spelling, with and without an issuer ----------
s=corpus/serial
printf 'D1D11C749D9C2D16' >$s/plain
printf 'd1:d1:1c:74:9d:9c:2d:16' >$s/colons
printf '0xD1D11C749D9C2D16' >$s/0x
printf '000A1B' >$s/leading-zeros
printf 'a:1b' >$s/short-groups
printf '80F1A2B3C4D5E6F7' >$s/high-bit
printf -- '-01' >$s/negative
printf '0' >$s/zero
printf 'kitty:D1:D1:1C:74:9D:9C:2D:16' >$s/issuer-colons
printf 'acme:0x5EA7BEEF' >$s/issuer-0x
printf 'kitty.ca_2-b:-0X0a1b' >$s/issuer-negative-0x
printf '%070d' 1 | tr 0 F >$s/35-octets

# --- allowlist: the README's example, CRLF, bare serials ------------------
a=corpus/allowlist
cat >$a/readme.list <<'EOF'
# employees.list: who may see the pictures
kitty:D1:D1:1C:74:9D:9C:2D:16   eager-client laptop
kitty:0x5EA7BEEF                lazy-client           # labels and comments are free text
acme:4F2A190C77E1D35B           Acme API
EOF
printf 'kitty:0A1B\tone\r\n\r\n# comment\r\nacme:a:1b two\r\n' >$a/crlf.list
printf '0A1B\n0xD1D11C749D9C2D16 only with one issuer\n\n  -01 negative\n' >$a/bare.list

# --- require: first byte = RuleKind (0 serial, 1 email, 2 subject, 3 allowlist, 4 valid)
r=corpus/require
printf '\000kitty:D1:D1:1C:74:9D:9C:2D:16 acme:0A1B 5EA7BEEF' >$r/serial
printf '\001*@acme.example Eager@Kitty.Example' >$r/email
printf '\002CN=eager-client O="Acme Corp" "OU=a b" 2.5.4.3=x emailAddress=a@b.example cn='"'"'it\\'"'"'s'"'" >$r/subject
printf '\003employees ops' >$r/allowlist
printf '\004kitty acme' >$r/valid
printf '\004' >$r/valid-empty

# --- snapshot: the content of a snapshot (configuration, then path and
# serials per file, at NUL bytes); the target compiles, encodes, opens and
# damages it itself -------------------------------------------------------
printf 'conf-id\0/etc/apache2/staff.list\0D1:D1:1C 0x0A1B 01\0/etc/apache2/kitty.crl\0-5 FF 1000\n' \
  >corpus/snapshot/content
: >corpus/snapshot/empty

# --- duration ---------------------------------------------------------------
d=corpus/duration
for v in 0 90 90s 15m 12h 7d 999999999d; do printf '%s' "$v" >"$d/$v"; done

# --- cache_entry: values of the fleet's revocation cache ---------------------
d=corpus/cache_entry
printf 'revoked keyCompromise 2026-11-23T22:40:00Z' >"$d/entry"
printf 'revoked certificateHold 2000-02-29T23:59:59Z' >"$d/hold"
printf 'cscguard-revocation-cache 1 2026-11-23T22:40:00Z' >"$d/marker"
printf 'revoked keyCompromise 2026-02-30T00:00:00Z' >"$d/no-such-day"

# --- reload_status: the watcher's account of the files (status page) ---------
d=corpus/reload_status
printf '%s' '{"files":[{"digest":"","entries":2,"kind":"allowlist","loaded":1700000000,"mtime_ns":1700000000123456789,"name":"partners","path":"/etc/apache2/cscguard/partners.list","problem":"","problem_since":0,"sha256":"3f0a","size":40},{"entries":1,"kind":"crl","loaded":0,"mtime_ns":0,"name":"","path":"/etc/ssl/kitty.crl","problem":"CSCGuardCRL (a.conf:3): /etc/ssl/kitty.crl: damaged; the last good version stays in force","problem_since":1700000001,"sha256":"","size":0}],"format":1,"generation":1763900000000000000,"written":1700000002}' >"$d/two-files"
printf '%s' '{"files":[],"format":1,"generation":0,"written":0}' >"$d/empty"

# --- certificate: client certificates of the fixed CAs ----------------------
cert() {  # NAME CA SUBJECT SERIAL SAN [extra req options...]
  local name=$1 ca=$2 subject=$3 serial=$4 san=$5; shift 5
  key "$tmp/$name.key"
  openssl req -new -key "$tmp/$name.key" -utf8 -subj "$subject" -config "$tmp/ext.cnf" "$@" -out "$tmp/$name.csr"
  PKI_SAN=$san openssl x509 -req -in "$tmp/$name.csr" -CA "pki/$ca.crt" -CAkey "pki/$ca.key" -set_serial "$serial" \
    -days 3650 -sha256 -extfile "$tmp/ext.cnf" -extensions client_san -out "$tmp/$name.crt" 2>/dev/null
}
c=corpus/certificate
cert eager kitty-ca "/O=Kitty/OU=staff/CN=eager-client/emailAddress=Eager@Kitty.Example" 0x56B00CF3A574F2A9 \
  "email:eager@kitty.example"
cert utf8 kitty-ca "/C=DE/O=Ñandú GmbH/OU=Zürich/CN=Jürgen Müller/UID=jm" 0x0A1B \
  "email:juergen@nandu.example,email:J.Mueller@Nandu.Example"
cert multi-rdn acme-ca "/O=Acme Corp/CN=api+UID=api-1/DC=example/DC=acme" 0x80F1A2B3C4D5E6F708192A3B \
  "email:api@acme.example,DNS:api.acme.example" -multivalue-rdn
cp "$tmp/eager.crt" $c/eager-client.pem
cp "$tmp/utf8.crt" $c/utf8-subject.pem
cp "$tmp/multi-rdn.crt" $c/multi-rdn-high-bit.pem
openssl x509 -in "$tmp/utf8.crt" -outform DER -out $c/utf8-subject.der
openssl x509 -in "$tmp/multi-rdn.crt" -outform DER -out $c/multi-rdn-high-bit.der
# A self-signed forgery with kitty's client's subject (parses; no declared CA issued it).
key "$tmp/forged.key"
PKI_SAN=email:eager@kitty.example openssl req -x509 -new -key "$tmp/forged.key" -subj "/O=Kitty/CN=eager-client" \
  -set_serial 0x56B00CF3A574F2A9 -days 3650 -sha256 -config "$tmp/ext.cnf" -extensions client_san -out $c/forged.pem

# --- crl: CRLs of the fixed CAs (and the impostor), as `openssl ca -gencrl` makes them
crl() {  # CA-CERT CA-KEY OUT EXT-LINES INDEX-LINES
  local db="$tmp/db"
  rm -rf "$db"; mkdir -p "$db"
  printf '%b' "$5" >"$db/index.txt"
  echo 1000 >"$db/crlnumber"
  cat >"$db/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $db/index.txt
crlnumber = $db/crlnumber
default_md = sha256
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
$4
[ idp ]
fullname = URI:http://crl.example/kitty.crl
onlysomereasons = keyCompromise
CNF
  openssl ca -batch -gencrl -config "$db/ca.cnf" -cert "$1" -keyfile "$2" -crldays 30 -out "$3" 2>/dev/null
}
revoked='R\t301231235959Z\t261101120000Z,keyCompromise\t56B00CF3A574F2A9\tunknown\t/CN=eager-client\n'
revoked+='R\t301231235959Z\t261102120000Z,affiliationChanged\t0A1B\tunknown\t/CN=b\n'
revoked+='R\t301231235959Z\t261103120000Z,holdInstruction,holdInstructionReject\t80F1A2B3C4D5E6F708192A3B\tunknown\t/CN=c\n'
revoked+='R\t301231235959Z\t261104120000Z,keyTime,20261001000000Z\t01\tunknown\t/CN=d\n'
k="pki/kitty-ca.crt pki/kitty-ca.key"
x=corpus/crl
# shellcheck disable=SC2086
{
  crl $k "$tmp/kitty-empty.pem" "" ""
  crl $k "$tmp/kitty-revoked.pem" "" "$revoked"
  crl pki/acme-ca.crt pki/acme-ca.key "$tmp/acme-revoked.pem" "" 'R\t301231235959Z\t261101120000Z\t32A27C6B7F6B743CBBAB54D2239CC3AF\tunknown\t/CN=acme\n'
  crl "$tmp/impostor.crt" "$tmp/impostor.key" "$tmp/impostor.pem" "" "$revoked"
  crl $k "$tmp/delta.pem" "deltaCRL = critical, ASN1:INTEGER:5" ""
  crl $k "$tmp/partial.pem" "issuingDistributionPoint = critical, @idp" ""
  crl $k "$tmp/unknown-critical.pem" "1.2.3.4 = critical, ASN1:NULL" ""
}
cp "$tmp/kitty-empty.pem" $x/kitty-empty.pem
cp "$tmp/kitty-revoked.pem" $x/kitty-revoked.pem
cat "$tmp/kitty-revoked.pem" "$tmp/acme-revoked.pem" >$x/kitty-and-acme.pem
openssl crl -in "$tmp/kitty-revoked.pem" -outform DER -out $x/kitty-revoked.der
cp "$tmp/impostor.pem" $x/impostor-same-dn.pem
cp "$tmp/delta.pem" $x/delta.pem
cp "$tmp/partial.pem" $x/partial-idp.pem
cp "$tmp/unknown-critical.pem" $x/unknown-critical-ext.pem
cat "$tmp/kitty-empty.pem" "pki/kitty-ca.crt" >$x/crl-then-certificate.pem

# --- crl_der: the same CRLs, one DER CRL per input -------------------------
for f in kitty-empty kitty-revoked acme-revoked impostor delta partial unknown-critical; do
  openssl crl -in "$tmp/$f.pem" -outform DER -out corpus/crl_der/$f.der
done

# --- database: an index.txt as cscguard (and openssl ca) write it -----------
printf '%b' \
  'V\t271123110000Z\t\t56B00CF3A574F2A9\tclient\t/CN=eager-client/OU=employees/emailAddress=eager@kitty.example\n' \
  'R\t271123110000Z\t261123120000Z,affiliationChanged\t0A1B\tclient\t/CN=lazy-client/OU=employees/OU=ops\n' \
  'R\t20600101000000Z\t261124120000Z\t80F1\tserver\t/CN=picture-server\n' \
  'V\t20600101000000Z\t\t32A27C6B7F6B743CBBAB54D2239CC3AF\tclient\t/CN=api@acme.example\n' \
  >corpus/database/index.txt

# --- the header the targets embed -----------------------------------------
{
  echo "// Generated by tests/fuzz/make_corpus.sh from tests/fuzz/pki/: do not edit."
  echo "// Throw-away test CAs of the fuzz targets (the corpus CRLs and certificates"
  echo "// are signed by them) and one client certificate. Never trust these keys for anything."
  echo "#pragma once"
  echo
  echo "namespace cscguard::fuzz {"
  for ca in kitty-ca acme-ca; do
    var=$(echo "$ca" | sed 's/-ca$//; s/^./\U&/')
    printf '\ninline constexpr const char* k%sCaCert = R"PEM(%s\n)PEM";\n' "$var" "$(cat "pki/$ca.crt")"
    printf 'inline constexpr const char* k%sCaKey = R"PEM(%s\n)PEM";\n' "$var" "$(cat "pki/$ca.key")"
  done
  printf '\n// A client certificate of kitty-ca (corpus/certificate/eager-client.pem).\n'
  printf 'inline constexpr const char* kEagerClientCert = R"PEM(%s\n)PEM";\n' "$(cat corpus/certificate/eager-client.pem)"
  echo
  echo "}  // namespace cscguard::fuzz"
} >fuzz_pki.h

echo "make_corpus.sh: wrote $(find corpus -type f | wc -l) seeds in $here/corpus and $here/fuzz_pki.h"
