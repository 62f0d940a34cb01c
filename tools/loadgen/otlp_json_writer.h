// Renders an ExportTraceServiceRequest as OTLP/JSON, the way OTLP/HTTP JSON exporters send
// it: lowerCamelCase keys, trace and span IDs as hex, enums as integers, 64-bit integers as
// decimal strings, bytes as base64, default values omitted. Thread-safe (pure function).
#pragma once

#include <string>

#include "loadgen/patch_sites.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::loadgen {

// Returns the JSON text. When `sites` is not null, fills it with the offsets of the hex
// IDs and of the 19-digit timestamps (shorter or longer ones are not recorded).
std::string WriteOtlpJson(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
    PatchSites* sites);

}  // namespace strand::loadgen
