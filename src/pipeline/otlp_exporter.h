// The `otlp` (gRPC) and `otlphttp` exporters: a QueuedExporter over an OtlpGrpcSender or
// an OtlpHttpSender, with otelcol's settings and defaults (compression gzip, timeout 5s,
// sending_queue and retry_on_failure as in exporter_settings.h). `sending_queue::storage`
// naming a file_storage extension makes the queue persistent.
#pragma once

#include <memory>

#include "pipeline/component.h"

namespace strand::pipeline {

std::unique_ptr<ExporterFactory> NewOtlpExporterFactory();
std::unique_ptr<ExporterFactory> NewOtlpHttpExporterFactory();

// Reads a `tls:` block (shared with the loadbalancing exporter).
struct TlsSettings;
void ParseTlsSettings(ConfigMap& tls, TlsSettings& out);

}  // namespace strand::pipeline
