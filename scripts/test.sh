#!/usr/bin/env bash
# Installs what vane needs, builds it with warnings as errors, and runs every test (unit,
# integration against the real binary, lint). This is the README's test command and CI's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${VANE_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_WERROR=ON -DVANE_BUILD_TESTS=ON
cmake --build "$build" -j2
cd "$build"
ctest --output-on-failure --timeout 600 -j2 "$@"
