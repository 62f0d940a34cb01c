#include "block/row_group_decoder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/memory/memory.h"
#include "block/block_format.h"
#include "block/byte_reader.h"
#include "block/column_cursors.h"
#include "block/string_column_reader.h"
#include "common/status_macros.h"

namespace strand::block {

using internal::AttrCursor;
using internal::FixedCursor;
using internal::FixedWidth;
using internal::StringCursor;
using internal::VarintCursor;
using otlp::AnyValue;
using otlp::SpanBatch;
using otlp::ValueType;

struct RowGroupDecoder::Column {
  uint32_t id = 0;
  Owner owner = Owner::kSpan;
  ValueType type = ValueType::kNone;
  std::string_view key;
  uint64_t count = 0;
  PageRef page;
  ColumnEncoding encoding = ColumnEncoding::kNone;
};

RowGroupDecoder::~RowGroupDecoder() = default;

absl::StatusOr<std::unique_ptr<RowGroupDecoder>> RowGroupDecoder::Open(
    std::string bytes, const RowGroupInfo& info, size_t index, std::string path,
    uint64_t max_page_bytes, bool verify_checksums) {
  return Start(std::move(bytes), nullptr, info, index, std::move(path), max_page_bytes,
               verify_checksums);
}

absl::StatusOr<std::unique_ptr<RowGroupDecoder>> RowGroupDecoder::OpenLazy(
    const RandomAccessFile& file, const RowGroupInfo& info, size_t index, std::string path,
    uint64_t max_page_bytes, bool verify_checksums) {
  return Start("", &file, info, index, std::move(path), max_page_bytes, verify_checksums);
}

absl::StatusOr<std::unique_ptr<RowGroupDecoder>> RowGroupDecoder::Start(
    std::string bytes, const RandomAccessFile* file, const RowGroupInfo& info, size_t index,
    std::string path, uint64_t max_page_bytes, bool verify_checksums) {
  auto d = absl::WrapUnique(new RowGroupDecoder());
  d->bytes_ = std::move(bytes);
  d->file_ = file;
  d->info_ = info;
  d->index_ = index;
  d->path_ = std::move(path);
  d->max_page_bytes_ = max_page_bytes;
  d->verify_checksums_ = verify_checksums;
  absl::Status status = d->ParseDirectory();
  if (!status.ok()) return status;
  return d;
}

absl::StatusOr<std::string_view> RowGroupDecoder::StoredPage(const PageRef& ref,
                                                             std::string* lazy_storage) {
  if (file_ == nullptr) return std::string_view(bytes_).substr(ref.offset, ref.stored_size);
  // Pages lie inside the row group (checked against the directory's offset when parsed).
  if (ref.stored_size > info_.size || ref.offset > info_.size - ref.stored_size) {
    return Error("a page lies outside its row group");
  }
  lazy_storage->resize(ref.stored_size);
  size_t got = 0;
  while (got < ref.stored_size) {
    absl::StatusOr<std::string_view> r =
        file_->Read(info_.offset + ref.offset + got,
                    std::span<char>(lazy_storage->data() + got, ref.stored_size - got));
    if (!r.ok()) return r.status();
    if (r->empty()) return Error("row group is truncated");
    if (r->data() != lazy_storage->data() + got) {
      std::memcpy(lazy_storage->data() + got, r->data(), r->size());
    }
    got += r->size();
  }
  return std::string_view(*lazy_storage);
}

absl::Status RowGroupDecoder::Error(std::string_view what) const {
  return Corruption(path_, info_.offset,
                    "row group " + std::to_string(index_) + ": " + std::string(what));
}

absl::Status RowGroupDecoder::ParseDirectory() {
  if (file_ == nullptr && bytes_.size() != info_.size) return Error("row group is truncated");
  const PageRef& ref = info_.directory;
  std::string directory_stored;
  absl::StatusOr<std::string_view> stored = StoredPage(ref, &directory_stored);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::string_view> raw =
      DecodePage(*stored, ref, path_, info_.offset + ref.offset, max_page_bytes_, &directory_,
                 verify_checksums_);
  if (!raw.ok()) return raw.status();
  if (raw->data() != directory_.data()) directory_ = std::string(*raw);

  ByteReader in(directory_);
  const uint64_t spans = in.Varint();
  const uint64_t traces = in.Varint();
  event_count_ = in.Varint();
  link_count_ = in.Varint();
  base_time_ = in.Fixed64();
  const uint64_t num_columns = in.Varint();
  if (!in.ok() || spans != info_.span_count || traces != info_.trace_count) {
    return Error("directory does not match the footer");
  }
  // A column entry takes at least 10 bytes (id, count, offset, sizes, codec, checksum).
  if (num_columns > in.remaining() / 10) return Error("bad column count");
  fixed_.assign(kMaxFixedColumnId + 1, -1);
  columns_.resize(num_columns);
  for (size_t i = 0; i < num_columns; ++i) {
    Column& c = columns_[i];
    c.id = in.Varint32();
    if (c.id == static_cast<uint32_t>(ColumnId::kAttribute)) {
      const uint8_t owner = in.U8();
      const uint8_t type = in.U8();
      c.key = in.LengthPrefixed();
      if (owner < 1 || owner > 3 || !IsValidValueType(type)) return Error("bad attribute column");
      c.owner = static_cast<Owner>(owner);
      c.type = static_cast<ValueType>(type);
      c.encoding = EncodingOf(c.type);
    }
    c.count = in.Varint();
    c.page.offset = in.Varint();
    c.page.stored_size = in.Varint();
    c.page.raw_size = in.Varint();
    const uint8_t codec = in.U8();
    c.page.checksum = in.Fixed32();
    if (!in.ok() || codec > 1) return Error("truncated column entry");
    c.page.codec = static_cast<Codec>(codec);
    if (c.page.stored_size > ref.offset || c.page.offset > ref.offset - c.page.stored_size) {
      return Error("page " + std::to_string(i) + " lies outside its row group");
    }
    if (c.id == static_cast<uint32_t>(ColumnId::kAttribute)) continue;
    const FixedColumnInfo* fixed = FindFixedColumn(c.id);
    if (fixed == nullptr) continue;  // a column this version does not know: ignored
    if (fixed_[c.id] >= 0) return Error("column " + std::string(fixed->name) + " twice");
    fixed_[c.id] = static_cast<int>(i);
    c.encoding = fixed->encoding;
    uint64_t expected = 0;
    switch (fixed->level) {
      case ColumnLevel::kTrace:
        expected = traces;
        break;
      case ColumnLevel::kSpan:
        expected = spans;
        break;
      case ColumnLevel::kEvent:
        expected = event_count_;
        break;
      case ColumnLevel::kLink:
        expected = link_count_;
        break;
      case ColumnLevel::kOther:
        expected =
            c.id == static_cast<uint32_t>(ColumnId::kSpanStartDelta) ? spans - traces : c.count;
        break;
    }
    if (c.count != expected) {
      return Error("column " + std::string(fixed->name) + " has the wrong number of values");
    }
  }
  for (const FixedColumnInfo& info : kFixedColumns) {
    if (fixed_[static_cast<uint32_t>(info.id)] < 0) {
      return Error("column " + std::string(info.name) + " is missing");
    }
  }
  // Value counts must fit the raw page (no allocation is sized by a count alone).
  for (const Column& c : columns_) {
    if (c.id != static_cast<uint32_t>(ColumnId::kAttribute) && FindFixedColumn(c.id) == nullptr) {
      continue;  // unknown: never read
    }
    const size_t width = FixedWidth(c.encoding);
    const bool fits = width > 0 ? c.page.raw_size == c.count * width && c.count < (1ull << 40)
                      : c.encoding == ColumnEncoding::kNone ? c.page.raw_size == 0
                                                            : c.count <= c.page.raw_size;
    if (!fits) return Error("a column's value count does not fit its page");
  }

  const uint64_t num_shapes = in.Varint();
  if (!in.ok() || num_shapes > in.remaining()) return Error("bad shape count");
  shapes_.resize(num_shapes);
  shape_owner_.assign(num_shapes, 0);
  for (size_t s = 0; s < num_shapes; ++s) {
    const uint64_t n = in.Varint();
    if (!in.ok() || n > in.remaining()) return Error("bad shape");
    shapes_[s].reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t c = in.Varint();
      if (!in.ok() || c >= columns_.size() ||
          columns_[c].id != static_cast<uint32_t>(ColumnId::kAttribute)) {
        return Error("shape refers to a column that is not an attribute column");
      }
      const auto owner = static_cast<uint8_t>(columns_[c].owner);
      if (shape_owner_[s] != 0 && shape_owner_[s] != owner) return Error("shape mixes owners");
      shape_owner_[s] = owner;
      shapes_[s].push_back(static_cast<uint32_t>(c));
    }
  }
  if (!in.empty()) return Error("trailing bytes in the directory");
  page_scratch_.resize(columns_.size());
  pages_.resize(columns_.size());
  if (file_ != nullptr) stored_.resize(columns_.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> RowGroupDecoder::Page(size_t c) {
  if (pages_[c].has_value()) return *pages_[c];
  const PageRef& ref = columns_[c].page;
  absl::StatusOr<std::string_view> stored =
      StoredPage(ref, file_ != nullptr ? &stored_[c] : nullptr);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::string_view> raw =
      DecodePage(*stored, ref, path_, info_.offset + ref.offset, max_page_bytes_, &page_scratch_[c],
                 verify_checksums_);
  if (raw.ok()) pages_[c] = *raw;
  return raw;
}

absl::StatusOr<std::string_view> RowGroupDecoder::FixedPage(ColumnId id) {
  return Page(static_cast<size_t>(fixed_[static_cast<uint32_t>(id)]));
}

absl::Status RowGroupDecoder::VerifyPages() {
  for (size_t c = 0; c < columns_.size(); ++c) {
    absl::StatusOr<std::string_view> page = Page(c);
    if (!page.ok()) return page.status();
  }
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::LoadTraces() {
  if (traces_loaded_) return absl::OkStatus();
  const uint32_t n = info_.trace_count;
  absl::StatusOr<std::string_view> ids = FixedPage(ColumnId::kTraceId);
  if (!ids.ok()) return ids.status();
  absl::StatusOr<std::string_view> counts = FixedPage(ColumnId::kTraceSpanCount);
  if (!counts.ok()) return counts.status();
  absl::StatusOr<std::string_view> starts = FixedPage(ColumnId::kTraceStart);
  if (!starts.ok()) return starts.status();

  // The footer's count is checksummed, not trusted: it must match the page before it sizes
  // anything.
  if (ids->size() != 16ull * n) return Error("the trace ID page does not hold trace_count IDs");
  trace_ids_.resize(n);
  first_rows_.resize(n + 1);
  trace_starts_.resize(n);
  VarintCursor count_cursor(*counts, n);
  VarintCursor start_cursor(*starts, n);
  uint64_t row = 0;
  for (uint32_t i = 0; i < n; ++i) {
    std::memcpy(trace_ids_[i].data(), ids->data() + 16 * i, 16);
    if (i > 0 && !(trace_ids_[i - 1] < trace_ids_[i])) {
      return Error("trace IDs are not in ascending order");
    }
    first_rows_[i] = static_cast<uint32_t>(row);
    const uint64_t count = count_cursor.Next();
    if (count == 0) return Error("a trace segment has no spans");
    row += count;
    if (row > info_.span_count) return Error("trace span counts exceed the row count");
    trace_starts_[i] = base_time_ + start_cursor.Next();
  }
  if (!count_cursor.Exhausted() || !start_cursor.Exhausted() || row != info_.span_count) {
    return Error("trace columns are inconsistent");
  }
  first_rows_[n] = static_cast<uint32_t>(row);
  if (trace_ids_.front() != info_.first_trace || trace_ids_.back() != info_.last_trace) {
    return Error("trace IDs do not match the footer's range");
  }
  traces_loaded_ = true;
  return absl::OkStatus();
}

std::optional<uint32_t> RowGroupDecoder::FindTrace(const otlp::TraceId& id) const {
  auto it = std::lower_bound(trace_ids_.begin(), trace_ids_.end(), id);
  if (it == trace_ids_.end() || *it != id) return std::nullopt;
  return static_cast<uint32_t>(it - trace_ids_.begin());
}

// The cursors of one DecodeTraces call, over the columns its options ask for (the pages
// of the others stay empty and are never read), and the steps that move them through the
// rows: SeekTo() the first segment, then for each segment either PassSegment() (not
// selected: the cursors catch up at the next FinishRun()) or FinishRun() and
// DecodeSegment(). A cursor that meets damage turns not-ok instead of reading past its
// page; DecodeSegment() reports that before the next segment. Holds views into the
// decoder's pages and `out`; lives for one call on its stack.
class RowGroupDecoder::TraceCursors {
 public:
  TraceCursors(RowGroupDecoder& rg, const DecodeOptions& options, const BlockTables& tables,
               BlockTables::BatchMap& map, SpanBatch& out)
      : rg_(rg), options_(options), tables_(tables), map_(map), out_(out) {}
  TraceCursors(const TraceCursors&) = delete;
  TraceCursors& operator=(const TraceCursors&) = delete;

  // Decompresses the pages of the wanted columns and opens a cursor on each.
  absl::Status Open();
  // Moves every cursor to the first row of segment `first`, checking the shapes and the
  // event and link counts of the rows before it.
  absl::Status SeekTo(uint32_t first);
  // Passes over segment `seg`: per row reads only the columns that say how far the others
  // move (parent code, shapes, event and link counts). False on damage.
  bool PassSegment(uint32_t seg);
  // Moves the other cursors past the segments passed over since the last call.
  // False on damage.
  bool FinishRun();
  // Appends the spans of segment `seg` to `out` (the cursors at its first row), then checks
  // that no cursor met damage, so a damaged column fails early instead of decoding garbage.
  absl::Status DecodeSegment(uint32_t seg);
  // After every row of the row group was decoded with nothing left out: that every column
  // was consumed exactly.
  absl::Status CheckExhausted() const;

 private:
  // Segments passed over whose values the cursors have not skipped yet.
  struct Run {
    uint64_t rows = 0, deltas = 0, externals = 0, events = 0, links = 0;
  };

  bool WantedAttribute(const Column& col) const;
  bool WantedFixed(uint32_t id) const;
  std::string_view FixedPageOf(ColumnId id) const {
    return page_[rg_.fixed_[static_cast<uint32_t>(id)]];
  }
  // The value count of a wanted fixed column; 0 for one left out.
  uint64_t FixedCountOf(ColumnId id) const {
    return WantedFixed(static_cast<uint32_t>(id))
               ? rg_.columns_[rg_.fixed_[static_cast<uint32_t>(id)]].count
               : 0;
  }
  absl::Status OpenAttributeCursors();
  // Per shape, the attribute cursors it moves (for passing segments over).
  void IndexShapeCursors();
  // Counts the values shape `s` takes from each projected attribute column into
  // attr_skip_. False if there is no such shape.
  inline ABSL_ATTRIBUTE_ALWAYS_INLINE bool CountAttributes(uint64_t s);
  // Skips the values of `rows` rows in the span columns that positioning does not read
  // (`externals` external parents, `deltas` start deltas); likewise for `n` events / links.
  void SkipSpanValues(uint64_t rows, uint64_t externals, uint64_t deltas);
  void SkipEventValues(uint64_t n);
  void SkipLinkValues(uint64_t n);

  // The per-row steps below are inline so that the split costs no call per span.
  //
  // Fills `s` from row `row` of segment `seg` (`start` moves to its start time), its
  // attributes appended to `out`.
  inline ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DecodeSpan(uint32_t seg, uint64_t row,
                                                              uint64_t& start, otlp::Span& s);
  // Append the span's events / links (of the span starting at `start`) to `out`.
  inline ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DecodeEvents(uint64_t start, otlp::Span& s);
  inline ABSL_ATTRIBUTE_ALWAYS_INLINE absl::Status DecodeLinks(otlp::Span& s);
  // Appends the attributes of shape `s` to out.attributes. False if the shape is out of
  // range, belongs to another owner or its values are damaged.
  inline ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadAttributes(uint64_t s, Owner owner,
                                                          otlp::Range* range);
  absl::Status CheckCursors() const;
  // The first cursor of a fixed column that fails `check`, as damage "a <kind> column
  // <what>".
  template <typename Check>
  absl::Status CheckFixedColumns(Check check, const char* what) const;

  // Every cursor of fixed columns, by kind (for the damage and exhaustion checks).
  std::array<const VarintCursor*, 19> VarintCursors() const {
    return {&parent_,      &start_delta_, &duration_,           &kind_,           &status_code_,
            &flags_,       &scope_,       &dropped_attributes_, &dropped_events_, &dropped_links_,
            &attr_shape_,  &event_count_, &link_count_,         &event_time_,     &event_dropped_,
            &event_shape_, &link_flags_,  &link_dropped_,       &link_shape_};
  }
  std::array<const FixedCursor*, 4> FixedCursors() const {
    return {&span_id_, &parent_external_, &link_trace_id_, &link_span_id_};
  }
  std::array<const StringCursor*, 5> StringCursors() const {
    return {&name_, &status_message_, &trace_state_, &event_name_, &link_trace_state_};
  }

  RowGroupDecoder& rg_;
  const DecodeOptions& options_;
  const BlockTables& tables_;
  BlockTables::BatchMap& map_;
  SpanBatch& out_;

  std::vector<std::string_view> page_;  // per column; empty when not wanted
  std::string_view span_ids_;           // the span ID page, for parents by relative row

  FixedCursor span_id_;
  VarintCursor parent_;
  FixedCursor parent_external_;
  VarintCursor start_delta_;
  VarintCursor duration_;
  StringCursor name_;
  VarintCursor kind_;
  VarintCursor status_code_;
  StringCursor status_message_;
  VarintCursor flags_;
  StringCursor trace_state_;
  VarintCursor scope_;
  VarintCursor dropped_attributes_;
  VarintCursor dropped_events_;
  VarintCursor dropped_links_;
  VarintCursor attr_shape_;
  VarintCursor event_count_;
  VarintCursor link_count_;
  VarintCursor event_time_;
  StringCursor event_name_;
  VarintCursor event_dropped_;
  VarintCursor event_shape_;
  FixedCursor link_trace_id_;
  FixedCursor link_span_id_;
  StringCursor link_trace_state_;
  VarintCursor link_flags_;
  VarintCursor link_dropped_;
  VarintCursor link_shape_;

  std::vector<AttrCursor> attrs_;    // the projected attribute columns
  std::vector<int> attr_of_column_;  // column -> index in attrs_; -1 if left out

  Run run_;
  std::vector<uint64_t> attr_skip_;              // per cursor in attrs_, values of the run
  std::vector<std::vector<int>> shape_cursors_;  // per shape (only with a segment selection)
  // Shapes matter for positioning only when some projected attribute column is in one;
  // event and link counts only when events / links are decoded. Otherwise their columns
  // skip a run at once like the rest.
  bool shapes_move_cursors_ = false;
};

bool RowGroupDecoder::TraceCursors::WantedAttribute(const Column& col) const {
  switch (col.owner) {
    case Owner::kSpan:
      return options_.span_attribute_keys == nullptr ||
             std::find(options_.span_attribute_keys->begin(), options_.span_attribute_keys->end(),
                       col.key) != options_.span_attribute_keys->end();
    case Owner::kEvent:
      return options_.events;
    case Owner::kLink:
      return options_.links;
  }
  return false;
}

bool RowGroupDecoder::TraceCursors::WantedFixed(uint32_t id) const {
  if (id >= static_cast<uint32_t>(ColumnId::kEventTimeDelta) &&
      id <= static_cast<uint32_t>(ColumnId::kEventAttrShape)) {
    return options_.events;
  }
  if (id >= static_cast<uint32_t>(ColumnId::kLinkTraceId) &&
      id <= static_cast<uint32_t>(ColumnId::kLinkAttrShape)) {
    return options_.links;
  }
  return true;
}

absl::Status RowGroupDecoder::TraceCursors::Open() {
  const std::vector<Column>& columns = rg_.columns_;
  page_.resize(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    const Column& col = columns[c];
    const bool attribute = col.id == static_cast<uint32_t>(ColumnId::kAttribute);
    if (attribute ? !WantedAttribute(col) : !WantedFixed(col.id)) continue;
    if (!attribute && FindFixedColumn(col.id) == nullptr) continue;
    ASSIGN_OR_RETURN(page_[c], rg_.Page(c));
  }
  span_ids_ = FixedPageOf(ColumnId::kSpanId);

  for (auto [cursor, id, width] :
       {std::tuple{&span_id_, ColumnId::kSpanId, size_t{8}},
        std::tuple{&parent_external_, ColumnId::kSpanParentExternal, size_t{8}},
        std::tuple{&link_trace_id_, ColumnId::kLinkTraceId, size_t{16}},
        std::tuple{&link_span_id_, ColumnId::kLinkSpanId, size_t{8}}}) {
    *cursor = FixedCursor(FixedPageOf(id), width, FixedCountOf(id));
  }
  for (auto [cursor, id] :
       {std::pair{&parent_, ColumnId::kSpanParent},
        std::pair{&start_delta_, ColumnId::kSpanStartDelta},
        std::pair{&duration_, ColumnId::kSpanDuration}, std::pair{&kind_, ColumnId::kSpanKind},
        std::pair{&status_code_, ColumnId::kSpanStatusCode},
        std::pair{&flags_, ColumnId::kSpanFlags}, std::pair{&scope_, ColumnId::kSpanScope},
        std::pair{&dropped_attributes_, ColumnId::kSpanDroppedAttributes},
        std::pair{&dropped_events_, ColumnId::kSpanDroppedEvents},
        std::pair{&dropped_links_, ColumnId::kSpanDroppedLinks},
        std::pair{&attr_shape_, ColumnId::kSpanAttrShape},
        std::pair{&event_count_, ColumnId::kSpanEventCount},
        std::pair{&link_count_, ColumnId::kSpanLinkCount},
        std::pair{&event_time_, ColumnId::kEventTimeDelta},
        std::pair{&event_dropped_, ColumnId::kEventDroppedAttributes},
        std::pair{&event_shape_, ColumnId::kEventAttrShape},
        std::pair{&link_flags_, ColumnId::kLinkFlags},
        std::pair{&link_dropped_, ColumnId::kLinkDroppedAttributes},
        std::pair{&link_shape_, ColumnId::kLinkAttrShape}}) {
    *cursor = VarintCursor(FixedPageOf(id), FixedCountOf(id));
  }
  bool strings_ok = true;
  for (auto [cursor, id] : {std::pair{&name_, ColumnId::kSpanName},
                            std::pair{&status_message_, ColumnId::kSpanStatusMessage},
                            std::pair{&trace_state_, ColumnId::kSpanTraceState},
                            std::pair{&event_name_, ColumnId::kEventName},
                            std::pair{&link_trace_state_, ColumnId::kLinkTraceState}}) {
    if (!cursor->Init(FixedPageOf(id), FixedCountOf(id))) strings_ok = false;
  }
  if (!strings_ok) return rg_.Error("bad string page");
  RETURN_IF_ERROR(OpenAttributeCursors());
  if (options_.segments != nullptr) IndexShapeCursors();
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::TraceCursors::OpenAttributeCursors() {
  const std::vector<Column>& columns = rg_.columns_;
  attr_of_column_.assign(columns.size(), -1);
  for (size_t c = 0; c < columns.size(); ++c) {
    const Column& col = columns[c];
    if (col.id != static_cast<uint32_t>(ColumnId::kAttribute) || !WantedAttribute(col)) continue;
    attr_of_column_[c] = static_cast<int>(attrs_.size());
    attrs_.emplace_back(col.type, col.encoding, col.key, col.count);
    if (!attrs_.back().Init(page_[c])) return rg_.Error("bad attribute page");
  }
  attr_skip_.assign(attrs_.size(), 0);
  return absl::OkStatus();
}

void RowGroupDecoder::TraceCursors::IndexShapeCursors() {
  shape_cursors_.resize(rg_.shapes_.size());
  for (size_t sh = 0; sh < rg_.shapes_.size(); ++sh) {
    for (uint32_t c : rg_.shapes_[sh]) {
      if (attr_of_column_[c] >= 0) shape_cursors_[sh].push_back(attr_of_column_[c]);
    }
  }
  shapes_move_cursors_ = std::any_of(shape_cursors_.begin(), shape_cursors_.end(),
                                     [](const std::vector<int>& c) { return !c.empty(); });
}

void RowGroupDecoder::TraceCursors::SkipSpanValues(uint64_t rows, uint64_t externals,
                                                   uint64_t deltas) {
  span_id_.Skip(rows);
  parent_external_.Skip(externals);
  start_delta_.Skip(deltas);
  for (VarintCursor* v : {&duration_, &kind_, &status_code_, &flags_, &scope_, &dropped_attributes_,
                          &dropped_events_, &dropped_links_}) {
    v->Skip(rows);
  }
  for (StringCursor* s : {&name_, &status_message_, &trace_state_}) s->Skip(rows);
}

void RowGroupDecoder::TraceCursors::SkipEventValues(uint64_t n) {
  event_time_.Skip(n);
  event_name_.Skip(n);
  event_dropped_.Skip(n);
}

void RowGroupDecoder::TraceCursors::SkipLinkValues(uint64_t n) {
  link_trace_id_.Skip(n);
  link_span_id_.Skip(n);
  link_trace_state_.Skip(n);
  link_flags_.Skip(n);
  link_dropped_.Skip(n);
}

absl::Status RowGroupDecoder::TraceCursors::SeekTo(uint32_t first) {
  const uint64_t r0 = rg_.first_rows_[first];
  // Values each column holds for the rows, events and links before r0.
  std::vector<uint64_t> skip(rg_.columns_.size(), 0);
  auto count_shape = [&](uint64_t s) {
    if (s >= rg_.shapes_.size()) return false;
    for (uint32_t c : rg_.shapes_[s]) ++skip[c];
    return true;
  };
  uint64_t externals = 0;
  uint64_t events_before = 0;
  uint64_t links_before = 0;
  for (uint64_t r = 0; r < r0; ++r) {
    if (parent_.Next() == kParentExternal) ++externals;
    if (!count_shape(attr_shape_.Next())) return rg_.Error("shape index out of range");
    events_before += event_count_.Next();
    links_before += link_count_.Next();
  }
  if (events_before > rg_.event_count_ || links_before > rg_.link_count_) {
    return rg_.Error("event or link counts exceed the columns");
  }
  if (!options_.events) events_before = 0;
  if (!options_.links) links_before = 0;
  for (uint64_t e = 0; e < events_before; ++e) {
    if (!count_shape(event_shape_.Next())) return rg_.Error("event shape index out of range");
  }
  for (uint64_t l = 0; l < links_before; ++l) {
    if (!count_shape(link_shape_.Next())) return rg_.Error("link shape index out of range");
  }
  SkipSpanValues(r0, externals, r0 - first);
  SkipEventValues(events_before);
  SkipLinkValues(links_before);
  for (size_t c = 0; c < rg_.columns_.size(); ++c) {
    if (attr_of_column_[c] >= 0) attrs_[attr_of_column_[c]].Skip(skip[c]);
  }
  return absl::OkStatus();
}

bool RowGroupDecoder::TraceCursors::CountAttributes(uint64_t s) {
  if (s >= shape_cursors_.size()) return false;
  for (int a : shape_cursors_[s]) ++attr_skip_[a];
  return true;
}

bool RowGroupDecoder::TraceCursors::PassSegment(uint32_t seg) {
  const uint64_t rows = rg_.first_rows_[seg + 1] - rg_.first_rows_[seg];
  run_.rows += rows;
  run_.deltas += rows - 1;
  for (uint64_t r = 0; r < rows; ++r) {
    if (parent_.Next() == kParentExternal) ++run_.externals;
    if (shapes_move_cursors_ && !CountAttributes(attr_shape_.Next())) return false;
    if (options_.events) run_.events += event_count_.Next();
    if (options_.links) run_.links += link_count_.Next();
  }
  return run_.events <= rg_.event_count_ && run_.links <= rg_.link_count_;
}

bool RowGroupDecoder::TraceCursors::FinishRun() {
  if (run_.rows == 0) return true;
  if (!shapes_move_cursors_) attr_shape_.Skip(run_.rows);
  if (!options_.events) event_count_.Skip(run_.rows);
  if (!options_.links) link_count_.Skip(run_.rows);
  SkipSpanValues(run_.rows, run_.externals, run_.deltas);
  if (options_.events) {
    SkipEventValues(run_.events);
    for (uint64_t e = 0; e < run_.events; ++e) {
      if (!CountAttributes(event_shape_.Next())) return false;
    }
  }
  if (options_.links) {
    SkipLinkValues(run_.links);
    for (uint64_t l = 0; l < run_.links; ++l) {
      if (!CountAttributes(link_shape_.Next())) return false;
    }
  }
  for (size_t i = 0; i < attrs_.size(); ++i) {
    if (attr_skip_[i] > 0) attrs_[i].Skip(attr_skip_[i]);
    attr_skip_[i] = 0;
  }
  run_ = Run();
  return true;
}

bool RowGroupDecoder::TraceCursors::ReadAttributes(uint64_t s, Owner owner, otlp::Range* range) {
  if (s >= rg_.shapes_.size()) return false;
  if (rg_.shape_owner_[s] != 0 && rg_.shape_owner_[s] != static_cast<uint8_t>(owner)) {
    return false;
  }
  const auto begin = static_cast<uint32_t>(out_.attributes.size());
  for (uint32_t c : rg_.shapes_[s]) {
    if (attr_of_column_[c] < 0) continue;  // left out by the projection
    otlp::KeyValue kv;
    if (!attrs_[attr_of_column_[c]].Next(out_, &kv)) return false;
    out_.attributes.push_back(kv);
  }
  *range = otlp::Range{begin, static_cast<uint32_t>(out_.attributes.size())};
  return true;
}

absl::Status RowGroupDecoder::TraceCursors::DecodeSpan(uint32_t seg, uint64_t row, uint64_t& start,
                                                       otlp::Span& s) {
  const uint64_t seg_begin = rg_.first_rows_[seg];
  s.trace_id = rg_.trace_ids_[seg];
  std::memcpy(s.span_id.data(), span_id_.Next().data(), 8);
  const uint64_t code = parent_.Next();
  if (code == kParentExternal) {
    s.has_parent = true;
    std::memcpy(s.parent_span_id.data(), parent_external_.Next().data(), 8);
  } else if (code >= kParentRelativeBase) {
    // Unsigned arithmetic wraps, so any damaged delta lands outside the segment.
    const uint64_t parent_row =
        row - static_cast<uint64_t>(ZigZagDecode(code - kParentRelativeBase));
    if (parent_row < seg_begin || parent_row >= rg_.first_rows_[seg + 1]) {
      return rg_.Error("parent row outside its trace");
    }
    s.has_parent = true;
    std::memcpy(s.parent_span_id.data(), span_ids_.data() + 8 * parent_row, 8);
  }
  if (row != seg_begin) start += start_delta_.Next();
  s.start_time_unix_nano = start;
  s.end_time_unix_nano = start + duration_.Next();
  s.name = name_.Next(out_.arena());
  s.kind = kind_.NextZigZag32();
  s.status_code = status_code_.NextZigZag32();
  s.status_message = status_message_.Next(out_.arena());
  s.flags = flags_.Next32();
  s.trace_state = trace_state_.Next(out_.arena());
  const uint64_t scope_index = scope_.Next();
  if (scope_index >= tables_.num_scopes()) return rg_.Error("scope index out of range");
  ASSIGN_OR_RETURN(s.scope_index,
                   tables_.CopyScope(static_cast<uint32_t>(scope_index), out_, map_));
  s.dropped_attributes_count = dropped_attributes_.Next32();
  s.dropped_events_count = dropped_events_.Next32();
  s.dropped_links_count = dropped_links_.Next32();
  if (!ReadAttributes(attr_shape_.Next(), Owner::kSpan, &s.attributes)) {
    return rg_.Error("bad span attributes");
  }
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::TraceCursors::DecodeEvents(uint64_t start, otlp::Span& s) {
  const uint64_t events = options_.events ? event_count_.Next() : (event_count_.Next(), 0);
  if (events > rg_.event_count_) return rg_.Error("event count out of range");
  s.events.begin = static_cast<uint32_t>(out_.events.size());
  for (uint64_t e = 0; e < events; ++e) {
    otlp::Event ev;
    ev.time_unix_nano = start + event_time_.Next();
    ev.name = event_name_.Next(out_.arena());
    ev.dropped_attributes_count = event_dropped_.Next32();
    if (!ReadAttributes(event_shape_.Next(), Owner::kEvent, &ev.attributes)) {
      return rg_.Error("bad event attributes");
    }
    out_.events.push_back(ev);
  }
  s.events.end = static_cast<uint32_t>(out_.events.size());
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::TraceCursors::DecodeLinks(otlp::Span& s) {
  const uint64_t links = options_.links ? link_count_.Next() : (link_count_.Next(), 0);
  if (links > rg_.link_count_) return rg_.Error("link count out of range");
  s.links.begin = static_cast<uint32_t>(out_.links.size());
  for (uint64_t l = 0; l < links; ++l) {
    otlp::Link link;
    std::memcpy(link.trace_id.data(), link_trace_id_.Next().data(), 16);
    std::memcpy(link.span_id.data(), link_span_id_.Next().data(), 8);
    link.trace_state = link_trace_state_.Next(out_.arena());
    link.flags = link_flags_.Next32();
    link.dropped_attributes_count = link_dropped_.Next32();
    if (!ReadAttributes(link_shape_.Next(), Owner::kLink, &link.attributes)) {
      return rg_.Error("bad link attributes");
    }
    out_.links.push_back(link);
  }
  s.links.end = static_cast<uint32_t>(out_.links.size());
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::TraceCursors::DecodeSegment(uint32_t seg) {
  uint64_t start = rg_.trace_starts_[seg];
  for (uint64_t row = rg_.first_rows_[seg]; row < rg_.first_rows_[seg + 1]; ++row) {
    otlp::Span s;
    RETURN_IF_ERROR(DecodeSpan(seg, row, start, s));
    RETURN_IF_ERROR(DecodeEvents(start, s));
    RETURN_IF_ERROR(DecodeLinks(s));
    out_.spans.push_back(s);
  }
  return CheckCursors();
}

template <typename Check>
absl::Status RowGroupDecoder::TraceCursors::CheckFixedColumns(Check check, const char* what) const {
  for (const VarintCursor* v : VarintCursors()) {
    if (!check(*v)) return rg_.Error(std::string("a numeric column ") + what);
  }
  for (const FixedCursor* f : FixedCursors()) {
    if (!check(*f)) return rg_.Error(std::string("a fixed-width column ") + what);
  }
  for (const StringCursor* s : StringCursors()) {
    if (!check(*s)) return rg_.Error(std::string("a string column ") + what);
  }
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::TraceCursors::CheckCursors() const {
  return CheckFixedColumns([](const auto& cursor) { return cursor.ok(); }, "is damaged");
}

absl::Status RowGroupDecoder::TraceCursors::CheckExhausted() const {
  RETURN_IF_ERROR(CheckFixedColumns([](const auto& cursor) { return cursor.Exhausted(); },
                                    "has values left over"));
  for (const AttrCursor& a : attrs_) {
    if (!a.Exhausted()) return rg_.Error("an attribute column has values left over");
  }
  return absl::OkStatus();
}

absl::Status RowGroupDecoder::DecodeTraces(uint32_t first, uint32_t last, const BlockTables& tables,
                                           BlockTables::BatchMap& map, SpanBatch& out,
                                           const DecodeOptions& options) {
  if (!traces_loaded_ || first > last || last > num_traces()) {
    return absl::InvalidArgumentError("DecodeTraces: bad segment range");
  }
  const bool everything = options.segments == nullptr && options.span_attribute_keys == nullptr &&
                          options.events && options.links;
  const bool whole = first == 0 && last == num_traces() && everything;
  if (options.segments != nullptr && options.segments->size() < last) {
    return absl::InvalidArgumentError("DecodeTraces: segment selection too short");
  }
  TraceCursors cursors(*this, options, tables, map, out);
  RETURN_IF_ERROR(cursors.Open());
  RETURN_IF_ERROR(cursors.SeekTo(first));
  if (options.segments == nullptr) {
    out.spans.reserve(out.spans.size() + first_rows_[last] - first_rows_[first]);
  }
  for (uint32_t seg = first; seg < last; ++seg) {
    if (options.segments != nullptr && (*options.segments)[seg] == 0) {
      if (!cursors.PassSegment(seg)) return Error("bad row in a segment passed over");
      continue;
    }
    if (!cursors.FinishRun()) return Error("bad row in a segment passed over");
    RETURN_IF_ERROR(cursors.DecodeSegment(seg));
  }
  if (!whole) return absl::OkStatus();
  return cursors.CheckExhausted();
}

absl::StatusOr<std::vector<uint64_t>> RowGroupDecoder::SpanVarints(ColumnId id) {
  const int c = fixed_[static_cast<uint32_t>(id)];
  if (c < 0 || columns_[c].encoding != ColumnEncoding::kVarint ||
      columns_[c].count != info_.span_count) {
    return absl::InvalidArgumentError("SpanVarints: not a per-span varint column");
  }
  absl::StatusOr<std::string_view> page = Page(static_cast<size_t>(c));
  if (!page.ok()) return page.status();
  std::vector<uint64_t> out(info_.span_count);
  VarintCursor cursor(*page, info_.span_count);
  for (uint64_t& v : out) v = cursor.Next();
  if (!cursor.Exhausted()) return Error("a numeric column is damaged");
  return out;
}

absl::StatusOr<std::vector<std::string_view>> RowGroupDecoder::SpanStrings(ColumnId id) {
  const int c = fixed_[static_cast<uint32_t>(id)];
  if (c < 0 || columns_[c].encoding != ColumnEncoding::kStrings ||
      columns_[c].count != info_.span_count) {
    return absl::InvalidArgumentError("SpanStrings: not a per-span string column");
  }
  absl::StatusOr<std::string_view> page = Page(static_cast<size_t>(c));
  if (!page.ok()) return page.status();
  StringColumnReader reader;
  if (!reader.Init(*page, info_.span_count)) return Error("bad string page");
  std::vector<std::string_view> out(info_.span_count);
  uint32_t index;
  for (std::string_view& v : out) v = reader.Next(&index);
  if (!reader.Exhausted()) return Error("a string column is damaged");
  return out;
}

absl::Status RowGroupDecoder::ForEachSpanAttribute(
    std::string_view key, absl::FunctionRef<void(uint32_t, const ColumnValue&)> fn) {
  // The columns of this key, each with a cursor over its values.
  std::vector<AttrCursor> cursors;
  std::vector<int> cursor_of(columns_.size(), -1);
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = columns_[c];
    if (col.id != static_cast<uint32_t>(ColumnId::kAttribute) || col.owner != Owner::kSpan ||
        col.key != key || col.count == 0) {
      continue;
    }
    absl::StatusOr<std::string_view> page = Page(c);
    if (!page.ok()) return page.status();
    cursor_of[c] = static_cast<int>(cursors.size());
    cursors.emplace_back(col.type, col.encoding, col.key, col.count);
    if (!cursors.back().Init(*page)) return Error("bad attribute page");
  }
  if (cursors.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<uint64_t>> shapes = SpanVarints(ColumnId::kSpanAttrShape);
  if (!shapes.ok()) return shapes.status();
  // Which shapes hold a target column at all (most rows' shapes can be passed over).
  std::vector<char> relevant(shapes_.size(), 0);
  for (size_t s = 0; s < shapes_.size(); ++s) {
    for (uint32_t c : shapes_[s]) relevant[s] |= cursor_of[c] >= 0;
  }
  ColumnValue v;
  for (uint32_t row = 0; row < shapes->size(); ++row) {
    const uint64_t s = (*shapes)[row];
    if (s >= shapes_.size()) return Error("shape index out of range");
    if (!relevant[s]) continue;
    if (shape_owner_[s] != 0 && shape_owner_[s] != static_cast<uint8_t>(Owner::kSpan)) {
      return Error("bad span attributes");
    }
    for (uint32_t c : shapes_[s]) {
      if (cursor_of[c] < 0) continue;
      if (!cursors[cursor_of[c]].NextView(&v)) return Error("an attribute column is damaged");
      fn(row, v);
    }
  }
  return absl::OkStatus();
}

}  // namespace strand::block
