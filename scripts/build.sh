#!/usr/bin/env bash
# Configures (once) and builds a tree. Usage: scripts/build.sh [DIR] [meson setup options...]
# Default: build/ in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@"
fi
ninja -C "$dir"
