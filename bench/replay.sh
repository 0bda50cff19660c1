#!/usr/bin/env bash
# Offline throughput: builds a 1,000,000-event trace (realistic mix: client and
# upstream connections, captured heads, resets, closes, attributed against a real
# config), then times `ngxwatch analyze` on it pinned to one core.
#   bench/replay.sh [BUILD_DIR] [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
events=${2:-1000000}
trace=$(mktemp --suffix=.trace)
trap 'rm -f "$trace"' EXIT
cmake --build "$build" --target ngxwatch ngxwatch_bench_replay >/dev/null
taskset -c 1 "$build/bench/ngxwatch_bench_replay" "$events" --write "$trace"
start=$(date +%s.%N)
taskset -c 1 "$build/ngxwatch" analyze "$trace" >/dev/null
end=$(date +%s.%N)
size=$(stat -c %s "$trace")
awk -v s="$start" -v e="$end" -v n="$events" -v b="$size" 'BEGIN {
  t = e - s
  printf "ngxwatch analyze: %d events (%.0f MB) in %.3f s on one core = %.0f events/s (target: < 1 s)\n", n, b / 1048576, t, n / t
  exit (t < 1.0 ? 0 : 1)
}'
