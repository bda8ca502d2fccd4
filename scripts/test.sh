#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests under
# ASan+UBSan, link checks and benchmark smoke runs in the release build, then
# the integration suite (pytest against real kernel peers over taps). Exits non-zero on any
# failure. Needs root (taps, hugepages).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

scripts/install-deps.sh
scripts/hugepages.sh || echo "test: continuing without hugepages (linegate falls back to --no-huge)"

# Unit tests run once, under ASan+UBSan (the stronger check); the release
# tree builds the programs, link checks and benchmarks, which the
# integration suite and the benchmark smoke runs exercise at -O3. Building
# the unit tests in both trees would cost minutes of the suite's budget.
echo "== build (release): programs, link checks, benchmarks"
[ -f build/build.ninja ] || meson setup build
mapfile -t release_targets < <(scripts/meson_targets.py build build --skip tests/unit)
ninja -C build "${release_targets[@]}"

echo "== build (debug, ASan+UBSan): the unit test programs only"
# -O0 with line tables only (-g1): sanitizer reports keep file:line, and the
# compiler skips full debug info for the template-heavy gRPC/protobuf code.
[ -f build-asan/build.ninja ] || meson setup build-asan -Doptimization=0 -Ddebug=false -Dcpp_args=-g1 -Dc_args=-g1 \
  -Db_sanitize=address,undefined -Db_lundef=false
mapfile -t unit_targets < <(scripts/meson_targets.py build-asan build --suite unit)
ninja -C build-asan "${unit_targets[@]}"

echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --no-rebuild --print-errorlogs

echo "== link checks, benchmark smoke runs (release)"
mapfile -t release_tests < <(scripts/meson_targets.py build tests --skip tests/unit)
meson test -C build --no-rebuild --print-errorlogs "${release_tests[@]}"

echo "== integration tests"
LINEGATE_BIN="$PWD/build/dataplane/linegate" \
  /usr/bin/python3 -m pytest -p no:cacheprovider -v --durations=15 tests/integration
