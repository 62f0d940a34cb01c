// RowGroupBuilder: turns spans, in row order, into one encoded row group: a page per
// column, then the row group's directory (docs/format/block.md, "Row groups").
//
// Contract: the caller (BlockWriter) opens each trace segment with BeginTrace() and adds
// its spans in ascending start time; it decides the parent code of each span (a parent
// given by relative row must be in the same segment, at or before the span). Values are
// copied, so batches need not outlive AddSpan(). Finish() returns the encoded bytes, whose
// offsets are relative to the row group's start; a builder encodes one row group (make a
// new one for the next). Not thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "block/block_format.h"
#include "block/block_stats.h"
#include "block/block_tables_builder.h"
#include "block/page_codec.h"
#include "block/string_column_builder.h"
#include "common/coding.h"
#include "otlp/span_batch.h"

namespace strand::block {

class RowGroupBuilder {
 public:
  struct Encoded {
    std::string bytes;  // pages, then the directory
    PageRef directory;  // offset relative to the start of `bytes`
    uint32_t span_count = 0;
    uint32_t trace_count = 0;
    otlp::TraceId first_trace{};
    otlp::TraceId last_trace{};
    RowGroupStats stats;
    // Stored bytes per column name (meta.json's column_sizes), directory included.
    std::vector<std::pair<std::string, uint64_t>> column_sizes;
  };

  // `tables` resolves scope indexes for statistics; it must outlive the builder.
  explicit RowGroupBuilder(const BlockTablesBuilder& tables);

  void BeginTrace(const otlp::TraceId& id);
  // Adds `span` (of `batch`) to the current trace segment. `scope` is its block scope
  // index; `parent_code` a span.parent code (block_format.h).
  void AddSpan(const otlp::SpanBatch& batch, const otlp::Span& span, uint32_t scope,
               uint64_t parent_code);

  uint32_t span_count() const { return span_count_; }
  bool empty() const { return span_count_ == 0; }
  // Rough bytes held by the column buffers.
  uint64_t estimated_bytes() const { return estimated_bytes_; }

  // Encodes the row group. Call once, and not when empty().
  Encoded Finish(PageCompressor& compressor);

 private:
  struct VarintColumn {
    std::string data;
    uint64_t count = 0;
    void Add(uint64_t v) {
      PutVarint64(&data, v);
      ++count;
    }
  };
  struct FixedColumn {
    std::string data;
    uint64_t count = 0;
    void Add(std::string_view bytes) {
      data.append(bytes);
      ++count;
    }
  };
  struct AttrColumn {
    Owner owner = Owner::kSpan;
    otlp::ValueType type = otlp::ValueType::kNone;
    std::string key;
    uint64_t count = 0;
    std::string data;             // int, double, bool values
    StringColumnBuilder strings;  // string, bytes, array and kvlist values
    bool has_range = false;
    int64_t min_int = 0;
    int64_t max_int = 0;
    double min_double = 0;
    double max_double = 0;
  };

  class PageWriter;
  // One value per trace segment (starts relative to the row group's base time).
  struct TraceColumns {
    FixedColumn ids;
    VarintColumn span_counts;
    VarintColumn starts;
  };

  // Appends the attributes and returns the shape index.
  uint32_t AddAttributes(Owner owner, const otlp::SpanBatch& batch, otlp::Range range);
  void AddValue(AttrColumn& column, const otlp::SpanBatch& batch, const otlp::AnyValue& value);

  // Steps of Finish(). The trace segments' columns, encoded against `base`.
  TraceColumns EncodeTraceColumns(uint64_t base) const;
  // Adds fixed column `info`'s page (its ID is in the directory already).
  void WriteFixedColumn(const FixedColumnInfo& info, const TraceColumns& traces,
                        PageWriter& pages) const;
  // Adds each attribute column's directory entry and page, and its statistics to `stats`.
  void WriteAttributeColumns(PageWriter& pages, RowGroupStats& stats) const;
  // The row group's statistics other than the attribute columns'.
  void FillStats(RowGroupStats& stats) const;

  const BlockTablesBuilder& tables_;

  uint32_t span_count_ = 0;
  uint64_t event_count_ = 0;
  uint64_t link_count_ = 0;
  uint64_t estimated_bytes_ = 0;

  // Trace segments.
  std::vector<otlp::TraceId> trace_ids_;
  std::vector<uint64_t> trace_span_counts_;
  std::vector<uint64_t> trace_starts_;  // absolute; encoded relative to the base time
  uint64_t prev_start_ = 0;
  bool segment_empty_ = true;

  // Span columns.
  FixedColumn span_id_;
  VarintColumn parent_;
  FixedColumn parent_external_;
  VarintColumn start_delta_;
  VarintColumn duration_;
  StringColumnBuilder name_;
  VarintColumn kind_;
  VarintColumn status_code_;
  StringColumnBuilder status_message_;
  VarintColumn flags_;
  StringColumnBuilder trace_state_;
  VarintColumn scope_;
  VarintColumn dropped_attributes_;
  VarintColumn dropped_events_;
  VarintColumn dropped_links_;
  VarintColumn attr_shape_;
  VarintColumn event_count_col_;
  VarintColumn link_count_col_;
  // Event columns.
  VarintColumn event_time_;
  StringColumnBuilder event_name_;
  VarintColumn event_dropped_;
  VarintColumn event_shape_;
  // Link columns.
  FixedColumn link_trace_id_;
  FixedColumn link_span_id_;
  StringColumnBuilder link_trace_state_;
  VarintColumn link_flags_;
  VarintColumn link_dropped_;
  VarintColumn link_shape_;

  // Attribute columns, keyed by owner byte + type byte + key.
  std::vector<AttrColumn> attr_columns_;
  absl::flat_hash_map<std::string, uint32_t> attr_index_;
  std::string key_scratch_;
  std::string value_scratch_;
  // Shapes: the ordered list of attribute columns a span, event or link has values in.
  std::vector<std::vector<uint32_t>> shapes_;
  absl::flat_hash_map<std::vector<uint32_t>, uint32_t> shape_index_;
  std::vector<uint32_t> shape_scratch_;

  // Statistics.
  uint64_t min_start_ = UINT64_MAX;
  uint64_t max_start_ = 0;
  uint64_t min_end_ = UINT64_MAX;
  uint64_t max_end_ = 0;
  uint64_t min_duration_ = UINT64_MAX;
  uint64_t max_duration_ = 0;
  std::set<int32_t> kinds_;
  std::set<int32_t> status_codes_;
  absl::flat_hash_set<uint32_t> scopes_used_;
};

}  // namespace strand::block
