#include "receiver/otlp_http_receiver.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auth/request_tenant.h"
#include "common/coding.h"
#include "common/compression.h"
#include "common/json_writer.h"
#include "http/status_codes.h"
#include "otlp/proto_encoder.h"

namespace strand::receiver {
namespace {

constexpr char kProto[] = "application/x-protobuf";
constexpr char kJson[] = "application/json";

std::string MediaType(std::string_view content_type) {
  auto semi = content_type.find(';');
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(std::string(content_type.substr(0, semi))));
}

// A google.rpc.Status body in the request's encoding; 503 and 429 say when to retry.
http::HttpResponse StatusResponse(int http_status, absl::StatusCode code, std::string_view message,
                                 BodyFormat format, int64_t retry_after_seconds = 1) {
  http::HttpResponse r;
  r.status = http_status;
  if (format == BodyFormat::kJson) {
    r.content_type = kJson;
    r.body = absl::StrCat("{\"code\":", static_cast<int>(code), ",\"message\":");
    AppendJsonString(r.body, message);
    r.body += "}";
  } else {
    r.content_type = kProto;
    r.body.push_back(0x08);  // google.rpc.Status.code = 1, varint
    PutVarint64(&r.body, static_cast<uint64_t>(code));
    otlp::AppendLengthDelimited(r.body, 2, message);
  }
  if (http_status == 503 || http_status == 429) {
    r.headers.emplace_back("Retry-After", absl::StrCat(std::max<int64_t>(retry_after_seconds, 1)));
  }
  return r;
}

http::HttpResponse SuccessResponse(const ExportResult& result, BodyFormat format) {
  http::HttpResponse r;
  r.status = 200;
  if (format == BodyFormat::kJson) {
    r.content_type = kJson;
    if (result.rejected_spans == 0) {
      r.body = "{}";
    } else {
      r.body = absl::StrCat("{\"partialSuccess\":{\"rejectedSpans\":\"", result.rejected_spans,
                            "\",\"errorMessage\":");
      AppendJsonString(r.body, result.rejection_message);
      r.body += "}}";
    }
  } else {
    r.content_type = kProto;
    r.body = EncodeExportResponse(result);
  }
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpHttpReceiver>> OtlpHttpReceiver::Start(
    OtlpHttpOptions options, OtlpTraceHandler& handler) {
  std::unique_ptr<OtlpHttpReceiver> r(new OtlpHttpReceiver(std::move(options), handler));
  http::HttpServerOptions so;
  so.address = r->options_.address;
  so.threads = r->options_.threads;
  so.max_body_bytes = r->options_.max_request_bytes;
  so.name = "otlp-http";
  so.limits = r->options_.limits;
  so.tls = r->options_.tls;
  so.memory = r->options_.memory;
  auto* self = r.get();
  auto server = http::HttpServer::Start(so, [self](http::HttpRequest&& req, http::Responder resp) {
    self->Handle(std::move(req), std::move(resp));
  });
  if (!server.ok()) return server.status();
  r->server_ = std::move(*server);
  return r;
}

absl::StatusOr<std::optional<auth::Identity>> OtlpHttpReceiver::Authenticate(
    const http::HttpRequest& req) const {
  if (options_.auth == nullptr) return std::nullopt;
  return options_.auth->Authenticate([&req](std::string_view name) { return req.Header(name); });
}

http::HttpResponse OtlpHttpReceiver::Unauthorized(const absl::Status& why, BodyFormat format) const {
  handler_.CountRefusedRequest("http", "unauthenticated");
  http::HttpResponse r =
      StatusResponse(401, absl::StatusCode::kUnauthenticated, std::string(why.message()), format);
  r.headers.emplace_back("WWW-Authenticate", options_.auth->Challenge());
  return r;
}

void OtlpHttpReceiver::Handle(http::HttpRequest&& req, http::Responder respond) {
  const std::string media = MediaType(req.Header("content-type"));
  const BodyFormat format = media == kJson ? BodyFormat::kJson : BodyFormat::kProtobuf;
  auto fail = [&](int http, absl::StatusCode code, std::string_view msg,
                  const std::string& reason) {
    handler_.CountRefusedRequest("http", reason);
    respond(StatusResponse(http, code, msg, format));
  };
  const auto identity = Authenticate(req);
  if (!identity.ok()) return respond(Unauthorized(identity.status(), format));
  if (req.path != "/v1/traces") {
    if (req.path == "/v1/metrics" || req.path == "/v1/logs") {
      return fail(
          404, absl::StatusCode::kUnimplemented,
          absl::StrCat("not supported: Strand stores traces; ", req.path, " is not accepted"),
          "unsupported_signal");
    }
    return fail(404, absl::StatusCode::kNotFound, absl::StrCat("unknown path ", req.path),
                "not_found");
  }
  if (req.method != "POST") {
    handler_.CountRefusedRequest("http", "method");
    http::HttpResponse r =
        StatusResponse(405, absl::StatusCode::kInvalidArgument,
                       absl::StrCat("method ", req.method, " not allowed; use POST"), format);
    r.headers.emplace_back("Allow", "POST");
    return respond(std::move(r));
  }
  if (media != kJson && media != kProto && media != "application/protobuf") {
    return fail(415, absl::StatusCode::kInvalidArgument,
                absl::StrCat("unsupported Content-Type \"", std::string(req.Header("content-type")),
                             "\"; use application/x-protobuf or application/json"),
                "content_type");
  }
  if (req.body_too_large) {
    return fail(
        413, absl::StatusCode::kResourceExhausted,
        absl::StrCat("request body exceeds the limit of ", options_.max_request_bytes, " bytes"),
        "too_large");
  }
  RequestContext ctx;
  auto tenant =
      auth::RequestTenant(options_.multitenancy, identity->has_value() ? &**identity : nullptr,
                          req.Header(auth::kOrgIdHeader));
  if (!tenant.ok()) {
    return fail(http::HttpStatusFor(tenant.status().code()), tenant.status().code(),
                std::string(tenant.status().message()), "tenant");
  }
  ctx.tenant = *std::move(tenant);
  auto body = Decompress(req.Header("content-encoding"), std::move(req.body),
                         options_.max_request_bytes, &req.body_lease.lease);
  if (!body.ok()) {
    if (absl::IsUnavailable(body.status())) {
      return fail(503, absl::StatusCode::kUnavailable, std::string(body.status().message()),
                  "memory_limit");
    }
    if (body.status().code() == absl::StatusCode::kResourceExhausted) {
      return fail(413, absl::StatusCode::kResourceExhausted, std::string(body.status().message()),
                  "too_large");
    }
    return fail(400, absl::StatusCode::kInvalidArgument, std::string(body.status().message()),
                "encoding");
  }
  if (options_.include_metadata) ctx.metadata = req.headers;
  handler_.Export(
      "http", std::move(ctx), format, std::move(*body), std::move(req.body_lease.lease),
      [respond = std::move(respond), format](ExportResult result) {
        if (!result.status.ok()) {
          respond(StatusResponse(http::HttpStatusFor(result.status.code()), result.status.code(),
                                 std::string(result.status.message()), format,
                                 result.retry_after_seconds));
          return;
        }
        respond(SuccessResponse(result, format));
      });
}

}  // namespace strand::receiver
