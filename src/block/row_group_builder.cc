#include "block/row_group_builder.h"

#include <algorithm>
#include <cmath>

#include "block/byte_reader.h"
#include "block/value_codec.h"
#include "common/coding.h"

namespace strand::block {

using otlp::AnyValue;
using otlp::ValueType;

RowGroupBuilder::RowGroupBuilder(const BlockTablesBuilder& tables) : tables_(tables) {}

void RowGroupBuilder::BeginTrace(const otlp::TraceId& id) {
  trace_ids_.push_back(id);
  trace_span_counts_.push_back(0);
  trace_starts_.push_back(0);
  segment_empty_ = true;
}

void RowGroupBuilder::AddSpan(const otlp::SpanBatch& batch, const otlp::Span& span, uint32_t scope,
                              uint64_t parent_code) {
  ++span_count_;
  ++trace_span_counts_.back();
  const uint64_t start = span.start_time_unix_nano;
  if (segment_empty_) {
    trace_starts_.back() = start;
    segment_empty_ = false;
  } else {
    // Spans of a segment come in ascending start time (the writer sorts them).
    start_delta_.Add(start - prev_start_);
  }
  prev_start_ = start;
  const uint64_t end = span.end_time_unix_nano;
  duration_.Add(end - start);  // mod 2^64: round-trips any pair, small when end >= start

  span_id_.Add(otlp::IdBytes(span.span_id));
  parent_.Add(parent_code);
  if (parent_code == kParentExternal) parent_external_.Add(otlp::IdBytes(span.parent_span_id));
  name_.Add(span.name);
  kind_.Add(ZigZagEncode(span.kind));
  status_code_.Add(ZigZagEncode(span.status_code));
  status_message_.Add(span.status_message);
  flags_.Add(span.flags);
  trace_state_.Add(span.trace_state);
  scope_.Add(scope);
  dropped_attributes_.Add(span.dropped_attributes_count);
  dropped_events_.Add(span.dropped_events_count);
  dropped_links_.Add(span.dropped_links_count);
  attr_shape_.Add(AddAttributes(Owner::kSpan, batch, span.attributes));

  event_count_col_.Add(span.events.size());
  for (uint32_t i = span.events.begin; i < span.events.end; ++i) {
    const otlp::Event& e = batch.events[i];
    ++event_count_;
    event_time_.Add(e.time_unix_nano - start);  // mod 2^64, as the duration
    event_name_.Add(e.name);
    event_dropped_.Add(e.dropped_attributes_count);
    event_shape_.Add(AddAttributes(Owner::kEvent, batch, e.attributes));
    estimated_bytes_ += 16 + e.name.size();
  }
  link_count_col_.Add(span.links.size());
  for (uint32_t i = span.links.begin; i < span.links.end; ++i) {
    const otlp::Link& l = batch.links[i];
    ++link_count_;
    link_trace_id_.Add(otlp::IdBytes(l.trace_id));
    link_span_id_.Add(otlp::IdBytes(l.span_id));
    link_trace_state_.Add(l.trace_state);
    link_flags_.Add(l.flags);
    link_dropped_.Add(l.dropped_attributes_count);
    link_shape_.Add(AddAttributes(Owner::kLink, batch, l.attributes));
    estimated_bytes_ += 32 + l.trace_state.size();
  }
  estimated_bytes_ += 48 + span.name.size() + span.status_message.size() + span.trace_state.size();

  min_start_ = std::min(min_start_, start);
  max_start_ = std::max(max_start_, start);
  min_end_ = std::min(min_end_, end);
  max_end_ = std::max(max_end_, end);
  const uint64_t duration = end >= start ? end - start : 0;
  min_duration_ = std::min(min_duration_, duration);
  max_duration_ = std::max(max_duration_, duration);
  kinds_.insert(span.kind);
  status_codes_.insert(span.status_code);
  scopes_used_.insert(scope);
}

uint32_t RowGroupBuilder::AddAttributes(Owner owner, const otlp::SpanBatch& batch,
                                        otlp::Range range) {
  shape_scratch_.clear();
  for (uint32_t i = range.begin; i < range.end; ++i) {
    const otlp::KeyValue& kv = batch.attributes[i];
    key_scratch_.clear();
    key_scratch_.push_back(static_cast<char>(owner));
    key_scratch_.push_back(static_cast<char>(kv.value.type));
    key_scratch_.append(kv.key);
    auto it = attr_index_.find(key_scratch_);
    if (it == attr_index_.end()) {
      it = attr_index_.emplace(key_scratch_, static_cast<uint32_t>(attr_columns_.size())).first;
      AttrColumn column;
      column.owner = owner;
      column.type = kv.value.type;
      column.key = std::string(kv.key);
      attr_columns_.push_back(std::move(column));
    }
    shape_scratch_.push_back(it->second);
    AddValue(attr_columns_[it->second], batch, kv.value);
    estimated_bytes_ += 4;
  }
  auto [sit, inserted] =
      shape_index_.try_emplace(shape_scratch_, static_cast<uint32_t>(shapes_.size()));
  if (inserted) shapes_.push_back(shape_scratch_);
  return sit->second;
}

void RowGroupBuilder::AddValue(AttrColumn& c, const otlp::SpanBatch& batch, const AnyValue& v) {
  ++c.count;
  switch (v.type) {
    case ValueType::kNone:
      return;
    case ValueType::kString:
    case ValueType::kBytes:
      c.strings.Add(v.str);
      estimated_bytes_ += v.str.size();
      return;
    case ValueType::kArray:
    case ValueType::kKvList:
      value_scratch_.clear();
      EncodeValueBody(batch, v, &value_scratch_);
      c.strings.Add(value_scratch_);
      estimated_bytes_ += value_scratch_.size();
      return;
    case ValueType::kBool:
      c.data.push_back(v.bool_value ? 1 : 0);
      if (!c.has_range) {
        c.min_int = c.max_int = v.bool_value;
        c.has_range = true;
      }
      c.min_int = std::min<int64_t>(c.min_int, v.bool_value);
      c.max_int = std::max<int64_t>(c.max_int, v.bool_value);
      return;
    case ValueType::kInt:
      PutZigZag(&c.data, v.int_value);
      if (!c.has_range) {
        c.min_int = c.max_int = v.int_value;
        c.has_range = true;
      }
      c.min_int = std::min(c.min_int, v.int_value);
      c.max_int = std::max(c.max_int, v.int_value);
      return;
    case ValueType::kDouble:
      PutDouble(&c.data, v.double_value);
      if (std::isnan(v.double_value)) return;
      if (!c.has_range) {
        c.min_double = c.max_double = v.double_value;
        c.has_range = true;
      }
      c.min_double = std::min(c.min_double, v.double_value);
      c.max_double = std::max(c.max_double, v.double_value);
      return;
  }
}

// Lays out a row group's bytes: each column's page compressed and appended to
// `out.bytes`, its directory entry to the directory and its stored size to
// `out.column_sizes`, the directory last. A column's leading directory fields (its ID, and
// for attributes owner, type and key) go to directory() before its page is added.
class RowGroupBuilder::PageWriter {
 public:
  PageWriter(PageCompressor& compressor, Encoded& out) : compressor_(compressor), out_(out) {}

  std::string& directory() { return dir_; }
  void Add(std::string_view name, std::string_view page, uint64_t count) {
    const PageRef ref = compressor_.Append(page, &out_.bytes);
    PutVarint64(&dir_, count);
    PutVarint64(&dir_, ref.offset);
    PutVarint64(&dir_, ref.stored_size);
    PutVarint64(&dir_, ref.raw_size);
    dir_.push_back(static_cast<char>(ref.codec));
    PutFixed32(&dir_, ref.checksum);
    out_.column_sizes.emplace_back(std::string(name), ref.stored_size);
  }
  void Add(std::string_view name, const VarintColumn& c) { Add(name, c.data, c.count); }
  void Add(std::string_view name, const FixedColumn& c) { Add(name, c.data, c.count); }
  void Add(std::string_view name, const StringColumnBuilder& b) {
    raw_.clear();
    if (b.count() > 0) b.Encode(&raw_);
    Add(name, raw_, b.count());
  }
  // Appends the directory, complete now, as the row group's last page.
  void FinishDirectory() {
    out_.directory = compressor_.Append(dir_, &out_.bytes);
    out_.column_sizes.emplace_back("row_group.directory", out_.directory.stored_size);
  }

 private:
  PageCompressor& compressor_;
  Encoded& out_;
  std::string dir_;
  std::string raw_;  // an encoded string page
};

RowGroupBuilder::Encoded RowGroupBuilder::Finish(PageCompressor& compressor) {
  Encoded out;
  out.span_count = span_count_;
  out.trace_count = static_cast<uint32_t>(trace_ids_.size());
  out.first_trace = trace_ids_.front();
  out.last_trace = trace_ids_.back();
  const uint64_t base = min_start_;

  PageWriter pages(compressor, out);
  std::string& dir = pages.directory();
  PutVarint64(&dir, span_count_);
  PutVarint64(&dir, trace_ids_.size());
  PutVarint64(&dir, event_count_);
  PutVarint64(&dir, link_count_);
  PutFixed64(&dir, base);
  PutVarint64(&dir, kNumFixedColumns + attr_columns_.size());
  const TraceColumns traces = EncodeTraceColumns(base);
  for (const FixedColumnInfo& info : kFixedColumns) {
    PutVarint64(&dir, static_cast<uint32_t>(info.id));
    WriteFixedColumn(info, traces, pages);
  }
  WriteAttributeColumns(pages, out.stats);
  PutVarint64(&dir, shapes_.size());
  for (const std::vector<uint32_t>& shape : shapes_) {
    PutVarint64(&dir, shape.size());
    for (uint32_t c : shape) PutVarint64(&dir, kNumFixedColumns + c);
  }
  pages.FinishDirectory();
  FillStats(out.stats);
  return out;
}

RowGroupBuilder::TraceColumns RowGroupBuilder::EncodeTraceColumns(uint64_t base) const {
  TraceColumns traces;
  for (const otlp::TraceId& id : trace_ids_) traces.ids.Add(otlp::IdBytes(id));
  for (uint64_t n : trace_span_counts_) traces.span_counts.Add(n);
  for (uint64_t s : trace_starts_) traces.starts.Add(s - base);
  return traces;
}

void RowGroupBuilder::WriteFixedColumn(const FixedColumnInfo& info, const TraceColumns& traces,
                                       PageWriter& pages) const {
  const std::string_view name = info.name;
  switch (info.id) {
    case ColumnId::kTraceId:
      return pages.Add(name, traces.ids);
    case ColumnId::kTraceSpanCount:
      return pages.Add(name, traces.span_counts);
    case ColumnId::kTraceStart:
      return pages.Add(name, traces.starts);
    case ColumnId::kSpanId:
      return pages.Add(name, span_id_);
    case ColumnId::kSpanParent:
      return pages.Add(name, parent_);
    case ColumnId::kSpanParentExternal:
      return pages.Add(name, parent_external_);
    case ColumnId::kSpanStartDelta:
      return pages.Add(name, start_delta_);
    case ColumnId::kSpanDuration:
      return pages.Add(name, duration_);
    case ColumnId::kSpanName:
      return pages.Add(name, name_);
    case ColumnId::kSpanKind:
      return pages.Add(name, kind_);
    case ColumnId::kSpanStatusCode:
      return pages.Add(name, status_code_);
    case ColumnId::kSpanStatusMessage:
      return pages.Add(name, status_message_);
    case ColumnId::kSpanFlags:
      return pages.Add(name, flags_);
    case ColumnId::kSpanTraceState:
      return pages.Add(name, trace_state_);
    case ColumnId::kSpanScope:
      return pages.Add(name, scope_);
    case ColumnId::kSpanDroppedAttributes:
      return pages.Add(name, dropped_attributes_);
    case ColumnId::kSpanDroppedEvents:
      return pages.Add(name, dropped_events_);
    case ColumnId::kSpanDroppedLinks:
      return pages.Add(name, dropped_links_);
    case ColumnId::kSpanAttrShape:
      return pages.Add(name, attr_shape_);
    case ColumnId::kSpanEventCount:
      return pages.Add(name, event_count_col_);
    case ColumnId::kSpanLinkCount:
      return pages.Add(name, link_count_col_);
    case ColumnId::kEventTimeDelta:
      return pages.Add(name, event_time_);
    case ColumnId::kEventName:
      return pages.Add(name, event_name_);
    case ColumnId::kEventDroppedAttributes:
      return pages.Add(name, event_dropped_);
    case ColumnId::kEventAttrShape:
      return pages.Add(name, event_shape_);
    case ColumnId::kLinkTraceId:
      return pages.Add(name, link_trace_id_);
    case ColumnId::kLinkSpanId:
      return pages.Add(name, link_span_id_);
    case ColumnId::kLinkTraceState:
      return pages.Add(name, link_trace_state_);
    case ColumnId::kLinkFlags:
      return pages.Add(name, link_flags_);
    case ColumnId::kLinkDroppedAttributes:
      return pages.Add(name, link_dropped_);
    case ColumnId::kLinkAttrShape:
      return pages.Add(name, link_shape_);
    case ColumnId::kAttribute:
      return;
  }
}

void RowGroupBuilder::WriteAttributeColumns(PageWriter& pages, RowGroupStats& stats) const {
  std::string& dir = pages.directory();
  for (const AttrColumn& c : attr_columns_) {
    PutVarint64(&dir, static_cast<uint32_t>(ColumnId::kAttribute));
    dir.push_back(static_cast<char>(c.owner));
    dir.push_back(static_cast<char>(c.type));
    PutLengthPrefixed(&dir, c.key);
    const std::string name = AttributeColumnName(c.owner, c.key, c.type);
    if (EncodingOf(c.type) == ColumnEncoding::kStrings) {
      pages.Add(name, c.strings);
    } else {
      pages.Add(name, c.data, c.count);
    }
    AttributeColumnStats s;
    s.owner = c.owner;
    s.type = c.type;
    s.key = c.key;
    s.value_count = c.count;
    s.has_range = c.has_range;
    s.min_int = c.min_int;
    s.max_int = c.max_int;
    s.min_double = c.min_double;
    s.max_double = c.max_double;
    if (c.type == ValueType::kString) {
      std::vector<std::string_view> values = c.strings.SortedDistinct(kMaxStatsAttributeValues);
      s.values.complete = !values.empty() || c.count == 0;
      s.values.values.assign(values.begin(), values.end());
    }
    stats.columns.push_back(std::move(s));
  }
}

void RowGroupBuilder::FillStats(RowGroupStats& stats) const {
  stats.span_count = span_count_;
  stats.trace_count = trace_ids_.size();
  stats.min_start = min_start_;
  stats.max_start = max_start_;
  stats.min_end = min_end_;
  stats.max_end = max_end_;
  stats.min_duration = min_duration_;
  stats.max_duration = max_duration_;
  std::vector<std::string_view> names = name_.SortedDistinct(kMaxStatsDistinct);
  stats.span_names.complete = !names.empty();
  stats.span_names.values.assign(names.begin(), names.end());
  stats.kinds.assign(kinds_.begin(), kinds_.end());
  stats.status_codes.assign(status_codes_.begin(), status_codes_.end());
  std::set<std::string> services;
  std::set<std::string> resource_keys;
  for (uint32_t scope : scopes_used_) {
    const uint32_t resource = tables_.resource_of(scope);
    services.insert(tables_.service_name(resource));
    for (const std::string& k : tables_.resource_keys(resource)) resource_keys.insert(k);
  }
  auto fill = [](DistinctStrings& d, const std::set<std::string>& s) {
    d.complete = s.size() <= kMaxStatsDistinct;
    if (d.complete) d.values.assign(s.begin(), s.end());
  };
  fill(stats.service_names, services);
  fill(stats.resource_keys, resource_keys);
}

}  // namespace strand::block
