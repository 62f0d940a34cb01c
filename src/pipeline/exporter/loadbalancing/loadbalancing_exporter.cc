#include "pipeline/exporter/loadbalancing/loadbalancing_exporter.h"

#include <deque>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "otlp/proto_encoder.h"
#include "pipeline/exporter/loadbalancing/hash_ring.h"
#include "pipeline/exporter/otlp/otlp_grpc_sender.h"
#include "pipeline/queue/queued_exporter.h"

namespace strand::pipeline {

namespace {

// The backends in use: a ring and an exporter per endpoint on it. Immutable once
// published; Consume() works on the snapshot it took.
struct Routing {
  HashRing ring;
  absl::flat_hash_map<std::string, std::shared_ptr<QueuedExporter>> backends;
};

// Acknowledges a split batch once every part was answered: OK, or the first refusal.
class Join {
 public:
  Join(size_t parts, ConsumeDone done) : remaining_(parts), done_(std::move(done)) {}
  void Finish(absl::Status s) {
    absl::Status first;
    {
      absl::MutexLock lock(&mu_);
      if (!s.ok() && status_.ok()) status_ = std::move(s);
      if (--remaining_ > 0) return;
      first = std::move(status_);  // the last part: nobody writes status_ any more
    }
    done_(std::move(first));
  }

 private:
  absl::Mutex mu_;
  size_t remaining_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  ConsumeDone done_;
};

std::string_view ServiceName(const otlp::SpanBatch& batch, const otlp::Resource& resource) {
  for (uint32_t i = resource.attributes.begin; i < resource.attributes.end; ++i) {
    const otlp::KeyValue& kv = batch.attributes[i];
    if (kv.key == "service.name" && kv.value.type == otlp::ValueType::kString) return kv.value.str;
  }
  return {};
}

}  // namespace

struct LoadBalancingExporter::Impl {
  LoadBalancingSettings settings;
  ComponentId id;
  MetricsRegistry own_metrics;  // when the context has no registry (tests)
  MetricsRegistry* metrics = nullptr;
  Clock* clock = nullptr;  // null: the real clock
  std::unique_ptr<BackendResolver> resolver;
  Gauge* num_backends = nullptr;
  Counter* backend_updates = nullptr;
  bool started = false;

  mutable absl::Mutex mu;
  std::shared_ptr<const Routing> routing ABSL_GUARDED_BY(mu);

  absl::Mutex update_mu;  // one Update at a time

  // Backends leave through `retiring`: the last owner of a backend's shared_ptr (a
  // routing snapshot) hands its exporter here, and the retirer drains and stops it.
  absl::Mutex retire_mu;
  std::deque<std::unique_ptr<QueuedExporter>> retiring ABSL_GUARDED_BY(retire_mu);
  int live ABSL_GUARDED_BY(retire_mu) = 0;  // backends built and not yet stopped
  bool stopping ABSL_GUARDED_BY(retire_mu) = false;
  std::thread retirer;

  std::shared_ptr<const Routing> Snapshot() const {
    absl::MutexLock lock(&mu);
    return routing;
  }

  void Retire(QueuedExporter* exporter) {
    absl::MutexLock lock(&retire_mu);
    retiring.emplace_back(exporter);
  }

  void RunRetirer() {
    for (;;) {
      std::unique_ptr<QueuedExporter> e;
      {
        absl::MutexLock lock(&retire_mu);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(retire_mu) {
          return !retiring.empty() || (stopping && live == 0);
        };
        retire_mu.Await(absl::Condition(&ready));
        if (retiring.empty()) return;
        e = std::move(retiring.front());
        retiring.pop_front();
      }
      e->Shutdown();  // sends what its queue holds
      e.reset();
      absl::MutexLock lock(&retire_mu);
      --live;
    }
  }

  absl::StatusOr<std::shared_ptr<QueuedExporter>> MakeBackend(const std::string& endpoint) {
    auto sender = OtlpGrpcSender::Create(GrpcSenderOptions(settings.otlp, endpoint));
    if (!sender.ok()) return sender.status();
    BuildContext ctx;
    ctx.id = ComponentId{id.type, id.name.empty() ? endpoint : id.name + "/" + endpoint};
    ctx.metrics = metrics;
    ctx.clock = clock;
    auto exporter =
        std::make_unique<QueuedExporter>(settings.otlp.sender, std::move(*sender), nullptr, ctx);
    if (absl::Status s = exporter->Start(); !s.ok()) return s;
    {
      absl::MutexLock lock(&retire_mu);
      ++live;
    }
    return std::shared_ptr<QueuedExporter>(exporter.release(),
                                           [this](QueuedExporter* e) { Retire(e); });
  }

  // The resolver's listener: rebuilds the ring over `endpoints`, keeping the exporters
  // of backends that stay.
  void Update(std::vector<std::string> endpoints) {
    absl::MutexLock update_lock(&update_mu);
    std::shared_ptr<const Routing> current = Snapshot();
    auto next = std::make_shared<Routing>();
    std::vector<std::string> used;
    for (const std::string& endpoint : endpoints) {
      if (current != nullptr) {
        auto it = current->backends.find(endpoint);
        if (it != current->backends.end()) {
          next->backends.emplace(endpoint, it->second);
          used.push_back(endpoint);
          continue;
        }
      }
      auto backend = MakeBackend(endpoint);
      if (!backend.ok()) {
        LOG_WARN("{}: leaving backend {} out: {}", id.ToString(), endpoint,
                 backend.status().ToString());
        continue;
      }
      next->backends.emplace(endpoint, std::move(*backend));
      used.push_back(endpoint);
    }
    next->ring = HashRing(std::move(used));
    LOG_INFO("{}: {} backends: {}", id.ToString(), next->ring.endpoints().size(),
             absl::StrJoin(next->ring.endpoints(), ", "));
    num_backends->Set(static_cast<int64_t>(next->ring.endpoints().size()));
    backend_updates->Increment();
    current = std::move(next);
    {
      absl::MutexLock lock(&mu);
      routing.swap(current);
    }
    // `current` now holds the old routing; dropping it retires the backends that left
    // (or lets the last Consume still using them do so).
  }
};

LoadBalancingExporter::LoadBalancingExporter(const LoadBalancingSettings& settings,
                                             const BuildContext& ctx,
                                             std::unique_ptr<BackendResolver> resolver)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = settings;
  impl_->id = ctx.id;
  impl_->clock = ctx.clock;
  impl_->metrics = ctx.metrics != nullptr ? ctx.metrics : &impl_->own_metrics;
  impl_->resolver = std::move(resolver);
  const std::vector<std::string> label{ctx.id.ToString()};
  impl_->num_backends =
      impl_->metrics
          ->AddGauge("strand_loadbalancer_num_backends", "Backends on the ring.", {"exporter"})
          ->With(label);
  impl_->backend_updates = impl_->metrics
                               ->AddCounter("strand_loadbalancer_num_backend_updates_total",
                                            "Changes of the backend list.", {"exporter"})
                               ->With(label);
}

LoadBalancingExporter::~LoadBalancingExporter() { Shutdown(); }

absl::Status LoadBalancingExporter::Start() {
  impl_->started = true;
  impl_->retirer = std::thread([this] { impl_->RunRetirer(); });
  return impl_->resolver->Start(
      [impl = impl_.get()](std::vector<std::string> endpoints) { impl->Update(endpoints); });
}

void LoadBalancingExporter::Shutdown() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->resolver->Shutdown();  // no Update runs after this
  std::shared_ptr<const Routing> last;
  {
    absl::MutexLock lock(&impl_->mu);
    last.swap(impl_->routing);
  }
  last.reset();
  {
    absl::MutexLock lock(&impl_->retire_mu);
    impl_->stopping = true;
  }
  impl_->retirer.join();
}

std::vector<std::string> LoadBalancingExporter::Backends() const {
  std::shared_ptr<const Routing> routing = impl_->Snapshot();
  return routing ? routing->ring.endpoints() : std::vector<std::string>();
}

absl::Status LoadBalancingExporter::Admit(const RequestContext& /*ctx*/) {
  std::shared_ptr<const Routing> routing = impl_->Snapshot();
  if (routing == nullptr || routing->ring.empty()) {
    return absl::UnavailableError("loadbalancing: no backend is known yet; retry later");
  }
  return absl::OkStatus();
}

void LoadBalancingExporter::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch,
                                    ConsumeDone done) {
  std::shared_ptr<const Routing> routing = impl_->Snapshot();
  if (routing == nullptr || routing->ring.empty()) {
    done(absl::UnavailableError("loadbalancing: no backend is known yet; retry later"));
    return;
  }
  if (batch.spans.empty()) {
    done(absl::OkStatus());
    return;
  }
  // Group the spans by owner, in first-appearance order. Owners point into the ring,
  // which the snapshot keeps alive.
  std::vector<std::pair<const std::string*, std::vector<otlp::SpanRef>>> parts;
  absl::flat_hash_map<const std::string*, size_t> part_of;
  const bool by_service = impl_->settings.routing_key == RoutingKey::kService;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) {
    const otlp::Span& span = batch.spans[i];
    std::string_view key;
    if (by_service) {
      const otlp::Scope& scope = batch.scopes[span.scope_index];
      key = ServiceName(batch, batch.resources[scope.resource_index]);
    } else {
      key = otlp::IdBytes(span.trace_id);
    }
    const std::string* owner = &routing->ring.EndpointFor(key);
    auto [it, added] = part_of.emplace(owner, parts.size());
    if (added) parts.emplace_back(owner, std::vector<otlp::SpanRef>());
    parts[it->second].second.push_back({&batch, i});
  }
  if (parts.size() == 1) {
    routing->backends.at(*parts[0].first)
        ->Consume(std::move(ctx), std::move(batch), std::move(done));
    return;
  }
  auto join = std::make_shared<Join>(parts.size(), std::move(done));
  for (const auto& [owner, refs] : parts) {
    ExportRequest request = MakeExportRequest(ctx, otlp::EncodeResourceSpans(refs), refs.size());
    routing->backends.at(*owner)->ConsumeRequest(std::move(request),
                                                 [join](absl::Status s) { join->Finish(s); });
  }
}

// --- configuration ---

namespace {

constexpr const char* kTopLevelSenderWhy =
    "a queue in front of the backends; set timeout, sending_queue and retry_on_failure under "
    "protocol::otlp (each backend has its own)";

class LoadBalancingFactory : public ExporterFactory {
 public:
  std::string_view type() const override { return "loadbalancing"; }

  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto s = std::make_unique<LoadBalancingSettings>();
    std::string key = "traceID";
    map.Read("routing_key", key);
    if (key == "service") {
      s->routing_key = RoutingKey::kService;
    } else if (key == "traceID" || key.empty()) {
      s->routing_key = RoutingKey::kTraceId;
    } else {
      map.Fail("routing_key", absl::StrCat("\"", key,
                                           "\" is not supported: Strand routes traces by "
                                           "traceID or service"));
    }
    map.Unsupported("routing_attributes", "routing by attributes; use traceID or service");
    for (const char* k : {"timeout", "sending_queue", "retry_on_failure"}) {
      map.Unsupported(k, kTopLevelSenderWhy);
    }

    ConfigMap protocol = map.Sub("protocol");
    ConfigMap otlp = protocol.Sub("otlp");
    otlp.Unsupported("auth", "authenticator extensions on the loadbalancing exporter");
    ParseOtlpClientSettings(otlp, s->otlp);  // `endpoint` is read and ignored
    (void)otlp.Finish();
    (void)protocol.Finish();

    ConfigMap resolver = map.Sub("resolver");
    s->use_static = resolver.Has("static");
    s->use_dns = resolver.Has("dns");
    ConfigMap st = resolver.Sub("static");
    st.Read("hostnames", s->static_hostnames);
    (void)st.Finish();
    ConfigMap dns = resolver.Sub("dns");
    dns.Read("hostname", s->dns.hostname);
    std::string port;
    dns.Read("port", port);
    if (!port.empty() &&
        (!absl::SimpleAtoi(port, &s->dns.port) || s->dns.port < 1 || s->dns.port > 65535)) {
      dns.Fail("port", "must be a port number (1 to 65535)");
    }
    dns.ReadDuration("interval", s->dns.interval_nanos);
    dns.ReadDuration("timeout", s->dns.timeout_nanos);
    (void)dns.Finish();
    resolver.Unsupported("k8s", "the Kubernetes resolver; use dns with a headless service");
    resolver.Unsupported("aws_cloud_map", "the AWS Cloud Map resolver");
    (void)resolver.Finish();
    return s;
  }

  absl::Status Validate(const ComponentSettings& settings) const override {
    const auto& s = static_cast<const LoadBalancingSettings&>(settings);
    if (s.use_static == s.use_dns) {
      return absl::InvalidArgumentError(s.use_static
                                            ? "resolver: set either static or dns, not both"
                                            : "resolver: one of static or dns must be set");
    }
    if (s.use_static && s.static_hostnames.empty()) {
      return absl::InvalidArgumentError("resolver::static::hostnames must list backends");
    }
    if (s.use_dns) {
      if (s.dns.hostname.empty()) {
        return absl::InvalidArgumentError("resolver::dns::hostname must be set");
      }
      if (s.dns.interval_nanos <= 0 || s.dns.timeout_nanos <= 0) {
        return absl::InvalidArgumentError(
            "resolver::dns::interval and resolver::dns::timeout must be positive");
      }
    }
    if (s.otlp.sender.queue.storage) {
      return absl::InvalidArgumentError(
          "protocol::otlp::sending_queue::storage is not supported: per-backend persistent "
          "queues would strand data when the backend list changes");
    }
    return ValidateSenderSettings(s.otlp.sender);
  }

  absl::StatusOr<std::unique_ptr<Exporter>> Create(const ComponentSettings& settings,
                                                   const BuildContext& ctx) const override {
    const auto& s = static_cast<const LoadBalancingSettings&>(settings);
    std::unique_ptr<BackendResolver> resolver;
    if (s.use_static) {
      resolver = std::make_unique<StaticResolver>(s.static_hostnames);
    } else {
      DnsResolverOptions o = s.dns;
      o.clock = ctx.clock;
      if (ctx.metrics != nullptr) {
        auto* family = ctx.metrics->AddCounter("strand_loadbalancer_num_resolutions_total",
                                               "DNS lookups of the backends, by outcome.",
                                               {"exporter", "success"});
        o.resolutions_ok = family->With({ctx.id.ToString(), "true"});
        o.resolutions_failed = family->With({ctx.id.ToString(), "false"});
      }
      resolver = std::make_unique<DnsResolver>(std::move(o));
    }
    return std::make_unique<LoadBalancingExporter>(s, ctx, std::move(resolver));
  }
};

}  // namespace

std::unique_ptr<ExporterFactory> NewLoadBalancingExporterFactory() {
  return std::make_unique<LoadBalancingFactory>();
}

}  // namespace strand::pipeline
