#include "block/block_tables.h"

#include "block/block_format.h"
#include "block/byte_reader.h"
#include "block/value_codec.h"

namespace strand::block {

absl::StatusOr<BlockTables> BlockTables::Parse(std::string raw, std::string_view path,
                                               uint64_t offset) {
  BlockTables t;
  t.raw_ = std::make_unique<std::string>(std::move(raw));
  t.path_ = std::string(path);
  t.offset_ = offset;
  ByteReader in(*t.raw_);
  const uint64_t num_resources = in.Varint();
  // An entry takes at least 4 bytes (length, attribute count, dropped count, schema URL).
  if (!in.ok() || num_resources > in.remaining() / 4) {
    return Corruption(path, offset, "tables: bad resource count");
  }
  t.resources_.reserve(num_resources);
  otlp::SpanBatch scratch;  // attribute bodies are decoded once here to validate them
  for (uint64_t i = 0; i < num_resources; ++i) {
    const std::string_view entry = in.LengthPrefixed();
    ByteReader e(entry);
    otlp::Range range;
    if (!in.ok() || !DecodeKeyValueList(e, 1, false, scratch, &range)) {
      return Corruption(path, offset, "tables: bad resource attributes");
    }
    ResourceEntry r;
    r.attributes = entry.substr(0, e.offset());
    r.dropped = e.Varint32();
    r.schema_url = e.LengthPrefixed();
    if (!e.ok() || !e.empty()) return Corruption(path, offset, "tables: bad resource entry");
    t.resources_.push_back(r);
  }
  const uint64_t num_scopes = in.Varint();
  if (!in.ok() || num_scopes > in.remaining() / 4) {
    return Corruption(path, offset, "tables: bad scope count");
  }
  t.scopes_.reserve(num_scopes);
  for (uint64_t i = 0; i < num_scopes; ++i) {
    ByteReader e(in.LengthPrefixed());
    ScopeEntry s;
    s.resource = e.Varint32();
    s.name = e.LengthPrefixed();
    s.version = e.LengthPrefixed();
    const std::string_view rest = e.Bytes(e.remaining());
    ByteReader attrs(rest);
    otlp::Range range;
    if (!e.ok() || !DecodeKeyValueList(attrs, 1, false, scratch, &range)) {
      return Corruption(path, offset, "tables: bad scope attributes");
    }
    s.attributes = rest.substr(0, attrs.offset());
    s.dropped = attrs.Varint32();
    s.schema_url = attrs.LengthPrefixed();
    if (!in.ok() || !attrs.ok() || !attrs.empty() || s.resource >= num_resources) {
      return Corruption(path, offset, "tables: bad scope entry");
    }
    t.scopes_.push_back(s);
  }
  if (!in.ok() || !in.empty()) return Corruption(path, offset, "tables: trailing bytes");
  return t;
}

BlockTables::BatchMap BlockTables::NewBatchMap() const {
  BatchMap map;
  map.scope.assign(scopes_.size(), -1);
  map.resource.assign(resources_.size(), -1);
  return map;
}

absl::StatusOr<uint32_t> BlockTables::CopyResource(uint32_t r, otlp::SpanBatch& out,
                                                   BatchMap& map) const {
  if (map.resource[r] >= 0) return static_cast<uint32_t>(map.resource[r]);
  const ResourceEntry& entry = resources_[r];
  otlp::Resource resource;
  ByteReader in(entry.attributes);
  if (!DecodeKeyValueList(in, 1, false, out, &resource.attributes)) {
    return Corruption(path_, offset_, "tables: bad resource attributes");
  }
  resource.dropped_attributes_count = entry.dropped;
  resource.schema_url = out.arena().Copy(entry.schema_url);
  map.resource[r] = static_cast<int64_t>(out.resources.size());
  out.resources.push_back(resource);
  return static_cast<uint32_t>(map.resource[r]);
}

absl::StatusOr<uint32_t> BlockTables::CopyScope(uint32_t s, otlp::SpanBatch& out,
                                                BatchMap& map) const {
  if (map.scope[s] >= 0) return static_cast<uint32_t>(map.scope[s]);
  const ScopeEntry& entry = scopes_[s];
  absl::StatusOr<uint32_t> resource = CopyResource(entry.resource, out, map);
  if (!resource.ok()) return resource.status();
  otlp::Scope scope;
  scope.resource_index = *resource;
  scope.name = out.arena().Copy(entry.name);
  scope.version = out.arena().Copy(entry.version);
  ByteReader in(entry.attributes);
  if (!DecodeKeyValueList(in, 1, false, out, &scope.attributes)) {
    return Corruption(path_, offset_, "tables: bad scope attributes");
  }
  scope.dropped_attributes_count = entry.dropped;
  scope.schema_url = out.arena().Copy(entry.schema_url);
  map.scope[s] = static_cast<int64_t>(out.scopes.size());
  out.scopes.push_back(scope);
  return static_cast<uint32_t>(map.scope[s]);
}

}  // namespace strand::block
