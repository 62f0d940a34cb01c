// Cross-checks the two OTLP decoders: a request built with libprotobuf must decode to the
// same spans from its binary form (DecodeProtoRequest) and from its OTLP/JSON form
// (DecodeJsonRequest), rejected spans included.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/batch_testutil.h"
#include "otlp/json_decoder.h"
#include "otlp/otlp_json_testutil.h"
#include "otlp/proto_decoder.h"

namespace strand::otlp {
namespace {

namespace pb = ::opentelemetry::proto;
using testutil::BatchInvariantViolation;
using testutil::DumpBatch;
using testutil::OtlpJsonOptions;
using testutil::ToOtlpJson;

// Builds random but valid-UTF-8 requests; some spans get invalid IDs on purpose.
class RequestGenerator {
 public:
  explicit RequestGenerator(uint32_t seed) : rng_(seed) {}

  pb::collector::trace::v1::ExportTraceServiceRequest Request() {
    pb::collector::trace::v1::ExportTraceServiceRequest request;
    for (int r = Uniform(0, 3); r > 0; --r) {
      pb::trace::v1::ResourceSpans* rs = request.add_resource_spans();
      if (Chance(0.8)) {
        Attributes(rs->mutable_resource()->mutable_attributes());
        rs->mutable_resource()->set_dropped_attributes_count(Chance(0.2) ? Uniform(1, 9) : 0);
      }
      if (Chance(0.3)) rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
      for (int s = Uniform(0, 3); s > 0; --s) {
        pb::trace::v1::ScopeSpans* ss = rs->add_scope_spans();
        if (Chance(0.8)) {
          ss->mutable_scope()->set_name(String());
          ss->mutable_scope()->set_version(String());
          Attributes(ss->mutable_scope()->mutable_attributes());
          ss->mutable_scope()->set_dropped_attributes_count(Chance(0.2) ? Uniform(1, 9) : 0);
        }
        if (Chance(0.3)) ss->set_schema_url(String());
        for (int n = Uniform(0, 5); n > 0; --n) Span(ss->add_spans());
      }
    }
    return request;
  }

  // Whether the first span made invalid has a bad link (the decoders word that
  // differently), rather than bad span IDs.
  bool first_problem_is_link() const { return first_problem_is_link_; }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  uint64_t U64() { return std::uniform_int_distribution<uint64_t>()(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(Uniform(0, 255));
    return out;
  }
  std::string NonZeroId(size_t n) {
    std::string id = Bytes(n);
    id[Uniform(0, static_cast<int>(n) - 1)] = '\x5a';
    return id;
  }
  std::string String() {
    static const char* const kPieces[] = {"GET",
                                          "/api/cart",
                                          " ",
                                          "\"",
                                          "\\",
                                          "\n",
                                          "\t",
                                          "\x01",
                                          "é",
                                          "日本",
                                          "😀",
                                          "<>&'",
                                          "service.name",
                                          "http.status_code",
                                          "",
                                          "{\"json\":[1]}",
                                          "traceId\":\""};
    std::string out;
    for (int n = Uniform(0, 4); n > 0; --n)
      out += kPieces[Uniform(0, static_cast<int>(std::size(kPieces)) - 1)];
    return out;
  }

  void Value(pb::common::v1::AnyValue* v, int depth) {
    switch (Uniform(0, depth < 3 ? 8 : 5)) {
      case 0:
        break;  // no value set
      case 1:
        v->set_string_value(String());
        break;
      case 2:
        v->set_bool_value(Chance(0.5));
        break;
      case 3:
        v->set_int_value(static_cast<int64_t>(U64()) >> Uniform(0, 63));
        break;
      case 4: {
        static const double kSpecial[] = {0.0,       1.5,         -2.25, 1e300,
                                          5e-324,    123456789.0, NAN,   INFINITY,
                                          -INFINITY, 0.1,         1e17,  9007199254740992.0};
        double d;
        if (Chance(0.5)) {
          d = kSpecial[Uniform(0, static_cast<int>(std::size(kSpecial)) - 1)];
        } else {
          uint64_t bits = U64();
          std::memcpy(&d, &bits, sizeof(d));
          // -0 survives protobuf's JSON printer as "-0", which reads back as integer 0.
          if (d == 0) d = 0;
        }
        v->set_double_value(d);
        break;
      }
      case 5:
        v->set_bytes_value(Bytes(Uniform(0, 20)));
        break;
      case 6:
      case 7: {
        pb::common::v1::ArrayValue* array = v->mutable_array_value();
        for (int n = Uniform(0, 4); n > 0; --n) Value(array->add_values(), depth + 1);
        break;
      }
      case 8: {
        pb::common::v1::KeyValueList* list = v->mutable_kvlist_value();
        for (int n = Uniform(0, 4); n > 0; --n) {
          pb::common::v1::KeyValue* kv = list->add_values();
          kv->set_key(String());
          if (Chance(0.9)) Value(kv->mutable_value(), depth + 1);
        }
        break;
      }
    }
  }

  void Attributes(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* attributes) {
    for (int n = Uniform(0, 5); n > 0; --n) {
      pb::common::v1::KeyValue* kv = attributes->Add();
      kv->set_key(String());
      if (Chance(0.95)) Value(kv->mutable_value(), 1);
    }
  }

  void Span(pb::trace::v1::Span* span) {
    span->set_trace_id(NonZeroId(16));
    span->set_span_id(NonZeroId(8));
    if (Chance(0.6)) span->set_parent_span_id(Bytes(8));
    if (Chance(0.2)) span->set_trace_state("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    if (Chance(0.5)) span->set_flags(static_cast<uint32_t>(U64()));
    span->set_name(String());
    span->set_kind(static_cast<pb::trace::v1::Span::SpanKind>(Uniform(0, 6)));
    span->set_start_time_unix_nano(U64());
    span->set_end_time_unix_nano(U64());
    Attributes(span->mutable_attributes());
    if (Chance(0.2)) span->set_dropped_attributes_count(static_cast<uint32_t>(U64()));
    for (int n = Uniform(0, 3); n > 0; --n) {
      pb::trace::v1::Span::Event* e = span->add_events();
      e->set_time_unix_nano(U64());
      e->set_name(String());
      Attributes(e->mutable_attributes());
      if (Chance(0.2)) e->set_dropped_attributes_count(Uniform(1, 100));
    }
    if (Chance(0.2)) span->set_dropped_events_count(Uniform(1, 100));
    for (int n = Uniform(0, 2); n > 0; --n) {
      pb::trace::v1::Span::Link* l = span->add_links();
      l->set_trace_id(Bytes(16));
      l->set_span_id(Bytes(8));
      if (Chance(0.3)) l->set_trace_state("k=v");
      Attributes(l->mutable_attributes());
      if (Chance(0.2)) l->set_dropped_attributes_count(Uniform(1, 100));
      if (Chance(0.5)) l->set_flags(static_cast<uint32_t>(U64()));
    }
    if (Chance(0.2)) span->set_dropped_links_count(Uniform(1, 100));
    if (Chance(0.7)) {
      span->mutable_status()->set_message(String());
      span->mutable_status()->set_code(
          static_cast<pb::trace::v1::Status::StatusCode>(Uniform(0, 2)));
    }
    if (Chance(0.08)) Break(span);
  }

  // Gives the span exactly one invalid ID.
  void Break(pb::trace::v1::Span* span) {
    const int how = Uniform(0, 5);
    if (how == 5 && span->links_size() == 0) return;
    if (!any_problem_) first_problem_is_link_ = how == 5;
    any_problem_ = true;
    switch (how) {
      case 0:
        span->set_trace_id(Bytes(15));
        break;
      case 1:
        span->set_trace_id(std::string(16, '\0'));
        break;
      case 2:
        span->set_span_id(Bytes(Uniform(0, 1) ? 7 : 9));
        break;
      case 3:
        span->set_span_id(std::string(8, '\0'));
        break;
      case 4:
        span->set_parent_span_id(Bytes(4));
        break;
      case 5:
        span->mutable_links(0)->set_trace_id(Bytes(3));
        break;
    }
  }

  std::mt19937_64 rng_;
  bool any_problem_ = false;
  bool first_problem_is_link_ = false;
};

struct Counts {
  size_t spans = 0;
  size_t rejected = 0;
};

// Decodes both forms of `request` and expects the same outcome; returns what JSON gave.
Counts ExpectSameDecoding(const pb::collector::trace::v1::ExportTraceServiceRequest& request,
                          const OtlpJsonOptions& options, bool compare_messages,
                          const std::string& context) {
  const std::string json = ToOtlpJson(request, options);
  EXPECT_FALSE(json.empty()) << context;
  absl::StatusOr<DecodedRequest> from_proto = DecodeProtoRequest(request.SerializeAsString());
  absl::StatusOr<DecodedRequest> from_json = DecodeJsonRequest(json);
  EXPECT_TRUE(from_proto.ok()) << context << ": " << from_proto.status();
  EXPECT_TRUE(from_json.ok()) << context << ": " << from_json.status() << "\n" << json;
  if (!from_proto.ok() || !from_json.ok()) return {};
  EXPECT_EQ(BatchInvariantViolation(from_json->batch), "") << context;
  EXPECT_EQ(DumpBatch(from_json->batch), DumpBatch(from_proto->batch)) << context << "\n" << json;
  EXPECT_EQ(from_json->rejected_spans, from_proto->rejected_spans) << context;
  const std::string& jm = from_json->rejection_message;
  const std::string& pm = from_proto->rejection_message;
  if (compare_messages) {
    EXPECT_EQ(jm, pm) << context;
  } else {
    // Both name the same span ("span N: ...").
    EXPECT_EQ(jm.substr(0, jm.find(':')), pm.substr(0, pm.find(':'))) << context;
  }
  return {from_json->batch.spans.size(), from_json->rejected_spans};
}

TEST(DecoderCrossCheckTest, RandomRequestsDecodeAlikeFromProtobufAndJson) {
  Counts total;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    RequestGenerator gen(seed);
    const auto request = gen.Request();
    OtlpJsonOptions options;
    options.enums_as_ints = seed % 2 == 0;
    options.proto_field_names = seed % 3 == 0;
    options.print_default_values = seed % 5 == 0;
    options.pretty = seed % 7 == 0;
    const Counts counts = ExpectSameDecoding(request, options, !gen.first_problem_is_link(),
                                             absl::StrCat("seed ", seed));
    total.spans += counts.spans;
    total.rejected += counts.rejected;
    if (HasFailure()) break;
  }
  // The generator must exercise both paths.
  EXPECT_GT(total.spans, 1000u);
  EXPECT_GT(total.rejected, 50u);
}

TEST(DecoderCrossCheckTest, RealisticRequestDecodesAlike) {
  pb::collector::trace::v1::ExportTraceServiceRequest request;
  pb::trace::v1::ResourceSpans* rs = request.add_resource_spans();
  pb::common::v1::KeyValue* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  pb::trace::v1::ScopeSpans* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("@opentelemetry/instrumentation-http");
  for (int i = 0; i < 20; ++i) {
    pb::trace::v1::Span* span = ss->add_spans();
    span->set_trace_id(std::string(16, static_cast<char>(i + 1)));
    span->set_span_id(std::string(8, static_cast<char>(i + 1)));
    if (i > 0) span->set_parent_span_id(std::string(8, static_cast<char>(i)));
    span->set_name("GET /api/cart/:id");
    span->set_kind(pb::trace::v1::Span::SPAN_KIND_SERVER);
    span->set_start_time_unix_nano(1700000000000000000ULL + i);
    span->set_end_time_unix_nano(1700000000000000000ULL + i + 1234);
    pb::common::v1::KeyValue* a = span->add_attributes();
    a->set_key("http.status_code");
    a->mutable_value()->set_int_value(200);
  }
  ExpectSameDecoding(request, {}, true, "realistic");
  OtlpJsonOptions names;
  names.enums_as_ints = false;
  ExpectSameDecoding(request, names, true, "realistic, enum names");
}

}  // namespace
}  // namespace strand::otlp
