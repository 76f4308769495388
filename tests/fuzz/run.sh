#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every fuzz harness of BUILD_DIR for SECONDS each on its seed corpus (tests/fuzz/seeds/<name>), two at a time
# (FUZZ_JOBS), or until FUZZ_RUNS executions when that is set and comes first.
# A crash, leak, sanitizer report or timeout fails the run and leaves the input in BUILD_DIR/findings/<name>/.
#   bash tests/fuzz/run.sh build/fuzz 60
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
fail=0
pids=()
# FUZZ_NAMES="decode journal" runs only those.
read -r -a names <<<"${FUZZ_NAMES:-safetensors modelfile plan journal filecheck decode http}"
run_one() {
  local name=$1
  local corpus="$build/corpus/$name" findings="$build/findings/$name"
  mkdir -p "$corpus" "$findings"
  # -rss_limit_mb: a decompression bomb must be refused, not decoded; 2 GB is libFuzzer's default, said aloud.
  "$build/fuzz_$name" "$corpus" "$here/seeds/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
    -max_len=65536 ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$build/fuzz_$name.log" 2>&1
  local rc=$?
  local execs
  execs=$(grep -m1 'stat::number_of_executed_units' "$build/fuzz_$name.log" | awk '{print $2}')
  if [ $rc -ne 0 ]; then
    echo "fuzz_$name: FAILED (exit $rc); last lines of $build/fuzz_$name.log:"
    tail -40 "$build/fuzz_$name.log"
    return 1
  fi
  local secs
  secs=$(grep -m1 'stat::average_exec_per_sec' "$build/fuzz_$name.log" | awk '{print $2}')
  echo "fuzz_$name: ok, ${execs:-?} executions (${secs:-?}/s; limit ${seconds} s${FUZZ_RUNS:+ or $FUZZ_RUNS runs})"
}
jobs=${FUZZ_JOBS:-2}
for name in "${names[@]}"; do
  run_one "$name" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
