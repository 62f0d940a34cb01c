// AttributeEditor: edits attribute lists (a span's, a resource's) of one SpanBatch.
//
// A list is a Range into `batch.attributes`, and other lists may sit right after it, so a
// list cannot grow in place. The editor loads a list into a working copy, lets the caller
// find, put and remove entries, then Store() appends the edited list as a new contiguous
// run at the end of `batch.attributes` and returns its Range (the old run stays behind,
// unreferenced). An unchanged list keeps its Range and costs no copy.
//
// Keys and values put into a list must point into storage the batch owns (its buffer or
// arena): use Intern()/Copy() for strings from elsewhere (configuration, request
// metadata, computed hashes). Array and kvlist values keep their children ranges, so a
// value copied from another attribute of the same batch stays valid.
//
// One editor serves one batch (it holds a reference) and one list at a time. Not
// thread-safe; short-lived (one Consume call).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "otlp/span_batch.h"

namespace strand::pipeline {

class AttributeEditor {
 public:
  static constexpr size_t kNotFound = static_cast<size_t>(-1);

  explicit AttributeEditor(otlp::SpanBatch& batch) : batch_(batch) {}
  AttributeEditor(const AttributeEditor&) = delete;
  AttributeEditor& operator=(const AttributeEditor&) = delete;

  // Starts editing the list `range` (which must lie inside batch.attributes).
  void Load(otlp::Range range);
  // The Range of the edited list: `range` as loaded when nothing changed, else a new run
  // appended to batch.attributes (and the batch no longer matches its original request).
  otlp::Range Store();

  // The working copy of the list, in order.
  const std::vector<otlp::KeyValue>& entries() const { return entries_; }
  // The index of the first entry with `key`, or kNotFound.
  size_t IndexOf(std::string_view key) const;
  // Replaces the value at `index`.
  void SetValue(size_t index, const otlp::AnyValue& value);
  // Replaces the value of the first entry with `key`, or appends the pair.
  void Put(std::string_view key, const otlp::AnyValue& value);
  // Removes every entry with `key`; returns how many.
  size_t Remove(std::string_view key);

  // A copy of `s` in the batch's arena, made once per distinct string for this editor.
  std::string_view Intern(std::string_view s);
  // A fresh copy of `s` in the batch's arena.
  std::string_view Copy(std::string_view s) { return batch_.arena().Copy(s); }

  otlp::SpanBatch& batch() { return batch_; }

 private:
  otlp::SpanBatch& batch_;
  otlp::Range loaded_;
  std::vector<otlp::KeyValue> entries_;
  bool changed_ = false;
  absl::flat_hash_map<std::string_view, std::string_view> interned_;
};

}  // namespace strand::pipeline
