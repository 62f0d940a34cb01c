#include "store/block_list.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "block/block_format.h"
#include "block/block_recovery.h"
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

// The files a block writer leaves in a directory before it publishes it.
bool IsWriterFile(std::string_view name) {
  return name == block::kDataFileName || name == std::string(block::kMetaFileName) + ".tmp";
}

}  // namespace

BlockList::BlockList(Env& env, Clock& clock, std::string blocks_dir, std::string quarantine_dir,
                     block::BlockReaderOptions reader_options)
    : env_(env),
      clock_(clock),
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
  // The sections every search reads, checked now rather than by the first search.
  const absl::Status tables = handle->reader->ReadTables().status();
  const absl::Status stats = handle->reader->ReadStats().status();
  for (const auto& [part, status] :
       {std::pair{BlockPart::kTables, tables}, {BlockPart::kStats, stats}}) {
    if (status.ok()) continue;
    if (!absl::IsDataLoss(status)) return status;
    handle->damage->Mark(part, 0, status);
    LOG_ERROR("block {}: its {} section is damaged; {}: {}", dir, BlockPartName(part),
              part == BlockPart::kTables
                  ? "none of its spans can be read (lookups of its traces answer that data is "
                    "unavailable)"
                  : "searches skip it (lookups by trace ID still read it)",
              std::string(status.message()));
  }
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
    auto names = env_.GetChildren(tenant_dir);
    if (!names.ok()) {
      LOG_WARN("ignoring {}: {}", tenant_dir, std::string(names.status().message()));
      continue;
    }
    for (const std::string& name : *names) {
      ASSIGN_OR_RETURN(DirResult result, LoadDir(tenant, name));
      if (result.block != nullptr) {
        report.damaged += result.block->damage->any();
        blocks->push_back(std::move(result.block));
      }
      report.loaded += result.fate == Fate::kLoaded || result.fate == Fate::kRecovered;
      report.recovered += result.fate == Fate::kRecovered;
      report.quarantined += result.fate == Fate::kQuarantined;
      report.unfinished_removed += result.fate == Fate::kRemoved;
      report.deletions_finished += result.fate == Fate::kDeleted;
      report.skipped += result.fate == Fate::kSkipped;
    }
  }
  report.superseded_removed = DropSuperseded(*blocks);
  report.loaded -= report.superseded_removed;
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(blocks);
  return report;
}

absl::StatusOr<BlockList::DirResult> BlockList::LoadDir(const std::string& tenant,
                                                        const std::string& name) {
  const std::string dir = JoinPath(JoinPath(blocks_dir_, tenant), name);
  const std::string_view suffix = kDeletingSuffix;
  if (name.ends_with(suffix) &&
      block::BlockId::FromHex(std::string_view(name).substr(0, name.size() - suffix.size()))) {
    // DeleteFiles was interrupted after the rename: finish it.
    if (auto s = RemoveTree(env_, dir); !s.ok()) {
      LOG_WARN("removing {} (an interrupted deletion): {}", dir, std::string(s.message()));
      return DirResult{};
    }
    return DirResult{Fate::kDeleted, nullptr};
  }
  if (!block::BlockId::FromHex(name).has_value()) {
    LOG_WARN("ignoring {}: not a block directory", dir);
    return DirResult{};
  }
  if (!env_.FileExists(JoinPath(dir, block::kMetaFileName))) {
    return LoadUnpublished(tenant, name, dir);
  }
  return LoadPublished(tenant, name, dir);
}

absl::StatusOr<BlockList::DirResult> BlockList::LoadPublished(const std::string& tenant,
                                                              const std::string& id,
                                                              const std::string& dir) {
  auto handle = OpenBlock(dir);
  if (handle.ok() && (*handle)->meta.tenant == tenant) return DirResult{Fate::kLoaded, *handle};
  if (handle.ok()) {
    LOG_ERROR("block {} belongs to tenant {}, not {}; quarantining it", dir, (*handle)->meta.tenant,
              tenant);
  } else if (absl::IsFailedPrecondition(handle.status())) {
    LOG_ERROR("skipping block {}: {}", dir, std::string(handle.status().message()));
    return DirResult{Fate::kSkipped, nullptr};
  } else {
    LOG_ERROR("block {} is damaged, quarantining it: {}", dir,
              std::string(handle.status().message()));
  }
  RETURN_IF_ERROR(QuarantineDir(tenant, id, dir));
  return DirResult{Fate::kQuarantined, nullptr};
}

absl::StatusOr<BlockList::DirResult> BlockList::LoadUnpublished(const std::string& tenant,
                                                                const std::string& id,
                                                                const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, env_.GetChildren(dir));
  const std::string data = JoinPath(dir, block::kDataFileName);
  uint64_t data_size = 0;
  if (env_.FileExists(data)) {
    ASSIGN_OR_RETURN(data_size, env_.GetFileSize(data));
  }
  if (data_size == 0 && std::all_of(files.begin(), files.end(), IsWriterFile)) {
    // A write that a crash stopped before any of its data was durable: nothing to lose.
    if (auto s = RemoveTree(env_, dir); !s.ok()) {
      LOG_WARN("removing unfinished block {}: {}", dir, std::string(s.message()));
      return DirResult{};
    }
    return DirResult{Fate::kRemoved, nullptr};
  }
  auto meta = block::RebuildBlockMeta(env_, dir, tenant, clock_.NowUnixNanos(), reader_options_);
  if (absl::IsFailedPrecondition(meta.status())) {
    LOG_ERROR("skipping unpublished block {}: {}", dir, std::string(meta.status().message()));
    return DirResult{Fate::kSkipped, nullptr};
  }
  absl::StatusOr<BlockHandlePtr> handle = absl::UnknownError("unset");
  if (meta.ok()) {
    RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir, block::kMetaFileName), meta->ToJson()));
    handle = OpenBlock(dir);
  } else {
    handle = meta.status();
  }
  if (!handle.ok()) {
    LOG_ERROR("block {} has no meta.json and its data cannot be verified; quarantining it: {}", dir,
              std::string(handle.status().message()));
    RETURN_IF_ERROR(QuarantineDir(tenant, id, dir));
    return DirResult{Fate::kQuarantined, nullptr};
  }
  LOG_WARN(
      "recovered block {}: it had no meta.json (a crash before publication); rebuilt it from "
      "its verified data file ({} traces, {} spans, compaction level {}, {} compaction inputs "
      "named{})",
      dir, (*handle)->meta.trace_count, (*handle)->meta.span_count,
      (*handle)->meta.compaction_level, (*handle)->meta.compacted_from.size(),
      (*handle)->meta.compacted_from.empty() ? "; the level is unknown, 0" : "");
  return DirResult{Fate::kRecovered, *std::move(handle)};
}

uint64_t BlockList::DropSuperseded(BlockSnapshot& blocks) {
  // A compaction that published its output but was interrupted before deleting its
  // inputs: the output holds every span of them, so the inputs go now.
  absl::flat_hash_set<std::pair<std::string, block::BlockId>> superseded;
  for (const BlockHandlePtr& b : blocks) {
    for (const block::BlockId& input : b->meta.compacted_from) {
      superseded.insert({b->meta.tenant, input});
    }
  }
  if (superseded.empty()) return 0;
  BlockSnapshot kept;
  for (BlockHandlePtr& b : blocks) {
    if (!superseded.contains({b->meta.tenant, b->meta.block_id})) {
      kept.push_back(std::move(b));
      continue;
    }
    LOG_INFO("removing block {}: a compacted block that replaces it is published", b->dir);
    if (auto s = DeleteFiles(*b); !s.ok()) {
      LOG_WARN("removing superseded block {}: {}", b->dir, std::string(s.message()));
    }
  }
  const uint64_t removed = blocks.size() - kept.size();
  blocks = std::move(kept);
  return removed;
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
  // A name already taken (the same block quarantined before, restored by hand, say) is
  // kept: quarantine never replaces anything.
  std::string target = JoinPath(target_parent, id);
  for (int n = 1; env_.FileExists(target); ++n) {
    target = JoinPath(target_parent, absl::StrCat(id, ".", n));
  }
  RETURN_IF_ERROR(env_.RenameFile(dir, target));
  RETURN_IF_ERROR(env_.SyncDir(DirName(dir)));
  return env_.SyncDir(target_parent);
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
