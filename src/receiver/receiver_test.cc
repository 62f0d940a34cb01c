// Receivers end to end in process: real HTTP and gRPC clients against a fake consumer.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "http/http_test_client.h"
#include "http/self_signed_cert.h"
#include "auth/basic_authenticator.h"
#include "auth/bearer_token_authenticator.h"
#include "common/compression.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "overrides/overrides.h"
#include "receiver/otlp_grpc_receiver.h"
#include "receiver/otlp_http_receiver.h"

namespace strand::receiver {
namespace {

namespace pb = opentelemetry::proto;
using strand::testing::HttpCall;
using strand::testing::HttpResult;

class FakeConsumer : public TracesConsumer {
 public:
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch,
               ConsumeDone done) override {
    absl::MutexLock lock(&mu_);
    tenants.push_back(ctx.tenant);
    spans += batch.spans.size();
    if (ctx.refused != nullptr && refuse_spans > 0) {
      ctx.refused->spans = refuse_spans;
      ctx.refused->message = "TRACE_TOO_LARGE: by the limit";
    }
    done(next_status);
  }
  absl::Status Admit(const RequestContext& /*ctx*/) override { return admit_status; }
  absl::Mutex mu_;
  std::vector<std::string> tenants;
  size_t spans = 0;
  absl::Status next_status = absl::OkStatus();
  absl::Status admit_status = absl::OkStatus();
  uint64_t refuse_spans = 0;  // spans to report refused by limits
};

pb::collector::trace::v1::ExportTraceServiceRequest Request(int n, bool bad_one = false) {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < n; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(16, 'a'));
    s->set_span_id(std::string(8, static_cast<char>('a' + i)));
    s->set_name("op");
  }
  if (bad_one) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, 'a'));
    s->set_span_id(std::string(8, 'z'));
  }
  return req;
}

constexpr char kJsonRequest[] = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
  {"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"0102030405060708","name":"j"}]}]}]})";

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(false); }
  void Start(bool multitenancy, size_t max_bytes = 1 << 20, http::TlsSettings tls = {},
             std::shared_ptr<const auth::ServerAuthenticator> auth = nullptr,
             MemoryBudget* memory = nullptr) {
    // With per-tenant limits, the fake clock drives the rate limiter.
    Clock& clock = overrides_ != nullptr ? static_cast<Clock&>(clock_) : *Clock::Real();
    handler_ = std::make_unique<OtlpTraceHandler>(consumer_, metrics_, clock, overrides_.get());
    OtlpHttpOptions ho;
    ho.address = "127.0.0.1:0";
    ho.max_request_bytes = max_bytes;
    ho.multitenancy = multitenancy;
    ho.auth = auth;
    ho.memory = memory;
    auto http = OtlpHttpReceiver::Start(ho, *handler_);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = std::move(*http);
    OtlpGrpcOptions go;
    go.address = "127.0.0.1:0";
    go.max_request_bytes = max_bytes;
    go.multitenancy = multitenancy;
    go.tls = tls;
    go.auth = auth;
    go.memory = memory;
    auto grpc = OtlpGrpcReceiver::Start(go, *handler_);
    ASSERT_TRUE(grpc.ok()) << grpc.status();
    grpc_ = std::move(*grpc);
    url_ = "http://127.0.0.1:" + std::to_string(http_->port()) + "/v1/traces";
  }
  void TearDown() override {
    if (grpc_) grpc_->Stop();
    if (http_) http_->Stop();
  }

  // Calls Export over gRPC with raw bytes (over TLS when `credentials` is set; the server's
  // certificate is for "localhost").
  grpc::Status GrpcExport(
      const std::string& bytes, std::string* response,
      const std::string& method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
      const std::string& tenant = "", grpc_compression_algorithm compression = GRPC_COMPRESS_NONE,
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a new connection per call
    auto channel = grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(grpc_->port()),
        credentials ? credentials : grpc::InsecureChannelCredentials(), args);
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    // A hung server fails the test instead of hanging it.
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!tenant.empty()) ctx.AddMetadata("x-scope-orgid", tenant);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    ctx.set_compression_algorithm(compression);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer req(&slice, 1), resp;
    grpc::Status result;
    absl::Mutex mu;
    bool done = false;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
      absl::MutexLock lock(&mu);
      result = s;
      done = true;
    });
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
    std::vector<grpc::Slice> slices;
    response->clear();
    if (resp.Dump(&slices).ok()) {
      for (auto& s : slices) response->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return result;
  }

  FakeConsumer consumer_;
  MetricsRegistry metrics_;
  FakeClock clock_;
  std::unique_ptr<overrides::Overrides> overrides_;
  std::unique_ptr<OtlpTraceHandler> handler_;
  std::unique_ptr<OtlpHttpReceiver> http_;
  std::unique_ptr<OtlpGrpcReceiver> grpc_;
  std::string url_;
};

TEST_F(ReceiverTest, HttpProtobufSucceedsWithEmptyResponse) {
  auto r = HttpCall("POST", url_, Request(3).SerializeAsString(),
                    {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(consumer_.spans, 3u);
  EXPECT_EQ(consumer_.tenants.at(0), "single-tenant");
}

TEST_F(ReceiverTest, HttpJsonSucceedsWithJsonResponse) {
  auto r = HttpCall("POST", url_, kJsonRequest, {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(consumer_.spans, 1u);
}

TEST_F(ReceiverTest, HttpPartialSuccessInBothEncodings) {
  auto r = HttpCall("POST", url_, Request(2, true).SerializeAsString(),
                    {"Content-Type: application/x-protobuf"});
  ASSERT_EQ(r.status, 200);
  pb::collector::trace::v1::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);
  EXPECT_NE(resp.partial_success().error_message().find("trace_id"), std::string::npos);
  EXPECT_EQ(consumer_.spans, 2u);

  std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0102","spanId":"0102030405060708","name":"short"}]}]}]})";
  auto j = HttpCall("POST", url_, json, {"Content-Type: application/json"});
  ASSERT_EQ(j.status, 200);
  EXPECT_NE(j.body.find("\"partialSuccess\":{\"rejectedSpans\":\"1\""), std::string::npos)
      << j.body;
}

TEST_F(ReceiverTest, HttpGzipAndZstdBodies) {
  for (std::string enc : {"gzip", "zstd"}) {
    auto body = Compress(enc, Request(4).SerializeAsString());
    ASSERT_TRUE(body.ok());
    auto r = HttpCall("POST", url_, *body,
                      {"Content-Type: application/x-protobuf", "Content-Encoding: " + enc});
    EXPECT_EQ(r.status, 200) << enc << " " << r.body;
  }
  EXPECT_EQ(consumer_.spans, 8u);
}

TEST_F(ReceiverTest, HttpRefusals) {
  EXPECT_EQ(HttpCall("GET", url_).status, 405);
  EXPECT_EQ(HttpCall("POST", url_, "x", {"Content-Type: text/plain"}).status, 415);
  auto bad =
      HttpCall("POST", url_, "\x0a\xff\xff garbage", {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(bad.status, 400);
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(bad.body));
  EXPECT_EQ(st.code(), 3);
  EXPECT_NE(st.message().find("invalid OTLP protobuf"), std::string::npos);
  auto badjson = HttpCall("POST", url_, "{not json", {"Content-Type: application/json"});
  EXPECT_EQ(badjson.status, 400);
  EXPECT_NE(badjson.body.find("\"code\":3"), std::string::npos) << badjson.body;
  EXPECT_EQ(
      HttpCall("POST", url_, "x", {"Content-Type: application/x-protobuf", "Content-Encoding: br"})
          .status,
      400);
  EXPECT_EQ(
      HttpCall("POST", url_, std::string(2 << 20, 'x'), {"Content-Type: application/x-protobuf"})
          .status,
      413);
  auto metrics_path = HttpCall("POST", url_.substr(0, url_.size() - 7) + "/v1/metrics", "",
                               {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(metrics_path.status, 404);
  EXPECT_EQ(consumer_.spans, 0u);
}

TEST_F(ReceiverTest, HttpEmptyBodyIsAValidEmptyRequest) {
  auto r = HttpCall("POST", url_, "", {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 200);
}

TEST_F(ReceiverTest, HttpOverloadIsRetryable) {
  consumer_.next_status = absl::UnavailableError("WAL queue full");
  auto r = HttpCall("POST", url_, Request(1).SerializeAsString(),
                    {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("retry-after"), "1");
}

TEST_F(ReceiverTest, RefusedAdmissionSkipsDecoding) {
  consumer_.admit_status = absl::UnavailableError("over budget");
  // Not even valid protobuf: the refusal comes before the decoder could complain.
  auto r = HttpCall("POST", url_, "\x0a\xff garbage", {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("retry-after"), "1");
  std::string response;
  EXPECT_EQ(GrpcExport("\x0a\xff garbage", &response).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(consumer_.spans, 0u);
  consumer_.admit_status = absl::OkStatus();
  EXPECT_EQ(GrpcExport("\x0a\xff garbage", &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReceiverTest, GrpcExportSucceedsAndReportsPartialSuccess) {
  std::string response;
  auto s = GrpcExport(Request(5).SerializeAsString(), &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response, "");
  s = GrpcExport(Request(1, true).SerializeAsString(), &response);
  ASSERT_TRUE(s.ok());
  pb::collector::trace::v1::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(response));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);
  EXPECT_EQ(consumer_.spans, 6u);
}

TEST_F(ReceiverTest, GrpcErrors) {
  std::string response;
  EXPECT_EQ(GrpcExport("\x0a\xff garbage", &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcExport("", &response, "/some.Other/Method").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(GrpcExport(std::string(2 << 20, 'x'), &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  consumer_.next_status = absl::UnavailableError("overloaded");
  EXPECT_EQ(GrpcExport(Request(1).SerializeAsString(), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

constexpr char kExport[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

TEST_F(ReceiverTest, GrpcCompressedMessagesAreInflatedHere) {
  std::string response;
  EXPECT_TRUE(
      GrpcExport(Request(3).SerializeAsString(), &response, kExport, "", GRPC_COMPRESS_GZIP).ok());
  EXPECT_TRUE(
      GrpcExport(Request(2).SerializeAsString(), &response, kExport, "", GRPC_COMPRESS_DEFLATE)
          .ok());
  EXPECT_EQ(consumer_.spans, 5u);
}

// A message of a few kilobytes that inflates past max_request_bytes (1 MiB here) is refused
// by our bounded inflater, not inflated whole by gRPC first.
TEST_F(ReceiverTest, GrpcCompressionBombIsRefusedByTheBoundedInflater) {
  auto req = Request(1);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name(
      std::string(8 << 20, 'a'));
  std::string response;
  grpc::Status s =
      GrpcExport(req.SerializeAsString(), &response, kExport, "", GRPC_COMPRESS_GZIP);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("decompressed body exceeds the limit of 1048576 bytes"),
            std::string::npos)
      << s.error_message();
  EXPECT_EQ(consumer_.spans, 0u);
}

TEST_F(ReceiverTest, RequestsPastTheMemoryLimitAreRefusedRetryably) {
  TearDown();
  // Tracked share: 4/5 of 1 MB = 800 kB; the resident gate is kept out of the way.
  MemoryBudget budget(1'000'000, [] { return uint64_t{0}; });
  Start(false, 1 << 20, {}, nullptr, &budget);
  auto req = Request(1);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name(
      std::string(100'000, 'a'));
  const std::string body = req.SerializeAsString();

  // Other holders have most of the budget: neither listener takes the request in.
  ASSERT_TRUE(budget.TryTake(750'000, "test").ok());
  std::string response;
  grpc::Status s = GrpcExport(body, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("memory limit"), std::string::npos) << s.error_message();
  auto r = HttpCall("POST", url_, body, {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(consumer_.spans, 0u);

  // Once they give it back, the same requests go through and give back what they held.
  budget.Give(750'000);
  EXPECT_TRUE(GrpcExport(body, &response).ok());
  EXPECT_EQ(HttpCall("POST", url_, body, {"Content-Type: application/x-protobuf"}).status, 200);
  EXPECT_EQ(consumer_.spans, 2u);
  for (int i = 0; i < 200 && budget.used() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(budget.used(), 0u);
}

// With every descriptor in use, accept() fails (EMFILE). gRPC's own listener stopped for
// good then; ours waits and accepts the queued connection once descriptors are free.
TEST_F(ReceiverTest, GrpcAcceptsAgainAfterDescriptorsRunOut) {
  strand::testing::DescriptorExhaustion exhaustion(1);  // room for the client's socket only
  int client = strand::testing::RawConnect(grpc_->port());
  EXPECT_GE(client, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // accept fails meanwhile
  exhaustion.Release();
  if (client >= 0) close(client);
  std::string response;
  grpc::Status s = GrpcExport(Request(2).SerializeAsString(), &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(consumer_.spans, 2u);
}

// OTLP/gRPC over TLS and mTLS; plaintext to the TLS port fails.
TEST_F(ReceiverTest, GrpcOverTlsAndMutualTls) {
  const std::string dir = ::testing::TempDir() + "/grpc-tls-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name) {
    auto pair = http::MakeSelfSignedCertificate({"localhost"}, 1);
    EXPECT_TRUE(pair.ok());
    std::ofstream(dir + "/" + name + ".crt") << pair->cert_pem;
    std::ofstream(dir + "/" + name + ".key") << pair->key_pem;
    return std::make_pair(pair->cert_pem, pair->key_pem);
  };
  auto server = write("server");
  auto client = write("client");
  http::TlsSettings tls;
  tls.cert_file = dir + "/server.crt";
  tls.key_file = dir + "/server.key";
  TearDown();
  Start(false, 1 << 20, tls);
  grpc::SslCredentialsOptions trust;
  trust.pem_root_certs = server.first;
  std::string response;
  auto s = GrpcExport(Request(2).SerializeAsString(), &response, kExport, "", GRPC_COMPRESS_NONE,
                      grpc::SslCredentials(trust));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(consumer_.spans, 2u);
  EXPECT_EQ(GrpcExport(Request(1).SerializeAsString(), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);  // plaintext to a TLS port

  tls.client_ca_file = dir + "/client.crt";
  TearDown();
  Start(false, 1 << 20, tls);
  EXPECT_FALSE(GrpcExport(Request(1).SerializeAsString(), &response, kExport, "",
                          GRPC_COMPRESS_NONE, grpc::SslCredentials(trust))
                   .ok());  // no client certificate
  grpc::SslCredentialsOptions mutual = trust;
  mutual.pem_cert_chain = client.first;
  mutual.pem_private_key = client.second;
  s = GrpcExport(Request(3).SerializeAsString(), &response, kExport, "", GRPC_COMPRESS_NONE,
                 grpc::SslCredentials(mutual));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(consumer_.spans, 5u);
}

TEST_F(ReceiverTest, MultitenancyRequiresOrgId) {
  TearDown();
  Start(true);
  auto r = HttpCall("POST", url_, Request(1).SerializeAsString(),
                    {"Content-Type: application/x-protobuf"});
  EXPECT_EQ(r.status, 400);
  r = HttpCall("POST", url_, Request(1).SerializeAsString(),
               {"Content-Type: application/x-protobuf", "X-Scope-OrgID: acme"});
  EXPECT_EQ(r.status, 200);
  std::string response;
  EXPECT_EQ(GrpcExport(Request(1).SerializeAsString(), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(GrpcExport(Request(1).SerializeAsString(), &response,
                         "/opentelemetry.proto.collector.trace.v1.TraceService/Export", "beta")
                  .ok());
  EXPECT_EQ(consumer_.tenants, (std::vector<std::string>{"acme", "beta"}));
}

// A receiver guarded by an authenticator (the `auth` setting).
class AuthReceiverTest : public ReceiverTest {
 protected:
  void SetUp() override {}
  void StartWithBearer(bool multitenancy = false) {
    auth::BearerTokenSettings s;
    s.tokens = {"t0k3n"};
    auto a = auth::BearerTokenAuthenticator::Create(s, *Clock::Real());
    ASSERT_TRUE(a.ok());
    Start(multitenancy, 1 << 20, {}, std::move(*a));
  }
  // Users "ann" (bound to tenant acme) and "bob" (unbound), password "pw".
  void StartWithBasic(bool multitenancy) {
    auth::BasicAuthSettings s;
    s.htpasswd_inline = "ann:pw\nbob:pw\n";
    s.tenants = {{"ann", "acme"}};
    auto a = auth::BasicAuthenticator::Create(s, *Clock::Real());
    ASSERT_TRUE(a.ok());
    Start(multitenancy, 1 << 20, {}, std::move(*a));
  }
  static std::string Basic(const std::string& user) {
    return auth::BasicClientAuthenticator(user, "pw").Headers().at(0).second;
  }
  grpc::StatusCode GrpcAs(const std::vector<std::pair<std::string, std::string>>& metadata,
                          const std::string& tenant = "") {
    std::string response;
    return GrpcExport(Request(1).SerializeAsString(), &response, kExport, tenant,
                      GRPC_COMPRESS_NONE, nullptr, metadata)
        .error_code();
  }
};

TEST_F(AuthReceiverTest, HttpWithoutValidCredentialsIsUnauthorized) {
  StartWithBearer();
  const std::string body = Request(2).SerializeAsString();
  for (const std::string& credential : {std::string(), std::string("Authorization: Bearer nope"),
                                        std::string("Authorization: Basic t0k3n")}) {
    std::vector<std::string> headers = {"Content-Type: application/x-protobuf"};
    if (!credential.empty()) headers.push_back(credential);
    auto r = HttpCall("POST", url_, body, headers);
    EXPECT_EQ(r.status, 401) << credential;
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"strand\"");
    google::rpc::Status st;
    ASSERT_TRUE(st.ParseFromString(r.body));
    EXPECT_EQ(st.code(), 16);  // UNAUTHENTICATED
    EXPECT_FALSE(st.message().empty());
  }
  auto json = HttpCall("POST", url_, kJsonRequest, {"Content-Type: application/json"});
  EXPECT_EQ(json.status, 401);
  EXPECT_EQ(json.body, "{\"code\":16,\"message\":\"missing Authorization header\"}");
  // Credentials come before routing: an unknown path does not answer 404 to strangers.
  EXPECT_EQ(HttpCall("POST", url_.substr(0, url_.size() - 7) + "/v1/logs").status, 401);
  EXPECT_EQ(consumer_.spans, 0u);
  EXPECT_NE(
      metrics_.RenderText().find(
          "strand_receiver_requests_refused_total{protocol=\"http\",reason=\"unauthenticated\"} 5"),
      std::string::npos);

  auto ok = HttpCall("POST", url_, body,
                     {"Content-Type: application/x-protobuf", "Authorization: Bearer t0k3n"});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(consumer_.spans, 2u);
}

TEST_F(AuthReceiverTest, GrpcWithoutValidCredentialsIsUnauthenticated) {
  StartWithBearer();
  EXPECT_EQ(GrpcAs({}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GrpcAs({{"authorization", "Bearer nope"}}), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(consumer_.spans, 0u);
  EXPECT_EQ(GrpcAs({{"authorization", "Bearer t0k3n"}}), grpc::StatusCode::OK);
  EXPECT_EQ(consumer_.spans, 1u);
}

TEST_F(AuthReceiverTest, BoundCredentialsDecideTheTenantOverHttp) {
  StartWithBasic(true);
  auto post = [&](const std::string& user, const std::string& org) {
    std::vector<std::string> headers = {"Content-Type: application/x-protobuf",
                                        "Authorization: " + Basic(user)};
    if (!org.empty()) headers.push_back("X-Scope-OrgID: " + org);
    return HttpCall("POST", url_, Request(1).SerializeAsString(), headers);
  };
  EXPECT_EQ(post("ann", "").status, 200);      // the bound tenant
  EXPECT_EQ(post("ann", "acme").status, 200);  // naming it is fine
  auto other = post("ann", "beta");
  EXPECT_EQ(other.status, 403);
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(other.body));
  EXPECT_EQ(st.code(), 7);                 // PERMISSION_DENIED
  EXPECT_EQ(post("bob", "").status, 400);  // unbound: X-Scope-OrgID still required
  EXPECT_EQ(post("bob", "beta").status, 200);
  EXPECT_EQ(consumer_.tenants, (std::vector<std::string>{"acme", "acme", "beta"}));
}

TEST_F(AuthReceiverTest, BoundCredentialsDecideTheTenantOverGrpc) {
  StartWithBasic(true);
  const std::pair<std::string, std::string> ann{"authorization", Basic("ann")};
  const std::pair<std::string, std::string> bob{"authorization", Basic("bob")};
  EXPECT_EQ(GrpcAs({}, "acme"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GrpcAs({ann}), grpc::StatusCode::OK);
  EXPECT_EQ(GrpcAs({ann}, "beta"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(GrpcAs({bob}), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcAs({bob}, "beta"), grpc::StatusCode::OK);
  EXPECT_EQ(consumer_.tenants, (std::vector<std::string>{"acme", "beta"}));
}

class ReceiverLimitsTest : public ReceiverTest {
 protected:
  void SetUp() override {}
  void StartWithLimits(const overrides::Limits& limits) {
    overrides_ = std::make_unique<overrides::Overrides>(limits);
    Start(/*multitenancy=*/true);
  }
  HttpResult Post(const std::string& tenant, const std::string& body) {
    return HttpCall("POST", url_, body,
                    {"Content-Type: application/x-protobuf", "X-Scope-OrgID: " + tenant});
  }
};

TEST_F(ReceiverLimitsTest, HttpRateLimitIs429NamingTheLimitPerTenant) {
  const std::string body = Request(5).SerializeAsString();
  overrides::Limits limits;
  limits.ingestion_rate_limit_bytes = body.size();  // one request a second
  limits.ingestion_burst_size_bytes = body.size() * 2;
  StartWithLimits(limits);
  EXPECT_EQ(Post("a", body).status, 200);
  EXPECT_EQ(Post("a", body).status, 200);
  auto refused = Post("a", body);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("retry-after"), "1");
  google::rpc::Status st;
  ASSERT_TRUE(st.ParseFromString(refused.body));
  EXPECT_EQ(st.code(), static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_NE(st.message().find("rate_limit_bytes=" + std::to_string(body.size())), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("tenant a"), std::string::npos) << st.message();
  EXPECT_EQ(Post("b", body).status, 200);  // another tenant has its own bucket
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Post("a", body).status, 200);  // refilled
  EXPECT_EQ(consumer_.spans, 20u);
  const std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("strand_rate_limited_requests_total{tenant=\"a\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(
      text.find("strand_rate_limited_bytes_total{tenant=\"a\"} " + std::to_string(body.size())),
      std::string::npos);
  EXPECT_NE(text.find("strand_receiver_tenant_bytes_received_total{tenant=\"b\"}"),
            std::string::npos);
  EXPECT_NE(text.find("strand_discarded_spans_total{tenant=\"a\",reason=\"rate_limited\"} 5"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("strand_discarded_spans_total{tenant=\"b\""), std::string::npos);
}

TEST_F(ReceiverLimitsTest, GrpcRateLimitIsResourceExhaustedWithRetryInfo) {
  const std::string body = Request(5).SerializeAsString();
  overrides::Limits limits;
  limits.ingestion_rate_limit_bytes = body.size();
  StartWithLimits(limits);
  std::string response;
  const std::string method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  EXPECT_TRUE(GrpcExport(body, &response, method, "a").ok());
  grpc::Status s = GrpcExport(body, &response, method, "a");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("rate_limit_bytes="), std::string::npos) << s.error_message();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), "type.googleapis.com/google.rpc.RetryInfo");
  // RetryInfo{retry_delay: Duration{seconds: 1}}
  EXPECT_EQ(details.details(0).value(), std::string("\x0a\x02\x08\x01", 4));
}

TEST_F(ReceiverLimitsTest, SpansTheConsumerRefusesByLimitArePartialSuccess) {
  StartWithLimits(overrides::Limits{});
  consumer_.refuse_spans = 2;
  auto r = Post("a", Request(5).SerializeAsString());
  ASSERT_EQ(r.status, 200);
  pb::collector::trace::v1::ExportTraceServiceResponse resp;
  ASSERT_TRUE(resp.ParseFromString(r.body));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 2);
  EXPECT_EQ(resp.partial_success().error_message(), "TRACE_TOO_LARGE: by the limit");
  EXPECT_NE(metrics_.RenderText().find(
                "strand_receiver_spans_refused_total{protocol=\"http\",reason=\"limits\"} 2"),
            std::string::npos);
}

}  // namespace
}  // namespace strand::receiver
