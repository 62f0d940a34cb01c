#include "store/wal_replay_report.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace strand::store {
namespace {

// "torn_tail at 4096 (+27 bytes): record checksum mismatch; ..." for one segment.
std::string Reasons(const ReplayStats& stats, uint64_t seq) {
  std::string out;
  for (const WalDamage& d : stats.damage) {
    if (d.segment_seq != seq) continue;
    absl::StrAppend(&out, out.empty() ? "" : "; ", WalDamageKindName(d.kind), " at ", d.offset,
                    " (+", d.length, " bytes)", d.reason.empty() ? "" : ": ", d.reason);
  }
  return out;
}

// What recovery did with the segment.
std::string Action(const WalSegmentReport& r) {
  using Kept = WalSegmentReport::Kept;
  if (r.removed) return "removed it (nothing past a partial header)";
  const std::string before = r.kept_before ? " (there since an earlier start)" : "";
  const std::string truncated = r.truncated ? "truncated its torn tail" : "";
  switch (r.kept) {
    case Kept::kNone:
      if (r.truncated) return truncated + " (all zero or no quarantine directory: not kept)";
      return "left it in place (no quarantine directory, or read-only)";
    case Kept::kTail:
      return absl::StrCat(truncated, " after saving it to ", r.kept_at, before);
    case Kept::kMoved:
      return absl::StrCat("moved it to ", r.kept_at, before);
    case Kept::kCopied:
      return absl::StrCat("copied it to ", r.kept_at, before,
                          r.truncated ? ", then truncated its torn tail" : "",
                          "; the log keeps it until its records are in blocks");
  }
  return "";
}

}  // namespace

void WalReplayReport::StartSegment(uint64_t seq) {
  CloseSegment();
  current_ = seq;
}

void WalReplayReport::Add(const otlp::SpanBatch& batch) {
  for (const otlp::Span& span : batch.spans) trace_ids_.insert(span.trace_id);
  counts_[current_].spans += batch.spans.size();
}

WalReplayReport::Counts WalReplayReport::Of(uint64_t seq) {
  CloseSegment();
  auto it = counts_.find(seq);
  return it == counts_.end() ? Counts{} : it->second;
}

void WalReplayReport::CloseSegment() {
  if (trace_ids_.empty()) return;
  counts_[current_].traces += trace_ids_.size();
  trace_ids_.clear();
}

void WalReplayReport::Log(const ReplayStats& stats) {
  for (const WalSegmentReport& r : stats.damaged_segments) {
    const Counts c = Of(r.seq);
    if (r.data_loss) {
      LOG_ERROR(
          "WAL data loss in segment {} ({} bytes): {} bytes damaged and not replayed [{}]; "
          "recovered {} records ({} traces, {} spans) from it; traces and spans in the damaged "
          "bytes: unknown; {}",
          r.seq, r.file_size, r.bytes_damaged, Reasons(stats, r.seq), r.records, c.traces, c.spans,
          Action(r));
    } else {
      LOG_WARN(
          "WAL segment {} ({} bytes) held the trace of a crash [{}]: {}; {} records ({} traces, "
          "{} spans) recovered from it",
          r.seq, r.file_size, Reasons(stats, r.seq), Action(r), r.records, c.traces, c.spans);
    }
  }
}

}  // namespace strand::store
