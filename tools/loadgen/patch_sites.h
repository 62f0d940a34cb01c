// PatchSites: where a pre-encoded OTLP request body holds its trace IDs, span IDs and
// timestamps, and the in-place rewrite that makes one body into many distinct requests.
//
// A rewrite XORs the low 8 bytes of every trace ID with one value and every span ID
// (parent IDs and links included) with another, and adds one delta to every timestamp.
// Parent and link references stay consistent, span IDs stay distinct within a trace, and a
// body's traces stay distinct from each other. Bodies in protobuf hold raw bytes and
// fixed64 times; bodies in OTLP/JSON hold 32 or 16 hex digits and 19-digit decimal times.
// Thread-compatible value types and pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/json_encoder.h"

namespace strand::loadgen {

enum class BodyFormat { kProtobuf, kJson };

// Offsets of trace IDs (16 bytes / 32 hex digits), span, parent and link span IDs (8 bytes
// / 16 hex) and times (fixed64 little-endian / 19 decimal digits).
using PatchSites = otlp::JsonIdSites;

struct IdShift {
  uint64_t trace_xor = 0;   // applied to bytes 8..15 of trace IDs, big-endian
  uint64_t span_xor = 0;    // applied to span IDs, big-endian
  uint64_t time_delta = 0;  // added to every timestamp, in nanoseconds
};

// Finds the sites in an ExportTraceServiceRequest in protobuf. Fails with InvalidArgument
// on malformed input or an ID of the wrong length.
absl::StatusOr<PatchSites> FindProtoPatchSites(std::string_view body);

// Rewrites `body` (of the given format, with these sites) in place.
void ApplyPatches(const PatchSites& sites, BodyFormat format, const IdShift& shift, char* body);

// The rewritten form of one ID, for callers that need to know what was sent.
void ShiftTraceId(uint64_t trace_xor, uint8_t id[16]);
void ShiftSpanId(uint64_t span_xor, uint8_t id[8]);

}  // namespace strand::loadgen
