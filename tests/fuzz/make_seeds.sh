#!/bin/sh
# Regenerates the binary protobuf seeds of otlp_proto_fuzzer from seeds/*.textproto.
# Run from anywhere; needs protoc.
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
