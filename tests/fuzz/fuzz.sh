#!/usr/bin/env bash
# fuzz.sh — runs every libFuzzer target tests/fuzz/fuzz_<name>.c, built into
# $FUZZ_O/fuzz/ (default build-fuzz) by `make fuzz-build`. For each target:
#   1. replay: each regression input (tests/fuzz/regress/<name>/) and seed
#      (tests/fuzz/corpus/<name>/) once;
#   2. a coverage-guided run of FUZZ_SECONDS (default 3) from those inputs,
#      with tests/fuzz/<name>.dict as its dictionary when there is one.
# One "ok"/"not ok" line per step, which tests/run.sh counts (make test).
# Targets run FUZZ_JOBS at a time (default: one per core; each libFuzzer run
# is single-threaded, and make test runs nothing beside this script), each
# still given its full FUZZ_SECONDS; their lines print in target order.
# FUZZ_SAVE=1 (make fuzz): the run's new inputs are kept in
# $FUZZ_O/corpus/<name>/ for the next run, and a crash is saved as a
# regression input in tests/fuzz/regress/<name>/ (commit it with the fix);
# otherwise crashes go to $FUZZ_O/crashes/<name>/.
# $1 (optional): only targets whose file name contains it.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
FUZZ_O=${FUZZ_O:-build-fuzz}
secs=${FUZZ_SECONDS:-3}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
save=${FUZZ_SAVE:-0}
filter=${1:-}
opts=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if ! compgen -G "$FUZZ_O/fuzz/fuzz_*" >/dev/null; then
    echo "# SKIPPED fuzz targets: none built in $FUZZ_O/fuzz (make fuzz-build)"
    exit 0
fi

fail() { # $1: case, $2: what to say
    echo "not ok - fuzz/$1: $2"
    sed 's/^/#   /' "$log" | grep -v '^#   #[0-9]' | tail -40
}

replay() { # $1: name, $2: binary
    local name=$1 bin=$2 files=()
    mapfile -t files < <(find "tests/fuzz/regress/$name" "tests/fuzz/corpus/$name" -type f \
                         ! -name '.*' 2>/dev/null | sort)
    if [ ${#files[@]} -eq 0 ]; then
        echo "ok - fuzz/$name replay: no seeds or regression inputs yet"
        return
    fi
    if "$bin" "${opts[@]}" "${files[@]}" >"$log" 2>&1; then
        echo "ok - fuzz/$name replay: ${#files[@]} inputs"
    else
        fail "$name replay" "an input of tests/fuzz/{regress,corpus}/$name fails (log below)"
    fi
}

run() { # $1: name, $2: binary
    local name=$1 bin=$2 work art dirs=() extra=()
    if [ "$save" = 1 ]; then
        work=$FUZZ_O/corpus/$name
        art=tests/fuzz/regress/$name
    else
        work=$scratch/$name
        art=$FUZZ_O/crashes/$name
    fi
    mkdir -p "$work" "$art"
    for d in "tests/fuzz/corpus/$name" "tests/fuzz/regress/$name"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ -f "tests/fuzz/$name.dict" ] && extra+=("-dict=tests/fuzz/$name.dict")
    if "$bin" "${opts[@]}" "${extra[@]}" -max_total_time="$secs" -artifact_prefix="$art/" \
        "$work" "${dirs[@]}" >"$log" 2>&1; then
        local execs cov
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "ok - fuzz/$name run ${secs}s: ${execs:-?} inputs, ${cov:-cov: ?}"
    else
        local crash keep
        crash=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')
        keep="a regression input: commit it with the fix"
        [ "$save" = 1 ] || keep="copy it to tests/fuzz/regress/$name/ with the fix"
        fail "$name run" "crashed on ${crash:-an input not saved}; $keep"
    fi
}

# One target, replay then run, in a background job: its lines go to
# $scratch/<name>.out, its libFuzzer output to $scratch/<name>.log.
target() { # $1: name, $2: binary
    local log=$scratch/$1.log
    { replay "$1" "$2"; run "$1" "$2"; } >"$scratch/$1.out"
}

names=()
for bin in "$FUZZ_O"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); name=${name#fuzz_}
    [ -f "tests/fuzz/fuzz_$name.c" ] || continue # a stale binary
    case "tests/fuzz/fuzz_$name.c" in *"$filter"*) ;; *) continue ;; esac
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    target "$name" "$bin" &
    names+=("$name")
done
wait
status=0
for name in "${names[@]}"; do
    cat "$scratch/$name.out"
    ! grep -q '^not ok ' "$scratch/$name.out" || status=1
done
exit $status
