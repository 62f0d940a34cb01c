#include "block/value_codec.h"

#include "block/block_format.h"

namespace strand::block {

using otlp::AnyValue;
using otlp::KeyValue;
using otlp::Range;
using otlp::SpanBatch;
using otlp::ValueType;

void EncodeValueBody(const SpanBatch& batch, const AnyValue& value, std::string* out) {
  switch (value.type) {
    case ValueType::kNone:
      return;
    case ValueType::kString:
    case ValueType::kBytes:
      PutLengthPrefixed(out, value.str);
      return;
    case ValueType::kBool:
      out->push_back(value.bool_value ? 1 : 0);
      return;
    case ValueType::kInt:
      PutZigZag(out, value.int_value);
      return;
    case ValueType::kDouble:
      PutDouble(out, value.double_value);
      return;
    case ValueType::kArray:
      PutVarint64(out, value.children.size());
      for (uint32_t i = value.children.begin; i < value.children.end; ++i) {
        const AnyValue& child = batch.array_values[i];
        out->push_back(static_cast<char>(child.type));
        EncodeValueBody(batch, child, out);
      }
      return;
    case ValueType::kKvList:
      EncodeKeyValueList(batch, batch.kvlist_values, value.children, out);
      return;
  }
}

void EncodeKeyValueList(const SpanBatch& batch, const std::vector<KeyValue>& list, Range range,
                        std::string* out) {
  PutVarint64(out, range.size());
  for (uint32_t i = range.begin; i < range.end; ++i) {
    const KeyValue& kv = list[i];
    PutLengthPrefixed(out, kv.key);
    out->push_back(static_cast<char>(kv.value.type));
    EncodeValueBody(batch, kv.value, out);
  }
}

namespace {

bool ReadType(ByteReader& in, ValueType* type) {
  const uint8_t t = in.U8();
  if (!in.ok() || !IsValidValueType(t)) {
    in.Fail();
    return false;
  }
  *type = static_cast<ValueType>(t);
  return true;
}

}  // namespace

bool DecodeValueBody(ByteReader& in, ValueType type, int depth, SpanBatch& out, AnyValue* value) {
  *value = AnyValue();
  value->type = type;
  switch (type) {
    case ValueType::kNone:
      break;
    case ValueType::kString:
    case ValueType::kBytes:
      value->str = out.arena().Copy(in.LengthPrefixed());
      break;
    case ValueType::kBool: {
      const uint8_t b = in.U8();
      if (b > 1) in.Fail();
      value->bool_value = b != 0;
      break;
    }
    case ValueType::kInt:
      value->int_value = in.ZigZag();
      break;
    case ValueType::kDouble:
      value->double_value = in.Double();
      break;
    case ValueType::kArray: {
      const uint64_t n = in.Varint();
      // Every element takes at least its type byte; elements sit one level deeper.
      if (!in.ok() || n > in.remaining() || (n > 0 && depth >= kMaxValueDepth)) {
        in.Fail();
        return false;
      }
      const auto base = static_cast<uint32_t>(out.array_values.size());
      out.array_values.resize(base + n);
      for (uint64_t i = 0; i < n; ++i) {
        ValueType child_type;
        if (!ReadType(in, &child_type)) return false;
        AnyValue child;
        if (!DecodeValueBody(in, child_type, depth + 1, out, &child)) return false;
        out.array_values[base + i] = child;  // the vector may have grown meanwhile
      }
      value->children = Range{base, static_cast<uint32_t>(base + n)};
      break;
    }
    case ValueType::kKvList:
      if (!DecodeKeyValueList(in, depth + 1, /*into_kvlist_values=*/true, out, &value->children)) {
        return false;
      }
      break;
  }
  return in.ok();
}

bool DecodeKeyValueList(ByteReader& in, int depth, bool into_kvlist_values, SpanBatch& out,
                        Range* range) {
  const uint64_t n = in.Varint();
  // Every entry takes at least a key length and a type byte.
  if (!in.ok() || n > in.remaining() / 2 || (n > 0 && depth > kMaxValueDepth)) {
    in.Fail();
    return false;
  }
  std::vector<KeyValue>& list = into_kvlist_values ? out.kvlist_values : out.attributes;
  const auto base = static_cast<uint32_t>(list.size());
  list.resize(base + n);
  for (uint64_t i = 0; i < n; ++i) {
    KeyValue kv;
    kv.key = out.arena().Copy(in.LengthPrefixed());
    ValueType type;
    if (!ReadType(in, &type)) return false;
    if (!DecodeValueBody(in, type, depth, out, &kv.value)) return false;
    list[base + i] = kv;
  }
  *range = Range{base, static_cast<uint32_t>(base + n)};
  return in.ok();
}

}  // namespace strand::block
