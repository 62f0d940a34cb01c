#include "wal/wal_replay.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "wal/wal_format.h"
#include "wal/wal_quarantine.h"

namespace strand {

namespace {

// One segment as read, and what replay decided and did about it.
struct SegmentRecovery {
  std::string path;
  WalSegmentReport report;
  std::vector<WalDamage> damage;
};

// Reads every valid record of the segment at `path` into `fn`.
absl::StatusOr<SegmentRecovery> ReadSegment(
    Env& env, const std::string& path, uint64_t seq, bool newest,
    absl::FunctionRef<absl::Status(uint8_t type, std::string_view payload)> fn,
    ReplayStats& stats) {
  ASSIGN_OR_RETURN(std::unique_ptr<WalReader> reader, WalReader::Open(env, path));
  if (reader->header_status() == WalHeaderStatus::kUnsupportedVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": WAL format version ", reader->header().version, " (flags ", reader->header().flags,
        ") is not supported; this build reads version ", kWalFormatVersion));
  }
  if (reader->header_status() == WalHeaderStatus::kOk) {
    ++stats.segments;
    if (stats.first_seq == 0) stats.first_seq = seq;
    stats.last_seq = seq;
  }
  SegmentRecovery segment;
  segment.path = path;
  segment.report.seq = seq;
  segment.report.newest = newest;
  segment.report.file_size = reader->file_size();
  while (true) {
    ASSIGN_OR_RETURN(std::optional<WalRecordView> record, reader->Next());
    if (!record.has_value()) break;
    ++segment.report.records;
    segment.report.payload_bytes += record->payload.size();
    RETURN_IF_ERROR(fn(record->type, record->payload));
  }
  stats.records += segment.report.records;
  stats.payload_bytes += segment.report.payload_bytes;
  segment.damage = reader->damage();
  return segment;
}

// Decides which damage may have lost acknowledged records. Only the newest segment can
// hold the trace of a crash: a torn tail (rule 2 of the format) or a header that was
// never completed, as long as nothing follows the header's place (rule 1).
void Classify(SegmentRecovery& segment) {
  WalSegmentReport& report = segment.report;
  for (WalDamage& d : segment.damage) {
    if (d.kind == WalDamageKind::kIncompleteSegment) {
      d.data_loss = !report.newest || report.file_size > kWalSegmentHeaderSize;
    } else if (d.kind == WalDamageKind::kTornTail) {
      d.data_loss = !report.newest;
    }
    report.data_loss |= d.data_loss;
    report.bytes_damaged += d.length;
  }
}

// Applies the recovery rules of docs/format/wal.md to a damaged segment (repair on).
// `quarantine` may be null (no quarantine directory).
absl::Status Repair(Env& env, WalQuarantine* quarantine, SegmentRecovery& segment,
                    ReplayStats& stats) {
  WalSegmentReport& report = segment.report;
  WalDamage& first = segment.damage.front();
  if (first.kind == WalDamageKind::kIncompleteSegment && !first.data_loss) {
    RETURN_IF_ERROR(env.RemoveFile(segment.path));  // nothing past a partial header
    RETURN_IF_ERROR(env.SyncDir(DirName(segment.path)));
    report.removed = first.repaired = true;
    ++stats.segments_removed;
    return absl::OkStatus();
  }
  if (report.data_loss && quarantine != nullptr) {
    // A segment whose records were replayed stays their durable copy until the caller
    // has stored them elsewhere (the store truncates the log behind its blocks).
    const bool in_use = report.records > 0;
    ASSIGN_OR_RETURN(WalQuarantine::Kept kept,
                     in_use ? quarantine->Copy(segment.path) : quarantine->Move(segment.path));
    report.kept = in_use ? WalSegmentReport::Kept::kCopied : WalSegmentReport::Kept::kMoved;
    report.kept_at = std::move(kept.path);
    report.kept_before = kept.before;
    if (!kept.before) ++stats.segments_quarantined;
    if (!in_use) return absl::OkStatus();
  }
  WalDamage& last = segment.damage.back();
  if (!report.newest || last.kind != WalDamageKind::kTornTail) return absl::OkStatus();
  if (quarantine != nullptr && report.kept == WalSegmentReport::Kept::kNone) {
    ASSIGN_OR_RETURN(std::optional<WalQuarantine::Kept> kept,
                     quarantine->SaveTail(segment.path, last.offset));
    if (kept.has_value()) {
      report.kept = WalSegmentReport::Kept::kTail;
      report.kept_at = std::move(kept->path);
      report.kept_before = kept->before;
    }
  }
  RETURN_IF_ERROR(env.TruncateFile(segment.path, last.offset));
  stats.bytes_truncated += last.length;
  report.truncated = last.repaired = true;
  return absl::OkStatus();
}

}  // namespace

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
  std::optional<WalQuarantine> quarantine;
  if (options.repair && !options.quarantine_dir.empty()) {
    quarantine.emplace(env, options.quarantine_dir);
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    const uint64_t seq = seqs[i];
    if (seq < options.min_seq) continue;
    if (options.on_segment) options.on_segment(seq);
    const bool newest = i + 1 == seqs.size();
    ASSIGN_OR_RETURN(SegmentRecovery segment,
                     ReadSegment(env, WalSegmentPath(dir, seq), seq, newest, fn, stats));
    if (segment.damage.empty()) continue;
    Classify(segment);
    if (options.repair) {
      RETURN_IF_ERROR(Repair(env, quarantine ? &*quarantine : nullptr, segment, stats));
    }
    for (WalDamage& d : segment.damage) stats.damage.push_back(std::move(d));
    stats.damaged_segments.push_back(std::move(segment.report));
  }
  return stats;
}

}  // namespace strand
