#include "loadgen/request_pool.h"

#include <cstring>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "otlp/batch_testutil.h"
#include "otlp/json_decoder.h"
#include "otlp/proto_decoder.h"

namespace strand::loadgen {
namespace {

constexpr uint64_t kNow = 1'750'000'000'000'000'000ULL;

RequestPoolOptions Options(BodyFormat format) {
  RequestPoolOptions o;
  o.generator.traces_per_request = 20;
  o.generator.error_rate = 0.2;
  o.size = 4;
  o.format = format;
  o.id_salt = 99;
  return o;
}

std::string Render(const RequestPool& pool, uint64_t sequence, uint64_t now = kNow) {
  std::string body(pool.EntryFor(sequence).body.size(), '\0');
  pool.Render(sequence, now, body.data());
  return body;
}

std::string Key(const otlp::TraceId& trace, const otlp::SpanId& span) {
  return std::string(otlp::IdBytes(trace)) + std::string(otlp::IdBytes(span));
}

std::string Id(const uint8_t* p, size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

TEST(RequestPoolTest, FindsEveryIdAndTimestamp) {
  auto pool = RequestPool::Build(Options(BodyFormat::kProtobuf));
  ASSERT_TRUE(pool.ok()) << pool.status();
  const RequestPool::Entry& e = (*pool)->entry(0);
  auto decoded = otlp::DecodeProtoRequest(std::string(e.body));
  ASSERT_TRUE(decoded.ok());
  const otlp::SpanBatch& b = decoded->batch;
  size_t parents = 0;
  for (const otlp::Span& s : b.spans) parents += s.has_parent;
  EXPECT_EQ(e.sites.trace_ids.size(), b.spans.size() + b.links.size());
  EXPECT_EQ(e.sites.span_ids.size(), b.spans.size() + parents + b.links.size());
  EXPECT_EQ(e.sites.times.size(), 2 * b.spans.size() + b.events.size());
  EXPECT_EQ(e.spans, 200u);
  EXPECT_EQ(e.traces.size(), 20u);
}

TEST(RequestPoolTest, EverySendHasFreshConsistentIds) {
  auto pool = RequestPool::Build(Options(BodyFormat::kProtobuf));
  ASSERT_TRUE(pool.ok()) << pool.status();
  std::set<std::string> trace_ids;
  for (uint64_t seq = 0; seq < 12; ++seq) {  // three times round the pool
    auto decoded = otlp::DecodeProtoRequest(Render(**pool, seq));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->rejected_spans, 0u);
    const otlp::SpanBatch& b = decoded->batch;
    std::set<std::string> in_request, span_keys;
    for (const otlp::Span& s : b.spans) {
      in_request.insert(std::string(otlp::IdBytes(s.trace_id)));
      span_keys.insert(Key(s.trace_id, s.span_id));
    }
    for (const otlp::Span& s : b.spans) {
      if (s.has_parent) {
        EXPECT_TRUE(span_keys.count(Key(s.trace_id, s.parent_span_id)))
            << "parent not in the trace";
      }
      for (uint32_t l = s.links.begin; l < s.links.end; ++l) {
        const otlp::Link& link = b.links[l];
        EXPECT_TRUE(span_keys.count(Key(link.trace_id, link.span_id)))
            << "link target not in the request";
      }
      EXPECT_GE(s.start_time_unix_nano, kNow - 1'000'000'000ULL);
      EXPECT_LT(s.start_time_unix_nano, kNow + 1'000'000'000ULL);
    }
    EXPECT_EQ(in_request.size(), 20u);
    for (const std::string& id : in_request) EXPECT_TRUE(trace_ids.insert(id).second);

    // Sent() names what went out.
    for (size_t t = 0; t < 20; ++t) {
      const SentTrace sent = (*pool)->Sent(seq, t);
      std::set<std::string> want, got;
      for (const auto& id : sent.span_ids) want.insert(Id(id.data(), 8));
      for (const otlp::Span& s : b.spans) {
        if (std::memcmp(s.trace_id.data(), sent.trace_id.data(), 16) == 0) {
          got.insert(std::string(otlp::IdBytes(s.span_id)));
        }
      }
      EXPECT_EQ(got, want);
    }
  }
  EXPECT_EQ(trace_ids.size(), 12u * 20u);
}

TEST(RequestPoolTest, JsonAndProtobufSendsCarryTheSameSpans) {
  auto proto_pool = RequestPool::Build(Options(BodyFormat::kProtobuf));
  auto json_pool = RequestPool::Build(Options(BodyFormat::kJson));
  ASSERT_TRUE(proto_pool.ok()) << proto_pool.status();
  ASSERT_TRUE(json_pool.ok()) << json_pool.status();
  for (uint64_t seq : {0ULL, 5ULL, 1234567ULL}) {
    auto from_proto = otlp::DecodeProtoRequest(Render(**proto_pool, seq));
    auto from_json = otlp::DecodeJsonRequest(Render(**json_pool, seq));
    ASSERT_TRUE(from_proto.ok()) << from_proto.status();
    ASSERT_TRUE(from_json.ok()) << from_json.status();
    EXPECT_EQ(from_json->rejected_spans, 0u);
    EXPECT_EQ(otlp::testutil::DumpBatch(from_json->batch),
              otlp::testutil::DumpBatch(from_proto->batch));
  }
}

TEST(RequestPoolTest, SaltsSeparateRuns) {
  auto a = RequestPool::Build(Options(BodyFormat::kProtobuf));
  RequestPoolOptions other = Options(BodyFormat::kProtobuf);
  other.id_salt = 100;
  auto b = RequestPool::Build(other);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->Sent(0, 0).trace_id, (*b)->Sent(0, 0).trace_id);
  EXPECT_EQ((*a)->entry(0).body, (*b)->entry(0).body);  // same data, different IDs on send
}

}  // namespace
}  // namespace strand::loadgen
