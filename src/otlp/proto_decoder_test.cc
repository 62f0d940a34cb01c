#include "otlp/proto_decoder.h"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_encoder.h"

namespace strand::otlp {
namespace {

namespace pb = opentelemetry::proto;

std::string Id(char fill, size_t n) { return std::string(n, fill); }

pb::collector::trace::v1::ExportTraceServiceRequest FullRequest() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  auto* res = rs->mutable_resource();
  auto* kv = res->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  res->set_dropped_attributes_count(2);
  auto* ss = rs->add_scope_spans();
  ss->set_schema_url("scope-schema");
  ss->mutable_scope()->set_name("lib");
  ss->mutable_scope()->set_version("1.2.3");
  auto* sattr = ss->mutable_scope()->add_attributes();
  sattr->set_key("scope.attr");
  sattr->mutable_value()->set_bool_value(false);
  ss->mutable_scope()->set_dropped_attributes_count(1);
  auto* span = ss->add_spans();
  span->set_trace_id(Id('\x01', 16));
  span->set_span_id(Id('\x02', 8));
  span->set_parent_span_id(Id('\x03', 8));
  span->set_trace_state("a=b");
  span->set_name("GET /cart");
  span->set_kind(pb::trace::v1::Span::SPAN_KIND_SERVER);
  span->set_start_time_unix_nano(1700000000000000000ULL);
  span->set_end_time_unix_nano(1700000000123456789ULL);
  span->set_flags(0x301);
  auto* a = span->add_attributes();
  a->set_key("int");
  a->mutable_value()->set_int_value(-5);
  a = span->add_attributes();
  a->set_key("double");
  a->mutable_value()->set_double_value(2.5);
  a = span->add_attributes();
  a->set_key("bytes");
  a->mutable_value()->set_bytes_value(std::string("\x00\xff", 2));
  a = span->add_attributes();
  a->set_key("array");
  auto* arr = a->mutable_value()->mutable_array_value();
  arr->add_values()->set_string_value("x");
  arr->add_values()->mutable_array_value()->add_values()->set_int_value(7);
  arr->add_values()->set_bool_value(true);
  a = span->add_attributes();
  a->set_key("kvlist");
  auto* kvl = a->mutable_value()->mutable_kvlist_value();
  auto* inner = kvl->add_values();
  inner->set_key("nested");
  inner->mutable_value()->mutable_kvlist_value()->add_values()->set_key("deep");
  span->set_dropped_attributes_count(3);
  auto* ev = span->add_events();
  ev->set_time_unix_nano(1700000000000000500ULL);
  ev->set_name("exception");
  auto* ea = ev->add_attributes();
  ea->set_key("exception.type");
  ea->mutable_value()->set_string_value("Boom");
  ev->set_dropped_attributes_count(1);
  span->set_dropped_events_count(4);
  auto* link = span->add_links();
  link->set_trace_id(Id('\x05', 16));
  link->set_span_id(Id('\x06', 8));
  link->set_trace_state("k=v");
  link->set_flags(1);
  link->set_dropped_attributes_count(2);
  auto* la = link->add_attributes();
  la->set_key("link.attr");
  la->mutable_value()->set_int_value(1);
  span->set_dropped_links_count(5);
  span->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  span->mutable_status()->set_message("failed");
  return req;
}

TEST(ProtoDecoderTest, DecodesEveryField) {
  auto req = FullRequest();
  auto decoded = DecodeProtoRequest(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const SpanBatch& b = decoded->batch;
  EXPECT_EQ(decoded->rejected_spans, 0u);
  ASSERT_EQ(b.resources.size(), 1u);
  ASSERT_EQ(b.scopes.size(), 1u);
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.resources[0].schema_url, "https://opentelemetry.io/schemas/1.21.0");
  EXPECT_EQ(b.resources[0].dropped_attributes_count, 2u);
  EXPECT_EQ(b.attributes[b.resources[0].attributes.begin].value.str, "checkout");
  EXPECT_EQ(b.scopes[0].name, "lib");
  EXPECT_EQ(b.scopes[0].version, "1.2.3");
  EXPECT_EQ(b.scopes[0].schema_url, "scope-schema");
  EXPECT_EQ(b.scopes[0].dropped_attributes_count, 1u);
  const Span& s = b.spans[0];
  EXPECT_EQ(s.name, "GET /cart");
  EXPECT_TRUE(s.has_parent);
  EXPECT_EQ(s.kind, 2);
  EXPECT_EQ(s.flags, 0x301u);
  EXPECT_EQ(s.end_time_unix_nano, 1700000000123456789ULL);
  EXPECT_EQ(s.attributes.size(), 5u);
  EXPECT_EQ(s.dropped_attributes_count, 3u);
  const KeyValue& arr = b.attributes[s.attributes.begin + 3];
  ASSERT_EQ(arr.value.type, ValueType::kArray);
  ASSERT_EQ(arr.value.children.size(), 3u);
  const AnyValue& nested = b.array_values[arr.value.children.begin + 1];
  ASSERT_EQ(nested.type, ValueType::kArray);
  EXPECT_EQ(b.array_values[nested.children.begin].int_value, 7);
  EXPECT_EQ(b.array_values[arr.value.children.begin + 2].bool_value, true);
  EXPECT_EQ(s.events.size(), 1u);
  EXPECT_EQ(b.events[s.events.begin].name, "exception");
  EXPECT_EQ(s.dropped_events_count, 4u);
  EXPECT_EQ(s.links.size(), 1u);
  EXPECT_EQ(b.links[s.links.begin].flags, 1u);
  EXPECT_EQ(s.dropped_links_count, 5u);
  EXPECT_EQ(s.status_code, 2);
  EXPECT_EQ(s.status_message, "failed");
  EXPECT_EQ(b.original_request(), req.SerializeAsString());
}

TEST(ProtoDecoderTest, EncoderRoundTripsToTheSameMessage) {
  auto req = FullRequest();
  auto decoded = DecodeProtoRequest(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok());
  std::string encoded = EncodeExportRequest(decoded->batch);
  pb::collector::trace::v1::ExportTraceServiceRequest back;
  ASSERT_TRUE(back.ParseFromString(encoded));
  EXPECT_EQ(back.DebugString(), req.DebugString());
}

TEST(ProtoDecoderTest, InvalidIdsAreRejectedPerSpan) {
  auto req = FullRequest();
  auto* spans = req.mutable_resource_spans(0)->mutable_scope_spans(0);
  auto* bad = spans->add_spans();
  *bad = spans->spans(0);
  bad->set_trace_id(Id('\x01', 15));
  auto* zero = spans->add_spans();
  *zero = spans->spans(0);
  zero->set_trace_id(Id('\0', 16));
  auto* empty_span_id = spans->add_spans();
  *empty_span_id = spans->spans(0);
  empty_span_id->clear_span_id();
  auto* bad_link = spans->add_spans();
  *bad_link = spans->spans(0);
  bad_link->mutable_links(0)->set_span_id("abc");
  auto decoded = DecodeProtoRequest(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->batch.spans.size(), 1u);
  EXPECT_EQ(decoded->rejected_spans, 4u);
  EXPECT_NE(decoded->rejection_message.find("trace_id must be 16 bytes, got 15"),
            std::string::npos);
  EXPECT_TRUE(decoded->batch.original_request().empty());
  // Everything appended for rejected spans was rolled back.
  EXPECT_EQ(decoded->batch.events.size(), 1u);
  EXPECT_EQ(decoded->batch.links.size(), 1u);
}

TEST(ProtoDecoderTest, EmptyRequestIsValid) {
  auto decoded = DecodeProtoRequest("");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->batch.spans.empty());
}

TEST(ProtoDecoderTest, EveryTruncationIsAnErrorOrAPrefix) {
  std::string bytes = FullRequest().SerializeAsString();
  for (size_t n = 1; n < bytes.size(); ++n) {
    auto decoded = DecodeProtoRequest(bytes.substr(0, n));
    if (decoded.ok()) continue;  // a prefix can end on a field boundary of the top message
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ProtoDecoderTest, GarbageIsInvalidArgument) {
  auto decoded = DecodeProtoRequest(std::string("\x0a\xff\xff\xff\xff\x0f garbage", 14));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("overruns"), std::string::npos);
}

TEST(ProtoDecoderTest, WrongWireTypeIsAnError) {
  // resource_spans (field 1) sent as a varint.
  auto decoded = DecodeProtoRequest(std::string("\x08\x01", 2));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("resource_spans"), std::string::npos);
}

TEST(ProtoDecoderTest, InvalidUtf8InNameIsAnError) {
  auto req = FullRequest();
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name("ok");
  std::string bytes = req.SerializeAsString();
  auto pos = bytes.find("GET /cart");
  ASSERT_EQ(pos, std::string::npos);
  pos = bytes.find("\x2a\x02ok");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos + 2] = '\xff';
  auto decoded = DecodeProtoRequest(std::move(bytes));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("UTF-8"), std::string::npos);
}

TEST(ProtoDecoderTest, DeepNestingIsBounded) {
  pb::common::v1::AnyValue v;
  pb::common::v1::AnyValue* cur = &v;
  for (int i = 0; i < 200; ++i) cur = cur->mutable_array_value()->add_values();
  cur->set_int_value(1);
  auto req = FullRequest();
  auto* a = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)
                ->add_attributes();
  a->set_key("deep");
  *a->mutable_value() = v;
  auto decoded = DecodeProtoRequest(req.SerializeAsString());
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("nested too deeply"), std::string::npos);
}

TEST(ProtoDecoderTest, UnknownFieldsAreSkipped) {
  std::string bytes = FullRequest().SerializeAsString();
  // Field 99, varint, then field 100, length-delimited.
  bytes += std::string("\x98\x06\x05\xa2\x06\x03xyz", 9);
  auto decoded = DecodeProtoRequest(std::move(bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->batch.spans.size(), 1u);
}

TEST(ProtoEncoderTest, GroupsSpansFromSeveralBatchesByResource) {
  auto d1 = DecodeProtoRequest(FullRequest().SerializeAsString());
  auto d2 = DecodeProtoRequest(FullRequest().SerializeAsString());
  ASSERT_TRUE(d1.ok() && d2.ok());
  std::vector<SpanRef> refs = {{&d1->batch, 0}, {&d2->batch, 0}, {&d1->batch, 0}};
  pb::collector::trace::v1::ExportTraceServiceRequest back;
  ASSERT_TRUE(back.ParseFromString(EncodeResourceSpans(refs)));
  ASSERT_EQ(back.resource_spans_size(), 2);
  EXPECT_EQ(back.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(back.resource_spans(1).scope_spans(0).spans_size(), 1);
}

TEST(ProtoEncoderTest, LargeMessagesGetMultiByteLengths) {
  auto req = FullRequest();
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name(
      std::string(100000, 'n'));
  auto decoded = DecodeProtoRequest(req.SerializeAsString());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(EncodeExportRequest(decoded->batch), req.SerializeAsString());
}

}  // namespace
}  // namespace strand::otlp
