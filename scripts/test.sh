#!/usr/bin/env bash
# Installs what vane needs, builds it with warnings as errors, and runs every test (unit,
# integration against the real binary, lint). This is the README's test command and CI's.
# Before the main run, the integration tests of the main build drive other vane binaries (through
# $VANE_BIN, tests/integration/harness.cpp), so that the last line printed is still the main run's
# ctest summary, which CI reads:
# - vane-plain-asio, built beside vane (proxy/net/readiness_plain.cpp in place of readiness.cpp:
#   the way out when a Boost upgrade breaks the latter): the data plane's suites (those of the
#   control plane, the CLI and the cluster never reach proxy/net/readiness*);
# - vane built with AddressSanitizer + UndefinedBehaviorSanitizer, leaks included: every
#   integration test, and analysis' unit tests (the expression language, the outcome shards'
#   memory);
# - vane built with ThreadSanitizer: every integration test (two workers, the control thread and
#   the access-log writer meet in each), and analysis' unit tests (an outcome shard written on one
#   thread and read on another);
# - libFuzzer with ASan+UBSan (scripts/fuzz.sh, clang, its own build dir): a fixed number of
#   inputs per target (HTTP/1.1 requests, responses and chunked bodies, the config loader, the
#   expression language, the rollout state machine).
# Only vane and those unit tests are built sanitized: the test harness and the upstreams it starts
# are not under test, and the other unit tests' code is what vane runs under the integration tests
# and the fuzzers (building them sanitized doubled the sanitized builds, which are most of CI's
# time). A sanitizer finding fails the test that ran into it: a unit test aborts; an
# integration test fails when vane (or any child it started) printed a report on its stderr, and
# with VANE_SANITIZED=1 the harness stops vane with SIGTERM, so that every run ends with a leak
# check. VANE_SANITIZERS=0 skips the sanitizer builds and VANE_FUZZ_RUNS=0 the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=$(realpath -m "${VANE_BUILD_DIR:-build}")
flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_WERROR=ON -DVANE_BUILD_TESTS=ON)
# Four at a time: an integration test mostly waits (its rollouts' steps, its clients), using about
# a quarter of a core in the plain build.
ctest_flags=(--output-on-failure --timeout 600 -j4)
began=$SECONDS
part() { echo "== scripts/test.sh: $1: $((SECONDS - began)) s"; began=$SECONDS; }
# A sanitized build's analysis unit tests, in one process (ctest would start one per test case:
# a sanitizer start-up and leak check each). A failure fails the run; a hang is stopped after
# 10 minutes.
analysis_units() {
  (cd "$1/tests/analysis" && timeout 600 ./vane_analysis_tests --gtest_brief=1)
}
# The main build's integration tests against another vane binary.
integration_with() {
  (cd "$build" && VANE_BIN=$1 VANE_SANITIZED=${2:-0} ctest "${ctest_flags[@]}" -L integration \
    ${3:+-E "$3"})
}

cmake -S . -B "$build" "${flags[@]}"
cmake --build "$build" -j2
part "build"

control_plane='^(Cli|Cluster|Dashboard|Demo|Events|GrafanaDashboard|ImportArgo|Notifications|Rollout(Analysis|Api|BlueGreen|Exec|Gate|Hardening|Lifecycle|Prometheus|Restart|Shield|Token))'
integration_with "$build/vane-plain-asio" 0 "$control_plane"
part "integration tests on vane-plain-asio"

if [ "${VANE_SANITIZERS:-1}" != 0 ]; then
  # Every finding stops the program (halt_on_error; -fno-sanitize-recover in CMakeLists.txt), by
  # SIGABRT (abort_on_error), which the harness also reports as vane dying of a signal.
  cmake -S . -B "$build-asan" "${flags[@]}" -DVANE_SANITIZE=address,undefined
  cmake --build "$build-asan" -j2 --target vane vane_analysis_tests
  (export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:check_initialization_order=1:strict_init_order=1 \
      UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 &&
    analysis_units "$build-asan" &&
    integration_with "$build-asan/vane" 1)
  part "ASan+UBSan build, unit and integration tests"

  cmake -S . -B "$build-tsan" "${flags[@]}" -DVANE_SANITIZE=thread
  cmake --build "$build-tsan" -j2 --target vane vane_analysis_tests
  (export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 &&
    analysis_units "$build-tsan" &&
    integration_with "$build-tsan/vane" 1)
  part "TSan build, integration and analysis unit tests"
fi

# A fixed number of inputs from a fixed seed: the same run every time (a random run found a new
# input in 15 s once; findings belong to long runs, scripts/fuzz.sh SECONDS), bounded by 60 s.
fuzz_runs=${VANE_FUZZ_RUNS:-500}
if [ "$fuzz_runs" -gt 0 ]; then
  VANE_FUZZ_BUILD_DIR=$build-fuzz VANE_FUZZ_RUNS=$fuzz_runs bash scripts/fuzz.sh 60
  part "fuzz build and run"
fi

cd "$build"
ctest "${ctest_flags[@]}" "$@"
