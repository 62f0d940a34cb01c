#include "pipeline/processor/attributes/attribute_editor.h"

#include <algorithm>

namespace strand::pipeline {

void AttributeEditor::Load(otlp::Range range) {
  loaded_ = range;
  changed_ = false;
  entries_.assign(batch_.attributes.begin() + range.begin, batch_.attributes.begin() + range.end);
}

otlp::Range AttributeEditor::Store() {
  if (!changed_) return loaded_;
  // Appending may reallocate batch.attributes; entries_ holds copies, never references.
  otlp::Range out;
  out.begin = static_cast<uint32_t>(batch_.attributes.size());
  batch_.attributes.insert(batch_.attributes.end(), entries_.begin(), entries_.end());
  out.end = static_cast<uint32_t>(batch_.attributes.size());
  batch_.set_original_is_request(false);
  changed_ = false;
  loaded_ = out;
  return out;
}

size_t AttributeEditor::IndexOf(std::string_view key) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) return i;
  }
  return kNotFound;
}

void AttributeEditor::SetValue(size_t index, const otlp::AnyValue& value) {
  entries_[index].value = value;
  changed_ = true;
}

void AttributeEditor::Put(std::string_view key, const otlp::AnyValue& value) {
  const size_t i = IndexOf(key);
  if (i != kNotFound) return SetValue(i, value);
  entries_.push_back(otlp::KeyValue{key, value});
  changed_ = true;
}

size_t AttributeEditor::Remove(std::string_view key) {
  const size_t before = entries_.size();
  std::erase_if(entries_, [&](const otlp::KeyValue& kv) { return kv.key == key; });
  const size_t removed = before - entries_.size();
  if (removed > 0) changed_ = true;
  return removed;
}

std::string_view AttributeEditor::Intern(std::string_view s) {
  auto it = interned_.find(s);
  if (it != interned_.end()) return it->second;
  std::string_view copy = batch_.arena().Copy(s);
  // Keyed by the arena copy: the caller's string need not outlive the editor.
  interned_.emplace(copy, copy);
  return copy;
}

}  // namespace strand::pipeline
