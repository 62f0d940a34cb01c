#include "otlp/span_batch.h"

namespace strand::otlp {
namespace {

template <typename T>
size_t VectorBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

}  // namespace

size_t SpanBatch::MemoryUsage() const {
  size_t total = DecodedMemoryUsage();
  if (buffer_ != nullptr) total += sizeof(std::string) + buffer_->capacity();
  return total;
}

size_t SpanBatch::DecodedMemoryUsage() const {
  size_t total = sizeof(SpanBatch);
  total += arena_.MemoryUsage();
  total += VectorBytes(resources) + VectorBytes(scopes) + VectorBytes(spans) + VectorBytes(events) +
           VectorBytes(links) + VectorBytes(attributes) + VectorBytes(array_values) +
           VectorBytes(kvlist_values);
  return total;
}

}  // namespace strand::otlp
