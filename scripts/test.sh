#!/usr/bin/env bash
# Installs what vane needs, builds it with warnings as errors, and runs every test (unit,
# integration against the real binary, lint). This is the README's test command and CI's.
# The integration tests run a second time, first, against a build on plain Asio calls
# (-DVANE_ASIO_READINESS=OFF: the way out when a Boost upgrade breaks proxy/net/readiness.cpp),
# so that the last line printed is still the main run's ctest summary, which CI reads. A short
# fuzz run (scripts/fuzz.sh, clang + libFuzzer, its own build dir) comes before it for the same
# reason; VANE_FUZZ_RUNS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${VANE_BUILD_DIR:-build}
plain=$build-plain-asio
flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_WERROR=ON -DVANE_BUILD_TESTS=ON)
cmake -S . -B "$build" "${flags[@]}"
cmake --build "$build" -j2
cmake -S . -B "$plain" "${flags[@]}" -DVANE_ASIO_READINESS=OFF
cmake --build "$plain" -j2 --target vane vane-test-upstream vane_integration_tests
(cd "$plain" && ctest --output-on-failure --timeout 600 -j2 -L integration)
# A fixed number of inputs from a fixed seed: the same run every time (a random run found a new
# input in 15 s once; findings belong to long runs, scripts/fuzz.sh SECONDS), bounded by 60 s.
fuzz_runs=${VANE_FUZZ_RUNS:-500}
if [ "$fuzz_runs" -gt 0 ]; then
  VANE_FUZZ_BUILD_DIR=$build-fuzz VANE_FUZZ_RUNS=$fuzz_runs bash scripts/fuzz.sh 60
fi
cd "$build"
ctest --output-on-failure --timeout 600 -j2 "$@"
