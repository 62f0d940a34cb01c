#include "store/block_damage.h"

namespace strand::store {

const char* BlockPartName(BlockPart part) {
  switch (part) {
    case BlockPart::kTables:
      return "tables";
    case BlockPart::kStats:
      return "stats";
    case BlockPart::kRowGroup:
      return "row_group";
  }
  return "unknown";
}

bool BlockDamage::Mark(BlockPart part, size_t row_group, const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  switch (part) {
    case BlockPart::kTables:
      if (!tables_.ok()) return false;
      tables_ = why;
      return true;
    case BlockPart::kStats:
      if (!stats_.ok()) return false;
      stats_ = why;
      return true;
    case BlockPart::kRowGroup:
      return row_groups_.emplace(row_group, why).second;
  }
  return false;
}

absl::Status BlockDamage::RowGroup(size_t index) const {
  absl::MutexLock lock(&mu_);
  if (!tables_.ok()) return tables_;
  auto it = row_groups_.find(index);
  return it == row_groups_.end() ? absl::OkStatus() : it->second;
}

absl::Status BlockDamage::Tables() const {
  absl::MutexLock lock(&mu_);
  return tables_;
}

absl::Status BlockDamage::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

absl::Status BlockDamage::Searchable() const {
  absl::MutexLock lock(&mu_);
  return !tables_.ok() ? tables_ : stats_;
}

bool BlockDamage::any() const {
  absl::MutexLock lock(&mu_);
  return !tables_.ok() || !stats_.ok() || !row_groups_.empty();
}

size_t BlockDamage::damaged_row_groups() const {
  absl::MutexLock lock(&mu_);
  return row_groups_.size();
}

}  // namespace strand::store
