#!/usr/bin/env bash
# End-to-end benchmark of mod_cscguard in a real httpd (Debian's apache2 with
# mod_ssl, prefork), against mod_ssl alone and `Require expr ... in {...}`
# serial lists, started side by side in one run so that the ratios compare
# like with like. Prints numbers; never fails on timing.
#
#   bench/e2e/run.sh BUILD_DIR     (scripts/bench --e2e builds and calls it)
#
# Environment:
#   CSCGUARD_BENCH_ENTRIES        allowlist and CRL entries (default 1000000)
#   CSCGUARD_BENCH_REQUESTS       keep-alive requests per measurement (default 20000)
#   CSCGUARD_BENCH_CONN_REQUESTS  new-connection requests per measurement (default 2000)
#   CSCGUARD_BENCH_REPS           measurements per configuration; the median is shown (default 3)
#   CSCGUARD_KEEP_TEST_DIRS=1     keep the servers' directories in /tmp
set -euo pipefail
build=${1:?usage: bench/e2e/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
entries=${CSCGUARD_BENCH_ENTRIES:-1000000}
ka_requests=${CSCGUARD_BENCH_REQUESTS:-20000}
nc_requests=${CSCGUARD_BENCH_CONN_REQUESTS:-2000}
reps=${CSCGUARD_BENCH_REPS:-3}
load_children=4
bin=$build/bench
module=$(cd "$build" && pwd)/mod_cscguard.so
hz=$(getconf CLK_TCK)
E2E_FIXTURES=$(mkdir -p "$bin/e2e-fixtures" && cd "$bin/e2e-fixtures" && pwd)/$entries

"$here/fixtures.sh" "$E2E_FIXTURES" "$entries" "$bin"
# shellcheck source=httpd.sh
. "$here/httpd.sh"
trap e2e_stop_all EXIT
trap 'exit 130' INT TERM

pki=$E2E_FIXTURES/pki
# shellcheck source=measure.sh
. "$here/measure.sh"
# watch PORT CHILDREN EXPECT SINCE_NS: every 0.5 s a round of 4 x CHILDREN new
# connections, CHILDREN at a time (so every child answers), until a whole
# round answers EXPECT. Not pinned: it runs while a reload uses every core.
watch() {
  "$bin/e2e_loadgen" watch "https://127.0.0.1:$1/index.html" "$pki/client.crt" "$pki/client.key" \
    "$pki/bench-ca.crt" $(( 4 * $2 )) "$2" "$3" "$4" 900 0.5
}
now_ns() { date +%s%N; }

module_conf="LoadModule cscguard_module $module
CSCGuardIssuer bench $pki/bench-ca.crt
CSCGuardAllowlist granted @DIR@/granted.list
CSCGuardCRL @DIR@/bench.crl
CSCGuardReloadInterval 1"
module_files=("$E2E_FIXTURES/allow-v1.list=granted.list" "$E2E_FIXTURES/crl-v1.pem=bench.crl")
mb() { calc "%.0f" "$1 / 1024"; }

echo
echo "== e2e: $entries allowlist entries + $entries CRL entries; MPM prefork; httpd on CPU ${httpd_cpus:-any}, client on ${client[*]:-any}"
echo "   httpd CPU = utime+stime of parent, children and cscguard-watch (/proc/PID/stat, 1/$hz s ticks), per request"

# --- 1. httpd CPU per request --------------------------------------------
names=(mod_ssl expr-10k expr-100k "cscguard-${entries}+${entries}")
rules=("Require all granted" "$(cat "$E2E_FIXTURES/expr-10000.rule")" "$(cat "$E2E_FIXTURES/expr-100000.rule")"
       "Require cscguard-allowlist granted")
declare -A pid port dir up result
for i in "${!names[@]}"; do
  name=${names[$i]}
  if [ "$i" -eq 3 ]; then
    ok=0; e2e_start load-cscguard "$load_children" "$httpd_cpus" "${rules[$i]}" "$module_conf" "${module_files[@]}" || ok=$?
  else
    ok=0; e2e_start "load-$name" "$load_children" "$httpd_cpus" "${rules[$i]}" || ok=$?
  fi
  if [ "$ok" -ne 0 ]; then
    up[$name]=0; result[$name]="$E2E_ERROR"
    echo "   $name: httpd did not start: $E2E_ERROR"
    continue
  fi
  up[$name]=1; pid[$name]=$E2E_PID; port[$name]=$E2E_PORT; dir[$name]=$E2E_DIR
  echo "   $name: up in ${E2E_START_SECONDS} s, $load_children children, PSS $(mb "$(tree_pss_kb "$E2E_PID")") MB"
done

declare -A us
for workload in keepalive newconn; do
  if [ "$workload" = keepalive ]; then n=$ka_requests; else n=$nc_requests; fi
  for name in "${names[@]}"; do  # warm-up: every child has served, caches are filled
    [ "${up[$name]}" = 1 ] && loadgen "${port[$name]}" "$workload" $(( n / 10 + 50 )) "$load_children" 200 >/dev/null
  done
  for rep in $(seq "$reps"); do
    line="   $workload #$rep:"
    for name in "${names[@]}"; do
      [ "${up[$name]}" = 1 ] || continue
      before=$(tree_cpu_ticks "${pid[$name]}")
      if ! out=$(loadgen "${port[$name]}" "$workload" "$n" "$load_children" 200); then
        echo "   $name $workload: not every answer was 200: $out"
        up[$name]=0; result[$name]="wrong answers"; continue
      fi
      after=$(tree_cpu_ticks "${pid[$name]}")
      value=$(calc "%.1f" "($after - $before) * 1000000 / $hz / $n")
      us[$name,$workload]+=" $value"
      line+=" $name ${value} us (${out##*seconds=} s)"
    done
    echo "$line"
  done
done
resumed=0
for name in "${names[@]}"; do
  [ "${up[$name]}" = 1 ] || continue
  resumed=$(( resumed + $(grep -c ' Resumed$' "${dir[$name]}/access.log" || true) ))
done
echo "   TLS sessions resumed (access logs): $resumed"
e2e_stop_all

# --- 2-4. reload: CPU, PSS, time until every child enforces --------------
# stage_v2: the new versions next to the files (not timed); swap_v2: rename
# both into place, as an admin's `mv` does (prints the time in ns first).
stage_v2() {
  cp "$E2E_FIXTURES/allow-v2.list" "$E2E_DIR/granted.list.new"
  cp "$E2E_FIXTURES/crl-v2.pem" "$E2E_DIR/bench.crl.new"
}
swap_v2() {
  now_ns
  mv -f "$E2E_DIR/granted.list.new" "$E2E_DIR/granted.list"
  mv -f "$E2E_DIR/bench.crl.new" "$E2E_DIR/bench.crl"
}
start_module() {  # NAME CHILDREN: the module's httpd, unpinned (a reload parses on every core)
  e2e_start "$1" "$2" "" "Require cscguard-allowlist granted" "$module_conf" "${module_files[@]}" || {
    echo "   $1: httpd did not start: $E2E_ERROR"; return 1; }
  # Every child serves a few new connections first, as in production.
  loadgen "$E2E_PORT" newconn $(( 4 * $2 )) 4 200 >/dev/null
  sleep 2
}

declare -A reload_cpu enforce_s
pss_start="n/a" pss_reload="n/a"
for children in 4 16; do
  start_module "reload-$children" "$children" || continue
  [ "$children" -eq 16 ] && pss_start=$(mb "$(tree_pss_kb "$E2E_PID")")
  a=$(tree_cpu_ticks "$E2E_PID"); sleep 3; b=$(tree_cpu_ticks "$E2E_PID")
  idle=$(calc "%.3f" "($b - $a) / 3")  # ticks per second with nothing to do
  stage_v2
  t0=$(swap_v2); c0=$(tree_cpu_ticks "$E2E_PID")
  # Done when for 2 s httpd used under idle + 10% of a core (a reload keeps
  # at least one core busy; after one, children idle a little more than
  # before it), after the work began (the watcher looks at the files once a
  # second). Samples every 0.25 s or so; the end is known to about a sample.
  times=() ticks=() end_t="" end_c=""
  while :; do
    sleep 0.25
    times+=("$(now_ns)"); ticks+=("$(tree_cpu_ticks "$E2E_PID")")
    # j: the newest sample at least 2 s before sample k (sampling itself
    # takes a while when the reload keeps every core busy).
    k=$(( ${#times[@]} - 1 )); j=$k
    while [ "$j" -ge 0 ] && [ $(( times[k] - times[j] )) -lt 2000000000 ]; do j=$(( j - 1 )); done
    [ -z "${CSCGUARD_BENCH_DEBUG:-}" ] || echo "   sample $(calc "%.2f" "(${times[$k]} - $t0) / 1e9") s: ${ticks[$k]} ticks" >&2
    [ "$j" -ge 0 ] || continue
    worked=$(calc "%d" "(${ticks[$j]} - $c0) > $idle * (${times[$j]} - $t0) / 1e9 + 2")
    quiet=$(calc "%d" "(${ticks[$k]} - ${ticks[$j]}) <= ($idle + 0.1 * $hz) * (${times[$k]} - ${times[$j]}) / 1e9")
    if [ "$quiet" = 1 ] && { [ "$worked" = 1 ] || [ $(( times[k] - t0 )) -gt 15000000000 ]; }; then
      end_t=${times[$j]} end_c=${ticks[$j]}; break
    fi
    [ $(( times[k] - t0 )) -lt 900000000000 ] || { echo "   reload with $children children: CPU not quiet after 900 s"; break; }
  done
  if [ -n "$end_t" ]; then
    reload_cpu[$children]=$(calc "%.2f" "(($end_c - $c0) - $idle * ($end_t - $t0) / 1e9) / $hz")
    out=$(watch "$E2E_PORT" "$children" 403 "$t0") || true
    echo "   reload with $children children: $(calc "%.1f" "($end_t - $t0) / 1e9") s of CPU work, ${reload_cpu[$children]} CPU-s above idle ($idle ticks/s); then every child enforces: $out"
    if [ "$children" -eq 16 ]; then sleep 1; pss_reload=$(mb "$(tree_pss_kb "$E2E_PID")"); fi
  fi
  e2e_stop_all
done

# Every child holds one kept-alive connection (prefork, MaxRequestWorkers =
# children: N connections at once are N children), asked every 20 ms from
# just before the rename until it answers 403: the last child's time, to
# 20 ms, under a load too light to slow the reload down.
for children in 4 16; do
  start_module "enforce-$children" "$children" || continue
  stage_v2
  out=$("$bin/e2e_loadgen" children "https://127.0.0.1:$E2E_PORT/index.html" "$pki/client.crt" "$pki/client.key" \
        "$pki/bench-ca.crt" "$children" 200 403 60 \
        "mv -f '$E2E_DIR/granted.list.new' '$E2E_DIR/granted.list' && mv -f '$E2E_DIR/bench.crl.new' '$E2E_DIR/bench.crl'") || true
  enforce_s[$children]=$(sed -n 's/.*every_child_after=\([^ ]*\).*/\1/p' <<<"$out")
  echo "   enforcement with $children children (one kept-alive connection each, asked every 20 ms): $out"
  e2e_stop_all
done

# --- 5. configtest time and peak RSS -------------------------------------
e2e_prepare configtest "$load_children" "Require cscguard-allowlist granted" "$module_conf" "${module_files[@]}"
ct=$(/usr/bin/time -v "$E2E_APACHE2" -t -f "$E2E_DIR/httpd.conf" 2>&1) || true
ct_s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' <<<"$ct")
ct_mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' <<<"$ct")
ct_ok=$(grep -q "Syntax OK" <<<"$ct" && echo "Syntax OK" || echo "FAILED: $(grep -v '^\s' <<<"$ct" | head -2 | tr '\n' ' ')")
e2e_stop_all

# --- the table --------------------------------------------------------------
cell() {  # NAME WORKLOAD: median us/req and the ratio to mod_ssl
  local v base
  if [ "${up[$1]}" != 1 ] && [ -z "${us[$1,$2]:-}" ]; then printf '%s' "n/a: ${result[$1]}"; return; fi
  v=$(median <<<"${us[$1,$2]}")
  base=$(median <<<"${us[mod_ssl,$2]:-}")
  if [ -n "$base" ] && [ "$1" != mod_ssl ]; then printf '%s (%sx)' "$v" "$(calc "%.2f" "$v / $base")"; else printf '%s' "$v"; fi
}
echo
echo "== e2e results: $entries+$entries entries, prefork, $load_children children for CPU/request; medians of $reps; (ratio vs mod_ssl)"
printf '%-20s %-16s %-18s %-18s %s\n' workload "${names[@]}"
printf '%-20s %-16s %-18s %-18s %s\n' "keep-alive us/req" "$(cell mod_ssl keepalive)" "$(cell expr-10k keepalive)" \
  "$(cell expr-100k keepalive)" "$(cell "${names[3]}" keepalive)"
printf '%-20s %-16s %-18s %-18s %s\n' "new-conn   us/req" "$(cell mod_ssl newconn)" "$(cell expr-10k newconn)" \
  "$(cell expr-100k newconn)" "$(cell "${names[3]}" newconn)"
echo "PSS 16 children after start / after reload: $pss_start MB / $pss_reload MB"
r4=${reload_cpu[4]:-n/a} r16=${reload_cpu[16]:-n/a}
ratio=n/a
[ "$r4" != n/a ] && [ "$r16" != n/a ] && ratio=$(calc "%.2f" "$r16 / ($r4 > 0 ? $r4 : 0.01)")x
echo "reload CPU-s: 4 children $r4, 16 children $r16, ratio $ratio"
echo "seconds until every child enforces: 4 children ${enforce_s[4]:-n/a}, 16 children ${enforce_s[16]:-n/a}"
echo "configtest: ${ct_s:-n/a} s, ${ct_mb:-n/a} MB peak RSS ($ct_ok)"
