#!/usr/bin/env bash
# What `make test` runs once the dependencies are installed, the web UI is built and both
# build trees are configured (the Makefile does those first). On two cores the compilers
# are the long pole, so the order keeps both cores busy:
#
#   1. the release binary ($BUILD/strand), which the suites below drive;
#   2. the sanitizer tree ($BUILD_ASAN: unit tests, benchmarks, fuzzers) compiles at low
#      priority while the end-to-end, Kubernetes and TraceQL grammar suites run (they wait
#      on timers and I/O much of the time, and keep their priority over the compiler);
#   3. the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. each libFuzzer target briefly (10 s) over its seed corpus.
#
# Every step runs even when an earlier suite failed; the script fails if any did, and
# prints each step's time at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
build_asan="${BUILD_ASAN:-build-asan}"
jobs="${JOBS:-$(nproc)}"

# Each suite runs through its own Makefile target, so the commands live in one place.
suite() { make --no-print-directory BUILD="$build" BUILD_ASAN="$build_asan" JOBS="$jobs" "$@"; }

failed=()
timings=()
step() {  # step NAME COMMAND...: runs COMMAND, records its time and whether it failed
  local name="$1" start=$SECONDS
  shift
  echo "== $name"
  if ! "$@"; then failed+=("$name"); fi
  timings+=("$(printf '%-34s %4d s' "$name" $((SECONDS - start)))")
}

step "release build ($build/strand)" cmake --build "$build" -j "$jobs" --target strand
if [[ ! -x "$build/strand" ]]; then
  echo "test: the release build failed; nothing to test" >&2
  exit 1
fi

# The sanitizer tree, in the background; its output goes to a log shown if it fails.
asan_log="$build_asan/make-test-build.log"
asan_start=$SECONDS
nice -n 19 cmake --build "$build_asan" -j "$jobs" \
  --target strand_unit_tests strand_benchmarks strand_fuzzers >"$asan_log" 2>&1 &
asan_pid=$!
# Interrupted: stop the background build too (it shares this script's process group).
trap 'trap - INT TERM; kill 0' INT TERM

step "end-to-end suite" suite e2e-test
step "Kubernetes suite" suite k8s-test
step "TraceQL grammar suite" suite traceql-grammar-test

echo "== sanitizer build ($build_asan; log: $asan_log)"
if wait "$asan_pid"; then
  tail -1 "$asan_log"
else
  tail -60 "$asan_log"
  failed+=("sanitizer build")
fi
timings+=("$(printf '%-34s %4d s' "sanitizer build (from its start)" $((SECONDS - asan_start)))")

if [[ " ${failed[*]} " != *" sanitizer build "* ]]; then
  step "unit tests under ASan+UBSan" suite asan-run
  # 10 s per target here (a smoke run over the seeds); `make fuzz-test` runs 20 s each.
  FUZZ_SECONDS="${FUZZ_SECONDS:-10}" step "fuzz targets" suite fuzz-run
fi

echo
echo "make test: time per step"
printf '  %s\n' "${timings[@]}"
echo "  total (after install and configure)  $SECONDS s"
if ((${#failed[@]})); then
  echo "make test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "make test: all passed"
