#include "block/block_tables_builder.h"

#include "block/byte_reader.h"
#include "block/value_codec.h"
#include "common/coding.h"

namespace strand::block {

uint32_t BlockTablesBuilder::InternScope(const otlp::SpanBatch& batch, uint32_t scope_index) {
  const otlp::Scope& scope = batch.scopes[scope_index];
  const otlp::Resource& resource = batch.resources[scope.resource_index];

  // Resource entry: attributes (kvlist body), dropped count, schema URL.
  scratch_.clear();
  EncodeKeyValueList(batch, batch.attributes, resource.attributes, &scratch_);
  PutVarint64(&scratch_, resource.dropped_attributes_count);
  PutLengthPrefixed(&scratch_, resource.schema_url);
  auto [rit, new_resource] =
      resource_index_.try_emplace(scratch_, static_cast<uint32_t>(resources_.size()));
  if (new_resource) {
    ResourceEntry entry;
    entry.bytes = scratch_;
    for (uint32_t i = resource.attributes.begin; i < resource.attributes.end; ++i) {
      const otlp::KeyValue& kv = batch.attributes[i];
      entry.keys.emplace_back(kv.key);
      if (kv.key == "service.name" && kv.value.type == otlp::ValueType::kString &&
          entry.service_name.empty()) {
        entry.service_name = std::string(kv.value.str);
      }
    }
    resources_.push_back(std::move(entry));
  }
  const uint32_t resource_id = rit->second;

  // Scope entry: resource index, name, version, attributes, dropped count, schema URL.
  scratch_.clear();
  PutVarint64(&scratch_, resource_id);
  PutLengthPrefixed(&scratch_, scope.name);
  PutLengthPrefixed(&scratch_, scope.version);
  EncodeKeyValueList(batch, batch.attributes, scope.attributes, &scratch_);
  PutVarint64(&scratch_, scope.dropped_attributes_count);
  PutLengthPrefixed(&scratch_, scope.schema_url);
  auto [sit, new_scope] = scope_index_.try_emplace(scratch_, static_cast<uint32_t>(scopes_.size()));
  if (new_scope) scopes_.push_back(ScopeEntry{scratch_, resource_id});
  return sit->second;
}

void BlockTablesBuilder::Encode(std::string* out) const {
  PutVarint64(out, resources_.size());
  for (const ResourceEntry& r : resources_) PutLengthPrefixed(out, r.bytes);
  PutVarint64(out, scopes_.size());
  for (const ScopeEntry& s : scopes_) PutLengthPrefixed(out, s.bytes);
}

}  // namespace strand::block
