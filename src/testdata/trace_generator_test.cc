#include "testdata/trace_generator.h"

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "otlp/batch_testutil.h"
#include "otlp/json_decoder.h"
#include "otlp/json_encoder.h"
#include "otlp/proto_decoder.h"

namespace strand::testdata {
namespace {

namespace pb = ::opentelemetry::proto;
using Request = pb::collector::trace::v1::ExportTraceServiceRequest;

std::map<std::string, std::vector<const pb::trace::v1::Span*>> SpansByTrace(const Request& r) {
  std::map<std::string, std::vector<const pb::trace::v1::Span*>> out;
  for (const auto& rs : r.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& s : ss.spans()) out[s.trace_id()].push_back(&s);
    }
  }
  return out;
}

std::string ServiceName(const pb::trace::v1::ResourceSpans& rs) {
  for (const auto& kv : rs.resource().attributes()) {
    if (kv.key() == "service.name") return kv.value().string_value();
  }
  return "";
}

TEST(TraceGeneratorTest, SameSeedAndIndexGiveTheSameBytes) {
  GeneratorOptions options;
  options.seed = 42;
  const std::string a = TraceGenerator(options).Generate(7).SerializeAsString();
  const std::string b = TraceGenerator(options).Generate(7).SerializeAsString();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, TraceGenerator(options).Generate(8).SerializeAsString());
  options.seed = 43;
  EXPECT_NE(a, TraceGenerator(options).Generate(7).SerializeAsString());
}

TEST(TraceGeneratorTest, EveryTraceHasTheRequestedShape) {
  for (int spans_per_trace : {1, 2, 5, 10, 17, 40}) {
    GeneratorOptions options;
    options.traces_per_request = 30;
    options.spans_per_trace = spans_per_trace;
    options.error_rate = 0.2;
    const Request request = TraceGenerator(options).Generate(1);
    const auto traces = SpansByTrace(request);
    ASSERT_EQ(traces.size(), 30u) << spans_per_trace;
    for (const auto& [trace_id, spans] : traces) {
      ASSERT_EQ(spans.size(), static_cast<size_t>(spans_per_trace));
      std::set<std::string> ids;
      int roots = 0;
      for (const auto* s : spans) {
        EXPECT_EQ(s->trace_id().size(), 16u);
        EXPECT_EQ(s->span_id().size(), 8u);
        EXPECT_TRUE(ids.insert(s->span_id()).second) << "span IDs repeat within a trace";
        if (s->parent_span_id().empty()) ++roots;
        EXPECT_GE(s->end_time_unix_nano(), s->start_time_unix_nano());
      }
      EXPECT_EQ(roots, 1);
      for (const auto* s : spans) {
        if (!s->parent_span_id().empty()) {
          EXPECT_TRUE(ids.count(s->parent_span_id()));
        }
      }
    }
  }
}

TEST(TraceGeneratorTest, TraceIdsAreDistinct) {
  TraceGenerator generator{GeneratorOptions{}};
  std::set<std::string> ids;
  size_t traces = 0;
  for (uint64_t i = 0; i < 20; ++i) {
    const Request request = generator.Generate(i);
    for (const auto& [id, spans] : SpansByTrace(request)) {
      ids.insert(id);
      ++traces;
    }
  }
  EXPECT_EQ(traces, 20u * 50u);
  EXPECT_EQ(ids.size(), traces);
}

TEST(TraceGeneratorTest, DefaultRequestIsAbout440BytesPerSpan) {
  TraceGenerator generator{GeneratorOptions{}};
  size_t bytes = 0, spans = 0;
  for (uint64_t i = 0; i < 16; ++i) {
    const Request r = generator.Generate(i);
    bytes += r.ByteSizeLong();
    for (const auto& [id, s] : SpansByTrace(r)) spans += s.size();
  }
  ASSERT_EQ(spans, 16u * 500u);
  const double per_span = static_cast<double>(bytes) / static_cast<double>(spans);
  EXPECT_GT(per_span, 400.0);
  EXPECT_LT(per_span, 480.0);
}

struct Census {
  std::set<std::string> services, systems;
  int spans = 0, errors = 0, exceptions = 0, links = 0, events = 0;
};

Census Count(const GeneratorOptions& options, int requests) {
  Census c;
  TraceGenerator generator(options);
  for (int i = 0; i < requests; ++i) {
    const Request r = generator.Generate(static_cast<uint64_t>(i));
    for (const auto& rs : r.resource_spans()) {
      c.services.insert(ServiceName(rs));
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) {
          ++c.spans;
          if (s.status().code() == pb::trace::v1::Status::STATUS_CODE_ERROR &&
              !s.status().message().empty()) {
            ++c.errors;
          }
          c.links += s.links_size();
          c.events += s.events_size();
          for (const auto& e : s.events()) c.exceptions += e.name() == "exception";
          for (const auto& kv : s.attributes()) {
            if (kv.key() == "db.system" || kv.key() == "messaging.system" ||
                kv.key() == "rpc.system") {
              c.systems.insert(kv.value().string_value());
            }
          }
        }
      }
    }
  }
  return c;
}

TEST(TraceGeneratorTest, CoversTheTopology) {
  const Census c = Count(GeneratorOptions{}, 40);
  EXPECT_EQ(c.services,
            (std::set<std::string>{"frontend", "checkout", "cart", "payment", "inventory",
                                   "shipping", "productcatalog", "recommendation"}));
  EXPECT_EQ(c.systems, (std::set<std::string>{"grpc", "kafka", "postgresql", "redis"}));
  // 2000 traces at 2%: 40 expected; allow a wide band.
  EXPECT_GT(c.errors, 15);
  EXPECT_LT(c.errors, 80);
  EXPECT_EQ(c.exceptions, c.errors);
  EXPECT_GT(c.links, 20);
  EXPECT_GT(c.events, 200);
}

TEST(TraceGeneratorTest, ServicesOptionSetsTheNumberOfServices) {
  GeneratorOptions options;
  options.services = 12;
  EXPECT_EQ(TraceGenerator(options).service_names().size(), 12u);
  EXPECT_EQ(Count(options, 10).services.size(), 12u);
  options.services = 3;
  EXPECT_EQ(Count(options, 2).services, (std::set<std::string>{"frontend", "checkout", "cart"}));
  options.services = 1;
  const Census one = Count(options, 2);
  EXPECT_EQ(one.services, std::set<std::string>{"frontend"});
  EXPECT_EQ(one.spans, 1000);
}

TEST(TraceGeneratorTest, JsonFormDecodesToTheSameSpansAsProtobuf) {
  GeneratorOptions options;
  options.error_rate = 0.3;  // exceptions, statuses and links in every request
  TraceGenerator generator(options);
  for (uint64_t i = 0; i < 4; ++i) {
    const Request r = generator.Generate(i);
    auto from_proto = otlp::DecodeProtoRequest(r.SerializeAsString());
    ASSERT_TRUE(from_proto.ok()) << from_proto.status();
    auto from_json = otlp::DecodeJsonRequest(otlp::WriteOtlpJson(r, nullptr));
    ASSERT_TRUE(from_json.ok()) << from_json.status();
    EXPECT_EQ(from_proto->rejected_spans, 0u);
    EXPECT_EQ(from_json->rejected_spans, 0u);
    EXPECT_EQ(from_proto->batch.spans.size(), 500u);
    EXPECT_EQ(otlp::testutil::DumpBatch(from_json->batch),
              otlp::testutil::DumpBatch(from_proto->batch));
  }
}

}  // namespace
}  // namespace strand::testdata
