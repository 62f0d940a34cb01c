// RowGroupDecoder: reads one row group of a block back into SpanBatch form
// (docs/format/block.md, "Row groups").
//
// Open() takes the row group's bytes as read from disk and validates the directory: its
// checksum, that every page lies inside the row group, that every fixed column of the
// version is present with the value count its level requires, and that shapes refer to
// attribute columns of one owner. Pages are checked (checksum) and decompressed on first
// use. Decoding validates every reference (parent rows, scopes, dictionary indexes,
// counts) and reports damage as DataLoss naming the file, the row group and its offset;
// decoding every trace also checks that each column is consumed exactly.
//
// Not thread-safe (it caches decompressed pages); cheap to create per lookup.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "block/block_footer.h"
#include "block/block_format.h"
#include "block/block_tables.h"
#include "block/page_codec.h"
#include "common/env.h"
#include "otlp/span_batch.h"

namespace strand::block {

class RowGroupDecoder {
 public:
  // `bytes` is the whole row group (info.size bytes from info.offset). `index` and
  // `path` only name it in errors.
  static absl::StatusOr<std::unique_ptr<RowGroupDecoder>> Open(std::string bytes,
                                                               const RowGroupInfo& info,
                                                               size_t index, std::string path,
                                                               uint64_t max_page_bytes,
                                                               bool verify_checksums = true);
  // The same, reading from `file` only the pages used (the directory now, each column page
  // on first use) instead of the whole row group. `file` must outlive the decoder.
  static absl::StatusOr<std::unique_ptr<RowGroupDecoder>> OpenLazy(const RandomAccessFile& file,
                                                                   const RowGroupInfo& info,
                                                                   size_t index, std::string path,
                                                                   uint64_t max_page_bytes,
                                                                   bool verify_checksums = true);
  ~RowGroupDecoder();

  // The trace segments of the row group (loaded and validated on first call).
  absl::Status LoadTraces();
  uint32_t num_traces() const { return info_.trace_count; }
  // After LoadTraces(): segment `i`'s trace ID and its rows.
  const otlp::TraceId& trace_id(uint32_t i) const { return trace_ids_[i]; }
  uint32_t first_row(uint32_t i) const { return first_rows_[i]; }
  uint32_t row_count(uint32_t i) const { return first_rows_[i + 1] - first_rows_[i]; }
  // After LoadTraces(): the segment holding `id`, if any.
  std::optional<uint32_t> FindTrace(const otlp::TraceId& id) const;

  // What DecodeTraces materializes; the default is everything.
  struct DecodeOptions {
    // Only these segments of [first, last) (indexed by segment number); null: all.
    const std::vector<char>* segments = nullptr;
    // Only span attributes with these keys (null: all), and events and links only when
    // asked for. Columns left out are not even decompressed.
    const std::vector<std::string>* span_attribute_keys = nullptr;
    bool events = true;
    bool links = true;
  };
  // After LoadTraces(): appends the spans of segments [first, last) to `out` in row order
  // (scopes and resources through `tables` and `map`, which belong to `out`). When the
  // range is every segment and `options` asks for everything, also checks that every
  // column was consumed exactly.
  absl::Status DecodeTraces(uint32_t first, uint32_t last, const BlockTables& tables,
                            BlockTables::BatchMap& map, otlp::SpanBatch& out,
                            const DecodeOptions& options);
  absl::Status DecodeTraces(uint32_t first, uint32_t last, const BlockTables& tables,
                            BlockTables::BatchMap& map, otlp::SpanBatch& out) {
    return DecodeTraces(first, last, tables, map, out, DecodeOptions());
  }
  // The start time of segment `i`'s first span (after LoadTraces()).
  uint64_t trace_start(uint32_t i) const { return trace_starts_[i]; }

  // Checks the checksum of every page and decompresses it.
  absl::Status VerifyPages();

  // Column access for search prefilters: only the pages asked for are decompressed.
  //
  // A per-span varint column (span.duration, span.kind, span.status_code, span.scope,
  // span.attr_shape, ...), one value per row; zigzag columns are returned undecoded.
  absl::StatusOr<std::vector<uint64_t>> SpanVarints(ColumnId id);
  // A per-span string column (span.name, span.status_message), one view per row into
  // the decompressed page (valid while the decoder lives).
  absl::StatusOr<std::vector<std::string_view>> SpanStrings(ColumnId id);
  // One value of an attribute column, without nested content (arrays and kvlists only
  // say their type).
  struct ColumnValue {
    otlp::ValueType type = otlp::ValueType::kNone;
    int64_t int_value = 0;
    double double_value = 0;
    bool bool_value = false;
    std::string_view str;  // string and bytes: a view into the page
  };
  // Calls `fn(row, value)` for every value of the span attribute `key` (every column of
  // that key, whatever its type), in row order.
  absl::Status ForEachSpanAttribute(std::string_view key,
                                    absl::FunctionRef<void(uint32_t, const ColumnValue&)> fn);

 private:
  struct Column;
  // The column cursors of one DecodeTraces call and its steps (row_group_decoder.cc).
  class TraceCursors;

  RowGroupDecoder() = default;
  static absl::StatusOr<std::unique_ptr<RowGroupDecoder>> Start(
      std::string bytes, const RandomAccessFile* file, const RowGroupInfo& info, size_t index,
      std::string path, uint64_t max_page_bytes, bool verify_checksums);
  absl::Status ParseDirectory();
  // The raw bytes of column `c`'s page.
  absl::StatusOr<std::string_view> Page(size_t c);
  absl::StatusOr<std::string_view> FixedPage(ColumnId id);
  absl::Status Error(std::string_view what) const;

  // The page's stored bytes (the whole row group when not lazy).
  absl::StatusOr<std::string_view> StoredPage(const PageRef& ref, std::string* lazy_storage);

  std::string bytes_;                       // the whole row group, unless lazy
  const RandomAccessFile* file_ = nullptr;  // lazy: pages are read from here
  std::vector<std::string> stored_;         // lazy: stored bytes of the pages read
  RowGroupInfo info_;
  size_t index_ = 0;
  std::string path_;
  uint64_t max_page_bytes_ = 0;
  bool verify_checksums_ = true;

  std::string directory_;  // raw directory bytes (views below point into it)
  uint64_t event_count_ = 0;
  uint64_t link_count_ = 0;
  uint64_t base_time_ = 0;
  std::vector<Column> columns_;
  std::vector<int> fixed_;  // ColumnId -> index in columns_, -1 if absent
  std::vector<std::vector<uint32_t>> shapes_;
  std::vector<uint8_t> shape_owner_;  // 0 for an empty shape

  std::vector<std::string> page_scratch_;
  std::vector<std::optional<std::string_view>> pages_;

  bool traces_loaded_ = false;
  std::vector<otlp::TraceId> trace_ids_;
  std::vector<uint32_t> first_rows_;  // num_traces() + 1 entries
  std::vector<uint64_t> trace_starts_;
};

}  // namespace strand::block
