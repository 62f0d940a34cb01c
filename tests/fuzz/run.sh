#!/usr/bin/env bash
# Runs every libFuzzer target briefly (FUZZ_SECONDS each, default 20) over a scratch copy
# of its seed corpus. Fails if a target finds a crash; the reproducer is left in
# $BUILD/fuzz-artifacts/. Usage: tests/fuzz/run.sh BUILD_DIR
set -euo pipefail
build="${1:?usage: run.sh BUILD_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${FUZZ_SECONDS:-20}"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
for target in otlp_proto_fuzzer otlp_json_fuzzer block_reader_fuzzer traceql_parser_fuzzer \
  http_request_fuzzer wal_reader_fuzzer; do
  bin="$build/tests/fuzz/$target"
  work="$(mktemp -d)"
  cp -r "$here/corpus/$target/." "$work/"
  dict=()
  [[ "$target" == otlp_json_fuzzer ]] && dict=(-dict="$here/otlp_json.dict")
  [[ "$target" == traceql_parser_fuzzer ]] && dict=(-dict="$here/traceql.dict")
  [[ "$target" == http_request_fuzzer ]] && dict=(-dict="$here/http.dict")
  [[ "$target" == wal_reader_fuzzer ]] && dict=(-dict="$here/wal.dict")
  echo "fuzz: $target for ${seconds}s"
  "$bin" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$artifacts/$target-" "$work" 2>"$artifacts/$target.log" ||
    { tail -40 "$artifacts/$target.log"; rm -rf "$work"; exit 1; }
  grep -E "^#[0-9]+ *DONE" "$artifacts/$target.log" | tail -1 || true
  rm -rf "$work"
done
echo "fuzz: no crash found"
