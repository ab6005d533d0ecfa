#!/usr/bin/env bash
# Makes the e2e benchmark's fixtures once and keeps them (they take seconds
# to minutes at 1,000,000 entries); made again when older than 30 days, well
# before the certificates (365 days) and CRLs (400 days) expire.
#
#   bench/e2e/fixtures.sh OUT ENTRIES BIN    (BIN: where e2e_gen_* were built)
#
# OUT/pki/{bench-ca,server,client}.{crt,key}   P-256, from scripts/lib/pki.sh
# OUT/allow-v1.list, allow-v2.list    ENTRIES entries of issuer "bench", both
#                                     granting the client (v2: other serials)
# OUT/crl-v1.pem, crl-v2.pem          ENTRIES revoked serials, crlNumber 1 and 2;
#                                     v2 also revokes the client: the change a
#                                     reload must bring to every child (200 -> 403)
# OUT/expr-10000.rule, expr-100000.rule   Require expr lines with that many
#                                     serials, the client's among them
set -euo pipefail
out=$1 entries=$2 bin=$3
client_serial=5EA7BEEF5EA7BEEF
here=$(cd "$(dirname "$0")" && pwd)

if [ -f "$out/complete" ] && [ -z "$(find "$out/complete" -mtime +30)" ]; then
  echo "fixtures: cached in $out"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out/pki"
start=$(date +%s%N)

(
  export PKI_DIR=$out/pki
  # shellcheck source=../../scripts/lib/pki.sh
  . "$here/../../scripts/lib/pki.sh"
  pki_ca bench-ca /CN=cscguard-bench-ca
  pki_server server bench-ca 127.0.0.1
  pki_client client bench-ca /CN=cscguard-bench-client "0x$client_serial"
) >/dev/null

# The four big files are independent: two at a time on the 2-core machine.
"$bin/e2e_gen_allowlist" "$out/allow-v1.list" "$entries" 11 bench "$client_serial" &
"$bin/e2e_gen_crl" "$out/pki/bench-ca.crt" "$out/pki/bench-ca.key" "$out/crl-v1.pem" "$entries" 21 1 400 &
wait %1 && wait %2
"$bin/e2e_gen_allowlist" "$out/allow-v2.list" "$entries" 12 bench "$client_serial" &
"$bin/e2e_gen_crl" "$out/pki/bench-ca.crt" "$out/pki/bench-ca.key" "$out/crl-v2.pem" "$entries" 21 2 400 "$client_serial" &
wait %1 && wait %2

# SSL_CLIENT_M_SERIAL is uppercase hex, whole bytes: what the list holds.
for n in 10000 100000; do
  "$bin/e2e_gen_allowlist" "$out/expr-$n.tmp" "$n" 13 x "$client_serial"
  awk -F'[: ]' 'BEGIN { printf "Require expr \"%%{SSL_CLIENT_M_SERIAL} in {" }
                { printf "%s'\''%s'\''", (NR > 1 ? ", " : ""), $2 }
                END { print "}\"" }' "$out/expr-$n.tmp" >"$out/expr-$n.rule"
  rm "$out/expr-$n.tmp"
done

touch "$out/complete"
awk -v a="$start" -v b="$(date +%s%N)" -v n="$entries" \
  'BEGIN { printf "fixtures: %d-entry allowlists and CRLs (two versions each) made in %.1f s\n", n, (b - a) / 1e9 }'
ls -l "$out" | awk 'NR > 1 && $9 != "complete" && $9 != "pki" { printf "  %-20s %6.1f MB\n", $9, $5 / 1e6 }'
