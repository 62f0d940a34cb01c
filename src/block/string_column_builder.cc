#include "block/string_column_builder.h"

#include <algorithm>
#include <numeric>

#include "common/coding.h"

namespace strand::block {

void StringColumnBuilder::Add(std::string_view value) {
  total_bytes_ += value.size();
  auto it = index_.find(value);
  if (it == index_.end()) {
    const std::string_view copy = arena_.Copy(value);
    it = index_.emplace(copy, static_cast<uint32_t>(values_.size())).first;
    values_.push_back(copy);
  }
  ids_.push_back(it->second);
}

std::vector<std::string_view> StringColumnBuilder::SortedDistinct(size_t max) const {
  if (values_.size() > max) return {};
  std::vector<std::string_view> out = values_;
  std::sort(out.begin(), out.end());
  return out;
}

void StringColumnBuilder::Encode(std::string* out) const {
  // Plain: a length per value plus every value's bytes. Dictionary: each distinct value
  // once plus an index per value.
  uint64_t plain_cost = total_bytes_;
  for (uint32_t id : ids_) plain_cost += VarintLength(values_[id].size());
  uint64_t dict_cost = 0;
  for (std::string_view v : values_) dict_cost += v.size() + VarintLength(v.size());
  dict_cost += ids_.size() * static_cast<uint64_t>(VarintLength(values_.size()));

  std::string lengths;
  if (plain_cost <= dict_cost) {
    out->push_back(0);
    for (uint32_t id : ids_) PutVarint64(&lengths, values_[id].size());
    PutVarint64(out, lengths.size());
    out->append(lengths);
    for (uint32_t id : ids_) out->append(values_[id]);
    return;
  }
  // Dictionary, sorted, so that the page lists the column's distinct values in order.
  std::vector<uint32_t> order(values_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return values_[a] < values_[b]; });
  std::vector<uint32_t> rank(values_.size());
  for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;

  out->push_back(1);
  PutVarint64(out, values_.size());
  for (uint32_t id : order) PutVarint64(&lengths, values_[id].size());
  PutVarint64(out, lengths.size());
  out->append(lengths);
  for (uint32_t id : order) out->append(values_[id]);
  for (uint32_t id : ids_) PutVarint64(out, rank[id]);
}

}  // namespace strand::block
