// Test-only helpers for processor tests: a TracesConsumer that keeps what it receives,
// a settings parser from YAML text, a check of parse errors, and a batch decoded from a
// protobuf request.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/batch_testutil.h"
#include "otlp/proto_decoder.h"
#include "pipeline/config/component.h"

namespace strand::pipeline::testutil {

// Keeps every batch passed on; acknowledges each at once. Not thread-safe.
class CaptureConsumer : public TracesConsumer {
 public:
  void Consume(RequestContext&& /*ctx*/, otlp::SpanBatch&& batch, ConsumeDone done) override {
    batches.push_back(std::move(batch));
    done(absl::OkStatus());
  }
  std::vector<otlp::SpanBatch> batches;
};

// Parses `yaml` as the settings of `factory`, as the collector would (strict keys).
inline absl::StatusOr<std::unique_ptr<ComponentSettings>> ParseSettings(
    const ProcessorFactory& factory, const std::string& yaml) {
  ConfigMap map(YAML::Load(yaml), "processors::" + std::string(factory.type()));
  std::unique_ptr<ComponentSettings> settings = factory.Parse(map);
  absl::Status status = map.Finish();
  if (!status.ok()) return status;
  if (settings == nullptr) return absl::InternalError("Parse returned null without an error");
  status = factory.Validate(*settings);
  if (!status.ok()) return status;
  return settings;
}

struct ParseErrorCase {
  const char* yaml;
  const char* message;  // a part of the expected error message
};
// Expects every case to fail to parse with InvalidArgument and its message.
inline void ExpectParseErrors(const ProcessorFactory& factory,
                              std::initializer_list<ParseErrorCase> cases) {
  for (const ParseErrorCase& c : cases) {
    absl::Status s = ParseSettings(factory, c.yaml).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.yaml << "\n" << s;
  }
}

inline otlp::SpanBatch Decode(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& req) {
  absl::StatusOr<otlp::DecodedRequest> decoded = otlp::DecodeProtoRequest(req.SerializeAsString());
  return std::move(decoded->batch);
}

// Runs one batch through a processor built from `yaml`; returns what reached `next`.
struct RunResult {
  std::vector<otlp::SpanBatch> out;
  std::vector<absl::Status> acks;
};
inline RunResult Run(const ProcessorFactory& factory, const std::string& yaml,
                     otlp::SpanBatch&& batch, RequestContext ctx = {},
                     MetricsRegistry* metrics = nullptr) {
  auto settings = ParseSettings(factory, yaml);
  if (!settings.ok()) return {};
  CaptureConsumer next;
  BuildContext build;
  build.id = ComponentId{std::string(factory.type()), ""};
  build.metrics = metrics;
  auto processor = factory.Create(**settings, build, next);
  RunResult result;
  (*processor)->Consume(std::move(ctx), std::move(batch), [&](absl::Status s) {
    result.acks.push_back(s);
  });
  result.out = std::move(next.batches);
  return result;
}

}  // namespace strand::pipeline::testutil
