#include "wal/wal_replay.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "wal/wal_format.h"

namespace strand {

bool ReplayStats::data_loss() const {
  for (const WalDamage& d : damage) {
    if (d.data_loss) return true;
  }
  return false;
}

std::string ReplayStats::DamageSummary() const {
  std::string out;
  for (const WalDamage& d : damage) {
    absl::StrAppend(&out, "segment ", d.segment_seq, " offset ", d.offset, " length ", d.length,
                    ": ", WalDamageKindName(d.kind), " (", d.reason, ")",
                    d.data_loss ? " data loss" : "", d.repaired ? " repaired" : "", "\n");
  }
  return out;
}

absl::StatusOr<ReplayStats> ReplayWal(
    Env& env, const std::string& dir,
    absl::FunctionRef<absl::Status(uint8_t type, std::string_view payload)> fn,
    const ReplayOptions& options) {
  ReplayStats stats;
  ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, ListWalSegments(env, dir));
  bool removed_any = false;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const uint64_t seq = seqs[i];
    if (seq < options.min_seq) continue;
    const bool newest = i + 1 == seqs.size();
    const std::string path = WalSegmentPath(dir, seq);
    ASSIGN_OR_RETURN(std::unique_ptr<WalReader> reader, WalReader::Open(env, path));
    if (reader->header_status() == WalHeaderStatus::kUnsupportedVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": WAL format version ", reader->header().version, " (flags ",
                       reader->header().flags, ") is not supported; this build reads version ",
                       kWalFormatVersion));
    }
    if (reader->header_status() == WalHeaderStatus::kOk) {
      ++stats.segments;
      if (stats.first_seq == 0) stats.first_seq = seq;
      stats.last_seq = seq;
    }
    while (true) {
      ASSIGN_OR_RETURN(std::optional<WalRecordView> record, reader->Next());
      if (!record.has_value()) break;
      ++stats.records;
      stats.payload_bytes += record->payload.size();
      RETURN_IF_ERROR(fn(record->type, record->payload));
    }
    std::vector<WalDamage> damage = reader->damage();
    reader.reset();  // close the file before repairing it

    for (WalDamage& d : damage) {
      if (d.kind == WalDamageKind::kIncompleteSegment && options.repair) {
        RETURN_IF_ERROR(env.RemoveFile(path));
        removed_any = true;
        ++stats.segments_removed;
        d.repaired = true;
      } else if (d.kind == WalDamageKind::kTornTail) {
        d.data_loss = !newest;
        if (newest && options.repair) {
          RETURN_IF_ERROR(env.TruncateFile(path, d.offset));
          stats.bytes_truncated += d.length;
          d.repaired = true;
        }
      }
      stats.damage.push_back(std::move(d));
    }
  }
  if (removed_any) RETURN_IF_ERROR(env.SyncDir(dir));
  return stats;
}

}  // namespace strand
