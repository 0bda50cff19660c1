#!/bin/sh
# Build the fuzz targets with clang in BUILD_DIR and run each one.
#   tests/fuzz/run_fuzz.sh [BUILD_DIR] [SECONDS]         each target for SECONDS (default 20;
#                                                        scripts/test gives 12)
#   tests/fuzz/run_fuzz.sh --long [BUILD_DIR]            each target for FUZZ_RUNS executions
#                                                        (default 10,000,000)
#   tests/fuzz/run_fuzz.sh --minimize [BUILD_DIR]        merge BUILD_DIR/corpus/<name> into a
#                                                        minimal tests/fuzz/corpus/<name> (the
#                                                        hand-named seeds there stay)
# FUZZ_TARGETS="a b" limits the run to those targets (names without fuzz_);
# FUZZ_MAX_SECONDS caps each --long run in time (the count printed says how far it got).
# The libraries are built with -fsanitize=fuzzer-no-link plus ASan/UBSan (the
# project's NGXWATCH_SANITIZE) so that the fuzzer sees coverage inside them.
# Seeds come from tests/fuzz/corpus/<name>/; new inputs go to BUILD_DIR/corpus so
# the repository is not modified (except by --minimize). One process per target, no
# -fork/-jobs: the machine is shared. Prints a line of counts per target; exits
# non-zero if any target crashed (its input is in BUILD_DIR/crash-*).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
mode=short
case "${1:-}" in
  --long) mode=long; shift ;;
  --minimize) mode=minimize; shift ;;
esac
build=${1:-build-fuzz}
seconds=${2:-20}
runs=${FUZZ_RUNS:-10000000}

if ! grep -q 'add_subdirectory(tests/fuzz)' "$src/CMakeLists.txt"; then
  echo "run_fuzz.sh: add 'add_subdirectory(tests/fuzz)' to $src/CMakeLists.txt first" >&2
  exit 2
fi

cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNGXWATCH_FUZZ=ON -DNGXWATCH_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build "$build" --target fuzz_all

# Per-target flags: the largest input worth trying (a trace's pipeline cost grows with
# its events; a config beyond a few KB only repeats what smaller ones reach).
max_len() {
  case "$1" in
    trace_file | trace_reader) echo 8192 ;;
    nginx_config | config_edit | binary_info | top_snapshot) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

# "<execs> <exec/s> <cov> <ft> <corpus units> <peak rss MiB>" from a libFuzzer log.
counts_of() {
  awk '
    /^#[0-9]+/ { for (i = 1; i <= NF; ++i) {
                   if ($i == "cov:") cov = $(i + 1); if ($i == "ft:") ft = $(i + 1);
                   if ($i == "corp:") { split($(i + 1), c, "/"); corp = c[1] } } }
    /^stat::number_of_executed_units:/ { runs = $2 }
    /^stat::average_exec_per_sec:/ { eps = $2 }
    /^stat::peak_rss_mb:/ { rss = $2 }
    END { printf "%s %s %s %s %s %s\n", runs + 0, eps + 0, cov + 0, ft + 0, corp + 0, rss + 0 }
  ' "$1"
}

status=0
summary=""
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ] && ! echo " $FUZZ_TARGETS " | grep -q " $name "; then continue; fi
  work="$build/corpus/$name"
  seeds="$here/corpus/$name"
  mkdir -p "$work" "$seeds"
  log="$build/fuzz_$name.$mode.log"
  common="-timeout=10 -rss_limit_mb=2048 -max_len=$(max_len "$name") -artifact_prefix=$build/"
  if [ "$mode" = minimize ]; then
    echo "== fuzz_$name: minimizing into $seeds"
    tmp="$build/minimized/$name"
    rm -rf "$tmp"; mkdir -p "$tmp"
    # libFuzzer names inputs by their SHA-1; hand-written seeds and crash regressions
    # (any other name) always stay, and what they reach is not added again.
    sha='.*/[0-9a-f]{40}'
    find "$seeds" -type f -regextype posix-extended ! -regex "$sha" -exec cp {} "$tmp"/ \;
    # shellcheck disable=SC2086
    # Committed inputs are cut at 2 KiB (the hand-written seeds reach what needs more):
    # the corpus stays small enough to keep in the repository.
    "$bin" ${common%%-max_len=*} -max_len=2048 -artifact_prefix=$build/ -set_cover_merge=1 \
      "$tmp" "$seeds" "$work" >"$log" 2>&1 || { cat "$log"; exit 1; }
    find "$seeds" -type f -regextype posix-extended -regex "$sha" -delete
    find "$tmp" -type f -regextype posix-extended -regex "$sha" -exec cp {} "$seeds"/ \;
    echo "   $(ls "$seeds" | wc -l) inputs, $(du -sk "$seeds" | cut -f1) KiB"
    continue
  fi
  if [ "$mode" = long ]; then
    limit="-runs=$runs${FUZZ_MAX_SECONDS:+ -max_total_time=$FUZZ_MAX_SECONDS}"
    echo "== fuzz_$name for $runs executions${FUZZ_MAX_SECONDS:+ or ${FUZZ_MAX_SECONDS}s}"
  else
    limit="-max_total_time=$seconds"
    echo "== fuzz_$name for ${seconds}s"
  fi
  # shellcheck disable=SC2086
  if "$bin" $limit $common -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" || tail -20 "$log"
  fi
  set -- $(counts_of "$log")
  line=$(printf '%-18s %-6s execs %10s  exec/s %7s  cov %5s  ft %6s  corpus %5s  rss %5s MiB' \
    "$name" "$result" "$1" "$2" "$3" "$4" "$5" "$6")
  echo "$line"
  summary="$summary$line
"
done
[ -n "$summary" ] && printf '== fuzz summary (%s)\n%s' "$mode" "$summary"
exit $status
