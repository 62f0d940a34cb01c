#!/usr/bin/env bash
# Runs every libFuzzer target briefly (FUZZ_SECONDS each, default 20; FUZZ_JOBS at a
# time, default 1) over a scratch copy of its seed corpus. Fails if a target finds a
# crash; the reproducer is left in $BUILD/fuzz-artifacts/. Usage: tests/fuzz/run.sh BUILD_DIR
set -euo pipefail
build="${1:?usage: run.sh BUILD_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${FUZZ_SECONDS:-20}"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

# One target: fuzz it over a scratch copy of its corpus; prints its last stats line, or the
# log's tail and a failure when it found a crash.
fuzz_one() {
  local target="$1" bin="$build/tests/fuzz/$1" work dict=()
  work="$(mktemp -d)"
  cp -r "$here/corpus/$target/." "$work/"
  [[ "$target" == otlp_json_fuzzer ]] && dict=(-dict="$here/otlp_json.dict")
  [[ "$target" == traceql_parser_fuzzer ]] && dict=(-dict="$here/traceql.dict")
  [[ "$target" == http_request_fuzzer ]] && dict=(-dict="$here/http.dict")
  [[ "$target" == wal_reader_fuzzer ]] && dict=(-dict="$here/wal.dict")
  if "$bin" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$artifacts/$target-" "$work" 2>"$artifacts/$target.log"; then
    echo "fuzz: $target: $(grep -E "^Done [0-9]+ runs" "$artifacts/$target.log" | tail -1)"
    rm -rf "$work"
  else
    echo "fuzz: $target found a crash:"
    tail -40 "$artifacts/$target.log"
    rm -rf "$work"
    return 1
  fi
}

# FUZZ_JOBS targets at a time (default 1).
targets=(otlp_proto_fuzzer otlp_json_fuzzer block_reader_fuzzer traceql_parser_fuzzer
  http_request_fuzzer wal_reader_fuzzer)
jobs="${FUZZ_JOBS:-1}"
status=0
pids=()
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  pids+=($!)
  if ((${#pids[@]} >= jobs)); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
if ((status)); then
  echo "fuzz: a target found a crash; reproducers are in $artifacts/" >&2
  exit 1
fi
echo "fuzz: no crash found"
