#include "receiver/otlp_grpc_receiver.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "http/fd_listener.h"
#include "http/status_codes.h"
#include "http/tls_context.h"
#include "auth/request_tenant.h"
#include "common/compression.h"
#include "common/status_macros.h"

namespace strand::receiver {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// grpc::ByteBuffer keeps its grpc_byte_buffer* private, and with per-message decompression
// off the compression algorithm of a received message is only recorded there. The member
// is named through an explicit instantiation, where access checks do not apply
// ([temp.spec.general]); gRPC itself asserts ByteBuffer is exactly that one pointer.
struct ByteBufferCore {
  using type = grpc_byte_buffer* grpc::ByteBuffer::*;
  friend type Member(ByteBufferCore);
};
template <typename Tag, typename Tag::type kMember>
struct ExposeMember {
  friend typename Tag::type Member(Tag) { return kMember; }
};
template struct ExposeMember<ByteBufferCore, &grpc::ByteBuffer::buffer_>;

// The encoding a received message was compressed with: "" when it was not compressed.
std::string_view MessageEncoding(const grpc::ByteBuffer& message) {
  const grpc_byte_buffer* core = message.*Member(ByteBufferCore{});
  if (core == nullptr || core->type != GRPC_BB_RAW) return "";
  switch (core->data.raw.compression) {
    case GRPC_COMPRESS_GZIP:
      return "gzip";
    case GRPC_COMPRESS_DEFLATE:
      return "deflate";
    default:
      return "";
  }
}

// The listener's credentials: plaintext, or TLS from files gRPC watches and reloads. The
// files are loaded once here too, so a bad certificate fails the start, not each handshake.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const http::TlsSettings& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  RETURN_IF_ERROR(http::ValidateTlsSettings(tls, "otlp-grpc tls"));
  if (tls.min_version != "1.2") {
    return absl::InvalidArgumentError(
        "not supported: min_version 1.3 on OTLP/gRPC (gRPC here negotiates TLS 1.2 or 1.3)");
  }
  RETURN_IF_ERROR(http::MakeServerTlsContext(tls).status());
  const auto refresh = static_cast<unsigned int>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(tls.reload_interval).count()));
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (tls.client_ca_file.empty()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        tls.key_file, tls.cert_file, refresh);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        tls.key_file, tls.cert_file, tls.client_ca_file, refresh);
  }
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca_file.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

grpc::StatusCode GrpcCode(absl::StatusCode code) {
  return static_cast<grpc::StatusCode>(http::GrpcCodeFor(code));
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
    // Credentials and tenant are settled before the message is read.
    auto tenant = Authorize();
    if (!tenant.ok()) {
      handler_.CountRefusedRequest(
          "grpc", absl::IsUnauthenticated(tenant.status()) ? "unauthenticated" : "tenant");
      Finish(
          grpc::Status(GrpcCode(tenant.status().code()), std::string(tenant.status().message())));
      return;
    }
    tenant_ = *std::move(tenant);
    if (options_.memory != nullptr) {
      if (absl::Status s = options_.memory->CheckAdmission(0, "request"); !s.ok()) {
        RefuseMemory(s);
        return;
      }
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message (or the call was cancelled).
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    RequestContext rc;
    rc.tenant = std::move(tenant_);
    const std::string_view encoding = MessageEncoding(request_);
    std::vector<grpc::Slice> slices;
    std::string body;
    MemoryLease lease(options_.memory);
    if (request_.Dump(&slices).ok()) {
      size_t total = 0;
      for (const auto& s : slices) total += s.size();
      // gRPC's copy of the message and ours, until gRPC's is released below.
      if (absl::Status s = lease.TryResize(2 * total, "request message"); !s.ok()) {
        return RefuseMemory(s);
      }
      body.reserve(total);
      for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    slices.clear();
    request_.Clear();
    lease.Resize(body.capacity());
    if (!encoding.empty()) {
      auto inflated = Decompress(encoding, std::move(body), options_.max_request_bytes, &lease);
      if (absl::IsUnavailable(inflated.status())) return RefuseMemory(inflated.status());
      if (!inflated.ok()) {
        const bool too_large = absl::IsResourceExhausted(inflated.status());
        handler_.CountRefusedRequest("grpc", too_large ? "too_large" : "encoding");
        Finish(grpc::Status(
            too_large ? grpc::StatusCode::RESOURCE_EXHAUSTED : grpc::StatusCode::INTERNAL,
            std::string(inflated.status().message())));
        return;
      }
      body = std::move(*inflated);
    }
    if (options_.include_metadata) {
      for (const auto& [k, v] : ctx_->client_metadata()) {
        rc.metadata.emplace_back(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    handler_.Export("grpc", std::move(rc), BodyFormat::kProtobuf, std::move(body), std::move(lease),
                    [this](ExportResult result) { Answer(std::move(result)); });
  }

  void OnWriteDone(bool) override {}
  void OnDone() override { delete this; }

 private:
  // The memory limit cannot hold the request now: UNAVAILABLE, which clients retry.
  void RefuseMemory(const absl::Status& why) {
    handler_.CountRefusedRequest("grpc", "memory_limit");
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(why.message())));
  }

  // The first value of metadata `name` (lower-case), or "".
  std::string_view Metadata(std::string_view name) const {
    auto it = ctx_->client_metadata().find(grpc::string_ref(name.data(), name.size()));
    if (it == ctx_->client_metadata().end()) return {};
    return std::string_view(it->second.data(), it->second.size());
  }

  // The tenant the call acts for, once its credentials (when required) check out.
  absl::StatusOr<std::string> Authorize() const {
    auth::Identity identity;
    if (options_.auth != nullptr) {
      auto id = options_.auth->Authenticate([this](std::string_view n) { return Metadata(n); });
      if (!id.ok()) return id.status();
      identity = *std::move(id);
    }
    return auth::RequestTenant(options_.multitenancy,
                               options_.auth != nullptr ? &identity : nullptr,
                               Metadata(auth::kOrgIdHeader));
  }

  void Answer(ExportResult result) {
    if (!result.status.ok()) {
      std::string message(result.status.message());
      if (result.retry_after_seconds > 0) {
        // grpc-status-details-bin with a RetryInfo: OTLP clients retry RESOURCE_EXHAUSTED
        // only with one.
        std::string details =
            EncodeRetryableStatusDetails(result.status.code(), message, result.retry_after_seconds);
        Finish(
            grpc::Status(GrpcCode(result.status.code()), std::move(message), std::move(details)));
        return;
      }
      Finish(grpc::Status(GrpcCode(result.status.code()), std::move(message)));
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
  std::string tenant_;
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
  ASSIGN_OR_RETURN(auto credentials, ServerCredentials(options.tls));
  grpc::ServerBuilder builder;
  r->acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      std::move(credentials));
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_request_bytes));
  builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time_ms));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(options.keepalive_timeout_ms));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(options.max_connection_idle_ms));
  if (options.max_connection_age_ms > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(options.max_connection_age_ms));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(options.max_connection_age_grace_ms));
  }
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(options.handshake_timeout_ms));
  builder.RegisterCallbackGenericService(r->service_.get());
  r->server_ = builder.BuildAndStart();
  if (r->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("otlp-grpc: cannot start the server"));
  }
  http::FdListenerOptions lo;
  lo.address = options.address;
  lo.name = "otlp-grpc";
  lo.reserve_fds = options.reserve_fds;
  auto* acceptor = r->acceptor_.get();
  auto listener = http::FdListener::Start(lo, [acceptor](int listener_fd, int fd) {
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters p;
    p.listener_fd = listener_fd;
    p.fd = fd;
    acceptor->HandleNewConnection(&p);
  });
  if (!listener.ok()) {
    r->server_->Shutdown();
    return listener.status();
  }
  r->listener_ = std::move(*listener);
  r->port_ = r->listener_->port();
  return r;
}

OtlpGrpcReceiver::~OtlpGrpcReceiver() { Stop(); }

void OtlpGrpcReceiver::Stop() {
  if (listener_) listener_->Stop();
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
    server_.reset();
  }
}

}  // namespace strand::receiver
