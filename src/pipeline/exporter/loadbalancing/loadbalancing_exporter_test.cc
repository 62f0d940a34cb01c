// The loadbalancing exporter end to end in process: real OTLP/gRPC backends (our own
// receiver on port 0), static, DNS and fake resolvers.
#include "pipeline/exporter/loadbalancing/loadbalancing_exporter.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "pipeline/testutil/capture_consumer_testutil.h"
#include "receiver/otlp_grpc_receiver.h"

namespace strand::pipeline {
namespace {

namespace pb = opentelemetry::proto;

// One backend: an OTLP/gRPC receiver that records the trace IDs and services it got.
class Backend : public TracesConsumer {
 public:
  void Start() {
    handler_ = std::make_unique<receiver::OtlpTraceHandler>(*this, metrics_, *Clock::Real());
    receiver::OtlpGrpcOptions o;
    o.address = "127.0.0.1:0";
    auto grpc = receiver::OtlpGrpcReceiver::Start(o, *handler_);
    ASSERT_TRUE(grpc.ok()) << grpc.status();
    grpc_ = std::move(*grpc);
  }
  void Stop() { grpc_->Stop(); }
  int port() const { return grpc_->port(); }
  std::string endpoint() const { return absl::StrCat("127.0.0.1:", port()); }

  void Consume(RequestContext&& /*ctx*/, otlp::SpanBatch&& batch, ConsumeDone done) override {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      for (const otlp::Span& span : batch.spans) {
        traces_.insert(std::string(otlp::IdBytes(span.trace_id)));
        const otlp::Resource& r = batch.resources[batch.scopes[span.scope_index].resource_index];
        for (uint32_t i = r.attributes.begin; i < r.attributes.end; ++i) {
          if (batch.attributes[i].key == "service.name") {
            services_.insert(std::string(batch.attributes[i].value.str));
          }
        }
      }
      spans_ += batch.spans.size();
      status = answer_;
    }
    done(status);
  }
  void Answer(absl::Status s) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(s);
  }
  size_t spans() {
    absl::MutexLock lock(&mu_);
    return spans_;
  }
  std::set<std::string> traces() {
    absl::MutexLock lock(&mu_);
    return traces_;
  }
  std::set<std::string> services() {
    absl::MutexLock lock(&mu_);
    return services_;
  }

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<receiver::OtlpTraceHandler> handler_;
  std::unique_ptr<receiver::OtlpGrpcReceiver> grpc_;
  absl::Mutex mu_;
  size_t spans_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> traces_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> services_ ABSL_GUARDED_BY(mu_);
  absl::Status answer_ ABSL_GUARDED_BY(mu_);
};

// A resolver the test drives: announces the lists it is given.
class FakeResolver : public BackendResolver {
 public:
  explicit FakeResolver(std::vector<std::string> initial) : initial_(std::move(initial)) {}
  absl::Status Start(BackendsListener on_change) override {
    listener_ = std::move(on_change);
    if (!initial_.empty()) listener_(initial_);
    return absl::OkStatus();
  }
  std::string Name() const override { return "fake"; }
  void Announce(std::vector<std::string> endpoints) {
    listener_(NormalizeEndpoints(std::move(endpoints)));
  }

 private:
  std::vector<std::string> initial_;
  BackendsListener listener_;
};

// A distinct, valid (never all-zero) trace ID for each t.
std::string TraceId(int t) {
  std::string id(16, '\x01');
  for (int i = 0; i < 12; ++i) id[i] = static_cast<char>((t * 2654435761u) >> (i % 4 * 8));
  id[15] = static_cast<char>(t);
  id[14] = static_cast<char>(t >> 8);
  return id;
}

// `traces` traces of `spans_per_trace` spans each, trace t from service "svc-(t % services)";
// the first trace is `first`.
otlp::SpanBatch MakeBatch(int first, int traces, int spans_per_trace, int services) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  std::map<int, pb::trace::v1::ScopeSpans*> scope_of;
  for (int t = first; t < first + traces; ++t) {
    const int svc = t % services;
    auto [it, added] = scope_of.emplace(svc, nullptr);
    if (added) {
      auto* rs = req.add_resource_spans();
      auto* attr = rs->mutable_resource()->add_attributes();
      attr->set_key("service.name");
      attr->mutable_value()->set_string_value(absl::StrCat("svc-", svc));
      it->second = rs->add_scope_spans();
    }
    for (int s = 0; s < spans_per_trace; ++s) {
      auto* span = it->second->add_spans();
      span->set_trace_id(TraceId(t));
      span->set_span_id(absl::StrCat("span", absl::Dec(s, absl::kZeroPad4)));
      span->set_name("op");
    }
  }
  return testutil::Decode(req);
}

class LoadBalancingExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& b : backends_) b.Start();
  }
  void TearDown() override {
    if (exporter_) exporter_->Shutdown();
    for (auto& b : backends_) b.Stop();
  }

  std::vector<std::string> Endpoints(std::initializer_list<int> which = {0, 1, 2}) {
    std::vector<std::string> out;
    for (int i : which) out.push_back(backends_[i].endpoint());
    return out;
  }

  static std::string Yaml(
      const std::string& routing_key, const std::string& resolver,
      const std::string& queue = "{num_consumers: 2}",
      const std::string& retry = "{initial_interval: 10ms, max_interval: 50ms}") {
    return absl::StrCat("routing_key: ", routing_key, R"(
protocol:
  otlp:
    endpoint: ignored:1
    timeout: 5s
    compression: none
    tls: {insecure: true}
    sending_queue: )",
                        queue, "\n    retry_on_failure: ", retry, "\nresolver:\n", resolver);
  }
  std::string StaticResolverYaml(std::initializer_list<int> which = {0, 1, 2}) {
    return absl::StrCat("  static:\n    hostnames: [", absl::StrJoin(Endpoints(which), ", "),
                        "]\n");
  }

  static absl::StatusOr<std::unique_ptr<ComponentSettings>> Parse(const std::string& yaml) {
    auto factory = NewLoadBalancingExporterFactory();
    ConfigMap map(YAML::Load(yaml), "exporters::loadbalancing");
    std::unique_ptr<ComponentSettings> settings = factory->Parse(map);
    if (absl::Status s = map.Finish(); !s.ok()) return s;
    if (absl::Status s = factory->Validate(*settings); !s.ok()) return s;
    return settings;
  }

  // Builds the exporter as the collector would (the resolver from the settings).
  void Build(const std::string& yaml) {
    auto settings = Parse(yaml);
    ASSERT_TRUE(settings.ok()) << settings.status();
    BuildContext ctx;
    ctx.id = ComponentId{"loadbalancing", ""};
    ctx.metrics = &metrics_;
    auto exporter = NewLoadBalancingExporterFactory()->Create(**settings, ctx);
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    exporter_.reset(static_cast<LoadBalancingExporter*>(exporter->release()));
    ASSERT_TRUE(exporter_->Start().ok());
  }

  // Builds the exporter over a fake resolver announcing `initial` at Start.
  FakeResolver* BuildWithFake(const std::string& routing_key, std::vector<std::string> initial) {
    auto settings = Parse(Yaml(routing_key, "  static: {hostnames: [unused:1]}\n"));
    EXPECT_TRUE(settings.ok()) << settings.status();
    auto resolver = std::make_unique<FakeResolver>(std::move(initial));
    FakeResolver* fake = resolver.get();
    BuildContext ctx;
    ctx.id = ComponentId{"loadbalancing", "fake"};
    exporter_ = std::make_unique<LoadBalancingExporter>(
        static_cast<const LoadBalancingSettings&>(**settings), ctx, std::move(resolver));
    EXPECT_TRUE(exporter_->Start().ok());
    return fake;
  }

  absl::Status Send(otlp::SpanBatch&& batch) {
    absl::Mutex mu;
    std::optional<absl::Status> result;
    exporter_->Consume(RequestContext{"single-tenant"}, std::move(batch), [&](absl::Status s) {
      absl::MutexLock lock(&mu);
      result = s;
    });
    absl::MutexLock lock(&mu);
    auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return result.has_value(); };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&answered), absl::Seconds(30)));
    return result.value_or(absl::DeadlineExceededError("no answer"));
  }

  size_t TotalSpans() {
    size_t n = 0;
    for (auto& b : backends_) n += b.spans();
    return n;
  }
  // Waits (up to 30 s, for a loaded machine) until the backends got `n` spans in all.
  void WaitForSpans(size_t n) {
    for (int i = 0; i < 6000 && TotalSpans() < n; ++i) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_EQ(TotalSpans(), n);
  }

  // Expects every trace (by trace ID) or service to have reached exactly one backend.
  void ExpectEachKeyOnOneBackend(bool services, size_t expected_keys) {
    std::map<std::string, int> owners;
    for (auto& b : backends_) {
      for (const std::string& key : services ? b.services() : b.traces()) ++owners[key];
    }
    EXPECT_EQ(owners.size(), expected_keys);
    for (const auto& [key, count] : owners) EXPECT_EQ(count, 1) << "key on several backends";
  }

  Backend backends_[3];
  MetricsRegistry metrics_;
  std::unique_ptr<LoadBalancingExporter> exporter_;
};

TEST_F(LoadBalancingExporterTest, EverySpanOfATraceReachesOneBackend) {
  Build(Yaml("traceID", StaticResolverYaml()));
  EXPECT_EQ(exporter_->Backends().size(), 3u);
  // Three batches; the same traces come back in later batches with more spans.
  ASSERT_TRUE(Send(MakeBatch(0, 60, 3, 4)).ok());
  ASSERT_TRUE(Send(MakeBatch(30, 60, 2, 4)).ok());
  ASSERT_TRUE(Send(MakeBatch(0, 1, 5, 1)).ok());  // one trace: forwarded whole
  WaitForSpans(60 * 3 + 60 * 2 + 5);
  ExpectEachKeyOnOneBackend(/*services=*/false, 90);
  for (auto& b : backends_) EXPECT_GT(b.spans(), 0u) << b.endpoint();
}

TEST_F(LoadBalancingExporterTest, EverySpanOfAServiceReachesOneBackend) {
  Build(Yaml("service", StaticResolverYaml()));
  ASSERT_TRUE(Send(MakeBatch(0, 100, 2, 12)).ok());
  ASSERT_TRUE(Send(MakeBatch(100, 50, 1, 12)).ok());
  WaitForSpans(250);
  ExpectEachKeyOnOneBackend(/*services=*/true, 12);
  int used = 0;
  for (auto& b : backends_) used += b.spans() > 0;
  EXPECT_GE(used, 2);
}

TEST_F(LoadBalancingExporterTest, DnsResolverFindsTheBackend) {
  Build(Yaml("traceID", absl::StrCat("  dns:\n    hostname: 127.0.0.1\n    port: ",
                                     backends_[1].port(), "\n    interval: 1h\n")));
  EXPECT_EQ(exporter_->Backends(), std::vector<std::string>{backends_[1].endpoint()});
  ASSERT_TRUE(Send(MakeBatch(0, 20, 2, 3)).ok());
  WaitForSpans(40);
  EXPECT_EQ(backends_[1].spans(), 40u);
}

TEST_F(LoadBalancingExporterTest, ChangedBackendListMovesTraffic) {
  FakeResolver* dns = BuildWithFake("traceID", Endpoints());
  ASSERT_TRUE(Send(MakeBatch(0, 60, 2, 3)).ok());
  // Backend 0 leaves while what it accepted may still be queued: that is still delivered.
  dns->Announce(Endpoints({1, 2}));
  EXPECT_EQ(exporter_->Backends(), NormalizeEndpoints(Endpoints({1, 2})));
  WaitForSpans(120);
  const std::set<std::string> on0 = backends_[0].traces(), on1 = backends_[1].traces(),
                              on2 = backends_[2].traces();
  ASSERT_FALSE(on0.empty());
  const size_t spans0 = backends_[0].spans();

  ASSERT_TRUE(Send(MakeBatch(0, 60, 1, 3)).ok());
  WaitForSpans(180);
  EXPECT_EQ(backends_[0].spans(), spans0);  // no new traffic for the removed backend
  for (const std::string& t : backends_[1].traces()) {
    EXPECT_TRUE(on1.count(t) || on0.count(t)) << "only backend 0's traces move";
  }
  for (const std::string& t : backends_[2].traces()) {
    EXPECT_TRUE(on2.count(t) || on0.count(t)) << "only backend 0's traces move";
  }
  EXPECT_GT(backends_[1].traces().size() + backends_[2].traces().size(), on1.size() + on2.size());

  // Backend 0 comes back (a new exporter): its traces return to it, and only those.
  dns->Announce(Endpoints());
  ASSERT_TRUE(Send(MakeBatch(0, 60, 1, 3)).ok());
  WaitForSpans(240);
  EXPECT_EQ(backends_[0].spans(), spans0 + on0.size());
  EXPECT_EQ(backends_[0].traces(), on0);
}

TEST_F(LoadBalancingExporterTest, NoBackendRefusesRetryably) {
  FakeResolver* dns = BuildWithFake("traceID", {});
  EXPECT_EQ(exporter_->Admit(RequestContext{}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Send(MakeBatch(0, 3, 1, 1)).code(), absl::StatusCode::kUnavailable);
  dns->Announce(Endpoints({2}));
  EXPECT_TRUE(exporter_->Admit(RequestContext{}).ok());
  ASSERT_TRUE(Send(MakeBatch(0, 3, 1, 1)).ok());
  WaitForSpans(3);
  EXPECT_EQ(backends_[2].spans(), 3u);
}

TEST_F(LoadBalancingExporterTest, RefusalFromOneBackendIsReturned) {
  // Without a queue the caller waits for the sends, so a backend's refusal comes back.
  Build(Yaml("traceID", StaticResolverYaml(), "{enabled: false}", "{enabled: false}"));
  backends_[1].Answer(absl::UnavailableError("backend overloaded"));
  EXPECT_EQ(Send(MakeBatch(0, 60, 1, 2)).code(), absl::StatusCode::kUnavailable);
  backends_[1].Answer(absl::OkStatus());
  EXPECT_TRUE(Send(MakeBatch(0, 60, 1, 2)).ok());
}

TEST_F(LoadBalancingExporterTest, DefaultsMatchOtelcol) {
  auto settings = Parse("resolver: {dns: {hostname: collectors.example}}");
  ASSERT_TRUE(settings.ok()) << settings.status();
  const auto& s = static_cast<const LoadBalancingSettings&>(**settings);
  EXPECT_EQ(s.routing_key, RoutingKey::kTraceId);
  EXPECT_EQ(s.dns.port, 4317);
  EXPECT_EQ(s.dns.interval_nanos, 5'000'000'000);
  EXPECT_EQ(s.dns.timeout_nanos, 1'000'000'000);
  EXPECT_EQ(s.otlp.compression, "gzip");
  EXPECT_TRUE(s.otlp.sender.queue.enabled);
}

TEST_F(LoadBalancingExporterTest, ConfigErrorsNameTheProblem) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"resolver: {static: {hostnames: [a:1]}}\nfoo: 1", "foo"},
      {"resolver: {static: {hostnames: [a:1]}, dns: {hostname: b}}", "not both"},
      {"protocol: {otlp: {timeout: 1s}}", "one of static or dns"},
      {"resolver: {}", "one of static or dns"},
      {"routing_key: resource\nresolver: {static: {hostnames: [a:1]}}", "not supported"},
      {"routing_key: traceid\nresolver: {static: {hostnames: [a:1]}}", "not supported"},
      {"resolver: {k8s: {service: lb-svc}}", "not supported"},
      {"resolver: {aws_cloud_map: {namespace: n}}", "not supported"},
      {"resolver: {static: {hostnames: []}}", "hostnames"},
      {"resolver: {dns: {port: 4317}}", "hostname must be set"},
      {"resolver: {dns: {hostname: b, port: 70000}}", "port"},
      {"resolver: {dns: {hostname: b, nameserver: x}}", "nameserver"},
      {"resolver: {static: {hostnames: [a:1]}}\nsending_queue: {enabled: true}", "protocol::otlp"},
      {"resolver: {static: {hostnames: [a:1]}}\nrouting_attributes: [x]", "not supported"},
      {"resolver: {static: {hostnames: [a:1]}}\nprotocol: {otlphttp: {}}", "otlphttp"},
      {"resolver: {static: {hostnames: [a:1]}}\nprotocol: {otlp: {auth: {}}}", "not supported"},
      {"resolver: {static: {hostnames: [a:1]}}\n"
       "protocol: {otlp: {sending_queue: {storage: file_storage}}}",
       "storage"},
  };
  for (const Case& c : cases) {
    absl::Status s = Parse(c.yaml).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.yaml << "\n" << s;
  }
}

}  // namespace
}  // namespace strand::pipeline
