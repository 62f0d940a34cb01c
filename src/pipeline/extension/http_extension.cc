#include "pipeline/extension/http_extension.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace strand::pipeline {

absl::Status HttpExtension::Start() {
  http::HttpServerOptions o;
  o.address = endpoint_;
  o.tls = tls_;
  o.threads = 1;
  o.max_body_bytes = 1 << 16;
  o.name = id_;
  auto server = http::HttpServer::Start(o, handler_);
  if (!server.ok()) {
    return absl::Status(
        server.status().code(),
        absl::StrCat("extensions::", id_, ": ", std::string(server.status().message())));
  }
  server_ = std::move(*server);
  LOG_INFO("{}: serving on {} (port {})", id_, endpoint_, server_->port());
  return absl::OkStatus();
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

}  // namespace strand::pipeline
