# Sourced by the test scripts that change this machine (tests/package,
# tests/browser): their EXIT trap puts it back, so every way out must be an
# exit. INT, TERM and HUP become one, and so does a watchdog that ends the
# script after SECONDS - before ctest's TIMEOUT, which kills with SIGKILL
# (cmake < 3.27), when no trap runs. bash runs a trap only once the command
# in hand has ended: leave that much time too.
#
#   trap cleanup EXIT
#   exit_traps SECONDS     # and stop_watchdog in cleanup

exit_traps() {
  trap 'exit 130' INT TERM
  trap 'exit 129' HUP
  (sleep "$1" && kill -TERM $$) >/dev/null 2>&1 &
  watchdog=$!
}

stop_watchdog() {
  [ -z "${watchdog:-}" ] || kill "$watchdog" 2>/dev/null || true
}
