// The `otlp` (gRPC) and `otlphttp` exporters: a QueuedExporter over an OtlpGrpcSender or
// an OtlpHttpSender, with otelcol's settings and defaults (compression gzip, timeout 5s,
// sending_queue and retry_on_failure as in exporter_settings.h). `sending_queue::storage`
// naming a file_storage extension makes the queue persistent; `auth` naming an
// authenticator extension adds its credentials to every request (auth_extensions.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/config/component.h"
#include "pipeline/exporter/otlp/otlp_grpc_sender.h"
#include "pipeline/queue/exporter_settings.h"

namespace strand::pipeline {

std::unique_ptr<ExporterFactory> NewOtlpExporterFactory();
std::unique_ptr<ExporterFactory> NewOtlpHttpExporterFactory();

// Reads a `tls:` block.
void ParseTlsSettings(ConfigMap& tls, TlsSettings& out);

// The settings the otlp and otlphttp exporters share, and the loadbalancing exporter's
// `protocol::otlp` template.
struct OtlpClientSettings {
  std::string endpoint;
  TlsSettings tls;
  std::string compression = "gzip";
  std::map<std::string, std::string> headers;
  SenderSettings sender;
  std::optional<AuthenticatorRef> auth;  // `auth: {authenticator: <id>}`
  // The client authenticator `auth` names, filled in when the exporter is built
  // (ResolveAuthenticator); null without `auth`.
  std::shared_ptr<const auth::ClientAuthenticator> authenticator;
};
// Reads them (network tuning Strand does not need is accepted and ignored; proxies are
// refused as not supported).
void ParseOtlpClientSettings(ConfigMap& map, OtlpClientSettings& out);
// Sets `s.authenticator` from the running extension `s.auth` names.
absl::Status ResolveAuthenticator(const BuildContext& ctx, OtlpClientSettings& s);
// The gRPC sender's options for these settings, sending to `endpoint`.
OtlpGrpcSenderOptions GrpcSenderOptions(const OtlpClientSettings& s, const std::string& endpoint);

}  // namespace strand::pipeline
