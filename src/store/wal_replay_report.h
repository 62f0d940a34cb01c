// WalReplayReport: what the store restored from each write-ahead-log segment at start-up
// (records, traces, spans), and the log lines that tell an operator what a damaged
// segment cost: at error level for data loss (bytes not replayed, what was recovered from
// the segment, traces and spans in the damaged bytes unknown, where the segment was kept),
// at warn level for the repaired trace of a crash (docs/format/wal.md, "Recovery").
//
// Fed by Store::Replay: StartSegment() from ReplayOptions::on_segment, Add() per replayed
// batch. Not thread-safe (replay runs on one thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "otlp/span_batch.h"
#include "wal/wal_replay.h"

namespace strand::store {

class WalReplayReport {
 public:
  struct Counts {
    uint64_t traces = 0;  // distinct trace IDs
    uint64_t spans = 0;
  };

  // The batches added from now on come from segment `seq`.
  void StartSegment(uint64_t seq);
  void Add(const otlp::SpanBatch& batch);
  // What was restored from segment `seq` (zeros for a segment with no records).
  Counts Of(uint64_t seq);

  // Logs one line per damaged segment of `stats` (none when there is no damage).
  void Log(const ReplayStats& stats);

 private:
  // Folds the trace IDs of the current segment into its counts.
  void CloseSegment();

  uint64_t current_ = 0;
  absl::flat_hash_set<otlp::TraceId> trace_ids_;  // of the current segment
  std::map<uint64_t, Counts> counts_;
};

}  // namespace strand::store
