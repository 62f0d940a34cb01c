// Test and benchmark helpers for blocks: a deterministic generator of realistic OTLP
// requests, a container that decodes requests and groups their spans by trace, and a
// canonical form of spans for comparing what went into a block with what came out.
//
// The generator models an online shop reporting through OpenTelemetry SDKs: a frontend
// and seven services (checkout, cart, payment, inventory, shipping, productcatalog,
// recommendation), three pods each, ~23 resource attributes per resource, and spans with
// the semantic-convention attributes of HTTP servers and clients, gRPC, PostgreSQL, Redis
// and Kafka; high-cardinality values (user, product, order and transaction IDs, peer
// addresses) where real services have them; ~2% failed traces with exception events,
// occasional events and links. Output is a pure function of (options, index).
//
// Test-only; not thread-safe unless noted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_encoder.h"
#include "otlp/span_batch.h"

namespace strand::block::testdata {

struct RealisticOptions {
  uint64_t seed = 42;
  int traces_per_request = 50;
  int spans_per_trace = 10;  // traces have exactly this many spans (at least 3)
  uint64_t base_time_unix_nano = 1'700'000'000'000'000'000ULL;
};

// Request number `index`. Thread-safe.
opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest RealisticRequest(
    const RealisticOptions& options, uint64_t index);

// Decoded batches and their spans grouped by trace ID (ascending).
struct TraceSet {
  std::vector<std::unique_ptr<otlp::SpanBatch>> batches;
  std::map<otlp::TraceId, std::vector<otlp::SpanRef>> traces;
  uint64_t wire_bytes = 0;  // protobuf request bytes added
  uint64_t span_count = 0;

  // Decodes an ExportTraceServiceRequest and adds its spans.
  absl::Status AddRequest(std::string bytes);
  absl::Status AddRequest(
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request);
};

// One string per span: the span with its resource, scope and schema URLs as a
// deterministic ResourceSpans serialization, sorted. Two span sets hold the same spans
// exactly when their canonical forms are equal (grouping and order do not matter).
std::vector<std::string> CanonicalSpans(std::span<const otlp::SpanRef> spans);
std::vector<std::string> CanonicalSpans(const otlp::SpanBatch& batch);

}  // namespace strand::block::testdata
