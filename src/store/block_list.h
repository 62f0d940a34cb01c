// BlockList: the published blocks the store reads, as immutable snapshots.
//
// Readers take a snapshot (a shared_ptr to a const vector of open blocks) and use it
// without locks; writers (the cutter, the compactor, retention) publish a new snapshot
// in one step, so a query sees either a compaction's inputs or its output, never both
// and never neither. A block removed from the list stays open for readers that still
// hold an older snapshot (its files may already be unlinked: open descriptors keep them
// readable).
//
// Layout on disk: `<blocks_dir>/<tenant>/<block id>/{data,meta.json}`. Load() never
// deletes a byte that could hold a span (docs/format/block.md, "Recovery at start"):
//   - a block with meta.json is opened; one that fails to open with DataLoss is moved to
//     `<quarantine_dir>/<tenant>/<id>` and reported; one whose tables or statistics
//     section is damaged is opened with that damage recorded (BlockDamage);
//   - a directory without meta.json is removed only when it holds nothing (no data file,
//     or an empty one, and no other file than the writer's meta.json.tmp); otherwise its
//     data file is verified in full and meta.json rebuilt from it (the block is
//     recovered), or, when it does not verify, the directory is quarantined;
//   - `<block id>.deleting` is a deletion that a crash interrupted (DeleteFiles) and is
//     removed;
//   - a block of a newer format is skipped (left alone) and reported;
//   - a block named in another published block's `compacted_from` is deleted (a crash
//     interrupted the compaction's clean-up).
// Nothing in quarantine is ever replaced: a name already taken gets `.1`, `.2`, ...
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "store/block_damage.h"
#include "common/clock.h"
#include "common/env.h"

namespace strand::store {

struct BlockHandle {
  block::BlockMeta meta;
  std::string dir;  // <blocks_dir>/<tenant>/<block id>
  std::unique_ptr<block::BlockReader> reader;
  // What is known damaged in it (the handle is shared as const; the damage record is not).
  std::unique_ptr<BlockDamage> damage = std::make_unique<BlockDamage>();
};
using BlockHandlePtr = std::shared_ptr<const BlockHandle>;
using BlockSnapshot = std::vector<BlockHandlePtr>;

struct BlockLoadReport {
  uint64_t loaded = 0;     // recovered ones included
  uint64_t recovered = 0;  // published again from a verified data file without meta.json
  uint64_t quarantined = 0;
  uint64_t unfinished_removed = 0;  // directories without meta.json that held nothing
  uint64_t deletions_finished = 0;  // `.deleting` directories left by a crash, removed
  uint64_t skipped = 0;             // newer format version
  uint64_t superseded_removed = 0;  // inputs of a published compaction, left by a crash
  uint64_t damaged = 0;             // loaded with a damaged tables or statistics section
};

class BlockList {
 public:
  // `clock` dates the meta.json of recovered blocks; `env` and `clock` must outlive it.
  BlockList(Env& env, Clock& clock, std::string blocks_dir, std::string quarantine_dir,
            block::BlockReaderOptions reader_options = {});

  // Opens every block on disk (see the class comment) and replaces the list with them.
  absl::StatusOr<BlockLoadReport> Load();

  // Opens the block in `dir` (just published by a writer, or at Load). Besides what
  // BlockReader::Open checks, reads the tables and statistics sections (two pages) and
  // records their damage in the handle instead of failing: the rest stays readable.
  absl::StatusOr<BlockHandlePtr> OpenBlock(const std::string& dir) const;

  std::shared_ptr<const BlockSnapshot> snapshot() const;

  // Publishes a snapshot with `added` and without `removed` (compared by identity).
  void Update(const std::vector<BlockHandlePtr>& removed, const std::vector<BlockHandlePtr>& added);

  // Removes a block's files (after Update() dropped it): renames its directory to
  // `<id>.deleting` (durably), then removes that. A crash half-way leaves a directory that
  // Load() finishes removing, never one it would recover.
  absl::Status DeleteFiles(const BlockHandle& block);

  // Bytes held in memory by the open blocks (footers, bloom filters, metadata).
  uint64_t MemoryUsage() const;

  const std::string& blocks_dir() const { return blocks_dir_; }

 private:
  // What Load() did with one entry of a tenant directory.
  enum class Fate { kIgnored, kLoaded, kRecovered, kQuarantined, kRemoved, kDeleted, kSkipped };
  struct DirResult {
    Fate fate = Fate::kIgnored;
    BlockHandlePtr block;  // set for kLoaded and kRecovered
  };
  absl::StatusOr<DirResult> LoadDir(const std::string& tenant, const std::string& name);
  // A block directory with meta.json.
  absl::StatusOr<DirResult> LoadPublished(const std::string& tenant, const std::string& id,
                                          const std::string& dir);
  // A block directory without meta.json: removed, recovered or quarantined.
  absl::StatusOr<DirResult> LoadUnpublished(const std::string& tenant, const std::string& id,
                                            const std::string& dir);
  // Deletes the blocks of `blocks` that a published compaction output in it replaces,
  // and drops them from it. Returns how many.
  uint64_t DropSuperseded(BlockSnapshot& blocks);
  absl::Status QuarantineDir(const std::string& tenant, const std::string& id,
                             const std::string& dir);

  Env& env_;
  Clock& clock_;
  const block::BlockReaderOptions reader_options_;
  const std::string blocks_dir_;
  const std::string quarantine_dir_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const BlockSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::store
