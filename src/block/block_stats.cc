#include "block/block_stats.h"

#include "block/byte_reader.h"
#include "common/coding.h"

namespace strand::block {
namespace {

void PutStrings(std::string* out, const DistinctStrings& s) {
  out->push_back(s.complete ? 1 : 0);
  PutVarint64(out, s.values.size());
  for (const std::string& v : s.values) PutLengthPrefixed(out, v);
}

void PutInts(std::string* out, const std::vector<int32_t>& v) {
  PutVarint64(out, v.size());
  for (int32_t x : v) PutZigZag(out, x);
}

bool GetStrings(ByteReader& in, DistinctStrings* s) {
  const uint8_t complete = in.U8();
  const uint64_t n = in.Varint();
  if (!in.ok() || complete > 1 || n > in.remaining()) return false;
  s->complete = complete == 1;
  s->values.reserve(n);
  for (uint64_t i = 0; i < n; ++i) s->values.emplace_back(in.LengthPrefixed());
  return in.ok();
}

bool GetInts(ByteReader& in, std::vector<int32_t>* v) {
  const uint64_t n = in.Varint();
  if (!in.ok() || n > in.remaining()) return false;
  for (uint64_t i = 0; i < n; ++i) v->push_back(static_cast<int32_t>(in.ZigZag()));
  return in.ok();
}

}  // namespace

void BlockStats::Encode(std::string* out) const {
  PutVarint64(out, row_groups.size());
  for (const RowGroupStats& rg : row_groups) {
    PutVarint64(out, rg.span_count);
    PutVarint64(out, rg.trace_count);
    for (uint64_t v :
         {rg.min_start, rg.max_start, rg.min_end, rg.max_end, rg.min_duration, rg.max_duration}) {
      PutFixed64(out, v);
    }
    PutStrings(out, rg.service_names);
    PutStrings(out, rg.span_names);
    PutStrings(out, rg.resource_keys);
    PutInts(out, rg.kinds);
    PutInts(out, rg.status_codes);
    PutVarint64(out, rg.columns.size());
    for (const AttributeColumnStats& c : rg.columns) {
      out->push_back(static_cast<char>(c.owner));
      out->push_back(static_cast<char>(c.type));
      PutLengthPrefixed(out, c.key);
      PutVarint64(out, c.value_count);
      out->push_back(static_cast<char>((c.has_range ? 1 : 0) | (c.values.complete ? 2 : 0)));
      if (c.has_range) {
        if (c.type == otlp::ValueType::kDouble) {
          PutDouble(out, c.min_double);
          PutDouble(out, c.max_double);
        } else {
          PutZigZag(out, c.min_int);
          PutZigZag(out, c.max_int);
        }
      }
      if (c.values.complete) {
        PutVarint64(out, c.values.values.size());
        for (const std::string& v : c.values.values) PutLengthPrefixed(out, v);
      }
    }
  }
}

absl::StatusOr<BlockStats> BlockStats::Decode(std::string_view raw, std::string_view path,
                                              uint64_t offset) {
  BlockStats stats;
  ByteReader in(raw);
  const uint64_t n = in.Varint();
  // Counts size allocations before their entries are read: bound them by the bytes an
  // entry takes at least (a row group entry: two varints, six fixed64s, five lists, a
  // column count), so a damaged count cannot ask for more memory than the section
  // justifies.
  constexpr uint64_t kMinRowGroupEntryBytes = 56;
  if (!in.ok() || n > in.remaining() / kMinRowGroupEntryBytes) {
    return Corruption(path, offset, "stats: bad count");
  }
  stats.row_groups.resize(n);
  for (RowGroupStats& rg : stats.row_groups) {
    rg.span_count = in.Varint();
    rg.trace_count = in.Varint();
    for (uint64_t* v : {&rg.min_start, &rg.max_start, &rg.min_end, &rg.max_end, &rg.min_duration,
                        &rg.max_duration}) {
      *v = in.Fixed64();
    }
    if (!GetStrings(in, &rg.service_names) || !GetStrings(in, &rg.span_names) ||
        !GetStrings(in, &rg.resource_keys) || !GetInts(in, &rg.kinds) ||
        !GetInts(in, &rg.status_codes)) {
      return Corruption(path, offset, "stats: bad row group entry");
    }
    const uint64_t columns = in.Varint();
    // A column entry: owner, type, key length, value count, flags.
    if (!in.ok() || columns > in.remaining() / 5) {
      return Corruption(path, offset, "stats: bad columns");
    }
    rg.columns.resize(columns);
    for (AttributeColumnStats& c : rg.columns) {
      const uint8_t owner = in.U8();
      const uint8_t type = in.U8();
      if (owner < 1 || owner > 3 || !IsValidValueType(type)) {
        return Corruption(path, offset, "stats: bad column");
      }
      c.owner = static_cast<Owner>(owner);
      c.type = static_cast<otlp::ValueType>(type);
      c.key = std::string(in.LengthPrefixed());
      c.value_count = in.Varint();
      const uint8_t flags = in.U8();
      if (flags > 3) return Corruption(path, offset, "stats: bad column flags");
      c.has_range = (flags & 1) != 0;
      c.values.complete = (flags & 2) != 0;
      if (c.has_range) {
        if (c.type == otlp::ValueType::kDouble) {
          c.min_double = in.Double();
          c.max_double = in.Double();
        } else {
          c.min_int = in.ZigZag();
          c.max_int = in.ZigZag();
        }
      }
      if (c.values.complete) {
        const uint64_t values = in.Varint();
        if (!in.ok() || values > in.remaining()) {
          return Corruption(path, offset, "stats: bad column values");
        }
        for (uint64_t i = 0; i < values; ++i) c.values.values.emplace_back(in.LengthPrefixed());
      }
      if (!in.ok()) return Corruption(path, offset, "stats: truncated column");
    }
  }
  if (!in.ok() || !in.empty()) return Corruption(path, offset, "stats: trailing bytes");
  return stats;
}

}  // namespace strand::block
