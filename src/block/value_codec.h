// The block format's encoding of OTLP AnyValues and attribute lists (docs/format/block.md,
// "Values"). Used for array and kvlist attribute values in columns, and for the
// attributes of resources and scopes in the block's tables.
//
//   body(string | bytes) = varint length, bytes
//   body(bool)           = u8 0 | 1
//   body(int)            = zigzag varint
//   body(double)         = 8 bytes, IEEE 754 bits, little-endian
//   body(array)          = varint n, n x (u8 type, body)
//   body(kvlist)         = varint n, n x (varint key length, key, u8 type, body)
//   body(none)           = nothing
//
// Decoders take untrusted bytes: they fail (return false, leave the reader failed) on a
// bad type, a truncated body, a count larger than the bytes left, or nesting deeper than
// kMaxValueDepth. Decoded strings are copied into the output batch's arena.
// Stateless functions; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "block/byte_reader.h"
#include "otlp/span_batch.h"

namespace strand::block {

// A top-level attribute value has depth 1; an array or kvlist at this depth must be empty
// (the same bound as the OTLP/JSON decoder's, so every batch we accept can be stored).
inline constexpr int kMaxValueDepth = 64;

// Appends the body of `value` (whose children live in `batch`) to `out`.
void EncodeValueBody(const otlp::SpanBatch& batch, const otlp::AnyValue& value, std::string* out);

// Appends attributes `range` of `list` (a vector of `batch`) as a kvlist body.
void EncodeKeyValueList(const otlp::SpanBatch& batch, const std::vector<otlp::KeyValue>& list,
                        otlp::Range range, std::string* out);

// Decodes a body of `type` at nesting `depth` (1 for a top-level value), appending any
// children to `out`'s array_values / kvlist_values.
bool DecodeValueBody(ByteReader& in, otlp::ValueType type, int depth, otlp::SpanBatch& out,
                     otlp::AnyValue* value);

// Decodes a kvlist body and appends its entries, contiguous, to `out.attributes` (when
// `into_kvlist_values` is false) or `out.kvlist_values`; sets `range` to them.
bool DecodeKeyValueList(ByteReader& in, int depth, bool into_kvlist_values, otlp::SpanBatch& out,
                        otlp::Range* range);

}  // namespace strand::block
