// SpanBatch: the one in-memory form of spans that every stage after a receiver speaks.
//
// A receiver decodes OTLP bytes once into a SpanBatch. Strings and byte values are views
// into storage the batch owns: the original request bytes (protobuf input, zero-copy) or
// the batch's arena (JSON input, values built by processors). Resources, scopes, spans,
// events, links and attributes live in flat vectors and refer to each other by index
// ranges, so building a batch allocates per vector growth, never per span.
//
// A batch is built by one thread and is immutable once shared (shared_ptr<const>);
// readers may then use it from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.h"

namespace strand::otlp {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

inline std::string_view IdBytes(const TraceId& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}
inline std::string_view IdBytes(const SpanId& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}

// A half-open index range [begin, end) into one of the batch's vectors.
struct Range {
  uint32_t begin = 0;
  uint32_t end = 0;
  uint32_t size() const { return end - begin; }
  bool empty() const { return begin == end; }
};

// OTLP AnyValue. The field numbers of the proto oneof, so kNone means "no value set".
enum class ValueType : uint8_t {
  kNone = 0,
  kString = 1,
  kBool = 2,
  kInt = 3,
  kDouble = 4,
  kArray = 5,
  kKvList = 6,
  kBytes = 7,
};

struct AnyValue {
  ValueType type = ValueType::kNone;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::string_view str;  // kString and kBytes
  Range children;        // kArray: into SpanBatch::array_values; kKvList: into kvlist_values
};

struct KeyValue {
  std::string_view key;
  AnyValue value;
};

struct Resource {
  Range attributes;  // into SpanBatch::attributes
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // ResourceSpans.schema_url
};

struct Scope {
  uint32_t resource_index = 0;
  std::string_view name;
  std::string_view version;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  std::string_view schema_url;  // ScopeSpans.schema_url
};

struct Event {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
};

struct Link {
  TraceId trace_id{};
  SpanId span_id{};
  std::string_view trace_state;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

// Span kind and status code keep the OTLP enum numbers.
enum class SpanKind : int32_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};
enum class StatusCode : int32_t { kUnset = 0, kOk = 1, kError = 2 };

struct Span {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};
  bool has_parent = false;  // parent_span_id was present (8 bytes) on the wire
  uint32_t scope_index = 0;
  std::string_view trace_state;
  std::string_view name;
  uint32_t flags = 0;
  int32_t kind = 0;  // SpanKind, kept as the wire number so unknown values survive
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  Range attributes;
  uint32_t dropped_attributes_count = 0;
  Range events;
  uint32_t dropped_events_count = 0;
  Range links;
  uint32_t dropped_links_count = 0;
  std::string_view status_message;
  int32_t status_code = 0;  // StatusCode, kept as the wire number
};

// Two spans are copies of one span (a retried request) when they share the span ID and
// the kind (the kind tells apart the client and server halves of a Zipkin-style shared
// span). Readers, cutting and compaction keep one copy per key.
using SpanCopyKey = std::pair<SpanId, int32_t>;
inline SpanCopyKey CopyKeyOf(const Span& span) { return {span.span_id, span.kind}; }

class SpanBatch {
 public:
  SpanBatch() = default;
  SpanBatch(const SpanBatch&) = delete;
  SpanBatch& operator=(const SpanBatch&) = delete;
  SpanBatch(SpanBatch&&) = default;
  SpanBatch& operator=(SpanBatch&&) = default;

  // Takes ownership of the bytes that views may point into (the request body).
  // Must be called before decoding into the batch; the string is never reallocated.
  std::string_view AdoptBuffer(std::string&& bytes) {
    buffer_ = std::make_shared<const std::string>(std::move(bytes));
    return *buffer_;
  }
  // Shares immutable bytes with other owners (live traces keep a request's bytes and
  // decode them again on demand, without copying).
  std::string_view ShareBuffer(std::shared_ptr<const std::string> bytes) {
    buffer_ = std::move(bytes);
    return *buffer_;
  }
  const std::string* buffer() const { return buffer_.get(); }
  const std::shared_ptr<const std::string>& shared_buffer() const { return buffer_; }

  // The OTLP protobuf request this batch was decoded from, when the batch still holds
  // exactly its spans (no span rejected, nothing changed since); empty otherwise. Lets the
  // WAL and exporters forward the original bytes instead of re-encoding.
  std::string_view original_request() const {
    return original_is_request_ && buffer_ ? std::string_view(*buffer_) : std::string_view();
  }
  void set_original_is_request(bool v) { original_is_request_ = v; }
  Arena& arena() { return arena_; }

  std::vector<Resource> resources;
  std::vector<Scope> scopes;
  std::vector<Span> spans;
  std::vector<Event> events;
  std::vector<Link> links;
  std::vector<KeyValue> attributes;     // attributes of resources, scopes, spans, events, links
  std::vector<AnyValue> array_values;   // elements of array values, contiguous per array
  std::vector<KeyValue> kvlist_values;  // entries of kvlist values, contiguous per kvlist

  // Bytes held by this batch (buffer, arena, vectors): the figure live-trace budgets count.
  size_t MemoryUsage() const;
  // MemoryUsage() without the buffer: what decoding added to bytes someone holds already.
  size_t DecodedMemoryUsage() const;

 private:
  std::shared_ptr<const std::string> buffer_;
  bool original_is_request_ = false;
  Arena arena_;
};

}  // namespace strand::otlp
