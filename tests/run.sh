#!/usr/bin/env bash
# Runs every test program (build/tests/*/*) and script (tests/*/*.sh), then prints
# "N passed, N failed". Optional $1 filters by substring of the path or case name.
set -u
O=${O:-build}
filter=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0; failed=0; skipped=0
log=$(mktemp); times=$(mktemp)
run_one() { # $1: program to run
    local prog=$1 out rc start=$SECONDS
    echo "# $prog"
    "$prog" "$filter" >"$log" 2>&1
    rc=$?
    cat "$log"
    echo "$((SECONDS - start)) $prog" >>"$times"
    local p f
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $prog exited with status $rc"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
}
is_root=1; [ "$(id -u)" -eq 0 ] || is_root=0
for t in "$O"/tests/*/*; do
    [ -x "$t" ] || continue
    case "$t" in */bench/*) continue ;; esac
    # The node agent's tests run containers and make namespaces, bridges and
    # iptables rules: root only (CI runs as root). Said, never silently.
    # (Unit tests on the fake runtime, */agent/test_worker_fake, and of the
    # shim's input relay, */agent/test_shim_io, need none.)
    case "$t" in */agent/test_worker_fake|*/agent/test_shim_io) ;;
    */agent/*|*/test_embedded_agent|*/test_kubectl_exec|*/test_kubectl_attach_tty|*/test_tour_kubectl)
        if [ $is_root -eq 0 ]; then echo "# SKIPPED $t: needs root"; skipped=$((skipped + 1)); continue; fi ;;
    esac
    run_one "$t"
done
for s in tests/*/*.sh; do
    [ -f "$s" ] || continue
    case "$s" in tests/bench/*) continue ;; esac
    if [ -n "$filter" ] && [[ "$s" != *"$filter"* ]]; then continue; fi
    O=$O run_one "$s"
done
# Where the suite's time goes (CI must stay well under 30 minutes).
echo "# slowest programs (seconds):"; sort -rn "$times" | head -12 | sed 's/^/#   /'
echo "# all programs: $SECONDS s"
rm -f "$log" "$times"
[ "$skipped" -eq 0 ] || echo "# $skipped test programs skipped: they need root"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
