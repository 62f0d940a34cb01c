#include "otlp/proto_decoder.h"

#include <simdjson.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "otlp/wire_type.h"

namespace strand::otlp {
namespace {

constexpr int kMaxNesting = 32;

// A cursor over one protobuf message's bytes.
struct Cursor {
  const char* p;
  const char* end;
  bool done() const { return p >= end; }
};

// Appends `value` to `vec` so that `range` stays contiguous: if something else was appended
// after the range since it was last extended, the range is first moved to the end.
template <typename T>
void AppendToRange(std::vector<T>& vec, Range& range, const T& value) {
  const auto size = static_cast<uint32_t>(vec.size());
  if (range.empty()) {
    range.begin = range.end = size;
  } else if (range.end != size) {
    const uint32_t new_begin = size;
    for (uint32_t i = range.begin; i < range.end; ++i) {
      T copy = vec[i];
      vec.push_back(copy);
    }
    range.begin = new_begin;
    range.end = static_cast<uint32_t>(vec.size());
  }
  vec.push_back(value);
  range.end = static_cast<uint32_t>(vec.size());
}

bool IsAscii(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<uint8_t>(p[i]);
  return (acc & 0x8080808080808080ULL) == 0;
}

class ProtoDecoder {
 public:
  explicit ProtoDecoder(SpanBatch& batch) : batch_(batch) {}

  bool DecodeRequest(std::string_view bytes);
  const std::string& error() const { return error_; }
  uint64_t rejected() const { return rejected_; }
  const std::string& rejection_message() const { return rejection_message_; }

 private:
  bool Fail(std::string_view what) {
    if (error_.empty()) error_ = std::string(what);
    return false;
  }
  bool ReadTag(Cursor& c, uint32_t& field, uint32_t& wire) {
    uint64_t tag;
    if (static_cast<unsigned char>(*c.p) < 0x80) {
      tag = static_cast<unsigned char>(*c.p++);
    } else {
      c.p = GetVarint64Ptr(c.p, c.end, &tag);
      if (c.p == nullptr) return Fail("truncated field tag");
    }
    field = static_cast<uint32_t>(tag >> 3);
    wire = static_cast<uint32_t>(tag & 7);
    if (field == 0) return Fail("invalid field number 0");
    return true;
  }
  bool ReadVarint(Cursor& c, uint64_t& v) {
    c.p = GetVarint64Ptr(c.p, c.end, &v);
    if (c.p == nullptr) return Fail("truncated varint");
    return true;
  }
  bool ReadLen(Cursor& c, std::string_view& out) {
    uint64_t len = 0;
    if (!ReadVarint(c, len)) return false;
    if (len > static_cast<uint64_t>(c.end - c.p)) return Fail("length-delimited field overruns");
    out = std::string_view(c.p, len);
    c.p += len;
    return true;
  }
  bool ReadFixed64(Cursor& c, uint64_t& v) {
    if (c.end - c.p < 8) return Fail("truncated fixed64");
    v = DecodeFixed64(c.p);
    c.p += 8;
    return true;
  }
  bool ReadFixed32(Cursor& c, uint32_t& v) {
    if (c.end - c.p < 4) return Fail("truncated fixed32");
    v = DecodeFixed32(c.p);
    c.p += 4;
    return true;
  }
  bool Skip(Cursor& c, uint32_t wire) {
    switch (wire) {
      case kVarint: {
        uint64_t v;
        return ReadVarint(c, v);
      }
      case kFixed64:
        if (c.end - c.p < 8) return Fail("truncated fixed64");
        c.p += 8;
        return true;
      case kLen: {
        std::string_view v;
        return ReadLen(c, v);
      }
      case kFixed32:
        if (c.end - c.p < 4) return Fail("truncated fixed32");
        c.p += 4;
        return true;
      default:
        return Fail(absl::StrCat("unsupported wire type ", wire));
    }
  }
  bool Expect(uint32_t wire, uint32_t want, const char* field) {
    if (wire == want) return true;
    return Fail(absl::StrCat("field ", field, " has wire type ", wire, ", expected ", want));
  }
  bool ReadString(Cursor& c, uint32_t wire, const char* field, std::string_view& out) {
    if (!Expect(wire, kLen, field) || !ReadLen(c, out)) return false;
    // Almost every string on the wire is ASCII; check that inline before paying for the
    // general validator (a call through simdjson's dispatch per string).
    if (!IsAscii(out) && !simdjson::validate_utf8(out.data(), out.size())) {
      return Fail(absl::StrCat("field ", field, " contains invalid UTF-8"));
    }
    return true;
  }
  bool ReadBytes(Cursor& c, uint32_t wire, const char* field, std::string_view& out) {
    return Expect(wire, kLen, field) && ReadLen(c, out);
  }
  bool ReadU32(Cursor& c, uint32_t wire, const char* field, uint32_t& out) {
    uint64_t v = 0;
    if (!Expect(wire, kVarint, field) || !ReadVarint(c, v)) return false;
    out = static_cast<uint32_t>(v);
    return true;
  }
  bool ReadI32(Cursor& c, uint32_t wire, const char* field, int32_t& out) {
    uint64_t v = 0;
    if (!Expect(wire, kVarint, field) || !ReadVarint(c, v)) return false;
    out = static_cast<int32_t>(v);
    return true;
  }

  bool DecodeResourceSpans(std::string_view bytes);
  bool DecodeResource(std::string_view bytes, Resource& r);
  bool DecodeScopeSpans(std::string_view bytes, uint32_t resource_index);
  bool DecodeScope(std::string_view bytes, uint32_t scope_index);
  bool DecodeSpan(std::string_view bytes, uint32_t scope_index, uint32_t span_number);
  bool DecodeEvent(std::string_view bytes, Event& e);
  bool DecodeLink(std::string_view bytes, Link& l, std::string& invalid);
  bool DecodeStatus(std::string_view bytes, Span& s);
  // Decodes a KeyValue and appends it to `vec`, keeping `range` contiguous.
  bool DecodeKeyValue(std::string_view bytes, std::vector<KeyValue>& vec, Range& range, int depth);
  bool DecodeAnyValue(std::string_view bytes, AnyValue& v, int depth);

  SpanBatch& batch_;
  std::string error_;
  uint64_t rejected_ = 0;
  std::string rejection_message_;
  uint32_t span_counter_ = 0;
};

bool ProtoDecoder::DecodeRequest(std::string_view bytes) {
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    if (field == 1) {
      std::string_view rs;
      if (!Expect(wire, kLen, "resource_spans") || !ReadLen(c, rs)) return false;
      if (!DecodeResourceSpans(rs)) return false;
    } else if (!Skip(c, wire)) {
      return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeResourceSpans(std::string_view bytes) {
  const auto resource_index = static_cast<uint32_t>(batch_.resources.size());
  batch_.resources.emplace_back();
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    switch (field) {
      case 1: {
        if (!Expect(wire, kLen, "resource") || !ReadLen(c, v)) return false;
        if (!DecodeResource(v, batch_.resources[resource_index])) return false;
        break;
      }
      case 2:
        if (!Expect(wire, kLen, "scope_spans") || !ReadLen(c, v)) return false;
        if (!DecodeScopeSpans(v, resource_index)) return false;
        break;
      case 3:
        if (!ReadString(c, wire, "schema_url", v)) return false;
        batch_.resources[resource_index].schema_url = v;
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeResource(std::string_view bytes, Resource& r) {
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  // `r` lives in batch_.resources, which does not grow while a resource is decoded.
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    if (field == 1) {
      if (!Expect(wire, kLen, "resource.attributes") || !ReadLen(c, v)) return false;
      if (!DecodeKeyValue(v, batch_.attributes, r.attributes, 0)) return false;
    } else if (field == 2) {
      if (!ReadU32(c, wire, "resource.dropped_attributes_count", r.dropped_attributes_count)) {
        return false;
      }
    } else if (!Skip(c, wire)) {
      return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeScopeSpans(std::string_view bytes, uint32_t resource_index) {
  const auto scope_index = static_cast<uint32_t>(batch_.scopes.size());
  batch_.scopes.emplace_back();
  batch_.scopes.back().resource_index = resource_index;
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    switch (field) {
      case 1:
        if (!Expect(wire, kLen, "scope") || !ReadLen(c, v)) return false;
        if (!DecodeScope(v, scope_index)) return false;
        break;
      case 2:
        if (!Expect(wire, kLen, "spans") || !ReadLen(c, v)) return false;
        if (!DecodeSpan(v, scope_index, span_counter_++)) return false;
        break;
      case 3:
        if (!ReadString(c, wire, "scope_spans.schema_url", v)) return false;
        batch_.scopes[scope_index].schema_url = v;
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeScope(std::string_view bytes, uint32_t scope_index) {
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    Scope& s = batch_.scopes[scope_index];
    std::string_view v;
    switch (field) {
      case 1:
        if (!ReadString(c, wire, "scope.name", v)) return false;
        s.name = v;
        break;
      case 2:
        if (!ReadString(c, wire, "scope.version", v)) return false;
        s.version = v;
        break;
      case 3:
        if (!Expect(wire, kLen, "scope.attributes") || !ReadLen(c, v)) return false;
        if (!DecodeKeyValue(v, batch_.attributes, s.attributes, 0)) return false;
        break;
      case 4:
        if (!ReadU32(c, wire, "scope.dropped_attributes_count", s.dropped_attributes_count)) {
          return false;
        }
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  return true;
}

bool IsAllZero(std::string_view id) {
  for (char ch : id) {
    if (ch != 0) return false;
  }
  return true;
}

// Returns an empty string if the span's IDs are valid, else the reason.
std::string CheckIds(std::string_view trace_id, std::string_view span_id,
                     std::string_view parent_id) {
  if (trace_id.size() != 16) {
    return absl::StrCat("trace_id must be 16 bytes, got ", trace_id.size());
  }
  if (IsAllZero(trace_id)) return "trace_id must not be all zero";
  if (span_id.size() != 8) return absl::StrCat("span_id must be 8 bytes, got ", span_id.size());
  if (IsAllZero(span_id)) return "span_id must not be all zero";
  if (!parent_id.empty() && parent_id.size() != 8) {
    return absl::StrCat("parent_span_id must be empty or 8 bytes, got ", parent_id.size());
  }
  return {};
}

bool ProtoDecoder::DecodeSpan(std::string_view bytes, uint32_t scope_index, uint32_t span_number) {
  // Everything appended for this span is rolled back if its IDs turn out invalid.
  const size_t attr_mark = batch_.attributes.size();
  const size_t event_mark = batch_.events.size();
  const size_t link_mark = batch_.links.size();
  const size_t array_mark = batch_.array_values.size();
  const size_t kvlist_mark = batch_.kvlist_values.size();

  Span s;
  s.scope_index = scope_index;
  std::string_view trace_id, span_id, parent_id;
  std::string invalid;
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    switch (field) {
      case 1:
        if (!ReadBytes(c, wire, "span.trace_id", trace_id)) return false;
        break;
      case 2:
        if (!ReadBytes(c, wire, "span.span_id", span_id)) return false;
        break;
      case 3:
        if (!ReadString(c, wire, "span.trace_state", s.trace_state)) return false;
        break;
      case 4:
        if (!ReadBytes(c, wire, "span.parent_span_id", parent_id)) return false;
        break;
      case 5:
        if (!ReadString(c, wire, "span.name", s.name)) return false;
        break;
      case 6:
        if (!ReadI32(c, wire, "span.kind", s.kind)) return false;
        break;
      case 7:
        if (!Expect(wire, kFixed64, "span.start_time_unix_nano") ||
            !ReadFixed64(c, s.start_time_unix_nano)) {
          return false;
        }
        break;
      case 8:
        if (!Expect(wire, kFixed64, "span.end_time_unix_nano") ||
            !ReadFixed64(c, s.end_time_unix_nano)) {
          return false;
        }
        break;
      case 9:
        if (!Expect(wire, kLen, "span.attributes") || !ReadLen(c, v)) return false;
        if (!DecodeKeyValue(v, batch_.attributes, s.attributes, 0)) return false;
        break;
      case 10:
        if (!ReadU32(c, wire, "span.dropped_attributes_count", s.dropped_attributes_count)) {
          return false;
        }
        break;
      case 11: {
        if (!Expect(wire, kLen, "span.events") || !ReadLen(c, v)) return false;
        Event e;
        if (!DecodeEvent(v, e)) return false;
        AppendToRange(batch_.events, s.events, e);
        break;
      }
      case 12:
        if (!ReadU32(c, wire, "span.dropped_events_count", s.dropped_events_count)) return false;
        break;
      case 13: {
        if (!Expect(wire, kLen, "span.links") || !ReadLen(c, v)) return false;
        Link l;
        if (!DecodeLink(v, l, invalid)) return false;
        AppendToRange(batch_.links, s.links, l);
        break;
      }
      case 14:
        if (!ReadU32(c, wire, "span.dropped_links_count", s.dropped_links_count)) return false;
        break;
      case 15:
        if (!Expect(wire, kLen, "span.status") || !ReadLen(c, v)) return false;
        if (!DecodeStatus(v, s)) return false;
        break;
      case 16:
        if (!Expect(wire, kFixed32, "span.flags") || !ReadFixed32(c, s.flags)) return false;
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  if (invalid.empty()) invalid = CheckIds(trace_id, span_id, parent_id);
  if (!invalid.empty()) {
    batch_.attributes.resize(attr_mark);
    batch_.events.resize(event_mark);
    batch_.links.resize(link_mark);
    batch_.array_values.resize(array_mark);
    batch_.kvlist_values.resize(kvlist_mark);
    if (rejected_++ == 0) rejection_message_ = absl::StrCat("span ", span_number, ": ", invalid);
    return true;
  }
  std::memcpy(s.trace_id.data(), trace_id.data(), 16);
  std::memcpy(s.span_id.data(), span_id.data(), 8);
  if (parent_id.size() == 8) {
    std::memcpy(s.parent_span_id.data(), parent_id.data(), 8);
    s.has_parent = true;
  }
  batch_.spans.push_back(s);
  return true;
}

bool ProtoDecoder::DecodeEvent(std::string_view bytes, Event& e) {
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    switch (field) {
      case 1:
        if (!Expect(wire, kFixed64, "event.time_unix_nano") || !ReadFixed64(c, e.time_unix_nano)) {
          return false;
        }
        break;
      case 2:
        if (!ReadString(c, wire, "event.name", e.name)) return false;
        break;
      case 3:
        if (!Expect(wire, kLen, "event.attributes") || !ReadLen(c, v)) return false;
        if (!DecodeKeyValue(v, batch_.attributes, e.attributes, 0)) return false;
        break;
      case 4:
        if (!ReadU32(c, wire, "event.dropped_attributes_count", e.dropped_attributes_count)) {
          return false;
        }
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeLink(std::string_view bytes, Link& l, std::string& invalid) {
  std::string_view trace_id, span_id;
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    switch (field) {
      case 1:
        if (!ReadBytes(c, wire, "link.trace_id", trace_id)) return false;
        break;
      case 2:
        if (!ReadBytes(c, wire, "link.span_id", span_id)) return false;
        break;
      case 3:
        if (!ReadString(c, wire, "link.trace_state", l.trace_state)) return false;
        break;
      case 4:
        if (!Expect(wire, kLen, "link.attributes") || !ReadLen(c, v)) return false;
        if (!DecodeKeyValue(v, batch_.attributes, l.attributes, 0)) return false;
        break;
      case 5:
        if (!ReadU32(c, wire, "link.dropped_attributes_count", l.dropped_attributes_count)) {
          return false;
        }
        break;
      case 6:
        if (!Expect(wire, kFixed32, "link.flags") || !ReadFixed32(c, l.flags)) return false;
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  if (trace_id.size() != 16 || span_id.size() != 8) {
    if (invalid.empty()) {
      invalid = absl::StrCat("link IDs must be 16 and 8 bytes, got ", trace_id.size(), " and ",
                             span_id.size());
    }
    return true;
  }
  std::memcpy(l.trace_id.data(), trace_id.data(), 16);
  std::memcpy(l.span_id.data(), span_id.data(), 8);
  return true;
}

bool ProtoDecoder::DecodeStatus(std::string_view bytes, Span& s) {
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    if (field == 2) {
      if (!ReadString(c, wire, "status.message", s.status_message)) return false;
    } else if (field == 3) {
      if (!ReadI32(c, wire, "status.code", s.status_code)) return false;
    } else if (!Skip(c, wire)) {
      return false;
    }
  }
  return true;
}

bool ProtoDecoder::DecodeKeyValue(std::string_view bytes, std::vector<KeyValue>& vec, Range& range,
                                  int depth) {
  KeyValue kv;
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    if (field == 1) {
      if (!ReadString(c, wire, "key_value.key", kv.key)) return false;
    } else if (field == 2) {
      if (!Expect(wire, kLen, "key_value.value") || !ReadLen(c, v)) return false;
      if (!DecodeAnyValue(v, kv.value, depth + 1)) return false;
    } else if (!Skip(c, wire)) {
      return false;
    }
  }
  AppendToRange(vec, range, kv);
  return true;
}

bool ProtoDecoder::DecodeAnyValue(std::string_view bytes, AnyValue& out, int depth) {
  if (depth > kMaxNesting) return Fail("attribute values nested too deeply");
  Cursor c{bytes.data(), bytes.data() + bytes.size()};
  while (!c.done()) {
    uint32_t field = 0, wire = 0;
    if (!ReadTag(c, field, wire)) return false;
    std::string_view v;
    uint64_t n = 0;
    switch (field) {
      case 1:
        if (!ReadString(c, wire, "any_value.string_value", out.str)) return false;
        out.type = ValueType::kString;
        break;
      case 2:
        if (!Expect(wire, kVarint, "any_value.bool_value") || !ReadVarint(c, n)) return false;
        out.type = ValueType::kBool;
        out.bool_value = n != 0;
        break;
      case 3:
        if (!Expect(wire, kVarint, "any_value.int_value") || !ReadVarint(c, n)) return false;
        out.type = ValueType::kInt;
        out.int_value = static_cast<int64_t>(n);
        break;
      case 4: {
        if (!Expect(wire, kFixed64, "any_value.double_value") || !ReadFixed64(c, n)) return false;
        out.type = ValueType::kDouble;
        std::memcpy(&out.double_value, &n, 8);
        break;
      }
      case 5: {
        if (!Expect(wire, kLen, "any_value.array_value") || !ReadLen(c, v)) return false;
        out.type = ValueType::kArray;
        out.children = {};
        Cursor a{v.data(), v.data() + v.size()};
        while (!a.done()) {
          uint32_t f2 = 0, w2 = 0;
          if (!ReadTag(a, f2, w2)) return false;
          if (f2 == 1) {
            std::string_view ev;
            if (!Expect(w2, kLen, "array_value.values") || !ReadLen(a, ev)) return false;
            AnyValue element;
            if (!DecodeAnyValue(ev, element, depth + 1)) return false;
            AppendToRange(batch_.array_values, out.children, element);
          } else if (!Skip(a, w2)) {
            return false;
          }
        }
        break;
      }
      case 6: {
        if (!Expect(wire, kLen, "any_value.kvlist_value") || !ReadLen(c, v)) return false;
        out.type = ValueType::kKvList;
        out.children = {};
        Cursor a{v.data(), v.data() + v.size()};
        while (!a.done()) {
          uint32_t f2 = 0, w2 = 0;
          if (!ReadTag(a, f2, w2)) return false;
          if (f2 == 1) {
            std::string_view ev;
            if (!Expect(w2, kLen, "kvlist_value.values") || !ReadLen(a, ev)) return false;
            if (!DecodeKeyValue(ev, batch_.kvlist_values, out.children, depth + 1)) return false;
          } else if (!Skip(a, w2)) {
            return false;
          }
        }
        break;
      }
      case 7:
        if (!ReadBytes(c, wire, "any_value.bytes_value", out.str)) return false;
        out.type = ValueType::kBytes;
        break;
      default:
        if (!Skip(c, wire)) return false;
    }
  }
  return true;
}

}  // namespace

namespace {

absl::StatusOr<DecodedRequest> DecodeInto(DecodedRequest out, std::string_view bytes) {
  // Realistic requests carry ~400 bytes per span and ~40 per attribute; reserving that
  // much up front saves the vectors' repeated growth (and its copies).
  out.batch.spans.reserve(bytes.size() / 512);
  out.batch.attributes.reserve(bytes.size() / 48);
  ProtoDecoder decoder(out.batch);
  if (!decoder.DecodeRequest(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid OTLP protobuf: ", decoder.error()));
  }
  out.rejected_spans = decoder.rejected();
  out.rejection_message = decoder.rejection_message();
  out.batch.set_original_is_request(out.rejected_spans == 0);
  return out;
}

}  // namespace

absl::StatusOr<DecodedRequest> DecodeProtoRequest(std::string&& body) {
  DecodedRequest out;
  std::string_view bytes = out.batch.AdoptBuffer(std::move(body));
  return DecodeInto(std::move(out), bytes);
}

absl::StatusOr<DecodedRequest> DecodeProtoRequest(std::shared_ptr<const std::string> body) {
  DecodedRequest out;
  std::string_view bytes = out.batch.ShareBuffer(std::move(body));
  return DecodeInto(std::move(out), bytes);
}

}  // namespace strand::otlp
