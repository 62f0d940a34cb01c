#include "store/block_list.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tenant.h"

namespace strand::store {
namespace {

// Removes the files of a directory, then the directory. Best effort; the first error.
absl::Status RemoveTree(Env& env, const std::string& dir) {
  absl::Status first;
  auto children = env.GetChildren(dir);
  if (!children.ok()) return children.status();
  for (const std::string& name : *children) {
    absl::Status s = env.RemoveFile(JoinPath(dir, name));
    if (!s.ok() && first.ok()) first = s;
  }
  absl::Status s = env.RemoveDir(dir);
  if (!s.ok() && first.ok()) first = s;
  return first;
}

constexpr char kDeletingSuffix[] = ".deleting";

}  // namespace

BlockList::BlockList(Env& env, std::string blocks_dir, std::string quarantine_dir,
                     block::BlockReaderOptions reader_options)
    : env_(env),
      reader_options_(reader_options),
      blocks_dir_(std::move(blocks_dir)),
      quarantine_dir_(std::move(quarantine_dir)),
      snapshot_(std::make_shared<const BlockSnapshot>()) {}

absl::StatusOr<BlockHandlePtr> BlockList::OpenBlock(const std::string& dir) const {
  ASSIGN_OR_RETURN(auto reader, block::BlockReader::Open(env_, dir, reader_options_));
  auto handle = std::make_shared<BlockHandle>();
  handle->meta = *reader->meta();
  handle->dir = dir;
  handle->reader = std::move(reader);
  return BlockHandlePtr(std::move(handle));
}

absl::StatusOr<BlockLoadReport> BlockList::Load() {
  RETURN_IF_ERROR(env_.CreateDirs(blocks_dir_));
  BlockLoadReport report;
  auto blocks = std::make_shared<BlockSnapshot>();
  ASSIGN_OR_RETURN(std::vector<std::string> tenants, env_.GetChildren(blocks_dir_));
  std::sort(tenants.begin(), tenants.end());
  for (const std::string& tenant : tenants) {
    const std::string tenant_dir = JoinPath(blocks_dir_, tenant);
    if (!ValidateTenantId(tenant).ok()) {
      LOG_WARN("ignoring {}: not a tenant directory", tenant_dir);
      continue;
    }
    auto ids = env_.GetChildren(tenant_dir);
    if (!ids.ok()) {
      LOG_WARN("ignoring {}: {}", tenant_dir, std::string(ids.status().message()));
      continue;
    }
    for (const std::string& id : *ids) {
      const std::string dir = JoinPath(tenant_dir, id);
      const std::string_view suffix = kDeletingSuffix;
      if (id.ends_with(suffix) &&
          block::BlockId::FromHex(std::string_view(id).substr(0, id.size() - suffix.size()))) {
        // DeleteFiles was interrupted after the rename: finish it.
        if (auto s = RemoveTree(env_, dir); !s.ok()) {
          LOG_WARN("removing {} (an interrupted deletion): {}", dir, std::string(s.message()));
        } else {
          ++report.deletions_finished;
        }
        continue;
      }
      if (!block::BlockId::FromHex(id).has_value()) {
        LOG_WARN("ignoring {}: not a block directory", dir);
        continue;
      }
      if (!env_.FileExists(JoinPath(dir, "meta.json"))) {
        // Never published: a write interrupted by a crash.
        if (auto s = RemoveTree(env_, dir); !s.ok()) {
          LOG_WARN("removing unfinished block {}: {}", dir, std::string(s.message()));
        }
        ++report.unfinished_removed;
        continue;
      }
      auto handle = OpenBlock(dir);
      if (handle.ok()) {
        if ((*handle)->meta.tenant != tenant) {
          LOG_ERROR("block {} belongs to tenant {}, not {}; quarantining it", dir,
                    (*handle)->meta.tenant, tenant);
          RETURN_IF_ERROR(QuarantineDir(tenant, id, dir));
          ++report.quarantined;
          continue;
        }
        blocks->push_back(*std::move(handle));
        ++report.loaded;
      } else if (absl::IsFailedPrecondition(handle.status())) {
        LOG_ERROR("skipping block {}: {}", dir, std::string(handle.status().message()));
        ++report.skipped;
      } else {
        LOG_ERROR("block {} is damaged, quarantining it: {}", dir,
                  std::string(handle.status().message()));
        RETURN_IF_ERROR(QuarantineDir(tenant, id, dir));
        ++report.quarantined;
      }
    }
  }
  // A compaction that published its output but was interrupted before deleting its
  // inputs: the output holds every span of them, so the inputs go now.
  absl::flat_hash_set<std::pair<std::string, block::BlockId>> superseded;
  for (const BlockHandlePtr& b : *blocks) {
    for (const block::BlockId& input : b->meta.compacted_from) {
      superseded.insert({b->meta.tenant, input});
    }
  }
  if (!superseded.empty()) {
    auto kept = std::make_shared<BlockSnapshot>();
    for (BlockHandlePtr& b : *blocks) {
      if (!superseded.contains({b->meta.tenant, b->meta.block_id})) {
        kept->push_back(std::move(b));
        continue;
      }
      LOG_INFO("removing block {}: a compacted block that replaces it is published", b->dir);
      if (auto s = DeleteFiles(*b); !s.ok()) {
        LOG_WARN("removing superseded block {}: {}", b->dir, std::string(s.message()));
      }
      ++report.superseded_removed;
      --report.loaded;
    }
    blocks = std::move(kept);
  }
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(blocks);
  return report;
}

std::shared_ptr<const BlockSnapshot> BlockList::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

void BlockList::Update(const std::vector<BlockHandlePtr>& removed,
                       const std::vector<BlockHandlePtr>& added) {
  absl::flat_hash_set<const BlockHandle*> gone;
  for (const auto& b : removed) gone.insert(b.get());
  absl::MutexLock lock(&mu_);
  auto next = std::make_shared<BlockSnapshot>();
  next->reserve(snapshot_->size() + added.size());
  for (const auto& b : *snapshot_) {
    if (!gone.contains(b.get())) next->push_back(b);
  }
  next->insert(next->end(), added.begin(), added.end());
  snapshot_ = std::move(next);
}

absl::Status BlockList::QuarantineDir(const std::string& tenant, const std::string& id,
                                      const std::string& dir) {
  const std::string target_parent = JoinPath(quarantine_dir_, tenant);
  RETURN_IF_ERROR(env_.CreateDirs(target_parent));
  std::string target = JoinPath(target_parent, id);
  if (env_.FileExists(target)) {
    // Quarantined before under the same name (a copy restored by hand, say).
    if (auto s = RemoveTree(env_, target); !s.ok()) return s;
  }
  RETURN_IF_ERROR(env_.RenameFile(dir, target));
  RETURN_IF_ERROR(env_.SyncDir(DirName(dir)));
  return env_.SyncDir(target_parent);
}

absl::Status BlockList::Quarantine(const BlockHandlePtr& block) {
  Update({block}, {});
  return QuarantineDir(block->meta.tenant, block->meta.block_id.ToHex(), block->dir);
}

absl::Status BlockList::DeleteFiles(const BlockHandle& block) {
  // One rename takes the block out of what Load() considers a block; removing the files
  // one by one could leave a directory without meta.json but with its data, which Load()
  // would recover (a deleted block coming back).
  const std::string doomed = absl::StrCat(block.dir, kDeletingSuffix);
  if (env_.FileExists(doomed)) RETURN_IF_ERROR(RemoveTree(env_, doomed));  // an earlier try
  if (absl::Status s = env_.RenameFile(block.dir, doomed); !s.ok()) {
    return absl::IsNotFound(s) ? absl::OkStatus() : s;  // already gone
  }
  RETURN_IF_ERROR(env_.SyncDir(DirName(block.dir)));
  RETURN_IF_ERROR(RemoveTree(env_, doomed));
  return env_.SyncDir(DirName(block.dir));
}

uint64_t BlockList::MemoryUsage() const {
  auto snap = snapshot();
  uint64_t total = 0;
  for (const auto& b : *snap) {
    total += sizeof(BlockHandle) + b->dir.capacity() + b->reader->MemoryUsage();
    for (const auto& [name, size] : b->meta.column_sizes) total += name.capacity() + 16;
  }
  return total;
}

}  // namespace strand::store
