# Sourced by the e2e benchmarks (run.sh, cache.sh) after httpd.sh, with
# $bin (where e2e_loadgen was built) and $pki (the fixtures' PKI) set.
#
# On two or more cores httpd runs on CPU 0 and the client elsewhere, so the
# client's TLS work does not compete with the httpd CPU being measured.
if [ "$(nproc)" -ge 2 ]; then
  httpd_cpus=0 client=(taskset -c "1-$(( $(nproc) - 1 ))")
else
  httpd_cpus="" client=()
fi

# loadgen PORT keepalive|newconn REQUESTS PARALLEL EXPECT
loadgen() {
  "${client[@]}" "$bin/e2e_loadgen" "$2" "https://127.0.0.1:$1/index.html" "$pki/client.crt" "$pki/client.key" \
    "$pki/bench-ca.crt" "$3" "$4" "$5"
}

calc() { awk "BEGIN { printf \"$1\", ($2) }"; }  # parenthesised: a bare > in awk's printf writes to a file
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
