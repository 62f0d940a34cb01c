#include "otlp/json_encoder.h"

#include <charconv>
#include <cmath>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "common/json_writer.h"

namespace strand::otlp {
namespace {

namespace pb = ::opentelemetry::proto;

class Writer {
 public:
  explicit Writer(JsonIdSites* sites) : sites_(sites) {}

  std::string Take() { return std::move(out_); }

  void Request(const pb::collector::trace::v1::ExportTraceServiceRequest& request) {
    out_ += "{\"resourceSpans\":[";
    for (int i = 0; i < request.resource_spans_size(); ++i) {
      if (i > 0) out_ += ',';
      ResourceSpans(request.resource_spans(i));
    }
    out_ += "]}";
  }

 private:
  void ResourceSpans(const pb::trace::v1::ResourceSpans& rs) {
    out_ += '{';
    Separator sep(out_);
    if (rs.has_resource()) {
      sep.Key("resource");
      out_ += '{';
      Separator inner(out_);
      AttributesField(inner, rs.resource().attributes());
      CountField(inner, "droppedAttributesCount", rs.resource().dropped_attributes_count());
      out_ += '}';
    }
    if (rs.scope_spans_size() > 0) {
      sep.Key("scopeSpans");
      out_ += '[';
      for (int i = 0; i < rs.scope_spans_size(); ++i) {
        if (i > 0) out_ += ',';
        ScopeSpans(rs.scope_spans(i));
      }
      out_ += ']';
    }
    StringField(sep, "schemaUrl", rs.schema_url());
    out_ += '}';
  }

  void ScopeSpans(const pb::trace::v1::ScopeSpans& ss) {
    out_ += '{';
    Separator sep(out_);
    if (ss.has_scope()) {
      sep.Key("scope");
      out_ += '{';
      Separator inner(out_);
      StringField(inner, "name", ss.scope().name());
      StringField(inner, "version", ss.scope().version());
      AttributesField(inner, ss.scope().attributes());
      CountField(inner, "droppedAttributesCount", ss.scope().dropped_attributes_count());
      out_ += '}';
    }
    if (ss.spans_size() > 0) {
      sep.Key("spans");
      out_ += '[';
      for (int i = 0; i < ss.spans_size(); ++i) {
        if (i > 0) out_ += ',';
        Span(ss.spans(i));
      }
      out_ += ']';
    }
    StringField(sep, "schemaUrl", ss.schema_url());
    out_ += '}';
  }

  void Span(const pb::trace::v1::Span& s) {
    out_ += '{';
    Separator sep(out_);
    IdField(sep, "traceId", s.trace_id(), /*is_trace=*/true);
    IdField(sep, "spanId", s.span_id(), false);
    StringField(sep, "traceState", s.trace_state());
    IdField(sep, "parentSpanId", s.parent_span_id(), false);
    CountField(sep, "flags", s.flags());
    StringField(sep, "name", s.name());
    if (s.kind() != 0) {
      sep.Key("kind");
      absl::StrAppend(&out_, static_cast<int>(s.kind()));
    }
    TimeField(sep, "startTimeUnixNano", s.start_time_unix_nano());
    TimeField(sep, "endTimeUnixNano", s.end_time_unix_nano());
    AttributesField(sep, s.attributes());
    CountField(sep, "droppedAttributesCount", s.dropped_attributes_count());
    if (s.events_size() > 0) {
      sep.Key("events");
      out_ += '[';
      for (int i = 0; i < s.events_size(); ++i) {
        if (i > 0) out_ += ',';
        const auto& e = s.events(i);
        out_ += '{';
        Separator es(out_);
        TimeField(es, "timeUnixNano", e.time_unix_nano());
        StringField(es, "name", e.name());
        AttributesField(es, e.attributes());
        CountField(es, "droppedAttributesCount", e.dropped_attributes_count());
        out_ += '}';
      }
      out_ += ']';
    }
    CountField(sep, "droppedEventsCount", s.dropped_events_count());
    if (s.links_size() > 0) {
      sep.Key("links");
      out_ += '[';
      for (int i = 0; i < s.links_size(); ++i) {
        if (i > 0) out_ += ',';
        const auto& l = s.links(i);
        out_ += '{';
        Separator ls(out_);
        IdField(ls, "traceId", l.trace_id(), true);
        IdField(ls, "spanId", l.span_id(), false);
        StringField(ls, "traceState", l.trace_state());
        AttributesField(ls, l.attributes());
        CountField(ls, "droppedAttributesCount", l.dropped_attributes_count());
        CountField(ls, "flags", l.flags());
        out_ += '}';
      }
      out_ += ']';
    }
    CountField(sep, "droppedLinksCount", s.dropped_links_count());
    if (s.has_status() && (s.status().code() != 0 || !s.status().message().empty())) {
      sep.Key("status");
      out_ += '{';
      Separator st(out_);
      StringField(st, "message", s.status().message());
      if (s.status().code() != 0) {
        st.Key("code");
        absl::StrAppend(&out_, static_cast<int>(s.status().code()));
      }
      out_ += '}';
    }
    out_ += '}';
  }

  void Value(const pb::common::v1::AnyValue& v) {
    using pb::common::v1::AnyValue;
    out_ += '{';
    switch (v.value_case()) {
      case AnyValue::kStringValue:
        out_ += "\"stringValue\":";
        AppendJsonString(out_, v.string_value());
        break;
      case AnyValue::kBoolValue:
        out_ += v.bool_value() ? "\"boolValue\":true" : "\"boolValue\":false";
        break;
      case AnyValue::kIntValue:
        absl::StrAppend(&out_, "\"intValue\":\"", v.int_value(), "\"");
        break;
      case AnyValue::kDoubleValue: {
        out_ += "\"doubleValue\":";
        const double d = v.double_value();
        if (std::isfinite(d)) {
          char buf[32];
          auto r = std::to_chars(buf, buf + sizeof(buf), d);
          out_.append(buf, r.ptr);
        } else {
          out_ += std::isnan(d) ? "\"NaN\"" : (d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        }
        break;
      }
      case AnyValue::kArrayValue:
        out_ += "\"arrayValue\":{\"values\":[";
        for (int i = 0; i < v.array_value().values_size(); ++i) {
          if (i > 0) out_ += ',';
          Value(v.array_value().values(i));
        }
        out_ += "]}";
        break;
      case AnyValue::kKvlistValue:
        out_ += "\"kvlistValue\":{\"values\":[";
        for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
          if (i > 0) out_ += ',';
          KeyValue(v.kvlist_value().values(i));
        }
        out_ += "]}";
        break;
      case AnyValue::kBytesValue:
        out_ += "\"bytesValue\":";
        AppendJsonString(out_, Base64Encode(v.bytes_value()));
        break;
      case AnyValue::VALUE_NOT_SET:
        break;
    }
    out_ += '}';
  }

  void KeyValue(const pb::common::v1::KeyValue& kv) {
    out_ += "{\"key\":";
    AppendJsonString(out_, kv.key());
    out_ += ",\"value\":";
    Value(kv.value());
    out_ += '}';
  }

  // Writes commas between the fields of one object.
  class Separator {
   public:
    explicit Separator(std::string& out) : out_(out) {}
    void Key(std::string_view key) {
      if (!first_) out_ += ',';
      first_ = false;
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }

   private:
    std::string& out_;
    bool first_ = true;
  };

  void StringField(Separator& sep, std::string_view key, const std::string& value) {
    if (value.empty()) return;
    sep.Key(key);
    AppendJsonString(out_, value);
  }
  void CountField(Separator& sep, std::string_view key, uint32_t value) {
    if (value == 0) return;
    sep.Key(key);
    absl::StrAppend(&out_, value);
  }
  void TimeField(Separator& sep, std::string_view key, uint64_t value) {
    if (value == 0) return;
    sep.Key(key);
    out_ += '"';
    const size_t at = out_.size();
    absl::StrAppend(&out_, value);
    if (sites_ != nullptr && out_.size() - at == 19) sites_->times.push_back(at);
    out_ += '"';
  }
  void IdField(Separator& sep, std::string_view key, const std::string& id, bool is_trace) {
    if (id.empty()) return;
    sep.Key(key);
    out_ += '"';
    const size_t at = out_.size();
    out_ += HexEncode(id);
    if (sites_ != nullptr) {
      if (is_trace && id.size() == 16) sites_->trace_ids.push_back(at);
      if (!is_trace && id.size() == 8) sites_->span_ids.push_back(at);
    }
    out_ += '"';
  }
  void AttributesField(Separator& sep,
                       const google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>& kvs) {
    if (kvs.empty()) return;
    sep.Key("attributes");
    out_ += '[';
    for (int i = 0; i < kvs.size(); ++i) {
      if (i > 0) out_ += ',';
      KeyValue(kvs[i]);
    }
    out_ += ']';
  }

  std::string out_;
  JsonIdSites* sites_;
};

}  // namespace

std::string WriteOtlpJson(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
    JsonIdSites* sites) {
  Writer w(sites);
  w.Request(request);
  return w.Take();
}

absl::StatusOr<std::string> ProtoRequestToJson(std::string_view body) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::InvalidArgumentError("not a valid ExportTraceServiceRequest");
  }
  return WriteOtlpJson(request, nullptr);
}

}  // namespace strand::otlp
