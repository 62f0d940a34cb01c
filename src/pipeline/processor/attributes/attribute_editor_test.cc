#include "pipeline/processor/attributes/attribute_editor.h"

#include <gtest/gtest.h>

#include "otlp/batch_testutil.h"
#include "pipeline/testutil/capture_consumer_testutil.h"

namespace strand::pipeline {
namespace {

namespace pb = opentelemetry::proto;
using otlp::testutil::BatchInvariantViolation;

otlp::SpanBatch TwoSpans() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 2; ++i) {
    auto* span = scope->add_spans();
    span->set_trace_id(std::string(16, 'a'));
    span->set_span_id(std::string(8, static_cast<char>('b' + i)));
    span->set_name(i == 0 ? "first" : "second");
    auto* kv = span->add_attributes();
    kv->set_key("k");
    kv->mutable_value()->set_string_value(i == 0 ? "one" : "two");
  }
  return testutil::Decode(req);
}

otlp::AnyValue Str(std::string_view s) {
  otlp::AnyValue v;
  v.type = otlp::ValueType::kString;
  v.str = s;
  return v;
}

TEST(AttributeEditorTest, UnchangedListKeepsItsRangeAndTheOriginalRequest) {
  otlp::SpanBatch batch = TwoSpans();
  ASSERT_FALSE(batch.original_request().empty());
  const size_t size = batch.attributes.size();
  AttributeEditor editor(batch);
  editor.Load(batch.spans[0].attributes);
  otlp::Range r = editor.Store();
  EXPECT_EQ(r.begin, batch.spans[0].attributes.begin);
  EXPECT_EQ(r.end, batch.spans[0].attributes.end);
  EXPECT_EQ(batch.attributes.size(), size);
  EXPECT_FALSE(batch.original_request().empty());
}

TEST(AttributeEditorTest, GrowingAListAppendsARunAndLeavesTheNextListAlone) {
  otlp::SpanBatch batch = TwoSpans();
  AttributeEditor editor(batch);
  editor.Load(batch.spans[0].attributes);
  editor.Put(editor.Intern("added"), Str(editor.Intern("value")));
  batch.spans[0].attributes = editor.Store();
  EXPECT_EQ(BatchInvariantViolation(batch), "");
  EXPECT_TRUE(batch.original_request().empty());
  const std::string dump = otlp::testutil::DumpBatch(batch);
  EXPECT_NE(dump.find(R"({"k": "one", "added": "value"})"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"({"k": "two"})"), std::string::npos) << dump;
}

TEST(AttributeEditorTest, RemoveAndSetValueEditTheWorkingCopy) {
  otlp::SpanBatch batch = TwoSpans();
  AttributeEditor editor(batch);
  editor.Load(batch.spans[1].attributes);
  EXPECT_EQ(editor.Remove("missing"), 0u);
  editor.SetValue(editor.IndexOf("k"), Str(editor.Intern("changed")));
  editor.Put(editor.Intern("x"), Str(editor.Intern("y")));
  EXPECT_EQ(editor.Remove("k"), 1u);
  batch.spans[1].attributes = editor.Store();
  const std::string dump = otlp::testutil::DumpBatch(batch);
  EXPECT_NE(dump.find(R"({"x": "y"})"), std::string::npos) << dump;
  EXPECT_NE(dump.find(R"({"k": "one"})"), std::string::npos) << dump;
}

TEST(AttributeEditorTest, InternCopiesEachStringOnceIntoTheArena) {
  otlp::SpanBatch batch = TwoSpans();
  AttributeEditor editor(batch);
  std::string source = "config string";
  std::string_view a = editor.Intern(source);
  std::string_view b = editor.Intern(source);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_NE(a.data(), source.data());
  source.assign("overwritten!!");
  EXPECT_EQ(a, "config string");
}

}  // namespace
}  // namespace strand::pipeline
