// The `loadbalancing` exporter (otelcol contrib's loadbalancingexporter, traces only):
// sends all spans of a trace (`routing_key: traceID`, the default) or of a service
// (`routing_key: service`) to the same backend, chosen on a consistent-hash ring
// (hash_ring.h) of the endpoints a resolver reports (`static` list, or `dns`).
//
// Each backend has its own otlp (gRPC) exporter built from `protocol::otlp`: a
// QueuedExporter with its own sending queue and retries. Consume() splits a batch by
// routing key into one request per backend (forwarding the original bytes when every
// span goes to one backend) and acknowledges it once every backend's queue accepted its
// part; the first refusal is returned instead (a full queue: retryable Unavailable, and
// the client's retry may duplicate the parts that were accepted). With no backend known
// yet, data is refused with Unavailable. When the resolver's list changes the ring is
// rebuilt at once; backends that left are drained and shut down in the background, and
// new ones start. Spans without a `service.name` (service routing) route by "".
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/config/component.h"
#include "pipeline/exporter/loadbalancing/backend_resolver.h"
#include "pipeline/exporter/loadbalancing/dns_resolver.h"
#include "pipeline/exporter/otlp/otlp_exporter.h"

namespace strand::pipeline {

enum class RoutingKey { kTraceId, kService };

struct LoadBalancingSettings : ComponentSettings {
  RoutingKey routing_key = RoutingKey::kTraceId;
  OtlpClientSettings otlp;  // `protocol::otlp`; its endpoint is ignored
  bool use_static = false;
  std::vector<std::string> static_hostnames;
  bool use_dns = false;
  DnsResolverOptions dns;  // hostname, port, interval, timeout
};

std::unique_ptr<ExporterFactory> NewLoadBalancingExporterFactory();

class LoadBalancingExporter : public Exporter {
 public:
  // `resolver` reports the backends (the factory builds it from `settings`; tests inject
  // a fake).
  LoadBalancingExporter(const LoadBalancingSettings& settings, const BuildContext& ctx,
                        std::unique_ptr<BackendResolver> resolver);
  ~LoadBalancingExporter() override;

  absl::Status Start() override;
  // Stops the resolver, then drains and stops every backend's exporter.
  void Shutdown() override;
  absl::Status Admit(const RequestContext& ctx) override;
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override;

  // The endpoints of the current ring, sorted.
  std::vector<std::string> Backends() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strand::pipeline
