#include "pipeline/processor/attributes/attributes_processor.h"

#include <gtest/gtest.h>

#include <variant>

#include "otlp/proto_encoder.h"
#include "pipeline/processor/attributes/attribute_actions.h"
#include "pipeline/testutil/capture_consumer_testutil.h"

namespace strand::pipeline {
namespace {

namespace pb = opentelemetry::proto;
using testutil::ParseSettings;

void AddAttr(google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>* attrs,
             const std::string& key, const pb::common::v1::AnyValue& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  *kv->mutable_value() = value;
}
using Scalar = std::variant<std::string, int64_t, double, bool>;
pb::common::v1::AnyValue V(const Scalar& scalar) {
  pb::common::v1::AnyValue v;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) v.set_string_value(x);
        if constexpr (std::is_same_v<T, int64_t>) v.set_int_value(x);
        if constexpr (std::is_same_v<T, double>) v.set_double_value(x);
        if constexpr (std::is_same_v<T, bool>) v.set_bool_value(x);
      },
      scalar);
  return v;
}

// Two resources: "checkout" with span "GET /users/42" (attributes of every type) and
// "db" with span "query".
otlp::SpanBatch Fixture() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  AddAttr(rs->mutable_resource()->mutable_attributes(), "service.name", V(std::string("checkout")));
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x11'));
  span->set_span_id(std::string(8, '\x01'));
  span->set_name("GET /users/42");
  auto* a = span->mutable_attributes();
  AddAttr(a, "http.url", V(std::string("http://shop/users/42?q=1")));
  AddAttr(a, "user.id", V(int64_t{42}));
  AddAttr(a, "ratio", V(1.5));
  AddAttr(a, "ok", V(true));
  AddAttr(a, "secret", V(std::string("abc")));
  rs = req.add_resource_spans();
  AddAttr(rs->mutable_resource()->mutable_attributes(), "service.name", V(std::string("db")));
  span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x22'));
  span->set_span_id(std::string(8, '\x02'));
  span->set_name("query");
  AddAttr(span->mutable_attributes(), "db.system", V(std::string("postgres")));
  return testutil::Decode(req);
}

// The attributes of span `i` in the canonical test form.
std::string Attrs(const otlp::SpanBatch& b, size_t i) {
  std::string out;
  otlp::testutil::batch_testutil_internal::AppendKeyValues(out, b, b.attributes,
                                                           b.spans[i].attributes, 0);
  return out;
}

std::string RunOn(const std::string& yaml, size_t span, RequestContext ctx = {}) {
  auto factory = NewAttributesProcessorFactory();
  auto settings = ParseSettings(*factory, yaml);
  EXPECT_TRUE(settings.ok()) << settings.status();
  testutil::RunResult r = testutil::Run(*factory, yaml, Fixture(), std::move(ctx));
  if (r.out.size() != 1) return "<not passed on>";
  EXPECT_EQ(otlp::testutil::BatchInvariantViolation(r.out[0]), "");
  return Attrs(r.out[0], span);
}

TEST(AttributesProcessorTest, InsertAddsMissingKeysWithTheirYamlTypesAndKeepsExisting) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: s, value: text, action: insert}
  - {key: q, value: "42", action: insert}
  - {key: i, value: 7, action: insert}
  - {key: d, value: 2.5, action: insert}
  - {key: b, value: false, action: INSERT}
  - {key: db.system, value: 1, action: insert}
)yaml",
                  1),
            R"({"db.system": "postgres", "s": "text", "q": "42", "i": 7, "d": 2.5d, "b": false})");
}

TEST(AttributesProcessorTest, YamlScalarsKeepTheCoreSchemaTypes) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: hex, value: 0x10, action: insert}
  - {key: neg, value: -3, action: insert}
  - {key: exp, value: 1e3, action: insert}
  - {key: inf, value: -.inf, action: insert}
  - {key: word, value: nan, action: insert}
  - {key: quoted, value: 'true', action: insert}
  - {key: title, value: True, action: insert}
  - {key: db.system, action: delete}
)yaml",
                  1),
            R"({"hex": 16, "neg": -3, "exp": 1000d, "inf": -infd, "word": "nan", )"
            R"("quoted": "true", "title": true})");
}

TEST(AttributesProcessorTest, UpdateChangesOnlyKeysThatExist) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: user.id, value: anonymous, action: update}
  - {key: absent, value: 1, action: update}
)yaml",
                  0),
            R"({"http.url": "http://shop/users/42?q=1", "user.id": "anonymous", "ratio": 1.5d, )"
            R"("ok": true, "secret": "abc"})");
}

TEST(AttributesProcessorTest, UpsertReplacesOrAppends) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: db.system, value: mysql, action: upsert}
  - {key: env, value: prod, action: upsert}
)yaml",
                  1),
            R"({"db.system": "mysql", "env": "prod"})");
}

TEST(AttributesProcessorTest, FromAttributeCopiesTheValueWithItsType) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: uid, from_attribute: user.id, action: insert}
  - {key: flag, from_attribute: ok, action: upsert}
  - {key: none, from_attribute: missing, action: upsert}
  - {action: delete, pattern: "^(http|ratio|secret|user)"}
)yaml",
                  0),
            R"({"ok": true, "uid": 42, "flag": true})");
}

TEST(AttributesProcessorTest, FromContextJoinsRequestMetadataValues) {
  RequestContext ctx;
  ctx.metadata = {{"x-tenant", "a"}, {"other", "z"}, {"x-tenant", "b"}};
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: tenant, from_context: metadata.X-Tenant, action: insert}
  - {key: other, from_context: other, action: insert}
  - {key: gone, from_context: metadata.absent, action: insert}
)yaml",
                  1, std::move(ctx)),
            R"({"db.system": "postgres", "tenant": "a;b", "other": "z"})");
}

TEST(AttributesProcessorTest, DeleteRemovesTheKeyAndEveryKeyThePatternMatches) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: secret, action: delete}
  - {pattern: "^(ra|ok)", action: delete}
)yaml",
                  0),
            R"({"http.url": "http://shop/users/42?q=1", "user.id": 42})");
}

TEST(AttributesProcessorTest, HashIsSha256HexOfTheValueBytesForEveryType) {
  // Expected digests computed independently (Python hashlib) over: "abc"; int 42 and
  // double 1.5 as 8 little-endian bytes; true as the byte 0x01.
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: secret, action: hash}
  - {pattern: "^(user|ratio|ok)", action: hash}
  - {key: http.url, action: delete}
)yaml",
                  0),
            R"({"user.id": "ed049108bc18f2c64369e8d0ea42850bdd1a7d1dd340cfde716315579702a76c", )"
            R"("ratio": "e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905", )"
            R"("ok": "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a", )"
            R"("secret": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"})");
  EXPECT_EQ(Sha256Hex(std::string(1, '\0')),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(AttributesProcessorTest, ExtractUpsertsOneStringPerNamedGroup) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - key: http.url
    action: extract
    pattern: '^http://(?P<host>[^/]+)/users/(?P<uid>\d+)(?P<query>\?x)?'
  - {pattern: "^(ratio|ok|secret)$", action: delete}
)yaml",
                  0),
            R"({"http.url": "http://shop/users/42?q=1", "user.id": 42, "host": "shop", )"
            R"("uid": "42", "query": ""})");
}

TEST(AttributesProcessorTest, ExtractIgnoresNonStringAndUnmatchedValues) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: user.id, action: extract, pattern: '(?P<n>\d)'}
  - {key: db.system, action: extract, pattern: '^(?P<n>mysql)$'}
)yaml",
                  1),
            R"({"db.system": "postgres"})");
}

TEST(AttributesProcessorTest, ConvertChangesScalarTypes) {
  EXPECT_EQ(RunOn(R"yaml(
actions:
  - {key: user.id, action: convert, converted_type: string}
  - {key: ratio, action: convert, converted_type: int}
  - {key: ok, action: convert, converted_type: double}
  - {key: secret, action: convert, converted_type: int}
  - {key: http.url, action: delete}
)yaml",
                  0),
            R"({"user.id": "42", "ratio": 1, "ok": 1d, "secret": "abc"})");
}

TEST(AttributesProcessorTest, IncludeAndExcludeSelectSpans) {
  const std::string actions = "actions: [{key: seen, value: true, action: insert}]\n";
  auto seen = [&](const std::string& yaml, size_t span) {
    return RunOn(actions + yaml, span).find("\"seen\"") != std::string::npos;
  };
  const std::string by_service = "include: {match_type: strict, services: [db]}";
  EXPECT_FALSE(seen(by_service, 0));
  EXPECT_TRUE(seen(by_service, 1));
  const std::string by_name = "include: {match_type: regexp, span_names: ['^GET ']}";
  EXPECT_TRUE(seen(by_name, 0));
  EXPECT_FALSE(seen(by_name, 1));
  const std::string by_attr = R"(
include:
  match_type: strict
  attributes: [{key: user.id, value: 42}, {key: ok}]
)";
  EXPECT_TRUE(seen(by_attr, 0));
  EXPECT_FALSE(seen(by_attr, 1));
  // Strict matching compares types: the string "42" is not the int 42.
  EXPECT_FALSE(seen("include: {match_type: strict, attributes: [{key: user.id, value: '42'}]}", 0));
  // Regexp matching uses the value's text form.
  EXPECT_TRUE(seen("include: {match_type: regexp, attributes: [{key: user.id, value: '^4'}]}", 0));
  const std::string exclude = "exclude: {match_type: regexp, services: ['^check']}";
  EXPECT_FALSE(seen(exclude, 0));
  EXPECT_TRUE(seen(exclude, 1));
  EXPECT_FALSE(seen(by_service + "\nexclude: {match_type: strict, span_names: [query]}", 1));
}

TEST(AttributesProcessorTest, EditedBatchReencodesAndDecodesToTheSameContent) {
  auto factory = NewAttributesProcessorFactory();
  testutil::RunResult r = testutil::Run(*factory, R"yaml(
actions:
  - {key: added, value: 3, action: insert}
  - {key: secret, action: hash}
  - {key: http.url, action: extract, pattern: '//(?P<host>[a-z]+)/'}
  - {key: ok, action: delete}
)yaml",
                                        Fixture());
  ASSERT_EQ(r.out.size(), 1u);
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_TRUE(r.acks[0].ok());
  EXPECT_TRUE(r.out[0].original_request().empty());
  const std::string want = otlp::testutil::DumpBatch(r.out[0]);
  EXPECT_NE(want.find(R"("host": "shop")"), std::string::npos);
  absl::StatusOr<otlp::DecodedRequest> back =
      otlp::DecodeProtoRequest(otlp::EncodeExportRequest(r.out[0]));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(otlp::testutil::DumpBatch(back->batch), want);
}

TEST(AttributesProcessorTest, ConfigErrorsNameTheProblem) {
  testutil::ExpectParseErrors(
      *NewAttributesProcessorFactory(),
      {
          {"actions: [{key: a, value: 1, action: insert, colour: red}]",
           "colour (line 1): unknown"},
          {"actions: [{key: a, value: 1, action: replace}]", "unknown action \"replace\""},
          {"actions: [{value: 1, action: insert}]", "missing required field \"key\""},
          {"actions: [{key: a, action: insert}]", "one of \"value\""},
          {"actions: [{key: a, value: 1, from_attribute: b, action: upsert}]", "only one of"},
          {"actions: [{key: a, action: extract, pattern: '(\\d+)'}]", "must be named"},
          {"actions: [{key: a, action: extract}]", "\"pattern\""},
          {"actions: [{action: delete}]", "\"key\" and \"pattern\""},
          {"actions: [{key: a, action: hash, pattern: '('}]", "invalid regular expression"},
          {"actions: [{key: a, action: convert, converted_type: bool}]", "invalid value \"bool\""},
          {"actions: [{key: a, value: [1, 2], action: insert}]", "lists and maps"},
          {"actions: [{key: a, from_context: auth.subject, action: insert}]", "not supported"},
          {"actions: []", "missing required field"},
          {"actions: [{key: a, value: 1, action: insert}]\nmystery: 1",
           "mystery (line 2): unknown"},
          {"actions: [{key: a, action: delete}]\ninclude: {match_type: strict, span_kinds: "
           "[SERVER]}",
           "span_kinds (line 2): not supported"},
          {"actions: [{key: a, action: delete}]\ninclude: {match_type: fuzzy, services: [a]}",
           "invalid value \"fuzzy\""},
          {"actions: [{key: a, action: delete}]\nexclude: {match_type: strict}", "at least one of"},
      });
}

}  // namespace
}  // namespace strand::pipeline
