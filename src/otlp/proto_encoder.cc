#include "otlp/proto_encoder.h"

#include <cstring>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "common/coding.h"
#include "otlp/wire_type.h"

namespace strand::otlp {
namespace {

// Appends protobuf fields to a string. Scalar helpers omit proto3 defaults; the *Always
// forms write regardless (oneof members have presence).
class ProtoWriter {
 public:
  explicit ProtoWriter(std::string& out) : out_(out) {}

  void Tag(uint32_t field, uint32_t wire) { PutVarint64(&out_, (field << 3) | wire); }
  void VarintAlways(uint32_t field, uint64_t v) {
    Tag(field, kVarint);
    PutVarint64(&out_, v);
  }
  void Varint(uint32_t field, uint64_t v) {
    if (v != 0) VarintAlways(field, v);
  }
  void Fixed64Always(uint32_t field, uint64_t v) {
    Tag(field, kFixed64);
    PutFixed64(&out_, v);
  }
  void Fixed64(uint32_t field, uint64_t v) {
    if (v != 0) Fixed64Always(field, v);
  }
  void Fixed32(uint32_t field, uint32_t v) {
    if (v == 0) return;
    Tag(field, kFixed32);
    PutFixed32(&out_, v);
  }
  void BytesAlways(uint32_t field, std::string_view v) {
    Tag(field, kLen);
    PutVarint64(&out_, v.size());
    out_.append(v);
  }
  void Bytes(uint32_t field, std::string_view v) {
    if (!v.empty()) BytesAlways(field, v);
  }
  // Starts a nested message; returns the position to hand to EndMessage.
  size_t BeginMessage(uint32_t field) {
    Tag(field, kLen);
    out_.push_back(0);
    return out_.size() - 1;
  }
  // Writes the nested message's length, widening its one-byte slot when needed.
  void EndMessage(size_t pos) {
    const uint64_t len = out_.size() - pos - 1;
    const int n = VarintLength(len);
    if (n > 1) out_.insert(pos + 1, n - 1, '\0');
    EncodeVarint64(out_.data() + pos, len);
  }

 private:
  std::string& out_;
};

void WriteKeyValues(ProtoWriter& w, uint32_t field, const SpanBatch& b,
                    const std::vector<KeyValue>& vec, Range r);

void WriteAnyValue(ProtoWriter& w, const SpanBatch& b, const AnyValue& v) {
  switch (v.type) {
    case ValueType::kNone:
      break;
    case ValueType::kString:
      w.BytesAlways(1, v.str);
      break;
    case ValueType::kBool:
      w.VarintAlways(2, v.bool_value ? 1 : 0);
      break;
    case ValueType::kInt:
      w.VarintAlways(3, static_cast<uint64_t>(v.int_value));
      break;
    case ValueType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.double_value, 8);
      w.Fixed64Always(4, bits);
      break;
    }
    case ValueType::kArray: {
      size_t pos = w.BeginMessage(5);
      for (uint32_t i = v.children.begin; i < v.children.end; ++i) {
        size_t el = w.BeginMessage(1);
        WriteAnyValue(w, b, b.array_values[i]);
        w.EndMessage(el);
      }
      w.EndMessage(pos);
      break;
    }
    case ValueType::kKvList: {
      size_t pos = w.BeginMessage(6);
      WriteKeyValues(w, 1, b, b.kvlist_values, v.children);
      w.EndMessage(pos);
      break;
    }
    case ValueType::kBytes:
      w.BytesAlways(7, v.str);
      break;
  }
}

void WriteKeyValues(ProtoWriter& w, uint32_t field, const SpanBatch& b,
                    const std::vector<KeyValue>& vec, Range r) {
  for (uint32_t i = r.begin; i < r.end; ++i) {
    const KeyValue& kv = vec[i];
    size_t pos = w.BeginMessage(field);
    w.Bytes(1, kv.key);
    if (kv.value.type != ValueType::kNone) {
      size_t vpos = w.BeginMessage(2);
      WriteAnyValue(w, b, kv.value);
      w.EndMessage(vpos);
    }
    w.EndMessage(pos);
  }
}

void WriteSpan(ProtoWriter& w, const SpanBatch& b, const Span& s) {
  size_t pos = w.BeginMessage(2);  // ScopeSpans.spans
  w.BytesAlways(1, IdBytes(s.trace_id));
  w.BytesAlways(2, IdBytes(s.span_id));
  w.Bytes(3, s.trace_state);
  if (s.has_parent) w.BytesAlways(4, IdBytes(s.parent_span_id));
  w.Bytes(5, s.name);
  w.Varint(6, static_cast<uint64_t>(static_cast<int64_t>(s.kind)));
  w.Fixed64(7, s.start_time_unix_nano);
  w.Fixed64(8, s.end_time_unix_nano);
  WriteKeyValues(w, 9, b, b.attributes, s.attributes);
  w.Varint(10, s.dropped_attributes_count);
  for (uint32_t i = s.events.begin; i < s.events.end; ++i) {
    const Event& e = b.events[i];
    size_t epos = w.BeginMessage(11);
    w.Fixed64(1, e.time_unix_nano);
    w.Bytes(2, e.name);
    WriteKeyValues(w, 3, b, b.attributes, e.attributes);
    w.Varint(4, e.dropped_attributes_count);
    w.EndMessage(epos);
  }
  w.Varint(12, s.dropped_events_count);
  for (uint32_t i = s.links.begin; i < s.links.end; ++i) {
    const Link& l = b.links[i];
    size_t lpos = w.BeginMessage(13);
    w.BytesAlways(1, IdBytes(l.trace_id));
    w.BytesAlways(2, IdBytes(l.span_id));
    w.Bytes(3, l.trace_state);
    WriteKeyValues(w, 4, b, b.attributes, l.attributes);
    w.Varint(5, l.dropped_attributes_count);
    w.Fixed32(6, l.flags);
    w.EndMessage(lpos);
  }
  w.Varint(14, s.dropped_links_count);
  if (!s.status_message.empty() || s.status_code != 0) {
    size_t spos = w.BeginMessage(15);
    w.Bytes(2, s.status_message);
    w.Varint(3, static_cast<uint64_t>(static_cast<int64_t>(s.status_code)));
    w.EndMessage(spos);
  }
  w.Fixed32(16, s.flags);
  w.EndMessage(pos);
}

void WriteResource(ProtoWriter& w, const SpanBatch& b, const Resource& r) {
  if (r.attributes.empty() && r.dropped_attributes_count == 0) return;
  size_t pos = w.BeginMessage(1);
  WriteKeyValues(w, 1, b, b.attributes, r.attributes);
  w.Varint(2, r.dropped_attributes_count);
  w.EndMessage(pos);
}

void WriteScope(ProtoWriter& w, const SpanBatch& b, const Scope& s) {
  if (s.name.empty() && s.version.empty() && s.attributes.empty() &&
      s.dropped_attributes_count == 0) {
    return;
  }
  size_t pos = w.BeginMessage(1);
  w.Bytes(1, s.name);
  w.Bytes(2, s.version);
  WriteKeyValues(w, 3, b, b.attributes, s.attributes);
  w.Varint(4, s.dropped_attributes_count);
  w.EndMessage(pos);
}

struct ScopeGroup {
  const SpanBatch* batch;
  uint32_t scope;
  std::vector<uint32_t> spans;
};
struct ResourceGroup {
  const SpanBatch* batch;
  uint32_t resource;
  std::vector<ScopeGroup> scopes;
};

}  // namespace

std::string EncodeResourceSpans(std::span<const SpanRef> spans) {
  std::vector<ResourceGroup> groups;
  absl::flat_hash_map<std::pair<const SpanBatch*, uint32_t>, size_t> resource_pos;
  absl::flat_hash_map<std::pair<const SpanBatch*, uint32_t>, std::pair<size_t, size_t>> scope_pos;
  for (const SpanRef& ref : spans) {
    const uint32_t scope = ref.span().scope_index;
    auto sit = scope_pos.find({ref.batch, scope});
    if (sit == scope_pos.end()) {
      const uint32_t resource = ref.batch->scopes[scope].resource_index;
      auto [rit, inserted] = resource_pos.try_emplace({ref.batch, resource}, groups.size());
      if (inserted) groups.push_back({ref.batch, resource, {}});
      auto& g = groups[rit->second];
      g.scopes.push_back({ref.batch, scope, {}});
      sit = scope_pos
                .emplace(std::make_pair(ref.batch, scope),
                         std::make_pair(rit->second, g.scopes.size() - 1))
                .first;
    }
    groups[sit->second.first].scopes[sit->second.second].spans.push_back(ref.index);
  }

  std::string out;
  ProtoWriter w(out);
  for (const ResourceGroup& g : groups) {
    const SpanBatch& b = *g.batch;
    const Resource& r = b.resources[g.resource];
    size_t rpos = w.BeginMessage(1);
    WriteResource(w, b, r);
    for (const ScopeGroup& sg : g.scopes) {
      const Scope& scope = b.scopes[sg.scope];
      size_t spos = w.BeginMessage(2);
      WriteScope(w, b, scope);
      for (uint32_t i : sg.spans) WriteSpan(w, b, b.spans[i]);
      w.Bytes(3, scope.schema_url);
      w.EndMessage(spos);
    }
    w.Bytes(3, r.schema_url);
    w.EndMessage(rpos);
  }
  return out;
}

std::string EncodeExportRequest(const SpanBatch& batch) {
  std::vector<SpanRef> refs;
  refs.reserve(batch.spans.size());
  for (uint32_t i = 0; i < batch.spans.size(); ++i) refs.push_back({&batch, i});
  return EncodeResourceSpans(refs);
}

std::vector<uint32_t> EncodedSpanSizes(const SpanBatch& batch) {
  std::vector<uint32_t> sizes;
  sizes.reserve(batch.spans.size());
  std::string scratch;
  for (const Span& s : batch.spans) {
    scratch.clear();
    ProtoWriter w(scratch);
    WriteSpan(w, batch, s);
    sizes.push_back(static_cast<uint32_t>(scratch.size()));
  }
  return sizes;
}

void AppendLengthDelimited(std::string& out, uint32_t field, std::string_view bytes) {
  ProtoWriter w(out);
  w.BytesAlways(field, bytes);
}

}  // namespace strand::otlp
