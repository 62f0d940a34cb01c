#include "block/row_group_decoder.h"

#include <algorithm>
#include <cstring>

#include "absl/memory/memory.h"
#include "block/block_format.h"
#include "block/byte_reader.h"
#include "block/column_cursors.h"
#include "block/string_column_reader.h"

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
  auto selected = [&](uint32_t seg) {
    return options.segments == nullptr || (*options.segments)[seg] != 0;
  };
  // Columns left out by the projection are never decompressed or read.
  auto wanted_attribute = [&](const Column& col) {
    switch (col.owner) {
      case Owner::kSpan:
        return options.span_attribute_keys == nullptr ||
               std::find(options.span_attribute_keys->begin(), options.span_attribute_keys->end(),
                         col.key) != options.span_attribute_keys->end();
      case Owner::kEvent:
        return options.events;
      case Owner::kLink:
        return options.links;
    }
    return false;
  };
  auto wanted_fixed = [&](uint32_t id) {
    if (id >= static_cast<uint32_t>(ColumnId::kEventTimeDelta) &&
        id <= static_cast<uint32_t>(ColumnId::kEventAttrShape)) {
      return options.events;
    }
    if (id >= static_cast<uint32_t>(ColumnId::kLinkTraceId) &&
        id <= static_cast<uint32_t>(ColumnId::kLinkAttrShape)) {
      return options.links;
    }
    return true;
  };
  const uint64_t r0 = first_rows_[first];
  const uint64_t r1 = first_rows_[last];

  // Load the pages of the columns wanted (the others stay empty and are never read).
  std::vector<std::string_view> page(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = columns_[c];
    const bool attribute = col.id == static_cast<uint32_t>(ColumnId::kAttribute);
    if (attribute ? !wanted_attribute(col) : !wanted_fixed(col.id)) continue;
    if (!attribute && FindFixedColumn(col.id) == nullptr) continue;
    absl::StatusOr<std::string_view> p = Page(c);
    if (!p.ok()) return p.status();
    page[c] = *p;
  }
  auto fixed_page = [&](ColumnId id) { return page[fixed_[static_cast<uint32_t>(id)]]; };
  auto fixed_count = [&](ColumnId id) {
    return wanted_fixed(static_cast<uint32_t>(id))
               ? columns_[fixed_[static_cast<uint32_t>(id)]].count
               : 0;
  };
  auto varints = [&](ColumnId id) { return VarintCursor(fixed_page(id), fixed_count(id)); };
  auto fixed = [&](ColumnId id, size_t width) {
    return FixedCursor(fixed_page(id), width, fixed_count(id));
  };
  bool strings_ok = true;
  auto strings = [&](ColumnId id) {
    StringCursor cursor;
    if (!cursor.Init(fixed_page(id), fixed_count(id))) strings_ok = false;
    return cursor;
  };

  FixedCursor span_id = fixed(ColumnId::kSpanId, 8);
  VarintCursor parent = varints(ColumnId::kSpanParent);
  FixedCursor parent_external = fixed(ColumnId::kSpanParentExternal, 8);
  VarintCursor start_delta = varints(ColumnId::kSpanStartDelta);
  VarintCursor duration = varints(ColumnId::kSpanDuration);
  StringCursor name = strings(ColumnId::kSpanName);
  VarintCursor kind = varints(ColumnId::kSpanKind);
  VarintCursor status_code = varints(ColumnId::kSpanStatusCode);
  StringCursor status_message = strings(ColumnId::kSpanStatusMessage);
  VarintCursor flags = varints(ColumnId::kSpanFlags);
  StringCursor trace_state = strings(ColumnId::kSpanTraceState);
  VarintCursor scope = varints(ColumnId::kSpanScope);
  VarintCursor dropped_attributes = varints(ColumnId::kSpanDroppedAttributes);
  VarintCursor dropped_events = varints(ColumnId::kSpanDroppedEvents);
  VarintCursor dropped_links = varints(ColumnId::kSpanDroppedLinks);
  VarintCursor attr_shape = varints(ColumnId::kSpanAttrShape);
  VarintCursor event_count = varints(ColumnId::kSpanEventCount);
  VarintCursor link_count = varints(ColumnId::kSpanLinkCount);
  VarintCursor event_time = varints(ColumnId::kEventTimeDelta);
  StringCursor event_name = strings(ColumnId::kEventName);
  VarintCursor event_dropped = varints(ColumnId::kEventDroppedAttributes);
  VarintCursor event_shape = varints(ColumnId::kEventAttrShape);
  FixedCursor link_trace_id = fixed(ColumnId::kLinkTraceId, 16);
  FixedCursor link_span_id = fixed(ColumnId::kLinkSpanId, 8);
  StringCursor link_trace_state = strings(ColumnId::kLinkTraceState);
  VarintCursor link_flags = varints(ColumnId::kLinkFlags);
  VarintCursor link_dropped = varints(ColumnId::kLinkDroppedAttributes);
  VarintCursor link_shape = varints(ColumnId::kLinkAttrShape);
  if (!strings_ok) return Error("bad string page");

  std::vector<AttrCursor> attrs;
  std::vector<int> attr_of_column(columns_.size(), -1);
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = columns_[c];
    if (col.id != static_cast<uint32_t>(ColumnId::kAttribute) || !wanted_attribute(col)) continue;
    attr_of_column[c] = static_cast<int>(attrs.size());
    attrs.emplace_back(col.type, col.encoding, col.key, col.count);
    if (!attrs.back().Init(page[c])) return Error("bad attribute page");
  }

  // Position every cursor at row r0: count what the rows, events and links before it use.
  std::vector<uint64_t> skip(columns_.size(), 0);
  auto count_shape = [&](uint64_t s) {
    if (s >= shapes_.size()) return false;
    for (uint32_t c : shapes_[s]) ++skip[c];
    return true;
  };
  uint64_t externals = 0;
  uint64_t events_before = 0;
  uint64_t links_before = 0;
  for (uint64_t r = 0; r < r0; ++r) {
    if (parent.Next() == kParentExternal) ++externals;
    if (!count_shape(attr_shape.Next())) return Error("shape index out of range");
    events_before += event_count.Next();
    links_before += link_count.Next();
  }
  if (events_before > event_count_ || links_before > link_count_) {
    return Error("event or link counts exceed the columns");
  }
  if (!options.events) events_before = 0;
  if (!options.links) links_before = 0;
  for (uint64_t e = 0; e < events_before; ++e) {
    if (!count_shape(event_shape.Next())) return Error("event shape index out of range");
  }
  for (uint64_t l = 0; l < links_before; ++l) {
    if (!count_shape(link_shape.Next())) return Error("link shape index out of range");
  }
  span_id.Skip(r0);
  parent_external.Skip(externals);
  start_delta.Skip(r0 - first);
  for (VarintCursor* v : {&duration, &kind, &status_code, &flags, &scope, &dropped_attributes,
                          &dropped_events, &dropped_links}) {
    v->Skip(r0);
  }
  for (StringCursor* s : {&name, &status_message, &trace_state}) s->Skip(r0);
  event_time.Skip(events_before);
  event_name.Skip(events_before);
  event_dropped.Skip(events_before);
  link_trace_id.Skip(links_before);
  link_span_id.Skip(links_before);
  link_trace_state.Skip(links_before);
  link_flags.Skip(links_before);
  link_dropped.Skip(links_before);
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (attr_of_column[c] >= 0) attrs[attr_of_column[c]].Skip(skip[c]);
  }

  // Appends the attributes of one shape to out.attributes.
  auto read_attributes = [&](uint64_t s, Owner owner, otlp::Range* range) {
    if (s >= shapes_.size()) return false;
    if (shape_owner_[s] != 0 && shape_owner_[s] != static_cast<uint8_t>(owner)) return false;
    const auto begin = static_cast<uint32_t>(out.attributes.size());
    for (uint32_t c : shapes_[s]) {
      if (attr_of_column[c] < 0) continue;  // left out by the projection
      otlp::KeyValue kv;
      if (!attrs[attr_of_column[c]].Next(out, &kv)) return false;
      out.attributes.push_back(kv);
    }
    *range = otlp::Range{begin, static_cast<uint32_t>(out.attributes.size())};
    return true;
  };

  // Segments not selected are passed over in runs: per row only the columns that say how
  // far the others move (parent code, shapes, event and link counts) are read; the rest
  // skip the run's values at once when the next selected segment starts.
  struct Run {
    uint64_t rows = 0, deltas = 0, externals = 0, events = 0, links = 0;
  } run;
  std::vector<uint64_t> attr_skip(attrs.size(), 0);
  // Per shape, the attribute cursors it moves (most shapes move none of the few projected).
  std::vector<std::vector<int>> shape_cursors;
  if (options.segments != nullptr) {
    shape_cursors.resize(shapes_.size());
    for (size_t sh = 0; sh < shapes_.size(); ++sh) {
      for (uint32_t c : shapes_[sh]) {
        if (attr_of_column[c] >= 0) shape_cursors[sh].push_back(attr_of_column[c]);
      }
    }
  }
  auto count_attributes = [&](uint64_t s) {
    if (s >= shape_cursors.size()) return false;
    for (int a : shape_cursors[s]) ++attr_skip[a];
    return true;
  };
  // Shapes matter for positioning only when some projected attribute column is in one;
  // event and link counts only when events / links are decoded. Otherwise their columns
  // skip the run at once like the rest.
  const bool shapes_move_cursors =
      std::any_of(shape_cursors.begin(), shape_cursors.end(),
                  [](const std::vector<int>& c) { return !c.empty(); });
  auto pass_segment = [&](uint32_t seg) {
    const uint64_t rows = first_rows_[seg + 1] - first_rows_[seg];
    run.rows += rows;
    run.deltas += rows - 1;
    for (uint64_t r = 0; r < rows; ++r) {
      if (parent.Next() == kParentExternal) ++run.externals;
      if (shapes_move_cursors && !count_attributes(attr_shape.Next())) return false;
      if (options.events) run.events += event_count.Next();
      if (options.links) run.links += link_count.Next();
    }
    return run.events <= event_count_ && run.links <= link_count_;
  };
  auto finish_run = [&]() {
    if (run.rows == 0) return true;
    if (!shapes_move_cursors) attr_shape.Skip(run.rows);
    if (!options.events) event_count.Skip(run.rows);
    if (!options.links) link_count.Skip(run.rows);
    span_id.Skip(run.rows);
    parent_external.Skip(run.externals);
    start_delta.Skip(run.deltas);
    for (VarintCursor* v : {&duration, &kind, &status_code, &flags, &scope, &dropped_attributes,
                            &dropped_events, &dropped_links}) {
      v->Skip(run.rows);
    }
    for (StringCursor* str : {&name, &status_message, &trace_state}) str->Skip(run.rows);
    if (options.events) {
      event_time.Skip(run.events);
      event_name.Skip(run.events);
      event_dropped.Skip(run.events);
      for (uint64_t e = 0; e < run.events; ++e) {
        if (!count_attributes(event_shape.Next())) return false;
      }
    }
    if (options.links) {
      link_trace_id.Skip(run.links);
      link_span_id.Skip(run.links);
      link_trace_state.Skip(run.links);
      link_flags.Skip(run.links);
      link_dropped.Skip(run.links);
      for (uint64_t l = 0; l < run.links; ++l) {
        if (!count_attributes(link_shape.Next())) return false;
      }
    }
    for (size_t i = 0; i < attrs.size(); ++i) {
      if (attr_skip[i] > 0) attrs[i].Skip(attr_skip[i]);
      attr_skip[i] = 0;
    }
    run = Run();
    return true;
  };

  const std::string_view span_ids = fixed_page(ColumnId::kSpanId);
  out.spans.reserve(out.spans.size() + (options.segments == nullptr ? r1 - r0 : 0));
  for (uint32_t seg = first; seg < last; ++seg) {
    const uint64_t seg_begin = first_rows_[seg];
    const uint64_t seg_end = first_rows_[seg + 1];
    if (!selected(seg)) {
      if (!pass_segment(seg)) return Error("bad row in a segment passed over");
      continue;
    }
    if (!finish_run()) return Error("bad row in a segment passed over");
    uint64_t start = trace_starts_[seg];
    for (uint64_t row = seg_begin; row < seg_end; ++row) {
      otlp::Span s;
      s.trace_id = trace_ids_[seg];
      std::memcpy(s.span_id.data(), span_id.Next().data(), 8);
      const uint64_t code = parent.Next();
      if (code == kParentExternal) {
        s.has_parent = true;
        std::memcpy(s.parent_span_id.data(), parent_external.Next().data(), 8);
      } else if (code >= kParentRelativeBase) {
        // Unsigned arithmetic wraps, so any damaged delta lands outside the segment.
        const uint64_t parent_row =
            row - static_cast<uint64_t>(ZigZagDecode(code - kParentRelativeBase));
        if (parent_row < seg_begin || parent_row >= seg_end) {
          return Error("parent row outside its trace");
        }
        s.has_parent = true;
        std::memcpy(s.parent_span_id.data(), span_ids.data() + 8 * parent_row, 8);
      }
      if (row != seg_begin) start += start_delta.Next();
      s.start_time_unix_nano = start;
      s.end_time_unix_nano = start + duration.Next();
      s.name = name.Next(out.arena());
      s.kind = kind.NextZigZag32();
      s.status_code = status_code.NextZigZag32();
      s.status_message = status_message.Next(out.arena());
      s.flags = flags.Next32();
      s.trace_state = trace_state.Next(out.arena());
      const uint64_t scope_index = scope.Next();
      if (scope_index >= tables.num_scopes()) return Error("scope index out of range");
      absl::StatusOr<uint32_t> batch_scope =
          tables.CopyScope(static_cast<uint32_t>(scope_index), out, map);
      if (!batch_scope.ok()) return batch_scope.status();
      s.scope_index = *batch_scope;
      s.dropped_attributes_count = dropped_attributes.Next32();
      s.dropped_events_count = dropped_events.Next32();
      s.dropped_links_count = dropped_links.Next32();
      if (!read_attributes(attr_shape.Next(), Owner::kSpan, &s.attributes)) {
        return Error("bad span attributes");
      }

      const uint64_t events = options.events ? event_count.Next() : (event_count.Next(), 0);
      if (events > event_count_) return Error("event count out of range");
      s.events.begin = static_cast<uint32_t>(out.events.size());
      for (uint64_t e = 0; e < events; ++e) {
        otlp::Event ev;
        ev.time_unix_nano = start + event_time.Next();
        ev.name = event_name.Next(out.arena());
        ev.dropped_attributes_count = event_dropped.Next32();
        if (!read_attributes(event_shape.Next(), Owner::kEvent, &ev.attributes)) {
          return Error("bad event attributes");
        }
        out.events.push_back(ev);
      }
      s.events.end = static_cast<uint32_t>(out.events.size());

      const uint64_t links = options.links ? link_count.Next() : (link_count.Next(), 0);
      if (links > link_count_) return Error("link count out of range");
      s.links.begin = static_cast<uint32_t>(out.links.size());
      for (uint64_t l = 0; l < links; ++l) {
        otlp::Link link;
        std::memcpy(link.trace_id.data(), link_trace_id.Next().data(), 16);
        std::memcpy(link.span_id.data(), link_span_id.Next().data(), 8);
        link.trace_state = link_trace_state.Next(out.arena());
        link.flags = link_flags.Next32();
        link.dropped_attributes_count = link_dropped.Next32();
        if (!read_attributes(link_shape.Next(), Owner::kLink, &link.attributes)) {
          return Error("bad link attributes");
        }
        out.links.push_back(link);
      }
      s.links.end = static_cast<uint32_t>(out.links.size());
      out.spans.push_back(s);
    }
    // Check as we go so a damaged column fails early instead of decoding garbage.
    for (const VarintCursor* v :
         {&parent, &start_delta, &duration, &kind, &status_code, &flags, &scope,
          &dropped_attributes, &dropped_events, &dropped_links, &attr_shape, &event_count,
          &link_count, &event_time, &event_dropped, &event_shape, &link_flags, &link_dropped,
          &link_shape}) {
      if (!v->ok()) return Error("a numeric column is damaged");
    }
    for (const FixedCursor* f : {&span_id, &parent_external, &link_trace_id, &link_span_id}) {
      if (!f->ok()) return Error("a fixed-width column is damaged");
    }
    for (const StringCursor* s :
         {&name, &status_message, &trace_state, &event_name, &link_trace_state}) {
      if (!s->ok()) return Error("a string column is damaged");
    }
  }
  if (!whole) return absl::OkStatus();

  for (const VarintCursor* v :
       {&parent, &start_delta, &duration, &kind, &status_code, &flags, &scope, &dropped_attributes,
        &dropped_events, &dropped_links, &attr_shape, &event_count, &link_count, &event_time,
        &event_dropped, &event_shape, &link_flags, &link_dropped, &link_shape}) {
    if (!v->Exhausted()) return Error("a numeric column has values left over");
  }
  for (const FixedCursor* f : {&span_id, &parent_external, &link_trace_id, &link_span_id}) {
    if (!f->Exhausted()) return Error("a fixed-width column has values left over");
  }
  for (const StringCursor* s :
       {&name, &status_message, &trace_state, &event_name, &link_trace_state}) {
    if (!s->Exhausted()) return Error("a string column has values left over");
  }
  for (const AttrCursor& a : attrs) {
    if (!a.Exhausted()) return Error("an attribute column has values left over");
  }
  return absl::OkStatus();
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
