#!/usr/bin/env bash
# The test suite's verdict must not depend on how fast or busy the machine is (issue 12). This runs
# the README's test command under three conditions and prints one table:
#
#   quiet   3 runs on an otherwise idle machine
#   busy    3 runs while one CPU hog per core (started and killed by this script) competes
#   pinned  1 run pinned to one core (taskset -c 0)
#
# Not part of CI: the whole matrix takes about an hour on 2 cores.
#
#   scripts/stress_tests.sh                      the full matrix over the whole suite
#   scripts/stress_tests.sh --quick [TESTS...]   one run per condition (a check of the script itself)
#   scripts/stress_tests.sh [TESTS...]           the full matrix over some test files only
#   scripts/stress_tests.sh --runs Q,B,P [TESTS...]  Q quiet, B busy and P pinned runs (e.g. 1,2,0
#                                                to re-check after a fix)
#
# Logs: $STRESS_LOG_DIR (default: a new folder under /tmp), one file per run. Exit code: 0 when
# every run passed, 1 otherwise.
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON=python3

quiet_runs=3 busy_runs=3 pinned_runs=1
if [[ "${1:-}" == "--quick" ]]; then
    quiet_runs=1 busy_runs=1 pinned_runs=1
    shift
elif [[ "${1:-}" == "--runs" ]]; then
    IFS=, read -r quiet_runs busy_runs pinned_runs <<<"${2:?--runs needs Q,B,P}"
    for n in "$quiet_runs" "$busy_runs" "$pinned_runs"; do
        [[ "$n" =~ ^[0-9]+$ ]] || { echo "--runs: expected three counts like 1,2,0, got ${2}" >&2; exit 2; }
    done
    shift 2
fi
tests=("$@")
log_dir="${STRESS_LOG_DIR:-$(mktemp -d /tmp/roadstudio-stress.XXXXXX)}"
mkdir -p "$log_dir"
cores=$(nproc)

hog_pids=()
stop_hogs() {
    # Only the hogs this script started, by their pids.
    for pid in "${hog_pids[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    hog_pids=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM

start_hogs() {
    # One busy loop per core, at normal priority, so the tests really compete for every core.
    for _ in $(seq "$cores"); do
        "$PYTHON" -c 'while True: pass' &
        hog_pids+=("$!")
    done
}

rows=()
failed=0

run_once() {  # condition, index, command prefix...
    local condition=$1 index=$2
    shift 2
    local log="$log_dir/${condition}_${index}.log"
    local start end status summary
    start=$(date +%s.%N)
    "$@" "$PYTHON" -m pytest -q -p no:cacheprovider "${tests[@]}" >"$log" 2>&1
    status=$?
    end=$(date +%s.%N)
    # pytest's last line: "== 412 passed, 3 skipped in 301.2s ==" (without the decoration)
    summary=$(grep -E "[0-9]+ (passed|failed|error)" "$log" | tail -n 1 | sed -E 's/=+//g; s/ in [0-9.]+s.*//; s/^ +| +$//g')
    [[ -n "$summary" ]] || summary="no summary (see log)"
    local verdict=PASS
    if [[ $status -ne 0 ]]; then
        verdict=FAIL
        failed=1
    fi
    rows+=("$(printf '%-7s %3s  %-4s %8.0f  %s' "$condition" "$index" "$verdict" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$summary")")
    echo "${rows[-1]}    ($log)" >&2
}

echo "roadstudio stress run: $cores cores, tests: ${tests[*]:-the whole suite}, logs in $log_dir" >&2
for i in $(seq "$quiet_runs"); do run_once quiet "$i"; done
if (( busy_runs > 0 )); then
    start_hogs
    for i in $(seq "$busy_runs"); do run_once busy "$i"; done
    stop_hogs
fi
if (( pinned_runs == 0 )); then
    :
elif command -v taskset >/dev/null; then
    for i in $(seq "$pinned_runs"); do run_once pinned "$i" taskset -c 0; done
else
    rows+=("pinned    -  SKIP        -  taskset is not installed")
fi

echo
printf '%-7s %3s  %-4s %8s  %s\n' condition run "" seconds "pytest summary"
printf '%s\n' "${rows[@]}"
exit $failed
