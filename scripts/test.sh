#!/usr/bin/env bash
# Installs what vane needs, builds it with warnings as errors, and runs every test (unit,
# integration against the real binary, lint). This is the README's test command and CI's.
# Before the main run, tests run against more builds, so that the last line printed is still the
# main run's ctest summary, which CI reads:
# - plain Asio calls (-DVANE_ASIO_READINESS=OFF: the way out when a Boost upgrade breaks
#   proxy/net/readiness.cpp): the integration tests of the data plane (the suites of the control
#   plane, the CLI and the cluster never reach proxy/net/readiness*, so they are left out there);
# - AddressSanitizer + UndefinedBehaviorSanitizer, leaks included: every unit and integration test;
# - ThreadSanitizer: the tests where threads meet (below);
# - libFuzzer (scripts/fuzz.sh, clang, its own build dir): a fixed number of inputs per target.
# A sanitizer finding fails the test that ran into it: a unit test aborts; an integration test
# fails when vane (or any child it started) printed a report on its stderr
# (tests/integration/harness.cpp, which also stops vane with SIGTERM in these builds, so that
# every run ends with a leak check). VANE_SANITIZERS=0 skips the sanitizer builds and
# VANE_FUZZ_RUNS=0 the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${VANE_BUILD_DIR:-build}
flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_WERROR=ON -DVANE_BUILD_TESTS=ON)
ctest_flags=(--output-on-failure --timeout 600 -j2)
integration=(vane vane-test-upstream vane_integration_tests)
began=$SECONDS
part() { echo "== scripts/test.sh: $1: $((SECONDS - began)) s"; began=$SECONDS; }
# Under the sanitizers the unit tests run one process per test binary, two binaries at a time
# (ctest starts a process per test case: 1,200 sanitizer start-ups and leak checks). A failing
# binary prints its failures and fails the run; a hung one is stopped after 10 minutes.
unit_binaries() {
  printf '%s\n' "$@" |
    xargs -P2 -I{} sh -c 'cd "$(dirname {})" && exec timeout 600 ./"$(basename {})" --gtest_brief=1'
}

cmake -S . -B "$build" "${flags[@]}"
cmake --build "$build" -j2
part "build"

cmake -S . -B "$build-plain-asio" "${flags[@]}" -DVANE_ASIO_READINESS=OFF
cmake --build "$build-plain-asio" -j2 --target "${integration[@]}"
control_plane='^(Cli|Cluster|Dashboard|Demo|Events|GrafanaDashboard|ImportArgo|Notifications|Rollout(Analysis|Api|BlueGreen|Exec|Gate|Hardening|Lifecycle|Prometheus|Restart|Shield|Token))'
(cd "$build-plain-asio" && ctest "${ctest_flags[@]}" -L integration -E "$control_plane")
part "plain Asio build, integration tests"

if [ "${VANE_SANITIZERS:-1}" != 0 ]; then
  # Every finding stops the program (halt_on_error; -fno-sanitize-recover in CMakeLists.txt), by
  # SIGABRT (abort_on_error), which the harness also reports as vane dying of a signal.
  cmake -S . -B "$build-asan" "${flags[@]}" -DVANE_SANITIZE=address,undefined
  cmake --build "$build-asan" -j2
  (cd "$build-asan" &&
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:check_initialization_order=1:strict_init_order=1 \
      UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 &&
    unit_binaries tests/{config,analysis,rollout,proxy,control,cli}/vane_*_tests &&
    ctest "${ctest_flags[@]}" -L integration)
  part "ASan+UBSan build, unit and integration tests"

  # ThreadSanitizer where threads meet: vane (2 workers, the control thread, the access-log
  # writer) under every integration test; and the unit tests that start threads: analysis (an
  # outcome shard written on one thread, read on another), cli (a test server thread), control
  # (Asio resolves on a thread of its own under the HTTP client). The others (config, rollout,
  # proxy) run on one thread: not built here, so `-L unit` finds only these.
  cmake -S . -B "$build-tsan" "${flags[@]}" -DVANE_SANITIZE=thread
  cmake --build "$build-tsan" -j2 --target "${integration[@]}" \
    vane_analysis_tests vane_cli_tests vane_control_tests
  (cd "$build-tsan" &&
    export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 &&
    unit_binaries tests/{analysis,cli,control}/vane_*_tests &&
    ctest "${ctest_flags[@]}" -L integration)
  part "TSan build, integration and threaded unit tests"
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
