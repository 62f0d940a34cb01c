#include "otlp/json_decoder.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/batch_testutil.h"

namespace strand::otlp {
namespace {

using ::testing::HasSubstr;
using testutil::BatchInvariantViolation;
using testutil::DumpBatch;

constexpr char kTraceHex[] = "5b8efff798038103d269b633813fc60c";
constexpr char kSpanHex[] = "eee19b7ec3c1b174";
constexpr char kIds[] =
    R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174")";

TraceId TraceIdOf(const std::string& hex) {
  TraceId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
  return id;
}
SpanId SpanIdOf(const std::string& hex) {
  SpanId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
  return id;
}

// A request with one resource and one scope holding the given span objects.
std::string Spans(const std::string& spans) {
  return absl::StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[)", spans, "]}]}]}");
}
// A request with one span made of valid IDs plus `fields`.
std::string OneSpan(const std::string& fields) {
  return Spans(absl::StrCat("{", kIds, fields.empty() ? "" : ",", fields, "}"));
}
// A request with one span holding one attribute "k" whose AnyValue is `value_json`.
std::string OneValue(const std::string& value_json) {
  return OneSpan(absl::StrCat(R"("attributes":[{"key":"k","value":)", value_json, "}]"));
}

DecodedRequest DecodeOk(const std::string& json) {
  absl::StatusOr<DecodedRequest> decoded = DecodeJsonRequest(json);
  EXPECT_TRUE(decoded.ok()) << decoded.status() << "\n" << json;
  if (!decoded.ok()) return DecodedRequest{};
  EXPECT_EQ(BatchInvariantViolation(decoded->batch), "");
  return std::move(decoded).value();
}

// The value of the single attribute of the single span.
AnyValue ValueOf(const DecodedRequest& d) {
  EXPECT_EQ(d.batch.spans.size(), 1u);
  if (d.batch.spans.size() != 1 || d.batch.spans[0].attributes.size() != 1) return {};
  return d.batch.attributes[d.batch.spans[0].attributes.begin].value;
}

std::string ErrorOf(const std::string& json) {
  absl::StatusOr<DecodedRequest> decoded = DecodeJsonRequest(json);
  EXPECT_FALSE(decoded.ok()) << json;
  if (decoded.ok()) return "";
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << decoded.status();
  return std::string(decoded.status().message());
}

constexpr char kFullRequest[] = R"({
  "resourceSpans": [{
    "resource": {
      "attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}],
      "droppedAttributesCount": 1
    },
    "schemaUrl": "https://opentelemetry.io/schemas/1.21.0",
    "scopeSpans": [{
      "scope": {
        "name": "io.opentelemetry.http",
        "version": "1.2.3",
        "attributes": [{"key": "scope.attr", "value": {"boolValue": true}}],
        "droppedAttributesCount": 2
      },
      "schemaUrl": "https://opentelemetry.io/schemas/1.20.0",
      "spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "traceState": "rojo=00f067aa0ba902b7",
        "parentSpanId": "eee19b7ec3c1b173",
        "flags": 257,
        "name": "GET /api/cart",
        "kind": 2,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "attributes": [
          {"key": "http.method", "value": {"stringValue": "GET"}},
          {"key": "http.status_code", "value": {"intValue": "200"}}
        ],
        "droppedAttributesCount": 3,
        "events": [{
          "timeUnixNano": "1544712660500000000",
          "name": "exception",
          "attributes": [{"key": "exception.type", "value": {"stringValue": "IOError"}}],
          "droppedAttributesCount": 4
        }],
        "droppedEventsCount": 5,
        "links": [{
          "traceId": "0102030405060708090a0b0c0d0e0f10",
          "spanId": "1112131415161718",
          "traceState": "k=v",
          "attributes": [{"key": "link.attr", "value": {"doubleValue": 0.5}}],
          "droppedAttributesCount": 6,
          "flags": 1
        }],
        "droppedLinksCount": 7,
        "status": {"message": "upstream failed", "code": 2}
      }]
    }]
  }]
})";

TEST(JsonDecoderTest, FullRequestDecodesEveryField) {
  DecodedRequest d = DecodeOk(kFullRequest);
  const SpanBatch& b = d.batch;
  EXPECT_EQ(d.rejected_spans, 0u);
  EXPECT_EQ(d.rejection_message, "");
  ASSERT_EQ(b.resources.size(), 1u);
  ASSERT_EQ(b.scopes.size(), 1u);
  ASSERT_EQ(b.spans.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  ASSERT_EQ(b.links.size(), 1u);

  const Resource& r = b.resources[0];
  EXPECT_EQ(r.schema_url, "https://opentelemetry.io/schemas/1.21.0");
  EXPECT_EQ(r.dropped_attributes_count, 1u);
  ASSERT_EQ(r.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[r.attributes.begin].key, "service.name");
  EXPECT_EQ(b.attributes[r.attributes.begin].value.str, "checkout");

  const Scope& sc = b.scopes[0];
  EXPECT_EQ(sc.resource_index, 0u);
  EXPECT_EQ(sc.name, "io.opentelemetry.http");
  EXPECT_EQ(sc.version, "1.2.3");
  EXPECT_EQ(sc.schema_url, "https://opentelemetry.io/schemas/1.20.0");
  EXPECT_EQ(sc.dropped_attributes_count, 2u);
  ASSERT_EQ(sc.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[sc.attributes.begin].key, "scope.attr");
  EXPECT_EQ(b.attributes[sc.attributes.begin].value.type, ValueType::kBool);
  EXPECT_TRUE(b.attributes[sc.attributes.begin].value.bool_value);

  const Span& s = b.spans[0];
  EXPECT_EQ(s.scope_index, 0u);
  EXPECT_EQ(s.trace_id, TraceIdOf(kTraceHex));
  EXPECT_EQ(s.span_id, SpanIdOf(kSpanHex));
  EXPECT_TRUE(s.has_parent);
  EXPECT_EQ(s.parent_span_id, SpanIdOf("eee19b7ec3c1b173"));
  EXPECT_EQ(s.trace_state, "rojo=00f067aa0ba902b7");
  EXPECT_EQ(s.flags, 257u);
  EXPECT_EQ(s.name, "GET /api/cart");
  EXPECT_EQ(s.kind, static_cast<int32_t>(SpanKind::kServer));
  EXPECT_EQ(s.start_time_unix_nano, 1544712660000000000u);
  EXPECT_EQ(s.end_time_unix_nano, 1544712661000000000u);
  ASSERT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(b.attributes[s.attributes.begin].key, "http.method");
  EXPECT_EQ(b.attributes[s.attributes.begin].value.type, ValueType::kString);
  EXPECT_EQ(b.attributes[s.attributes.begin].value.str, "GET");
  EXPECT_EQ(b.attributes[s.attributes.begin + 1].key, "http.status_code");
  EXPECT_EQ(b.attributes[s.attributes.begin + 1].value.type, ValueType::kInt);
  EXPECT_EQ(b.attributes[s.attributes.begin + 1].value.int_value, 200);
  EXPECT_EQ(s.dropped_attributes_count, 3u);
  EXPECT_EQ(s.dropped_events_count, 5u);
  EXPECT_EQ(s.dropped_links_count, 7u);
  EXPECT_EQ(s.status_message, "upstream failed");
  EXPECT_EQ(s.status_code, static_cast<int32_t>(StatusCode::kError));

  ASSERT_EQ(s.events.size(), 1u);
  const Event& e = b.events[s.events.begin];
  EXPECT_EQ(e.time_unix_nano, 1544712660500000000u);
  EXPECT_EQ(e.name, "exception");
  EXPECT_EQ(e.dropped_attributes_count, 4u);
  ASSERT_EQ(e.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[e.attributes.begin].key, "exception.type");
  EXPECT_EQ(b.attributes[e.attributes.begin].value.str, "IOError");

  ASSERT_EQ(s.links.size(), 1u);
  const Link& l = b.links[s.links.begin];
  EXPECT_EQ(l.trace_id, TraceIdOf("0102030405060708090a0b0c0d0e0f10"));
  EXPECT_EQ(l.span_id, SpanIdOf("1112131415161718"));
  EXPECT_EQ(l.trace_state, "k=v");
  EXPECT_EQ(l.dropped_attributes_count, 6u);
  EXPECT_EQ(l.flags, 1u);
  ASSERT_EQ(l.attributes.size(), 1u);
  EXPECT_EQ(b.attributes[l.attributes.begin].key, "link.attr");
  EXPECT_EQ(b.attributes[l.attributes.begin].value.type, ValueType::kDouble);
  EXPECT_EQ(b.attributes[l.attributes.begin].value.double_value, 0.5);
}

TEST(JsonDecoderTest, ProtoFieldNamesDecodeLikeJsonNames) {
  std::string snake = kFullRequest;
  for (auto [camel, proto] : std::vector<std::pair<std::string, std::string>>{
           {"resourceSpans", "resource_spans"},
           {"scopeSpans", "scope_spans"},
           {"schemaUrl", "schema_url"},
           {"droppedAttributesCount", "dropped_attributes_count"},
           {"droppedEventsCount", "dropped_events_count"},
           {"droppedLinksCount", "dropped_links_count"},
           {"traceId", "trace_id"},
           {"spanId", "span_id"},
           {"parentSpanId", "parent_span_id"},
           {"traceState", "trace_state"},
           {"startTimeUnixNano", "start_time_unix_nano"},
           {"endTimeUnixNano", "end_time_unix_nano"},
           {"timeUnixNano", "time_unix_nano"},
           {"stringValue", "string_value"},
           {"intValue", "int_value"},
           {"boolValue", "bool_value"},
           {"doubleValue", "double_value"},
       }) {
    snake = absl::StrReplaceAll(snake, {{"\"" + camel + "\"", "\"" + proto + "\""}});
  }
  ASSERT_THAT(snake, HasSubstr("\"start_time_unix_nano\""));
  EXPECT_EQ(DumpBatch(DecodeOk(snake).batch), DumpBatch(DecodeOk(kFullRequest).batch));
}

TEST(JsonDecoderTest, KeyOrderDoesNotMatter) {
  // Spans before their scope, scope spans before their resource, IDs last.
  const std::string reordered = R"({"resourceSpans":[{
    "scopeSpans":[{"spans":[{"name":"s","spanId":"eee19b7ec3c1b174",
                             "traceId":"5b8efff798038103d269b633813fc60c"}],
                   "scope":{"name":"lib"}}],
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]}}]})";
  const std::string ordered = R"({"resourceSpans":[{
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
    "scopeSpans":[{"scope":{"name":"lib"},
                   "spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
                             "spanId":"eee19b7ec3c1b174","name":"s"}]}]}]})";
  EXPECT_EQ(DumpBatch(DecodeOk(reordered).batch), DumpBatch(DecodeOk(ordered).batch));
}

TEST(JsonDecoderTest, EmptyObjectDecodesToNoSpans) {
  for (const char* json :
       {"{}", R"({"resourceSpans":[]})", R"({"resourceSpans":null})", " \n{ } \t"}) {
    DecodedRequest d = DecodeOk(json);
    EXPECT_TRUE(d.batch.spans.empty());
    EXPECT_TRUE(d.batch.resources.empty());
    EXPECT_EQ(d.rejected_spans, 0u);
  }
}

TEST(JsonDecoderTest, EmptyOrMalformedBodyIsInvalidArgument) {
  for (const char* json : {"", "   ", "{", R"({"resourceSpans":[})", "{}}", "nul", "{'a':1}",
                           R"({"resourceSpans":[],})"}) {
    EXPECT_THAT(ErrorOf(json), HasSubstr("invalid OTLP/JSON")) << json;
  }
}

TEST(JsonDecoderTest, NonObjectBodyIsInvalidArgument) {
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("expected the request to be an object, got array"));
  EXPECT_THAT(ErrorOf("\"x\""), HasSubstr("got string"));
  EXPECT_THAT(ErrorOf("42"), HasSubstr("got number"));
  EXPECT_THAT(ErrorOf("null"), HasSubstr("got null"));
}

TEST(JsonDecoderTest, UppercaseAndMixedCaseHexIdsDecode) {
  DecodedRequest d = DecodeOk(Spans(
      R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EeE19b7eC3C1B174",
          "parentSpanId":"00F067AA0BA902B7"})"));
  ASSERT_EQ(d.batch.spans.size(), 1u);
  EXPECT_EQ(d.batch.spans[0].trace_id, TraceIdOf(kTraceHex));
  EXPECT_EQ(d.batch.spans[0].span_id, SpanIdOf(kSpanHex));
  EXPECT_EQ(d.batch.spans[0].parent_span_id, SpanIdOf("00f067aa0ba902b7"));
}

TEST(JsonDecoderTest, EmptyOrMissingParentMeansNoParent) {
  EXPECT_FALSE(DecodeOk(OneSpan(R"("parentSpanId":"")")).batch.spans[0].has_parent);
  EXPECT_FALSE(DecodeOk(OneSpan("")).batch.spans[0].has_parent);
  EXPECT_FALSE(DecodeOk(OneSpan(R"("parentSpanId":null)")).batch.spans[0].has_parent);
  const Span s = DecodeOk(OneSpan(R"("parentSpanId":"0000000000000001")")).batch.spans[0];
  EXPECT_TRUE(s.has_parent);
  EXPECT_EQ(s.parent_span_id, SpanIdOf("0000000000000001"));
}

TEST(JsonDecoderTest, SixtyFourBitIntegersAcceptStringsAndNumbers) {
  struct Case {
    std::string json;
    uint64_t want;
  };
  for (const Case& c : std::vector<Case>{
           {R"("1700000000000000123")", 1700000000000000123u},
           {"1700000000000000123", 1700000000000000123u},
           {R"("18446744073709551615")", 18446744073709551615u},
           {"18446744073709551615", 18446744073709551615u},
           {"0", 0},
           {R"("0")", 0},
           {"1e3", 1000},
           {R"("1e3")", 1000},
           {"5.0", 5},
       }) {
    DecodedRequest d = DecodeOk(OneSpan(absl::StrCat(R"("startTimeUnixNano":)", c.json)));
    EXPECT_EQ(d.batch.spans[0].start_time_unix_nano, c.want) << c.json;
  }
  struct IntCase {
    std::string json;
    int64_t want;
  };
  for (const IntCase& c : std::vector<IntCase>{
           {"-5", -5},
           {R"("-5")", -5},
           {"9223372036854775807", std::numeric_limits<int64_t>::max()},
           {R"("9223372036854775807")", std::numeric_limits<int64_t>::max()},
           {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
           {R"("-9223372036854775808")", std::numeric_limits<int64_t>::min()},
       }) {
    AnyValue v = ValueOf(DecodeOk(OneValue(absl::StrCat(R"({"intValue":)", c.json, "}"))));
    EXPECT_EQ(v.type, ValueType::kInt) << c.json;
    EXPECT_EQ(v.int_value, c.want) << c.json;
  }
}

TEST(JsonDecoderTest, IntegersOutOfRangeOrMalformedAreInvalidArgument) {
  EXPECT_THAT(ErrorOf(OneValue(R"({"intValue":"9223372036854775808"})")),
              HasSubstr("attributes[0].value.intValue: expected a 64-bit integer"));
  EXPECT_THAT(ErrorOf(OneValue(R"({"intValue":9223372036854775808})")),
              HasSubstr("intValue: value 9223372036854775808 is out of range"));
  EXPECT_THAT(ErrorOf(OneValue(R"({"intValue":1.5})")), HasSubstr("is not a 64-bit integer"));
  EXPECT_THAT(ErrorOf(OneValue(R"({"intValue":"12abc"})")),
              HasSubstr(R"(expected a 64-bit integer, got "12abc")"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("startTimeUnixNano":-1)")),
              HasSubstr("startTimeUnixNano: value -1 is negative"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("endTimeUnixNano":"-1")")),
              HasSubstr("endTimeUnixNano: expected an unsigned integer"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("startTimeUnixNano":"18446744073709551616")")),
              HasSubstr("expected an unsigned integer"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("droppedAttributesCount":4294967296)")),
              HasSubstr("droppedAttributesCount: value 4294967296 is out of range"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("flags":"4294967296")")), HasSubstr("flags: value"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("startTimeUnixNano":true)")),
              HasSubstr("startTimeUnixNano: expected integer, got boolean"));
  // Beyond what a JSON number can hold as an integer: simdjson refuses the document.
  EXPECT_THAT(ErrorOf(OneSpan(R"("startTimeUnixNano":1e400)")), HasSubstr("invalid OTLP/JSON"));
}

TEST(JsonDecoderTest, ThirtyTwoBitIntegersAcceptStringsAndNumbers) {
  DecodedRequest d = DecodeOk(OneSpan(
      R"("flags":"4294967295","droppedAttributesCount":"7","droppedEventsCount":8,
         "droppedLinksCount":9.0)"));
  const Span& s = d.batch.spans[0];
  EXPECT_EQ(s.flags, 4294967295u);
  EXPECT_EQ(s.dropped_attributes_count, 7u);
  EXPECT_EQ(s.dropped_events_count, 8u);
  EXPECT_EQ(s.dropped_links_count, 9u);
}

TEST(JsonDecoderTest, EnumsAcceptNumbersAndNames) {
  struct Case {
    std::string kind;
    std::string code;
    int32_t want_kind;
    int32_t want_code;
  };
  for (const Case& c : std::vector<Case>{
           {"1", "0", 1, 0},
           {R"("SPAN_KIND_SERVER")", R"("STATUS_CODE_ERROR")", 2, 2},
           {R"("SPAN_KIND_CONSUMER")", R"("STATUS_CODE_OK")", 5, 1},
           {R"("SPAN_KIND_UNSPECIFIED")", R"("STATUS_CODE_UNSET")", 0, 0},
           {R"("3")", R"("1")", 3, 1},
           // Unknown numbers survive, as in protobuf.
           {"42", "-7", 42, -7},
       }) {
    DecodedRequest d =
        DecodeOk(OneSpan(absl::StrCat(R"("kind":)", c.kind, R"(,"status":{"code":)", c.code, "}")));
    EXPECT_EQ(d.batch.spans[0].kind, c.want_kind) << c.kind;
    EXPECT_EQ(d.batch.spans[0].status_code, c.want_code) << c.code;
  }
  EXPECT_THAT(ErrorOf(OneSpan(R"("kind":"SPAN_KIND_BOGUS")")),
              HasSubstr(R"(spans[0].kind: unknown enum value "SPAN_KIND_BOGUS")"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("kind":"span_kind_server")")), HasSubstr("unknown enum value"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("status":{"code":"STATUS_CODE_FINE"})")),
              HasSubstr("spans[0].status.code: unknown enum value"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("kind":2147483648)")), HasSubstr("kind: value 2147483648"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("kind":true)")),
              HasSubstr("kind: expected enum number or name, got boolean"));
}

TEST(JsonDecoderTest, ScalarValueTypesDecode) {
  DecodedRequest d = DecodeOk(OneValue(R"({"stringValue":"héllo \"x\"\n"})"));
  AnyValue v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kString);
  EXPECT_EQ(v.str, "héllo \"x\"\n");

  d = DecodeOk(OneValue(R"({"stringValue":"\u00e9\ud83d\ude00"})"));
  v = ValueOf(d);
  EXPECT_EQ(v.str, "\xc3\xa9\xf0\x9f\x98\x80");

  d = DecodeOk(OneValue(R"({"stringValue":""})"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kString);
  EXPECT_EQ(v.str, "");

  d = DecodeOk(OneValue(R"({"boolValue":false})"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kBool);
  EXPECT_FALSE(v.bool_value);

  d = DecodeOk(OneValue(R"({"intValue":"-42"})"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kInt);
  EXPECT_EQ(v.int_value, -42);

  d = DecodeOk(OneValue(R"({"bytesValue":"AAECA/8="})"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kBytes);
  EXPECT_EQ(v.str, std::string("\x00\x01\x02\x03\xff", 5));

  d = DecodeOk(OneValue(R"({"bytesValue":"-_8"})"));
  v = ValueOf(d);  // URL-safe, unpadded
  EXPECT_EQ(v.str, "\xfb\xff");

  d = DecodeOk(OneValue(R"({"bytesValue":""})"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kBytes);
  EXPECT_EQ(v.str, "");

  d = DecodeOk(OneValue("{}"));
  v = ValueOf(d);
  EXPECT_EQ(v.type, ValueType::kNone);
}

TEST(JsonDecoderTest, DoubleValuesAcceptNumbersAndSpecialStrings) {
  struct Case {
    std::string json;
    double want;
  };
  for (const Case& c : std::vector<Case>{
           {"1.5", 1.5},
           {"-0.25", -0.25},
           {"3", 3.0},
           {"1e308", 1e308},
           {"18446744073709551615", 18446744073709551615.0},
           {R"("2.5")", 2.5},
           {R"("Infinity")", std::numeric_limits<double>::infinity()},
           {R"("-Infinity")", -std::numeric_limits<double>::infinity()},
       }) {
    AnyValue v = ValueOf(DecodeOk(OneValue(absl::StrCat(R"({"doubleValue":)", c.json, "}"))));
    EXPECT_EQ(v.type, ValueType::kDouble) << c.json;
    EXPECT_EQ(v.double_value, c.want) << c.json;
  }
  AnyValue v = ValueOf(DecodeOk(OneValue(R"({"doubleValue":"NaN"})")));
  EXPECT_EQ(v.type, ValueType::kDouble);
  EXPECT_TRUE(std::isnan(v.double_value));
  EXPECT_THAT(ErrorOf(OneValue(R"({"doubleValue":"fast"})")),
              HasSubstr(R"(doubleValue: expected a number, got "fast")"));
  EXPECT_THAT(ErrorOf(OneValue(R"({"doubleValue":[1]})")),
              HasSubstr("doubleValue: expected number, got array"));
}

TEST(JsonDecoderTest, ArrayAndKvlistValuesNestWithContiguousChildren) {
  DecodedRequest d = DecodeOk(OneSpan(R"("attributes":[
    {"key":"a","value":{"arrayValue":{"values":[
      {"stringValue":"x"},
      {"arrayValue":{"values":[{"intValue":1},{"intValue":2}]}},
      {"kvlistValue":{"values":[{"key":"inner","value":{"boolValue":true}}]}},
      {"intValue":"3"}]}}},
    {"key":"m","value":{"kvlistValue":{"values":[
      {"key":"p","value":{"kvlistValue":{"values":[
        {"key":"q","value":{"arrayValue":{"values":[{"doubleValue":1.5}]}}}]}}},
      {"key":"e","value":{"arrayValue":{}}},
      {"key":"f","value":{"kvlistValue":{"values":[]}}}]}}}])"));
  const SpanBatch& b = d.batch;
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(DumpBatch(b).substr(DumpBatch(b).find("attributes ")),
            "attributes {\"a\": [\"x\", [1, 2], {\"inner\": true}, 3], "
            "\"m\": {\"p\": {\"q\": [1.5d]}, \"e\": [], \"f\": {}}}\n"
            "  scope name=\"\" version=\"\" schema=\"\" dropped_attributes=0 {}\n"
            "  resource schema=\"\" dropped_attributes=0 {}\n");
  // Direct check of the layout: the outer array's four elements are adjacent.
  const AnyValue& a = b.attributes[b.spans[0].attributes.begin].value;
  ASSERT_EQ(a.type, ValueType::kArray);
  ASSERT_EQ(a.children.size(), 4u);
  EXPECT_EQ(b.array_values[a.children.begin].str, "x");
  EXPECT_EQ(b.array_values[a.children.begin + 1].type, ValueType::kArray);
  EXPECT_EQ(b.array_values[a.children.begin + 2].type, ValueType::kKvList);
  EXPECT_EQ(b.array_values[a.children.begin + 3].int_value, 3);
}

TEST(JsonDecoderTest, NullArrayElementIsAnEmptyValue) {
  AnyValue v =
      ValueOf(DecodeOk(OneValue(R"({"arrayValue":{"values":[null,{"intValue":1},null]}})")));
  ASSERT_EQ(v.type, ValueType::kArray);
  EXPECT_EQ(v.children.size(), 3u);
}

// A value nested `depth` levels deep: depth 1 is the attribute's own value.
std::string NestedValue(int depth, bool kvlist) {
  std::string json = R"({"intValue":"7"})";
  for (int i = 1; i < depth; ++i) {
    json = kvlist ? absl::StrCat(R"({"kvlistValue":{"values":[{"key":"k","value":)", json, "}]}}")
                  : absl::StrCat(R"({"arrayValue":{"values":[)", json, "]}}");
  }
  return json;
}

TEST(JsonDecoderTest, ValuesNestedUpToTheLimitDecode) {
  for (bool kvlist : {false, true}) {
    DecodedRequest d = DecodeOk(OneValue(NestedValue(64, kvlist)));
    AnyValue v = ValueOf(d);
    int depth = 1;
    while (v.type == ValueType::kArray || v.type == ValueType::kKvList) {
      ASSERT_EQ(v.children.size(), 1u);
      v = v.type == ValueType::kArray ? d.batch.array_values[v.children.begin]
                                      : d.batch.kvlist_values[v.children.begin].value;
      ++depth;
    }
    EXPECT_EQ(depth, 64);
    EXPECT_EQ(v.int_value, 7);
  }
}

TEST(JsonDecoderTest, ValuesNestedBeyondTheLimitAreInvalidArgument) {
  for (bool kvlist : {false, true}) {
    EXPECT_THAT(ErrorOf(OneValue(NestedValue(65, kvlist))),
                HasSubstr("nested deeper than 64 levels"));
  }
}

TEST(JsonDecoderTest, DeeplyNestedJsonIsInvalidArgumentWithoutCrashing) {
  // Deep nesting under an unknown key is refused by the parser, not walked.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ErrorOf(absl::StrCat(R"({"junk":)", deep, "}")), HasSubstr("invalid OTLP/JSON"));
}

TEST(JsonDecoderTest, UnknownFieldsAreIgnored) {
  const std::string json = R"({"extra":{"a":[1,2,{"b":null}]},"resourceSpans":[{
    "unknownTop":1,
    "resource":{"x":"y","attributes":[{"key":"k","value":{"stringValue":"v","zz":3},"w":[]}]},
    "scopeSpans":[{"scope":{"name":"n","nope":{}},"other":[],
      "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
                "futureField":{"deep":[[]]},"status":{"deprecatedCode":1,"code":1},
                "events":[{"name":"e","what":true}],
                "links":[{"traceId":"5b8efff798038103d269b633813fc60c",
                          "spanId":"eee19b7ec3c1b174","huh":"?"}]}]}]}]})";
  DecodedRequest d = DecodeOk(json);
  ASSERT_EQ(d.batch.spans.size(), 1u);
  EXPECT_EQ(d.batch.scopes[0].name, "n");
  EXPECT_EQ(d.batch.spans[0].status_code, 1);
  EXPECT_EQ(d.batch.events.size(), 1u);
  EXPECT_EQ(d.batch.links.size(), 1u);
  EXPECT_EQ(d.batch.attributes[d.batch.resources[0].attributes.begin].value.str, "v");
}

TEST(JsonDecoderTest, NullValuesAreTreatedAsAbsent) {
  DecodedRequest d = DecodeOk(R"({"resourceSpans":[null,{"resource":null,"schemaUrl":null,
    "scopeSpans":[null,{"scope":null,"spans":[null,{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "parentSpanId":null,"name":null,"kind":null,"startTimeUnixNano":null,"attributes":null,
      "events":[null,{"name":null,"attributes":[null,{"key":null,"value":null}]}],
      "links":null,"status":null,"flags":null,"traceState":null}]}]}]})");
  ASSERT_EQ(d.batch.spans.size(), 1u);
  const Span& s = d.batch.spans[0];
  EXPECT_FALSE(s.has_parent);
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.kind, 0);
  EXPECT_EQ(s.start_time_unix_nano, 0u);
  EXPECT_TRUE(s.attributes.empty());
  ASSERT_EQ(s.events.size(), 1u);
  const Event& e = d.batch.events[s.events.begin];
  ASSERT_EQ(e.attributes.size(), 1u);
  EXPECT_EQ(d.batch.attributes[e.attributes.begin].key, "");
  EXPECT_EQ(d.batch.attributes[e.attributes.begin].value.type, ValueType::kNone);
  EXPECT_TRUE(s.links.empty());
}

TEST(JsonDecoderTest, WrongTypesAreInvalidArgumentNamingTheFieldPath) {
  struct Case {
    std::string json;
    std::string want;
  };
  const std::string span_path = "resourceSpans[0].scopeSpans[0].spans[0].";
  for (const Case& c : std::vector<Case>{
           {R"({"resourceSpans":{}})", "resourceSpans: expected array, got object"},
           {R"({"resourceSpans":["x"]})", "resourceSpans[0]: expected object, got string"},
           {R"({"resourceSpans":[{"resource":[]}]})",
            "resourceSpans[0].resource: expected object, got array"},
           {R"({"resourceSpans":[{"resource":{"attributes":{}}}]})",
            "resourceSpans[0].resource.attributes: expected array, got object"},
           {R"({"resourceSpans":[{"resource":{"droppedAttributesCount":"x"}}]})",
            "resourceSpans[0].resource.droppedAttributesCount: expected an unsigned integer"},
           {R"({"resourceSpans":[{"schemaUrl":1}]})",
            "resourceSpans[0].schemaUrl: expected string, got number"},
           {R"({"resourceSpans":[{"scopeSpans":[{},7]}]})",
            "resourceSpans[0].scopeSpans[1]: expected object, got number"},
           {R"({"resourceSpans":[{"scopeSpans":[{"spans":"x"}]}]})",
            "resourceSpans[0].scopeSpans[0].spans: expected array, got string"},
           {R"({"resourceSpans":[{"scopeSpans":[{"scope":{"name":5}}]}]})",
            "resourceSpans[0].scopeSpans[0].scope.name: expected string, got number"},
           {R"({"resourceSpans":[{"scopeSpans":[{"scope":{"version":false}}]}]})",
            "scope.version: expected string, got boolean"},
           {OneSpan(R"("name":5)"), span_path + "name: expected string, got number"},
           {Spans(R"({"traceId":5})"), span_path + "traceId: expected string, got number"},
           {Spans(R"({"spanId":[]})"), span_path + "spanId: expected string, got array"},
           {OneSpan(R"("parentSpanId":{})"), span_path + "parentSpanId: expected string"},
           {OneSpan(R"("traceState":1)"), span_path + "traceState: expected string"},
           {OneSpan(R"("status":[])"), span_path + "status: expected object, got array"},
           {OneSpan(R"("status":{"message":1})"), span_path + "status.message: expected string"},
           {OneSpan(R"("events":[{},"e"])"), span_path + "events[1]: expected object, got string"},
           {OneSpan(R"("events":[{"name":1}])"), span_path + "events[0].name: expected string"},
           {OneSpan(R"("events":[{"timeUnixNano":[]}])"),
            span_path + "events[0].timeUnixNano: expected integer, got array"},
           {OneSpan(R"("links":{})"), span_path + "links: expected array, got object"},
           {OneSpan(R"("links":[{"traceState":2}])"), span_path + "links[0].traceState"},
           {OneSpan(R"("attributes":[{"key":1}])"),
            span_path + "attributes[0].key: expected string, got number"},
           {OneSpan(R"("attributes":[{"key":"k","value":"v"}])"),
            span_path + "attributes[0].value: expected object, got string"},
           {OneValue(R"({"stringValue":1})"),
            span_path + "attributes[0].value.stringValue: expected string, got number"},
           {OneValue(R"({"boolValue":"true"})"),
            span_path + "attributes[0].value.boolValue: expected boolean, got string"},
           {OneValue(R"({"bytesValue":1})"), "value.bytesValue: expected string, got number"},
           {OneValue(R"({"bytesValue":"@@@"})"), R"(value.bytesValue: invalid base64 "@@@")"},
           {OneValue(R"({"arrayValue":[]})"), "value.arrayValue: expected object, got array"},
           {OneValue(R"({"arrayValue":{"values":{}}})"),
            "value.arrayValue.values: expected array, got object"},
           {OneValue(R"({"arrayValue":{"values":[{},1]}})"),
            "value.arrayValue.values[1]: expected object, got number"},
           {OneValue(R"({"arrayValue":{"values":[{"intValue":"x"}]}})"),
            "value.arrayValue.values[0].intValue: expected a 64-bit integer"},
           {OneValue(R"({"kvlistValue":{"values":[{"key":"a","value":{"boolValue":1}}]}})"),
            "value.kvlistValue.values[0].value.boolValue: expected boolean, got number"},
           {OneValue(R"({"kvlistValue":{"values":[3]}})"),
            "value.kvlistValue.values[0]: expected object, got number"},
       }) {
    EXPECT_THAT(ErrorOf(c.json), HasSubstr(c.want)) << c.json;
  }
}

TEST(JsonDecoderTest, DuplicateFieldsAreInvalidArgument) {
  EXPECT_THAT(ErrorOf(OneSpan(R"("name":"a","name":"b")")), HasSubstr("name: duplicate field"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("startTimeUnixNano":1,"start_time_unix_nano":2)")),
              HasSubstr("spans[0].startTimeUnixNano: duplicate field"));
  EXPECT_THAT(ErrorOf(OneSpan(R"("attributes":[],"attributes":[])")),
              HasSubstr("attributes: duplicate field"));
  EXPECT_THAT(ErrorOf(R"({"resourceSpans":[],"resource_spans":[]})"),
              HasSubstr("resourceSpans: duplicate field"));
  EXPECT_THAT(ErrorOf(OneValue(R"({"arrayValue":{"values":[],"values":[]}})")),
              HasSubstr("value.arrayValue.values: duplicate field"));
}

TEST(JsonDecoderTest, AnyValueWithTwoValuesIsInvalidArgument) {
  EXPECT_THAT(ErrorOf(OneValue(R"({"stringValue":"a","intValue":1})")),
              HasSubstr("value.intValue: a value is already set"));
  // A null alternative is absent, not a second value.
  EXPECT_EQ(ValueOf(DecodeOk(OneValue(R"({"stringValue":"a","intValue":null})"))).str, "a");
}

TEST(JsonDecoderTest, InvalidUtf8IsInvalidArgument) {
  EXPECT_THAT(ErrorOf(OneSpan("\"name\":\"\xff\xfe\"")), HasSubstr("invalid OTLP/JSON"));
}

struct RejectCase {
  std::string span;  // JSON object of the span
  std::string reason;
};

TEST(JsonDecoderTest, SpansWithInvalidIdsAreRejectedAndCounted) {
  const std::string t = kTraceHex;
  const std::string s = kSpanHex;
  for (const RejectCase& c : std::vector<RejectCase>{
           {R"({"traceId":"5b8efff798038103d269b633813fc6","spanId":")" + s + "\"}",
            "trace_id must be 16 bytes, got 15"},
           {R"({"spanId":")" + s + "\"}", "trace_id must be 16 bytes, got 0"},
           {R"({"traceId":"00000000000000000000000000000000","spanId":")" + s + "\"}",
            "trace_id must not be all zero"},
           {R"({"traceId":")" + t + R"(00","spanId":")" + s + "\"}",
            "trace_id must be 16 bytes, got 17"},
           {R"({"traceId":"5b8efff798038103d269b633813fc60","spanId":")" + s + "\"}",
            "trace_id is not valid hex"},
           {R"({"traceId":"5b8efff798038103d269b633813fc6zz","spanId":")" + s + "\"}",
            "trace_id is not valid hex"},
           // Protobuf's canonical JSON uses base64; OTLP/JSON does not.
           {R"({"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":")" + s + "\"}",
            "trace_id is not valid hex"},
           {R"({"traceId":")" + t + R"(","spanId":"eee19b7ec3c1b1"})",
            "span_id must be 8 bytes, got 7"},
           {R"({"traceId":")" + t + "\"}", "span_id must be 8 bytes, got 0"},
           {R"({"traceId":")" + t + R"(","spanId":"0000000000000000"})",
            "span_id must not be all zero"},
           {R"({"traceId":")" + t + R"(","spanId":"eee19b7ec3c1b17g"})",
            "span_id is not valid hex"},
           {R"({"traceId":")" + t + R"(","spanId":")" + s + R"(","parentSpanId":"abcd"})",
            "parent_span_id must be empty or 8 bytes, got 2"},
           {R"({"traceId":")" + t + R"(","spanId":")" + s + R"(","parentSpanId":"xyz"})",
            "parent_span_id is not valid hex"},
           {R"({"traceId":")" + t + R"(","spanId":")" + s + R"(","links":[{"spanId":")" + s +
                "\"}]}",
            "link 0: trace_id must be 16 bytes, got 0"},
           {R"({"traceId":")" + t + R"(","spanId":")" + s + R"(","links":[{"traceId":")" + t +
                R"(","spanId":")" + s + R"("},{"traceId":")" + t + R"(","spanId":"01"}]})",
            "link 1: span_id must be 8 bytes, got 1"},
       }) {
    const std::string json = Spans(absl::StrCat(
        c.span, R"(,{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",
                      "name":"good","attributes":[{"key":"a","value":{"stringValue":"b"}}]})"));
    DecodedRequest d = DecodeOk(json);
    EXPECT_EQ(d.rejected_spans, 1u) << c.span;
    EXPECT_EQ(d.rejection_message, "span 0: " + c.reason) << c.span;
    ASSERT_EQ(d.batch.spans.size(), 1u) << c.span;
    EXPECT_EQ(d.batch.spans[0].name, "good");
  }
}

TEST(JsonDecoderTest, RejectedSpansLeaveNothingBehind) {
  const std::string bad_span = R"({"traceId":"00","spanId":"eee19b7ec3c1b174","name":"bad",
      "attributes":[{"key":"x","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[
        {"key":"y","value":{"intValue":1}}]}}]}}}],
      "events":[{"name":"ev","attributes":[{"key":"e","value":{"stringValue":"v"}}]}],
      "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]})";
  // The first resource has only a bad span; the second a good span after a bad one.
  const std::string json = absl::StrCat(
      R"({"resourceSpans":[
        {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gone"}}]},
         "scopeSpans":[{"scope":{"name":"gone"},"spans":[)",
      bad_span, R"(]}]},
        {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"kept"}}]},
         "scopeSpans":[{"scope":{"name":"empty"},"spans":[]},
                       {"scope":{"name":"kept"},"spans":[)",
      bad_span, ",", bad_span, R"(,{"traceId":"5b8efff798038103d269b633813fc60c",
                   "spanId":"eee19b7ec3c1b174","name":"good"}]}]}]})");
  DecodedRequest d = DecodeOk(json);
  EXPECT_EQ(d.rejected_spans, 3u);
  EXPECT_EQ(d.rejection_message, "span 0: trace_id must be 16 bytes, got 1");
  const SpanBatch& b = d.batch;
  ASSERT_EQ(b.spans.size(), 1u);
  EXPECT_EQ(b.spans[0].name, "good");
  ASSERT_EQ(b.scopes.size(), 1u);
  EXPECT_EQ(b.scopes[0].name, "kept");
  EXPECT_EQ(b.spans[0].scope_index, 0u);
  ASSERT_EQ(b.resources.size(), 1u);
  EXPECT_EQ(b.scopes[0].resource_index, 0u);
  EXPECT_EQ(b.attributes.size(), 1u);  // only the kept resource's service.name
  EXPECT_EQ(b.attributes[0].value.str, "kept");
  EXPECT_TRUE(b.events.empty());
  EXPECT_TRUE(b.links.empty());
  EXPECT_TRUE(b.array_values.empty());
  EXPECT_TRUE(b.kvlist_values.empty());
}

TEST(JsonDecoderTest, SpansAreNumberedAcrossTheRequestInRejectionMessages) {
  const std::string good = absl::StrCat("{", kIds, "}");
  const std::string json =
      absl::StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[)", good, ",", good,
                   R"(]}]},{"scopeSpans":[{"spans":[)", good, R"(]},{"spans":[)", good,
                   R"(,{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"01"}]}]}]})");
  DecodedRequest d = DecodeOk(json);
  EXPECT_EQ(d.rejected_spans, 1u);
  EXPECT_EQ(d.rejection_message, "span 4: span_id must be 8 bytes, got 1");
  EXPECT_EQ(d.batch.spans.size(), 4u);
}

TEST(JsonDecoderTest, ResourcesAndScopesKeepTheirIndexes) {
  const std::string good = absl::StrCat("{", kIds, "}");
  const std::string json = absl::StrCat(
      R"({"resourceSpans":[
        {"resource":{"attributes":[{"key":"r","value":{"intValue":0}}]},
         "scopeSpans":[{"scope":{"name":"s0"},"spans":[)",
      good, R"(]},{"scope":{"name":"s1"},"spans":[)", good, ",", good, R"(]}]},
        {"resource":{"attributes":[{"key":"r","value":{"intValue":1}}]},
         "scopeSpans":[{"scope":{"name":"s2"},"spans":[)",
      good, R"(]}]}]})");
  DecodedRequest d = DecodeOk(json);
  const SpanBatch& b = d.batch;
  ASSERT_EQ(b.spans.size(), 4u);
  ASSERT_EQ(b.scopes.size(), 3u);
  ASSERT_EQ(b.resources.size(), 2u);
  EXPECT_EQ(b.scopes[b.spans[0].scope_index].name, "s0");
  EXPECT_EQ(b.scopes[b.spans[1].scope_index].name, "s1");
  EXPECT_EQ(b.scopes[b.spans[2].scope_index].name, "s1");
  EXPECT_EQ(b.scopes[b.spans[3].scope_index].name, "s2");
  EXPECT_EQ(b.scopes[0].resource_index, 0u);
  EXPECT_EQ(b.scopes[1].resource_index, 0u);
  EXPECT_EQ(b.scopes[2].resource_index, 1u);
  EXPECT_EQ(b.attributes[b.resources[1].attributes.begin].value.int_value, 1);
}

TEST(JsonDecoderTest, HugeStringsSurvive) {
  const std::string big(5 << 20, 'x');
  const std::string name(1 << 20, 'n');
  DecodedRequest d = DecodeOk(OneSpan(
      absl::StrCat(R"("name":")", name, R"(","attributes":[{"key":"big","value":{"stringValue":")",
                   big, "\"}}]")));
  EXPECT_EQ(d.batch.spans[0].name, name);
  EXPECT_EQ(ValueOf(d).str, big);
  EXPECT_GE(d.batch.MemoryUsage(), big.size() + name.size());
}

TEST(JsonDecoderTest, BatchOutlivesTheInputAndLaterParses) {
  std::string json = OneValue(R"({"stringValue":"survivor"})");
  absl::StatusOr<DecodedRequest> d = DecodeJsonRequest(json);
  ASSERT_TRUE(d.ok()) << d.status();
  json.assign(json.size(), ' ');
  json.clear();
  json.shrink_to_fit();
  // Reuses (and overwrites) this thread's parser buffers.
  ASSERT_TRUE(DecodeJsonRequest(OneValue(R"({"stringValue":"intruder"})")).ok());
  EXPECT_EQ(ValueOf(*d).str, "survivor");
  EXPECT_EQ(d->batch.attributes[0].key, "k");
}

TEST(JsonDecoderTest, RepeatedKeysShareOneCopy) {
  const std::string span = absl::StrCat(
      "{", kIds, R"(,"attributes":[{"key":"http.method","value":{"stringValue":"GET"}}]})");
  DecodedRequest d = DecodeOk(Spans(absl::StrCat(span, ",", span)));
  ASSERT_EQ(d.batch.attributes.size(), 2u);
  EXPECT_EQ(d.batch.attributes[0].key.data(), d.batch.attributes[1].key.data());
}

TEST(JsonDecoderTest, MemoryUsageCountsArenaAndVectors) {
  DecodedRequest small = DecodeOk(OneSpan(""));
  DecodedRequest full = DecodeOk(kFullRequest);
  EXPECT_GT(small.batch.MemoryUsage(), sizeof(Span));
  EXPECT_GT(full.batch.MemoryUsage(), small.batch.MemoryUsage());
  EXPECT_GE(full.batch.MemoryUsage(), full.batch.arena().MemoryUsage() +
                                          full.batch.spans.capacity() * sizeof(Span) +
                                          full.batch.attributes.capacity() * sizeof(KeyValue));
  SpanBatch empty;
  EXPECT_EQ(empty.MemoryUsage(), sizeof(SpanBatch));
}

TEST(JsonDecoderTest, ManySpansDecode) {
  std::string spans;
  for (int i = 0; i < 5000; ++i) {
    if (i) spans += ",";
    absl::StrAppend(&spans, R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":")",
                    absl::StrFormat("%016x", i + 1), R"(","name":"op)", i,
                    R"(","attributes":[{"key":"i","value":{"intValue":)", i, "}}]}");
  }
  DecodedRequest d = DecodeOk(Spans(spans));
  ASSERT_EQ(d.batch.spans.size(), 5000u);
  for (int i = 0; i < 5000; i += 997) {
    EXPECT_EQ(d.batch.spans[i].name, absl::StrCat("op", i));
    EXPECT_EQ(d.batch.spans[i].span_id[7], static_cast<uint8_t>((i + 1) & 0xff));
    EXPECT_EQ(d.batch.attributes[d.batch.spans[i].attributes.begin].value.int_value, i);
  }
}

}  // namespace
}  // namespace strand::otlp
