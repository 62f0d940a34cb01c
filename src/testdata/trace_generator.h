// TraceGenerator: builds realistic OTLP trace requests from a seeded model of an online
// shop, the way its services would report them through OpenTelemetry SDKs. It is the one
// data generator of the project: unit tests, micro-benchmarks, strand-loadgen and
// strand-blockgen all run on its data.
//
// The model: a `frontend` receives browser requests (checkout, product pages, cart
// updates) and calls `checkout`, `cart`, `payment` (gRPC), `inventory` and
// `productcatalog` (PostgreSQL), `shipping` (publishes to Kafka), `recommendation`, and,
// with more than eight services, leaf services such as `ad` or `email`. Spans carry the
// OpenTelemetry semantic-convention attributes of their kind (HTTP server and client,
// RPC, database, messaging), resources carry service, host and Kubernetes attributes, about
// 2% of traces fail with an exception event, and some spans carry events and links.
//
// Every trace has exactly `spans_per_trace` spans: a flow with more spans drops client
// spans and then trailing leaves, a flow with fewer gains extra queries or middleware
// spans. Output is a pure function of the options and the request index, identical on
// every platform. Thread-safe (const methods only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "testdata/service_catalog.h"

namespace strand::testdata {

struct GeneratorOptions {
  uint64_t seed = 1;
  int traces_per_request = 50;
  int spans_per_trace = 10;
  int services = 8;          // distinct service.name values; at least 1
  double error_rate = 0.02;  // fraction of traces with a failed span
  // Start of the time window of request 0; later requests are later.
  uint64_t base_time_unix_nano = 1'700'000'000'000'000'000ULL;
};

class TraceGenerator {
 public:
  explicit TraceGenerator(const GeneratorOptions& options);

  // Builds request number `index`: `traces_per_request` traces grouped, as an SDK's
  // exporter would, by resource (service and pod) and instrumentation scope.
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest Generate(
      uint64_t index) const;

  // The service names in use, frontend first.
  const std::vector<std::string>& service_names() const { return service_names_; }
  const GeneratorOptions& options() const { return options_; }

  // How many services the built-in topology names before generic leaf services.
  static constexpr int kCoreServices = ServiceCatalog::kCoreServices;

 private:
  GeneratorOptions options_;
  ServiceCatalog catalog_;
  std::vector<std::string> service_names_;
};

// Request `index` of TraceGenerator(options): a shorthand for tests that need a few
// requests. Thread-safe.
opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest RealisticRequest(
    const GeneratorOptions& options, uint64_t index);

}  // namespace strand::testdata
