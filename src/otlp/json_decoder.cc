#include "otlp/json_decoder.h"

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "otlp/json_scalars.h"

// Input rules beyond those in the header: a null value is the same as an absent field; a
// null element of a list of messages is skipped, while a null element of an arrayValue is
// an AnyValue with nothing set (so the other elements keep their positions); a field given
// twice (also as its JSON and its proto name) and an AnyValue with two values set are
// errors, as in protobuf's JSON parsers. Resources and scopes left without valid spans are
// dropped, and so is everything a rejected span appended to the batch.

namespace strand::otlp {
namespace {

using json::AbslView;
using json::AsArray;
using json::AsObject;
using json::FieldError;
using json::IndexPath;
using json::Nested;
using json::ReadBool;
using json::ReadDouble;
using json::ReadEnum;
using json::ReadInt64;
using json::ReadObject;
using json::ReadStringView;
using json::ReadUint32;
using json::ReadUint64;
using json::TypeError;
using json::TypeName;
using json::ValueError;
using JsonElement = json::Element;
using JsonObject = json::Object;
using JsonArray = json::Array;
using JsonType = json::Type;

// AnyValue nesting bound. A top-level attribute value has depth 1; an array or kvlist at
// depth kMaxValueDepth may not hold further values.
constexpr int kMaxValueDepth = 64;
// A thread's parser keeps its buffers between requests unless they grew beyond this.
constexpr size_t kMaxRetainedParserCapacity = size_t{8} << 20;
// Distinct attribute keys interned per request; later keys are copied without interning.
constexpr size_t kMaxInternedKeys = 4096;

// ---------------------------------------------------------------------------------------
// Field names. Each message's table lists its lowerCamelCase JSON name and its proto
// name; an enum class of the same order (plus kUnknown last) names the entries.

struct FieldName {
  std::string_view json;
  std::string_view proto;
};

template <typename E, size_t N>
E FindField(const FieldName (&names)[N], std::string_view key) {
  for (size_t i = 0; i < N; ++i) {
    if (key == names[i].json || key == names[i].proto) return static_cast<E>(i);
  }
  return E::kUnknown;
}

template <typename E, size_t N>
std::string_view NameOf(const FieldName (&names)[N], E field) {
  return names[static_cast<size_t>(field)].json;
}

// Rejects the second occurrence of a field (a JSON name and its proto name count as one).
class SeenFields {
 public:
  template <typename E>
  bool FirstTime(E field) {
    const uint32_t bit = uint32_t{1} << static_cast<uint32_t>(field);
    if (bits_ & bit) return false;
    bits_ |= bit;
    return true;
  }

 private:
  uint32_t bits_ = 0;
};

absl::Status DuplicateError(std::string_view field) { return FieldError(field, "duplicate field"); }

enum class RequestField { kResourceSpans, kUnknown };
constexpr FieldName kRequestFields[] = {{"resourceSpans", "resource_spans"}};

enum class ResourceSpansField { kResource, kScopeSpans, kSchemaUrl, kUnknown };
constexpr FieldName kResourceSpansFields[] = {
    {"resource", "resource"}, {"scopeSpans", "scope_spans"}, {"schemaUrl", "schema_url"}};

enum class ResourceField { kAttributes, kDroppedAttributesCount, kUnknown };
constexpr FieldName kResourceFields[] = {{"attributes", "attributes"},
                                         {"droppedAttributesCount", "dropped_attributes_count"}};

enum class ScopeSpansField { kScope, kSpans, kSchemaUrl, kUnknown };
constexpr FieldName kScopeSpansFields[] = {
    {"scope", "scope"}, {"spans", "spans"}, {"schemaUrl", "schema_url"}};

enum class ScopeField { kName, kVersion, kAttributes, kDroppedAttributesCount, kUnknown };
constexpr FieldName kScopeFields[] = {{"name", "name"},
                                      {"version", "version"},
                                      {"attributes", "attributes"},
                                      {"droppedAttributesCount", "dropped_attributes_count"}};

// Ordered by how often the fields appear, since lookup is a linear scan.
enum class SpanField {
  kTraceId,
  kSpanId,
  kParentSpanId,
  kName,
  kKind,
  kStartTimeUnixNano,
  kEndTimeUnixNano,
  kAttributes,
  kStatus,
  kFlags,
  kTraceState,
  kEvents,
  kLinks,
  kDroppedAttributesCount,
  kDroppedEventsCount,
  kDroppedLinksCount,
  kUnknown
};
constexpr FieldName kSpanFields[] = {
    {"traceId", "trace_id"},
    {"spanId", "span_id"},
    {"parentSpanId", "parent_span_id"},
    {"name", "name"},
    {"kind", "kind"},
    {"startTimeUnixNano", "start_time_unix_nano"},
    {"endTimeUnixNano", "end_time_unix_nano"},
    {"attributes", "attributes"},
    {"status", "status"},
    {"flags", "flags"},
    {"traceState", "trace_state"},
    {"events", "events"},
    {"links", "links"},
    {"droppedAttributesCount", "dropped_attributes_count"},
    {"droppedEventsCount", "dropped_events_count"},
    {"droppedLinksCount", "dropped_links_count"},
};

enum class EventField { kTimeUnixNano, kName, kAttributes, kDroppedAttributesCount, kUnknown };
constexpr FieldName kEventFields[] = {{"timeUnixNano", "time_unix_nano"},
                                      {"name", "name"},
                                      {"attributes", "attributes"},
                                      {"droppedAttributesCount", "dropped_attributes_count"}};

enum class LinkField {
  kTraceId,
  kSpanId,
  kTraceState,
  kAttributes,
  kDroppedAttributesCount,
  kFlags,
  kUnknown
};
constexpr FieldName kLinkFields[] = {{"traceId", "trace_id"},
                                     {"spanId", "span_id"},
                                     {"traceState", "trace_state"},
                                     {"attributes", "attributes"},
                                     {"droppedAttributesCount", "dropped_attributes_count"},
                                     {"flags", "flags"}};

enum class StatusField { kMessage, kCode, kUnknown };
constexpr FieldName kStatusFields[] = {{"message", "message"}, {"code", "code"}};

enum class KeyValueField { kKey, kValue, kUnknown };
constexpr FieldName kKeyValueFields[] = {{"key", "key"}, {"value", "value"}};

enum class AnyValueField {
  kStringValue,
  kIntValue,
  kBoolValue,
  kDoubleValue,
  kArrayValue,
  kKvlistValue,
  kBytesValue,
  kUnknown
};
constexpr FieldName kAnyValueFields[] = {
    {"stringValue", "string_value"}, {"intValue", "int_value"},     {"boolValue", "bool_value"},
    {"doubleValue", "double_value"}, {"arrayValue", "array_value"}, {"kvlistValue", "kvlist_value"},
    {"bytesValue", "bytes_value"}};

// ArrayValue and KeyValueList both hold a single `values` field.
enum class ValuesField { kValues, kUnknown };
constexpr FieldName kValuesFields[] = {{"values", "values"}};

constexpr std::string_view kSpanKindNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                               "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                               "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
constexpr std::string_view kStatusCodeNames[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                 "STATUS_CODE_ERROR"};

// ---------------------------------------------------------------------------------------
// IDs are hex of either case. Problems are not errors: they make the span rejected.

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

template <size_t N>
bool IsAllZero(const std::array<uint8_t, N>& id) {
  for (uint8_t b : id) {
    if (b != 0) return false;
  }
  return true;
}

// Decodes `hex` into `out`; returns an empty string, or why `hex` is not an N-byte ID.
template <size_t N>
std::string DecodeId(std::string_view hex, std::string_view field, std::array<uint8_t, N>& out) {
  if (hex.size() == 2 * N && HexDecode(hex, reinterpret_cast<char*>(out.data()))) return {};
  if (hex.size() % 2 != 0 || !IsHex(hex)) return absl::StrCat(AbslView(field), " is not valid hex");
  return absl::StrCat(AbslView(field), " must be ", N, " bytes, got ", hex.size() / 2);
}

// Sizes of the batch's vectors, to roll back everything appended for a span, scope or
// resource that ends up left out.
struct Marks {
  size_t scopes;
  size_t spans;
  size_t events;
  size_t links;
  size_t attributes;
  size_t array_values;
  size_t kvlist_values;
};

struct DecodedLink {
  Link link;
  std::string problem;  // why the link's IDs are invalid; empty if they are valid
};

struct DecodedStatus {
  std::string_view message;
  int32_t code = 0;
};

// Walks a parsed DOM and appends to one DecodedRequest. Not thread-safe; one per request.
//
// Each Decode* function reads one JSON object. Functions that return a message leave its
// place in the batch to the caller; lists are appended to the batch's vectors as they are
// read, which keeps every list contiguous because no two lists of one vector are ever
// read at the same time (nested values go to array_values and kvlist_values, whose
// children are placed in slots reserved before the children are read).
class JsonDecoder {
 public:
  explicit JsonDecoder(DecodedRequest& out) : out_(out), batch_(out.batch) {}

  absl::Status DecodeRequest(JsonObject obj);

 private:
  absl::Status DecodeResourceSpans(JsonObject obj);
  absl::StatusOr<Resource> DecodeResource(JsonObject obj);
  absl::Status DecodeScopeSpans(JsonObject obj, uint32_t resource_index);
  absl::StatusOr<Scope> DecodeScope(JsonObject obj);
  absl::Status DecodeSpan(JsonObject obj, uint32_t scope_index);
  absl::StatusOr<Event> DecodeEvent(JsonObject obj);
  absl::StatusOr<DecodedLink> DecodeLink(JsonObject obj);
  absl::StatusOr<DecodedStatus> DecodeStatus(JsonObject obj);
  // Appends a list of KeyValue objects to batch_.attributes.
  absl::StatusOr<Range> DecodeAttributes(JsonElement e, std::string_view field);
  absl::StatusOr<KeyValue> DecodeKeyValue(JsonObject obj, int depth);
  absl::StatusOr<AnyValue> DecodeAnyValue(JsonObject obj, int depth);
  absl::StatusOr<Range> DecodeArrayValue(JsonObject obj, int depth);
  absl::StatusOr<Range> DecodeKvlistValue(JsonObject obj, int depth);

  // Calls fn(JsonObject) for each element of the array `e`; null elements are skipped.
  template <typename Fn>
  absl::Status ForEachObject(JsonElement e, std::string_view field, Fn&& fn);

  // A string copied into the batch's arena.
  absl::StatusOr<std::string_view> ReadString(JsonElement e, std::string_view field) {
    ASSIGN_OR_RETURN(const std::string_view s, ReadStringView(e, field));
    return batch_.arena().Copy(s);
  }
  // Base64, decoded into the batch's arena.
  absl::StatusOr<std::string_view> ReadBytes(JsonElement e, std::string_view field);
  std::string_view InternKey(std::string_view key);

  Marks Mark() const {
    return {batch_.scopes.size(),       batch_.spans.size(),      batch_.events.size(),
            batch_.links.size(),        batch_.attributes.size(), batch_.array_values.size(),
            batch_.kvlist_values.size()};
  }
  void Rollback(const Marks& m) {
    batch_.scopes.resize(m.scopes);
    batch_.spans.resize(m.spans);
    batch_.events.resize(m.events);
    batch_.links.resize(m.links);
    batch_.attributes.resize(m.attributes);
    batch_.array_values.resize(m.array_values);
    batch_.kvlist_values.resize(m.kvlist_values);
  }

  DecodedRequest& out_;
  SpanBatch& batch_;
  uint32_t span_number_ = 0;  // spans seen so far, valid or not: names them in messages
  // Attribute keys already copied: a view of the parser's copy of the input (which
  // outlives the decoder) to the arena copy.
  absl::flat_hash_map<absl::string_view, std::string_view> keys_;
};

template <typename Fn>
absl::Status JsonDecoder::ForEachObject(JsonElement e, std::string_view field, Fn&& fn) {
  if (e.type() != JsonType::ARRAY) return TypeError(field, "array", e);
  size_t i = 0;
  for (JsonElement item : AsArray(e)) {
    if (item.type() == JsonType::OBJECT) {
      absl::Status status = fn(AsObject(item));
      if (!status.ok()) return Nested(status, IndexPath(field, i));
    } else if (item.type() != JsonType::NULL_VALUE) {
      return TypeError(IndexPath(field, i), "object", item);
    }
    ++i;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> JsonDecoder::ReadBytes(JsonElement e, std::string_view field) {
  ASSIGN_OR_RETURN(const std::string_view b64, ReadStringView(e, field));
  std::optional<std::string> bytes = Base64Decode(b64);
  if (!bytes.has_value()) return ValueError(field, "invalid base64", b64);
  return batch_.arena().Copy(*bytes);
}

std::string_view JsonDecoder::InternKey(std::string_view key) {
  if (auto it = keys_.find(AbslView(key)); it != keys_.end()) return it->second;
  const std::string_view copy = batch_.arena().Copy(key);
  if (keys_.size() < kMaxInternedKeys) keys_.emplace(AbslView(key), copy);
  return copy;
}

absl::Status JsonDecoder::DecodeRequest(JsonObject obj) {
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<RequestField>(kRequestFields, field.key);
    if (f == RequestField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kRequestFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    RETURN_IF_ERROR(
        ForEachObject(field.value, name, [&](JsonObject o) { return DecodeResourceSpans(o); }));
  }
  return absl::OkStatus();
}

absl::Status JsonDecoder::DecodeResourceSpans(JsonObject obj) {
  const auto resource_index = static_cast<uint32_t>(batch_.resources.size());
  const Marks marks = Mark();
  Resource resource;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ResourceSpansField>(kResourceSpansFields, field.key);
    if (f == ResourceSpansField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kResourceSpansFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case ResourceSpansField::kResource: {
        ASSIGN_OR_RETURN(const JsonObject o, ReadObject(field.value, name));
        absl::StatusOr<Resource> r = DecodeResource(o);
        if (!r.ok()) return Nested(r.status(), name);
        resource.attributes = r->attributes;
        resource.dropped_attributes_count = r->dropped_attributes_count;
        break;
      }
      case ResourceSpansField::kScopeSpans:
        RETURN_IF_ERROR(ForEachObject(
            field.value, name, [&](JsonObject o) { return DecodeScopeSpans(o, resource_index); }));
        break;
      case ResourceSpansField::kSchemaUrl: {
        ASSIGN_OR_RETURN(resource.schema_url, ReadString(field.value, name));
        break;
      }
      case ResourceSpansField::kUnknown:
        break;
    }
  }
  // A resource is kept only with at least one valid span. Only this function pushes
  // resources, so resource_index is the index it gets.
  if (batch_.spans.size() == marks.spans) {
    Rollback(marks);
  } else {
    batch_.resources.push_back(resource);
  }
  return absl::OkStatus();
}

absl::StatusOr<Resource> JsonDecoder::DecodeResource(JsonObject obj) {
  Resource resource;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ResourceField>(kResourceFields, field.key);
    if (f == ResourceField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kResourceFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case ResourceField::kAttributes: {
        ASSIGN_OR_RETURN(resource.attributes, DecodeAttributes(field.value, name));
        break;
      }
      case ResourceField::kDroppedAttributesCount: {
        ASSIGN_OR_RETURN(resource.dropped_attributes_count, ReadUint32(field.value, name));
        break;
      }
      case ResourceField::kUnknown:
        break;
    }
  }
  return resource;
}

absl::Status JsonDecoder::DecodeScopeSpans(JsonObject obj, uint32_t resource_index) {
  const auto scope_index = static_cast<uint32_t>(batch_.scopes.size());
  const Marks marks = Mark();
  Scope scope;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ScopeSpansField>(kScopeSpansFields, field.key);
    if (f == ScopeSpansField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kScopeSpansFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case ScopeSpansField::kScope: {
        ASSIGN_OR_RETURN(const JsonObject o, ReadObject(field.value, name));
        absl::StatusOr<Scope> decoded = DecodeScope(o);
        if (!decoded.ok()) return Nested(decoded.status(), name);
        const std::string_view schema_url = scope.schema_url;
        scope = *decoded;
        scope.schema_url = schema_url;
        break;
      }
      case ScopeSpansField::kSpans:
        RETURN_IF_ERROR(ForEachObject(field.value, name,
                                      [&](JsonObject o) { return DecodeSpan(o, scope_index); }));
        break;
      case ScopeSpansField::kSchemaUrl: {
        ASSIGN_OR_RETURN(scope.schema_url, ReadString(field.value, name));
        break;
      }
      case ScopeSpansField::kUnknown:
        break;
    }
  }
  scope.resource_index = resource_index;
  // Only this function pushes scopes, so scope_index is the index this scope gets.
  if (batch_.spans.size() == marks.spans) {
    Rollback(marks);
  } else {
    batch_.scopes.push_back(scope);
  }
  return absl::OkStatus();
}

absl::StatusOr<Scope> JsonDecoder::DecodeScope(JsonObject obj) {
  Scope scope;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ScopeField>(kScopeFields, field.key);
    if (f == ScopeField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kScopeFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case ScopeField::kName: {
        ASSIGN_OR_RETURN(scope.name, ReadString(field.value, name));
        break;
      }
      case ScopeField::kVersion: {
        ASSIGN_OR_RETURN(scope.version, ReadString(field.value, name));
        break;
      }
      case ScopeField::kAttributes: {
        ASSIGN_OR_RETURN(scope.attributes, DecodeAttributes(field.value, name));
        break;
      }
      case ScopeField::kDroppedAttributesCount: {
        ASSIGN_OR_RETURN(scope.dropped_attributes_count, ReadUint32(field.value, name));
        break;
      }
      case ScopeField::kUnknown:
        break;
    }
  }
  return scope;
}

absl::Status JsonDecoder::DecodeSpan(JsonObject obj, uint32_t scope_index) {
  const uint32_t number = span_number_++;
  const Marks marks = Mark();
  Span span;
  span.scope_index = scope_index;
  std::string_view trace_id, span_id, parent_span_id;
  std::string link_problem;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<SpanField>(kSpanFields, field.key);
    if (f == SpanField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kSpanFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    const JsonElement v = field.value;
    switch (f) {
      case SpanField::kTraceId: {
        ASSIGN_OR_RETURN(trace_id, ReadStringView(v, name));
        break;
      }
      case SpanField::kSpanId: {
        ASSIGN_OR_RETURN(span_id, ReadStringView(v, name));
        break;
      }
      case SpanField::kParentSpanId: {
        ASSIGN_OR_RETURN(parent_span_id, ReadStringView(v, name));
        break;
      }
      case SpanField::kName: {
        ASSIGN_OR_RETURN(span.name, ReadString(v, name));
        break;
      }
      case SpanField::kKind: {
        ASSIGN_OR_RETURN(span.kind, ReadEnum(v, name, kSpanKindNames));
        break;
      }
      case SpanField::kStartTimeUnixNano: {
        ASSIGN_OR_RETURN(span.start_time_unix_nano, ReadUint64(v, name));
        break;
      }
      case SpanField::kEndTimeUnixNano: {
        ASSIGN_OR_RETURN(span.end_time_unix_nano, ReadUint64(v, name));
        break;
      }
      case SpanField::kAttributes: {
        ASSIGN_OR_RETURN(span.attributes, DecodeAttributes(v, name));
        break;
      }
      case SpanField::kStatus: {
        ASSIGN_OR_RETURN(const JsonObject o, ReadObject(v, name));
        absl::StatusOr<DecodedStatus> status = DecodeStatus(o);
        if (!status.ok()) return Nested(status.status(), name);
        span.status_message = status->message;
        span.status_code = status->code;
        break;
      }
      case SpanField::kFlags: {
        ASSIGN_OR_RETURN(span.flags, ReadUint32(v, name));
        break;
      }
      case SpanField::kTraceState: {
        ASSIGN_OR_RETURN(span.trace_state, ReadString(v, name));
        break;
      }
      case SpanField::kEvents: {
        const auto begin = static_cast<uint32_t>(batch_.events.size());
        RETURN_IF_ERROR(ForEachObject(v, name, [&](JsonObject o) -> absl::Status {
          ASSIGN_OR_RETURN(const Event event, DecodeEvent(o));
          batch_.events.push_back(event);
          return absl::OkStatus();
        }));
        span.events = {begin, static_cast<uint32_t>(batch_.events.size())};
        break;
      }
      case SpanField::kLinks: {
        const auto begin = static_cast<uint32_t>(batch_.links.size());
        RETURN_IF_ERROR(ForEachObject(v, name, [&](JsonObject o) -> absl::Status {
          ASSIGN_OR_RETURN(DecodedLink decoded, DecodeLink(o));
          if (!decoded.problem.empty() && link_problem.empty()) {
            link_problem =
                absl::StrCat("link ", batch_.links.size() - begin, ": ", decoded.problem);
          }
          batch_.links.push_back(decoded.link);
          return absl::OkStatus();
        }));
        span.links = {begin, static_cast<uint32_t>(batch_.links.size())};
        break;
      }
      case SpanField::kDroppedAttributesCount: {
        ASSIGN_OR_RETURN(span.dropped_attributes_count, ReadUint32(v, name));
        break;
      }
      case SpanField::kDroppedEventsCount: {
        ASSIGN_OR_RETURN(span.dropped_events_count, ReadUint32(v, name));
        break;
      }
      case SpanField::kDroppedLinksCount: {
        ASSIGN_OR_RETURN(span.dropped_links_count, ReadUint32(v, name));
        break;
      }
      case SpanField::kUnknown:
        break;
    }
  }

  // Checked after the whole span so the reason does not depend on the order of the keys.
  std::string problem = DecodeId(trace_id, "trace_id", span.trace_id);
  if (problem.empty() && IsAllZero(span.trace_id)) problem = "trace_id must not be all zero";
  if (problem.empty()) problem = DecodeId(span_id, "span_id", span.span_id);
  if (problem.empty() && IsAllZero(span.span_id)) problem = "span_id must not be all zero";
  if (problem.empty() && !parent_span_id.empty()) {
    if (parent_span_id.size() == 16 || parent_span_id.size() % 2 != 0 || !IsHex(parent_span_id)) {
      problem = DecodeId(parent_span_id, "parent_span_id", span.parent_span_id);
    } else {
      problem =
          absl::StrCat("parent_span_id must be empty or 8 bytes, got ", parent_span_id.size() / 2);
    }
    span.has_parent = problem.empty();
  }
  if (problem.empty()) problem = std::move(link_problem);
  if (!problem.empty()) {
    Rollback(marks);
    if (out_.rejected_spans++ == 0) {
      out_.rejection_message = absl::StrCat("span ", number, ": ", problem);
    }
    return absl::OkStatus();
  }
  batch_.spans.push_back(span);
  return absl::OkStatus();
}

absl::StatusOr<Event> JsonDecoder::DecodeEvent(JsonObject obj) {
  Event event;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<EventField>(kEventFields, field.key);
    if (f == EventField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kEventFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case EventField::kTimeUnixNano: {
        ASSIGN_OR_RETURN(event.time_unix_nano, ReadUint64(field.value, name));
        break;
      }
      case EventField::kName: {
        ASSIGN_OR_RETURN(event.name, ReadString(field.value, name));
        break;
      }
      case EventField::kAttributes: {
        ASSIGN_OR_RETURN(event.attributes, DecodeAttributes(field.value, name));
        break;
      }
      case EventField::kDroppedAttributesCount: {
        ASSIGN_OR_RETURN(event.dropped_attributes_count, ReadUint32(field.value, name));
        break;
      }
      case EventField::kUnknown:
        break;
    }
  }
  return event;
}

absl::StatusOr<DecodedLink> JsonDecoder::DecodeLink(JsonObject obj) {
  DecodedLink out;
  Link& link = out.link;
  std::string_view trace_id, span_id;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<LinkField>(kLinkFields, field.key);
    if (f == LinkField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kLinkFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case LinkField::kTraceId: {
        ASSIGN_OR_RETURN(trace_id, ReadStringView(field.value, name));
        break;
      }
      case LinkField::kSpanId: {
        ASSIGN_OR_RETURN(span_id, ReadStringView(field.value, name));
        break;
      }
      case LinkField::kTraceState: {
        ASSIGN_OR_RETURN(link.trace_state, ReadString(field.value, name));
        break;
      }
      case LinkField::kAttributes: {
        ASSIGN_OR_RETURN(link.attributes, DecodeAttributes(field.value, name));
        break;
      }
      case LinkField::kDroppedAttributesCount: {
        ASSIGN_OR_RETURN(link.dropped_attributes_count, ReadUint32(field.value, name));
        break;
      }
      case LinkField::kFlags: {
        ASSIGN_OR_RETURN(link.flags, ReadUint32(field.value, name));
        break;
      }
      case LinkField::kUnknown:
        break;
    }
  }
  out.problem = DecodeId(trace_id, "trace_id", link.trace_id);
  if (out.problem.empty()) out.problem = DecodeId(span_id, "span_id", link.span_id);
  return out;
}

absl::StatusOr<DecodedStatus> JsonDecoder::DecodeStatus(JsonObject obj) {
  DecodedStatus status;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<StatusField>(kStatusFields, field.key);
    if (f == StatusField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kStatusFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    switch (f) {
      case StatusField::kMessage: {
        ASSIGN_OR_RETURN(status.message, ReadString(field.value, name));
        break;
      }
      case StatusField::kCode: {
        ASSIGN_OR_RETURN(status.code, ReadEnum(field.value, name, kStatusCodeNames));
        break;
      }
      case StatusField::kUnknown:
        break;
    }
  }
  return status;
}

absl::StatusOr<Range> JsonDecoder::DecodeAttributes(JsonElement e, std::string_view field) {
  const auto begin = static_cast<uint32_t>(batch_.attributes.size());
  RETURN_IF_ERROR(ForEachObject(e, field, [&](JsonObject o) -> absl::Status {
    ASSIGN_OR_RETURN(const KeyValue kv, DecodeKeyValue(o, 1));
    batch_.attributes.push_back(kv);
    return absl::OkStatus();
  }));
  return Range{begin, static_cast<uint32_t>(batch_.attributes.size())};
}

absl::StatusOr<KeyValue> JsonDecoder::DecodeKeyValue(JsonObject obj, int depth) {
  KeyValue kv;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<KeyValueField>(kKeyValueFields, field.key);
    if (f == KeyValueField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kKeyValueFields, f);
    if (!seen.FirstTime(f)) return DuplicateError(name);
    if (f == KeyValueField::kKey) {
      ASSIGN_OR_RETURN(const std::string_view key, ReadStringView(field.value, name));
      kv.key = InternKey(key);
    } else {
      ASSIGN_OR_RETURN(const JsonObject o, ReadObject(field.value, name));
      absl::StatusOr<AnyValue> value = DecodeAnyValue(o, depth);
      if (!value.ok()) return Nested(value.status(), name);
      kv.value = *value;
    }
  }
  return kv;
}

absl::StatusOr<AnyValue> JsonDecoder::DecodeAnyValue(JsonObject obj, int depth) {
  AnyValue value;
  for (auto field : obj) {
    const auto f = FindField<AnyValueField>(kAnyValueFields, field.key);
    if (f == AnyValueField::kUnknown || field.value.is_null()) continue;
    const std::string_view name = NameOf(kAnyValueFields, f);
    if (value.type != ValueType::kNone) return FieldError(name, "a value is already set");
    const JsonElement v = field.value;
    switch (f) {
      case AnyValueField::kStringValue: {
        ASSIGN_OR_RETURN(value.str, ReadString(v, name));
        value.type = ValueType::kString;
        break;
      }
      case AnyValueField::kIntValue: {
        ASSIGN_OR_RETURN(value.int_value, ReadInt64(v, name));
        value.type = ValueType::kInt;
        break;
      }
      case AnyValueField::kBoolValue: {
        ASSIGN_OR_RETURN(value.bool_value, ReadBool(v, name));
        value.type = ValueType::kBool;
        break;
      }
      case AnyValueField::kDoubleValue: {
        ASSIGN_OR_RETURN(value.double_value, ReadDouble(v, name));
        value.type = ValueType::kDouble;
        break;
      }
      case AnyValueField::kBytesValue: {
        ASSIGN_OR_RETURN(value.str, ReadBytes(v, name));
        value.type = ValueType::kBytes;
        break;
      }
      case AnyValueField::kArrayValue:
      case AnyValueField::kKvlistValue: {
        ASSIGN_OR_RETURN(const JsonObject o, ReadObject(v, name));
        if (depth >= kMaxValueDepth) {
          return FieldError(name,
                            absl::StrCat("values nested deeper than ", kMaxValueDepth, " levels"));
        }
        const bool is_array = f == AnyValueField::kArrayValue;
        absl::StatusOr<Range> children =
            is_array ? DecodeArrayValue(o, depth) : DecodeKvlistValue(o, depth);
        if (!children.ok()) return Nested(children.status(), name);
        value.children = *children;
        value.type = is_array ? ValueType::kArray : ValueType::kKvList;
        break;
      }
      case AnyValueField::kUnknown:
        break;
    }
  }
  return value;
}

absl::StatusOr<Range> JsonDecoder::DecodeArrayValue(JsonObject obj, int depth) {
  Range children;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ValuesField>(kValuesFields, field.key);
    if (f == ValuesField::kUnknown || field.value.is_null()) continue;
    if (!seen.FirstTime(f)) return DuplicateError("values");
    if (field.value.type() != JsonType::ARRAY) return TypeError("values", "array", field.value);
    const JsonArray items = AsArray(field.value);
    size_t count = 0;
    for (JsonElement item : items) {
      if (item.type() != JsonType::OBJECT && item.type() != JsonType::NULL_VALUE) {
        return TypeError(IndexPath("values", count), "object", item);
      }
      ++count;
    }
    const auto begin = static_cast<uint32_t>(batch_.array_values.size());
    batch_.array_values.resize(begin + count);
    size_t i = 0;
    for (JsonElement item : items) {
      // A null element stays an AnyValue with nothing set, keeping the others' positions.
      if (item.type() == JsonType::OBJECT) {
        absl::StatusOr<AnyValue> child = DecodeAnyValue(AsObject(item), depth + 1);
        if (!child.ok()) return Nested(child.status(), IndexPath("values", i));
        batch_.array_values[begin + i] = *child;
      }
      ++i;
    }
    children = {begin, static_cast<uint32_t>(begin + count)};
  }
  return children;
}

absl::StatusOr<Range> JsonDecoder::DecodeKvlistValue(JsonObject obj, int depth) {
  Range children;
  SeenFields seen;
  for (auto field : obj) {
    const auto f = FindField<ValuesField>(kValuesFields, field.key);
    if (f == ValuesField::kUnknown || field.value.is_null()) continue;
    if (!seen.FirstTime(f)) return DuplicateError("values");
    if (field.value.type() != JsonType::ARRAY) return TypeError("values", "array", field.value);
    const JsonArray items = AsArray(field.value);
    size_t count = 0;
    size_t i = 0;
    for (JsonElement item : items) {
      if (item.type() == JsonType::OBJECT) {
        ++count;
      } else if (item.type() != JsonType::NULL_VALUE) {
        return TypeError(IndexPath("values", i), "object", item);
      }
      ++i;
    }
    const auto begin = static_cast<uint32_t>(batch_.kvlist_values.size());
    batch_.kvlist_values.resize(begin + count);
    size_t slot = 0;
    i = 0;
    for (JsonElement item : items) {
      if (item.type() == JsonType::OBJECT) {
        absl::StatusOr<KeyValue> child = DecodeKeyValue(AsObject(item), depth + 1);
        if (!child.ok()) return Nested(child.status(), IndexPath("values", i));
        batch_.kvlist_values[begin + slot++] = *child;
      }
      ++i;
    }
    children = {begin, static_cast<uint32_t>(begin + count)};
  }
  return children;
}

// One parser per thread: it keeps its buffers between requests, which makes parsing
// small requests much cheaper.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

absl::StatusOr<DecodedRequest> DecodeJsonRequest(std::string_view body) {
  simdjson::dom::parser& parser = ThreadParser();
  JsonElement root;
  if (simdjson::error_code error = parser.parse(body.data(), body.size()).get(root); error) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid OTLP/JSON: ", simdjson::error_message(error)));
  }
  if (root.type() != JsonType::OBJECT) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid OTLP/JSON: expected the request to be an object, got ",
                     AbslView(TypeName(root.type()))));
  }
  DecodedRequest out;
  absl::Status status;
  {
    JsonDecoder decoder(out);
    status = decoder.DecodeRequest(AsObject(root));
  }
  if (parser.capacity() > kMaxRetainedParserCapacity) parser = simdjson::dom::parser();
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid OTLP/JSON: ", status.message()));
  }
  return out;
}

}  // namespace strand::otlp
