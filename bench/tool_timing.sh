#!/usr/bin/env bash
# Times the cscguard tool on the two jobs its issue names: issuing 1,000
# client certificates (one --from-csv run) and publishing 100,000 entries
# (a database of 100,000 client certificates, a tenth of them revoked).
# Prints numbers; never fails on timing.
#   bench/tool_timing.sh PATH/TO/cscguard
set -euo pipefail
tool=$1
work=$(mktemp -d /tmp/cscguard-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ca() { "$tool" --dir "$work/ca" "$@"; }

ca init --name bench-ca --publish-dir "$work/pub" >/dev/null
{ echo "name,emails,groups"; for i in $(seq 1000); do echo "user$i,user$i@example.com,group$((i % 10))"; done; } >"$work/people.csv"
start=$(date +%s%N)
ca issue client --from-csv "$work/people.csv" >/dev/null
issue_ms=$(( ($(date +%s%N) - start) / 1000000 ))

# 100,000 database entries: the 1,000 real ones plus synthetic lines (publish
# reads only the database and signs the CRL; it does not open certificates).
awk -v n=99000 'BEGIN { srand(42); for (i = 0; i < n; i++) {
    s = sprintf("%08X%08X%08X%08X", int(rand()*2^31), int(rand()*2^32), int(rand()*2^32), i);
    if (i % 10 == 0) printf "R\t271122090343Z\t261101000000Z,keyCompromise\t%s\tclient\t/CN=synthetic%d/OU=group%d\n", s, i, i % 10;
    else printf "V\t271122090343Z\t\t%s\tclient\t/CN=synthetic%d/OU=group%d\n", s, i, i % 10 } }' >>"$work/ca/index.txt"
start=$(date +%s%N)
ca publish >/dev/null
publish_ms=$(( ($(date +%s%N) - start) / 1000000 ))

echo "issue client --from-csv, 1000 certificates (P-256): ${issue_ms} ms ($(( issue_ms * 1000 / 1000 )) us each)"
echo "publish 100,000 entries (9,900 revoked in the CRL, 10 group lists): ${publish_ms} ms"
ls -la "$work/pub" | awk 'NR>1 {print "  " $5 "\t" $9}'
