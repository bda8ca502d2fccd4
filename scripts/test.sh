#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: link checks and unit
# tests (meson), the same unit tests under ASan+UBSan, then the integration
# suite (pytest against real kernel peers over taps). Exits non-zero on any
# failure. Needs root (taps, hugepages).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

scripts/install-deps.sh
scripts/hugepages.sh || echo "test: continuing without hugepages (linegate falls back to --no-huge)"

echo "== build (release)"
scripts/build.sh build
echo "== build (debug, ASan+UBSan): the unit test programs only"
[ -f build-asan/build.ninja ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
# Binaries, benchmarks and link checks are built (and run) in the release tree;
# building them again with sanitizers would only add minutes.
mapfile -t unit_targets < <(meson introspect build-asan --tests | /usr/bin/python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if any(s.split(":")[-1] == "unit" for s in t["suite"]):
        print(os.path.relpath(t["cmd"][0], "build-asan"))')
ninja -C build-asan "${unit_targets[@]}"

echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --no-rebuild --print-errorlogs

echo "== link checks and unit tests (release)"
meson test -C build --print-errorlogs

echo "== integration tests"
LINEGATE_BIN="$PWD/build/dataplane/linegate" \
  /usr/bin/python3 -m pytest -p no:cacheprovider -v tests/integration
