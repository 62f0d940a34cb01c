#include "receiver/otlp_grpc_receiver.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/tenant.h"

namespace strand::receiver {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

grpc::StatusCode GrpcCode(absl::StatusCode code) {
  // absl and gRPC share the canonical code numbers.
  return static_cast<grpc::StatusCode>(static_cast<int>(code));
}

// One Export call: read the single request message, hand it on, answer when done.
class ExportReactor : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(grpc::GenericCallbackServerContext* ctx, OtlpTraceHandler& handler,
                const OtlpGrpcOptions& options)
      : ctx_(ctx), handler_(handler), options_(options) {
    if (ctx->method() != kExportMethod) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("not supported: method ", ctx->method())));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message (or the call was cancelled).
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    pipeline::RequestContext rc;
    rc.tenant = kSingleTenant;
    if (options_.multitenancy) {
      auto it = ctx_->client_metadata().find("x-scope-orgid");
      rc.tenant = it == ctx_->client_metadata().end()
                      ? std::string()
                      : std::string(it->second.data(), it->second.size());
      if (auto s = ValidateTenantId(rc.tenant); !s.ok()) {
        handler_.CountRefusedRequest("grpc", "tenant");
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
        return;
      }
    }
    std::vector<grpc::Slice> slices;
    std::string body;
    if (request_.Dump(&slices).ok()) {
      size_t total = 0;
      for (const auto& s : slices) total += s.size();
      body.reserve(total);
      for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    request_.Clear();
    if (options_.include_metadata) {
      for (const auto& [k, v] : ctx_->client_metadata()) {
        rc.metadata.emplace_back(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    handler_.Export("grpc", std::move(rc), BodyFormat::kProtobuf, std::move(body),
                    [this](ExportResult result) { Answer(std::move(result)); });
  }

  void OnWriteDone(bool) override {}
  void OnDone() override { delete this; }

 private:
  void Answer(ExportResult result) {
    if (!result.status.ok()) {
      Finish(grpc::Status(GrpcCode(result.status.code()), std::string(result.status.message())));
      return;
    }
    std::string bytes = EncodeExportResponse(result);
    grpc::Slice slice(bytes);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  grpc::GenericCallbackServerContext* ctx_;
  OtlpTraceHandler& handler_;
  const OtlpGrpcOptions& options_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

class OtlpGrpcReceiver::Service : public grpc::CallbackGenericService {
 public:
  Service(OtlpTraceHandler& handler, OtlpGrpcOptions options)
      : handler_(handler), options_(std::move(options)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new ExportReactor(ctx, handler_, options_);
  }
  const OtlpGrpcOptions& options() const { return options_; }

 private:
  OtlpTraceHandler& handler_;
  OtlpGrpcOptions options_;
};

absl::StatusOr<std::unique_ptr<OtlpGrpcReceiver>> OtlpGrpcReceiver::Start(
    OtlpGrpcOptions options, OtlpTraceHandler& handler) {
  std::unique_ptr<OtlpGrpcReceiver> r(new OtlpGrpcReceiver());
  r->service_ = std::make_unique<Service>(handler, options);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &r->port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_request_bytes));
  builder.RegisterCallbackGenericService(r->service_.get());
  r->server_ = builder.BuildAndStart();
  if (r->server_ == nullptr || r->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("otlp-grpc: cannot listen on ", options.address));
  }
  return r;
}

OtlpGrpcReceiver::~OtlpGrpcReceiver() { Stop(); }

void OtlpGrpcReceiver::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }
}

}  // namespace strand::receiver
