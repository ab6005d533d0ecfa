#!/usr/bin/env bash
# What the fleet's revocation cache (CSCGuardRevocationCache, a real
# redis-server) costs httpd: CPU per request with
# the cache off, on (CSCGuardRevocationCacheTTL 1s, the default: a connection
# asks at most once a second) and asking on every request (TTL 0), for
# kept-alive and new connections, side by side in one run; and what Redis
# spends per request. Prints numbers; never fails on timing.
#
#   bench/e2e/cache.sh BUILD_DIR     (scripts/bench --cache builds and calls it)
#
# Environment: CSCGUARD_BENCH_REQUESTS (keep-alive, default 20000),
# CSCGUARD_BENCH_CONN_REQUESTS (new connections, default 2000),
# CSCGUARD_BENCH_REPS (default 5; the median is shown).
set -euo pipefail
build=${1:?usage: bench/e2e/cache.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
entries=1000  # the lists' size does not matter here (see run.sh for that)
ka_requests=${CSCGUARD_BENCH_REQUESTS:-20000}
nc_requests=${CSCGUARD_BENCH_CONN_REQUESTS:-2000}
reps=${CSCGUARD_BENCH_REPS:-5}
children=4
bin=$build/bench
module=$(cd "$build" && pwd)/mod_cscguard.so
hz=$(getconf CLK_TCK)
E2E_FIXTURES=$(mkdir -p "$bin/e2e-fixtures" && cd "$bin/e2e-fixtures" && pwd)/$entries
"$here/fixtures.sh" "$E2E_FIXTURES" "$entries" "$bin"
pki=$E2E_FIXTURES/pki
# shellcheck source=httpd.sh
. "$here/httpd.sh"
# shellcheck source=measure.sh
. "$here/measure.sh"

redis_dir=$(mktemp -d /tmp/cscguard-bench-redis.XXXXXX)
redis_pid=""
stop_all() {
  e2e_stop_all
  [ -z "$redis_pid" ] || { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
  rm -rf "$redis_dir"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Redis on the client's cores: its work is counted on its own, not as httpd's.
redis_port=$(e2e_free_port)
"${client[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" \
  --loglevel warning >"$redis_dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" PING 2>/dev/null | grep -q PONG && break; sleep 0.05; done
# The bench CA's marker, as `cscguard push` writes it (the bench PKI is made
# with openssl, so the tool holds no CA to push from): "cscguard:00" and the
# CA's subjectKeyIdentifier (policy/cache_entry.h).
ski=$(openssl x509 -in "$pki/bench-ca.crt" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr 'A-F' 'a-f')
redis-cli -p "$redis_port" SET "cscguard:00$ski" "cscguard-revocation-cache 1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
redis_ticks() { awk '{ print $14 + $15 }' "/proc/$redis_pid/stat"; }

base="LoadModule cscguard_module $module
CSCGuardIssuer bench $pki/bench-ca.crt
CSCGuardAllowlist granted @DIR@/granted.list
CSCGuardCRL @DIR@/bench.crl"
files=("$E2E_FIXTURES/allow-v1.list=granted.list" "$E2E_FIXTURES/crl-v1.pem=bench.crl")
cache="CSCGuardRevocationCache redis:127.0.0.1:$redis_port"
names=(cache-off cache-ttl1s cache-ttl0)
confs=("$base" "$base
$cache" "$base
$cache
CSCGuardRevocationCacheTTL 0")

echo
echo "== revocation cache: httpd CPU per request, prefork $children children on CPU ${httpd_cpus:-any}; redis-server and client on ${client[*]:-any}"
declare -A pid port us rus
for i in "${!names[@]}"; do
  e2e_start "${names[$i]}" "$children" "$httpd_cpus" "Require cscguard-allowlist granted" "${confs[$i]}" "${files[@]}" ||
    { echo "   ${names[$i]}: httpd did not start: $E2E_ERROR"; exit 1; }
  pid[${names[$i]}]=$E2E_PID port[${names[$i]}]=$E2E_PORT
done
for workload in keepalive newconn; do
  if [ "$workload" = keepalive ]; then n=$ka_requests; else n=$nc_requests; fi
  for name in "${names[@]}"; do loadgen "${port[$name]}" "$workload" $(( n / 10 + 50 )) "$children" 200 >/dev/null; done
  for rep in $(seq "$reps"); do
    line="   $workload #$rep:"
    for name in "${names[@]}"; do
      before=$(tree_cpu_ticks "${pid[$name]}") rbefore=$(redis_ticks)
      out=$(loadgen "${port[$name]}" "$workload" "$n" "$children" 200) || { echo "   $name: not every answer was 200: $out"; exit 1; }
      after=$(tree_cpu_ticks "${pid[$name]}") rafter=$(redis_ticks)
      value=$(calc "%.1f" "($after - $before) * 1000000 / $hz / $n")
      rvalue=$(calc "%.2f" "($rafter - $rbefore) * 1000000 / $hz / $n")
      us[$name,$workload]+=" $value" rus[$name,$workload]+=" $rvalue"
      line+=" $name $value us (redis $rvalue us)"
    done
    echo "$line"
  done
done
lookups=$(redis-cli -p "$redis_port" INFO stats | awk -F: '/^keyspace_misses|^keyspace_hits/ { s += $2 } END { print s + 0 }')
echo "   redis GETs in all: $lookups"

cell() {  # NAME WORKLOAD: median httpd us/req, the ratio to cache-off, redis us/req
  local v base r
  v=$(median <<<"${us[$1,$2]}") base=$(median <<<"${us[cache-off,$2]}") r=$(median <<<"${rus[$1,$2]}")
  printf '%s (%sx; redis %s)' "$v" "$(calc "%.2f" "$v / $base")" "$r"
}
echo
echo "== revocation cache results: medians of $reps, us of httpd CPU per request (ratio to cache-off; redis-server us per request)"
printf '%-18s %-30s %-30s %s\n' workload "${names[@]}"
for workload in keepalive newconn; do
  printf '%-18s %-30s %-30s %s\n' "$workload" "$(cell cache-off $workload)" "$(cell cache-ttl1s $workload)" \
    "$(cell cache-ttl0 $workload)"
done
