#!/bin/sh
# Regenerates the binary protobuf seeds of otlp_proto_fuzzer from seeds/*.textproto and,
# given a fuzz build directory (with make_block_seeds built), the block data files of
# block_reader_fuzzer, written by BlockWriter from those requests, and the WAL segments of
# wal_reader_fuzzer.
# Run from anywhere; needs protoc. Usage: make_seeds.sh [BUILD_FUZZ_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
protos="$here/../../src/otlp/proto"
out="$here/corpus/otlp_proto_fuzzer"
mkdir -p "$out"
for seed in "$here"/seeds/*.textproto; do
  name=$(basename "$seed" .textproto)
  protoc -I "$protos" \
    --encode=opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest \
    opentelemetry/proto/collector/trace/v1/trace_service.proto \
    < "$seed" > "$out/$name.binpb"
done
: > "$out/empty.binpb"

if [ $# -ge 1 ]; then
  blocks="$here/corpus/block_reader_fuzzer"
  mkdir -p "$blocks"
  rm -f "$blocks"/*.blk
  # full.binpb first: it also gets a compressed variant.
  "$1/tests/fuzz/make_block_seeds" "$blocks" "$out/full.binpb" "$out/minimal.binpb" \
    "$out/multi.binpb"
  wals="$here/corpus/wal_reader_fuzzer"
  mkdir -p "$wals"
  rm -f "$wals"/*.wal
  "$1/tests/fuzz/make_wal_seeds" "$wals" "$out/minimal.binpb" "$out/multi.binpb"
fi
