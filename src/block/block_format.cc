#include "block/block_format.h"

#include <string>

namespace strand::block {

const FixedColumnInfo* FindFixedColumn(uint32_t id) {
  for (const FixedColumnInfo& info : kFixedColumns) {
    if (static_cast<uint32_t>(info.id) == id) return &info;
  }
  return nullptr;
}

ColumnEncoding EncodingOf(otlp::ValueType type) {
  switch (type) {
    case otlp::ValueType::kNone:
      return ColumnEncoding::kNone;
    case otlp::ValueType::kInt:
      return ColumnEncoding::kVarint;
    case otlp::ValueType::kBool:
      return ColumnEncoding::kFixed1;
    case otlp::ValueType::kDouble:
      return ColumnEncoding::kFixed8;
    case otlp::ValueType::kString:
    case otlp::ValueType::kBytes:
    case otlp::ValueType::kArray:
    case otlp::ValueType::kKvList:
      return ColumnEncoding::kStrings;
  }
  return ColumnEncoding::kNone;
}

bool IsValidValueType(uint8_t type) {
  return type <= static_cast<uint8_t>(otlp::ValueType::kBytes);
}

const char* ValueTypeName(otlp::ValueType type) {
  switch (type) {
    case otlp::ValueType::kNone:
      return "none";
    case otlp::ValueType::kString:
      return "string";
    case otlp::ValueType::kBool:
      return "bool";
    case otlp::ValueType::kInt:
      return "int";
    case otlp::ValueType::kDouble:
      return "double";
    case otlp::ValueType::kArray:
      return "array";
    case otlp::ValueType::kKvList:
      return "kvlist";
    case otlp::ValueType::kBytes:
      return "bytes";
  }
  return "unknown";
}

const char* OwnerName(Owner owner) {
  switch (owner) {
    case Owner::kSpan:
      return "span";
    case Owner::kEvent:
      return "event";
    case Owner::kLink:
      return "link";
  }
  return "unknown";
}

std::string AttributeColumnName(Owner owner, std::string_view key, otlp::ValueType type) {
  std::string name = OwnerName(owner);
  name += ".attr[";
  name += key;
  name += "]:";
  name += ValueTypeName(type);
  return name;
}

absl::Status Corruption(std::string_view path, uint64_t offset, std::string_view what) {
  std::string msg(path);
  msg += ": corrupt block at offset ";
  msg += std::to_string(offset);
  msg += ": ";
  msg += what;
  return absl::DataLossError(msg);
}

}  // namespace strand::block
