#include "block/block_meta.h"

#include <simdjson.h>

#include "common/json_writer.h"

namespace strand::block {
namespace {

void Field(std::string& out, std::string_view name, uint64_t value) {
  out += "  \"";
  out += name;
  out += "\": ";
  out += std::to_string(value);
  out += ",\n";
}

void Field(std::string& out, std::string_view name, std::string_view value) {
  out += "  \"";
  out += name;
  out += "\": ";
  AppendJsonString(out, value);
  out += ",\n";
}

absl::Status Bad(std::string_view path, std::string_view what) {
  return absl::DataLossError(std::string(path) + ": bad block metadata: " + std::string(what));
}

}  // namespace

BlockMeta BlockMeta::FromFooter(const BlockFooter& footer, uint64_t data_size,
                                uint32_t header_checksum, uint32_t footer_checksum) {
  BlockMeta meta;
  meta.block_id = footer.block_id;
  meta.min_start_unix_nano = footer.min_start;
  meta.max_start_unix_nano = footer.max_start;
  meta.min_end_unix_nano = footer.min_end;
  meta.max_end_unix_nano = footer.max_end;
  meta.trace_count = footer.trace_count;
  meta.span_count = footer.span_count;
  meta.row_group_count = footer.row_groups.size();
  meta.data_size = data_size;
  meta.header_checksum = header_checksum;
  meta.footer_checksum = footer_checksum;
  // The footer and trailer follow the bloom filter and end the file.
  meta.footer_bytes = data_size - (footer.bloom.offset + footer.bloom.stored_size);
  meta.bloom_bytes = footer.bloom.stored_size;
  return meta;
}

std::string BlockMeta::ToJson() const {
  std::string out = "{\n";
  Field(out, "format", "strand-block");
  Field(out, "format_version", format_version);
  Field(out, "block_id", block_id.ToHex());
  Field(out, "tenant", tenant);
  Field(out, "min_start_unix_nano", min_start_unix_nano);
  Field(out, "max_start_unix_nano", max_start_unix_nano);
  Field(out, "min_end_unix_nano", min_end_unix_nano);
  Field(out, "max_end_unix_nano", max_end_unix_nano);
  Field(out, "trace_count", trace_count);
  Field(out, "span_count", span_count);
  Field(out, "row_group_count", row_group_count);
  Field(out, "data_size", data_size);
  Field(out, "header_checksum", header_checksum);
  Field(out, "footer_checksum", footer_checksum);
  Field(out, "footer_bytes", footer_bytes);
  Field(out, "bloom_bytes", bloom_bytes);
  out += "  \"created_unix_nano\": " + std::to_string(created_unix_nano) + ",\n";
  Field(out, "compaction_level", compaction_level);
  if (!compacted_from.empty()) {
    out += "  \"compacted_from\": [";
    for (size_t i = 0; i < compacted_from.size(); ++i) {
      if (i > 0) out += ", ";
      AppendJsonString(out, compacted_from[i].ToHex());
    }
    out += "],\n";
  }
  out += "  \"column_sizes\": {";
  for (size_t i = 0; i < column_sizes.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    AppendJsonString(out, column_sizes[i].first);
    out += ": " + std::to_string(column_sizes[i].second);
  }
  out += column_sizes.empty() ? "}\n" : "\n  }\n";
  out += "}\n";
  return out;
}

absl::StatusOr<BlockMeta> BlockMeta::FromJson(std::string_view json, std::string_view path) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return Bad(path, "not valid JSON");
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return Bad(path, "not a JSON object");

  BlockMeta m;
  std::string missing;
  auto u64 = [&](const char* name, uint64_t* v) {
    if (obj[name].get_uint64().get(*v) != simdjson::SUCCESS && missing.empty()) missing = name;
  };
  auto u32 = [&](const char* name, uint32_t* v) {
    uint64_t x = 0;
    u64(name, &x);
    if (x > UINT32_MAX && missing.empty()) missing = name;
    *v = static_cast<uint32_t>(x);
  };
  std::string_view format;
  if (obj["format"].get_string().get(format) != simdjson::SUCCESS || format != "strand-block") {
    return Bad(path, "\"format\" is not \"strand-block\"");
  }
  u32("format_version", &m.format_version);
  if (!missing.empty()) return Bad(path, "no format_version");
  if (m.format_version > kFormatVersion) {
    return absl::FailedPreconditionError(
        std::string(path) + ": block format version " + std::to_string(m.format_version) +
        " is newer than this build reads (" + std::to_string(kFormatVersion) + ")");
  }
  std::string_view id;
  if (obj["block_id"].get_string().get(id) != simdjson::SUCCESS) return Bad(path, "no block_id");
  std::optional<BlockId> block_id = BlockId::FromHex(id);
  if (!block_id.has_value()) return Bad(path, "block_id is not 32 hex digits");
  m.block_id = *block_id;
  std::string_view tenant;
  if (obj["tenant"].get_string().get(tenant) != simdjson::SUCCESS) return Bad(path, "no tenant");
  m.tenant = std::string(tenant);
  u64("min_start_unix_nano", &m.min_start_unix_nano);
  u64("max_start_unix_nano", &m.max_start_unix_nano);
  u64("min_end_unix_nano", &m.min_end_unix_nano);
  u64("max_end_unix_nano", &m.max_end_unix_nano);
  u64("trace_count", &m.trace_count);
  u64("span_count", &m.span_count);
  u64("row_group_count", &m.row_group_count);
  u64("data_size", &m.data_size);
  u32("header_checksum", &m.header_checksum);
  u32("footer_checksum", &m.footer_checksum);
  u64("footer_bytes", &m.footer_bytes);
  u64("bloom_bytes", &m.bloom_bytes);
  if (obj["created_unix_nano"].get_int64().get(m.created_unix_nano) != simdjson::SUCCESS &&
      missing.empty()) {
    missing = "created_unix_nano";
  }
  u32("compaction_level", &m.compaction_level);
  if (!missing.empty()) return Bad(path, "missing or invalid \"" + missing + "\"");
  simdjson::dom::array inputs;
  if (obj["compacted_from"].get(inputs) == simdjson::SUCCESS) {
    for (auto input : inputs) {
      std::string_view hex;
      std::optional<BlockId> input_id;
      if (input.get_string().get(hex) == simdjson::SUCCESS) input_id = BlockId::FromHex(hex);
      if (!input_id.has_value()) return Bad(path, "compacted_from holds a bad block ID");
      m.compacted_from.push_back(*input_id);
    }
  }
  simdjson::dom::object sizes;
  if (obj["column_sizes"].get(sizes) == simdjson::SUCCESS) {
    for (auto field : sizes) {
      uint64_t v;
      if (field.value.get_uint64().get(v) != simdjson::SUCCESS) {
        return Bad(path, "column_sizes holds a non-integer");
      }
      m.column_sizes.emplace_back(std::string(field.key), v);
    }
  }
  return m;
}

}  // namespace strand::block
