#!/bin/sh
# Build the fuzz targets with clang in BUILD_DIR and run each for SECONDS.
#   tests/fuzz/run_fuzz.sh [BUILD_DIR] [SECONDS]      (defaults: build-fuzz 20)
# The libraries are built with -fsanitize=fuzzer-no-link plus ASan/UBSan (the
# project's NGXWATCH_SANITIZE) so that the fuzzer sees coverage inside them.
# Seeds come from tests/fuzz/corpus/<name>/; new inputs go to BUILD_DIR/corpus so
# the repository is not modified. Exits non-zero on the first crash.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-20}

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

status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work="$build/corpus/$name"
  mkdir -p "$work"
  seeds="$here/corpus/$name"
  echo "== fuzz_$name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/" "$work" $( [ -d "$seeds" ] && echo "$seeds" ); then
    echo "fuzz_$name FAILED (crash input in $build/)"
    status=1
  fi
done
exit $status
