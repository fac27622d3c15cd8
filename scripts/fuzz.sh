#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (its own build dir, VANE_FUZZ=ON) and runs
# each for SECONDS (default 60) on a scratch copy of its seed corpus, so no new input is ever
# written into the repository. Prints each target's executions and coverage (libFuzzer's final
# stats); exits 0 when none crashed, else 1 with the crash file's path (the scratch dir is kept).
#   scripts/fuzz.sh [SECONDS]      VANE_FUZZ_BUILD_DIR (default build-fuzz), VANE_FUZZ_TARGETS
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
build=${VANE_FUZZ_BUILD_DIR:-build-fuzz}
# target:max_len — long enough for every limit the target checks (it runs tight limits too).
all_targets=(request:2048 chunked:1024 response:2048 config:8192 expression:1024 state:2048 h2_request:4096 h2_response:4096)
read -r -a wanted <<<"${VANE_FUZZ_TARGETS:-request chunked response config expression state h2_request h2_response}"

cc=${CC:-clang-14}
cxx=${CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (scripts/install-deps.sh)" >&2; exit 2; }
CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVANE_FUZZ=ON \
  -DVANE_BUILD_TESTS=OFF >/dev/null
names=()
for entry in "${all_targets[@]}"; do
  for w in "${wanted[@]}"; do [[ ${entry%%:*} == "$w" ]] && names+=("${entry%%:*}_fuzz"); done
done
[[ ${#names[@]} -gt 0 ]] || { echo "fuzz: no target in VANE_FUZZ_TARGETS" >&2; exit 2; }
start=$SECONDS
cmake --build "$build" -j2 --target "${names[@]}"
echo "fuzz: built ${#names[@]} targets in $((SECONDS - start))s"

# VANE_FUZZ_RUNS=N: N inputs from seed VANE_FUZZ_SEED (default 1) instead of SECONDS of time, so
# that a run is the same every time (CI: a new finding belongs to a long run, not to a random CI
# failure); SECONDS then only bounds it.
if [[ -n ${VANE_FUZZ_RUNS:-} ]]; then
  budget=(-runs="$VANE_FUZZ_RUNS" -seed="${VANE_FUZZ_SEED:-1}")
else
  budget=(-max_total_time="$seconds")
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vane-fuzz.XXXXXX")
failed=0
for entry in "${all_targets[@]}"; do
  name=${entry%%:*}
  [[ " ${names[*]} " == *" ${name}_fuzz "* ]] || continue
  corpus=$scratch/$name/corpus
  artifacts=$scratch/$name/artifacts/
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/"$name"/* "$corpus"/
  log=$scratch/$name/log
  # libFuzzer stops itself after max_total_time; the outer timeout bounds a hang anyway.
  rc=0
  timeout --kill-after=10 $((seconds + 120)) "$build/tests/fuzz/${name}_fuzz" \
    "${budget[@]}" -max_len="${entry##*:}" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 || true)
  crash=$(find "$artifacts" -type f | head -n 1)
  if [[ $rc -ne 0 || -n $crash ]]; then
    failed=1
    echo "fuzz: $name FAILED (exit $rc) after ${execs:-?} executions, ${cov:-no coverage line}"
    grep -E 'ERROR|violated|SUMMARY|runtime error' "$log" | head -n 20 || tail -n 20 "$log"
    echo "fuzz: $name crash input: ${crash:-none}; log: $log"
  else
    echo "fuzz: $name ok: ${execs:-?} executions, ${cov:-no coverage line}"
  fi
done
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED; inputs and logs kept in $scratch"
  exit 1
fi
rm -rf "$scratch"
echo "fuzz: all targets ran ${VANE_FUZZ_RUNS:+$VANE_FUZZ_RUNS inputs, seed ${VANE_FUZZ_SEED:-1}, within }${seconds}s without a crash"
