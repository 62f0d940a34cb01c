// The constants of the block format (docs/format/block.md, version 1): magic numbers,
// file names, fixed-size header and trailer, the fixed column IDs and their names, and
// small coding helpers shared by the writer and the reader. Change this file and the spec
// together. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "otlp/span_batch.h"

namespace strand::block {

// The format version this build writes, and the newest one it reads.
inline constexpr uint32_t kFormatVersion = 1;

// First and last 8 bytes of a data file.
inline constexpr std::string_view kDataMagic = "STRNDBLK";

// File names inside a block directory `<parent>/<block id>/`.
inline constexpr std::string_view kDataFileName = "data";
inline constexpr std::string_view kMetaFileName = "meta.json";

// Header: magic (8) | version u32 | flags u32 | block id (16) | checksum u32.
inline constexpr size_t kHeaderSize = 36;
// Trailer: footer size u32 | footer checksum u32 | version u32 | flags u32 | magic (8).
inline constexpr size_t kTrailerSize = 24;

// Page codecs.
enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

// Who owns an attribute column's values.
enum class Owner : uint8_t { kSpan = 1, kEvent = 2, kLink = 3 };

// Fixed columns of a row group. The numbers are on disk; never reuse one.
enum class ColumnId : uint32_t {
  kAttribute = 0,  // not fixed: an attribute column, described by owner, type and key
  // One value per trace segment.
  kTraceId = 1,         // 16 bytes each
  kTraceSpanCount = 2,  // varint
  kTraceStart = 3,      // varint: first span's start - row group base time
  // One value per span (row).
  kSpanId = 10,              // 8 bytes each
  kSpanParent = 11,          // varint parent code (see ParentCode below)
  kSpanParentExternal = 12,  // 8 bytes per span whose parent code is kParentExternal
  kSpanStartDelta = 13,      // varint, every row but a segment's first
  kSpanDuration = 14,        // varint of (end - start) mod 2^64
  kSpanName = 15,            // string
  kSpanKind = 16,            // zigzag varint
  kSpanStatusCode = 17,      // zigzag varint
  kSpanStatusMessage = 18,   // string
  kSpanFlags = 19,           // varint
  kSpanTraceState = 20,      // string
  kSpanScope = 21,           // varint: index into the block's scope table
  kSpanDroppedAttributes = 22,
  kSpanDroppedEvents = 23,
  kSpanDroppedLinks = 24,
  kSpanAttrShape = 25,  // varint: index into the row group's shape table
  kSpanEventCount = 26,
  kSpanLinkCount = 27,
  // One value per event, in span order.
  kEventTimeDelta = 30,  // varint of (time - span start) mod 2^64
  kEventName = 31,       // string
  kEventDroppedAttributes = 32,
  kEventAttrShape = 33,
  // One value per link, in span order.
  kLinkTraceId = 40,  // 16 bytes each
  kLinkSpanId = 41,   // 8 bytes each
  kLinkTraceState = 42,
  kLinkFlags = 43,
  kLinkDroppedAttributes = 44,
  kLinkAttrShape = 45,
};
inline constexpr uint32_t kMaxFixedColumnId = 45;

// How a column's values are laid out in its page.
enum class ColumnEncoding : uint8_t {
  kNone,     // no bytes (attributes whose value is unset)
  kVarint,   // unsigned LEB128 varints
  kFixed1,   // one byte each (bools)
  kFixed8,   // 8 bytes each (span IDs, doubles)
  kFixed16,  // 16 bytes each (trace IDs)
  kStrings,  // string page: plain or dictionary
};

// What rows a fixed column has one value for.
enum class ColumnLevel : uint8_t { kTrace, kSpan, kEvent, kLink, kOther };

struct FixedColumnInfo {
  ColumnId id;
  const char* name;  // as in meta.json's column_sizes
  ColumnEncoding encoding;
  ColumnLevel level;
};

// Every fixed column of version 1, in the order the writer writes them.
inline constexpr FixedColumnInfo kFixedColumns[] = {
    {ColumnId::kTraceId, "trace.id", ColumnEncoding::kFixed16, ColumnLevel::kTrace},
    {ColumnId::kTraceSpanCount, "trace.span_count", ColumnEncoding::kVarint, ColumnLevel::kTrace},
    {ColumnId::kTraceStart, "trace.start", ColumnEncoding::kVarint, ColumnLevel::kTrace},
    {ColumnId::kSpanId, "span.id", ColumnEncoding::kFixed8, ColumnLevel::kSpan},
    {ColumnId::kSpanParent, "span.parent", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanParentExternal, "span.parent_external", ColumnEncoding::kFixed8,
     ColumnLevel::kOther},
    {ColumnId::kSpanStartDelta, "span.start_delta", ColumnEncoding::kVarint, ColumnLevel::kOther},
    {ColumnId::kSpanDuration, "span.duration", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanName, "span.name", ColumnEncoding::kStrings, ColumnLevel::kSpan},
    {ColumnId::kSpanKind, "span.kind", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanStatusCode, "span.status_code", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanStatusMessage, "span.status_message", ColumnEncoding::kStrings,
     ColumnLevel::kSpan},
    {ColumnId::kSpanFlags, "span.flags", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanTraceState, "span.trace_state", ColumnEncoding::kStrings, ColumnLevel::kSpan},
    {ColumnId::kSpanScope, "span.scope", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanDroppedAttributes, "span.dropped_attributes", ColumnEncoding::kVarint,
     ColumnLevel::kSpan},
    {ColumnId::kSpanDroppedEvents, "span.dropped_events", ColumnEncoding::kVarint,
     ColumnLevel::kSpan},
    {ColumnId::kSpanDroppedLinks, "span.dropped_links", ColumnEncoding::kVarint,
     ColumnLevel::kSpan},
    {ColumnId::kSpanAttrShape, "span.attr_shape", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanEventCount, "span.event_count", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kSpanLinkCount, "span.link_count", ColumnEncoding::kVarint, ColumnLevel::kSpan},
    {ColumnId::kEventTimeDelta, "event.time_delta", ColumnEncoding::kVarint, ColumnLevel::kEvent},
    {ColumnId::kEventName, "event.name", ColumnEncoding::kStrings, ColumnLevel::kEvent},
    {ColumnId::kEventDroppedAttributes, "event.dropped_attributes", ColumnEncoding::kVarint,
     ColumnLevel::kEvent},
    {ColumnId::kEventAttrShape, "event.attr_shape", ColumnEncoding::kVarint, ColumnLevel::kEvent},
    {ColumnId::kLinkTraceId, "link.trace_id", ColumnEncoding::kFixed16, ColumnLevel::kLink},
    {ColumnId::kLinkSpanId, "link.span_id", ColumnEncoding::kFixed8, ColumnLevel::kLink},
    {ColumnId::kLinkTraceState, "link.trace_state", ColumnEncoding::kStrings, ColumnLevel::kLink},
    {ColumnId::kLinkFlags, "link.flags", ColumnEncoding::kVarint, ColumnLevel::kLink},
    {ColumnId::kLinkDroppedAttributes, "link.dropped_attributes", ColumnEncoding::kVarint,
     ColumnLevel::kLink},
    {ColumnId::kLinkAttrShape, "link.attr_shape", ColumnEncoding::kVarint, ColumnLevel::kLink},
};
inline constexpr size_t kNumFixedColumns = sizeof(kFixedColumns) / sizeof(kFixedColumns[0]);

// The entry of `id` in kFixedColumns, or nullptr for an unknown or attribute column ID.
const FixedColumnInfo* FindFixedColumn(uint32_t id);

// Parent codes of the span.parent column.
inline constexpr uint64_t kParentNone = 0;      // the span has no parent ID
inline constexpr uint64_t kParentExternal = 1;  // ID in span.parent_external
// A code c >= 2 names the row (c - 2) zigzag-decoded rows before this one, in the same
// trace segment: parent row = row - ZigZagDecode(c - 2).
inline constexpr uint64_t kParentRelativeBase = 2;

// How attribute values of each OTLP type are laid out.
ColumnEncoding EncodingOf(otlp::ValueType type);
// Whether `type` is a valid attribute value type byte (0..7).
bool IsValidValueType(uint8_t type);
// "string", "int", ... as used in column names.
const char* ValueTypeName(otlp::ValueType type);
const char* OwnerName(Owner owner);
// The column name used in meta.json, e.g. "span.attr[http.method]:string".
std::string AttributeColumnName(Owner owner, std::string_view key, otlp::ValueType type);

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// The error for damaged bytes: DataLoss naming the file and the offset.
absl::Status Corruption(std::string_view path, uint64_t offset, std::string_view what);

}  // namespace strand::block
