// libFuzzer target for the block reader. The input is a block data file, read with
// checksums off (BlockReaderOptions::verify_checksums = false) so that mutations reach
// the structural checks behind them. Any input must either be refused by OpenFile with
// DataLoss (FailedPrecondition for a newer version or unknown flags), or every later
// operation (Scan, ReadTables, ReadStats, FindTrace, Verify) must answer DataLoss naming
// the file, or results that hold together:
//   - every batch is well formed (indexes and ranges in bounds) and every byte it refers
//     to is readable;
//   - a scanned row group's trace segments cover its spans in order, with ascending IDs,
//     and the scan yields the footer's span count;
//   - Verify() accepting the block implies Scan() does;
//   - after a clean scan, FindTrace of a scanned trace ID that passes the bloom filter
//     returns exactly that trace's spans.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "block/block_reader.h"
#include "common/env.h"
#include "otlp/batch_testutil.h"
#include "otlp/proto_encoder.h"

namespace {

namespace block = strand::block;
namespace otlp = strand::otlp;

constexpr char kPath[] = "fuzz/block/data";
// Checks per input stay bounded: at most this many FindTrace calls.
constexpr size_t kMaxLookups = 24;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "block_reader_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Damage must be reported as DataLoss naming the file.
void ExpectDamage(const absl::Status& status, const char* operation, bool newer_ok = false) {
  if (status.ok()) return;
  const bool newer = newer_ok && absl::IsFailedPrecondition(status);
  if (!absl::IsDataLoss(status) && !newer) {
    Fail(operation, "error is not DataLoss: " + status.ToString());
  }
  if (std::string(status.message()).find(kPath) == std::string::npos) {
    Fail(operation, "error does not name the file: " + status.ToString());
  }
}

// A decoded batch must be consistent, readable to its last byte, and encodable.
void CheckBatch(const otlp::SpanBatch& batch, const char* operation) {
  if (std::string violation = otlp::testutil::BatchInvariantViolation(batch); !violation.empty()) {
    Fail(operation, "batch is inconsistent: " + violation);
  }
  otlp::testutil::DumpBatch(batch);
  otlp::EncodeExportRequest(batch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  block::BlockReaderOptions options;
  options.verify_checksums = false;
  options.max_page_bytes = 1 << 22;
  absl::StatusOr<std::unique_ptr<block::BlockReader>> opened = block::BlockReader::OpenFile(
      strand::NewStringRandomAccessFile(std::string(reinterpret_cast<const char*>(data), size),
                                        kPath),
      options);
  if (!opened.ok()) {
    ExpectDamage(opened.status(), "OpenFile", /*newer_ok=*/true);
    return 0;
  }
  const block::BlockReader& reader = **opened;
  const block::BlockFooter& footer = reader.footer();
  if (reader.MemoryUsage() < footer.row_groups.size() * sizeof(block::RowGroupInfo)) {
    Fail("MemoryUsage", "less than the footer's row groups");
  }

  // Every row group in order; remember how many spans each trace has.
  std::map<otlp::TraceId, uint64_t> scanned;
  uint64_t scanned_spans = 0;
  const absl::Status scan = reader.Scan([&](block::RowGroupData&& rg) {
    CheckBatch(rg.batch, "Scan");
    uint32_t next = 0;
    for (size_t i = 0; i < rg.traces.size(); ++i) {
      const block::RowGroupData::Trace& t = rg.traces[i];
      if (t.begin != next || t.end <= t.begin || t.end > rg.batch.spans.size() ||
          (i > 0 && !(rg.traces[i - 1].id < t.id))) {
        Fail("Scan", "trace segments do not cover the row group in order");
      }
      for (uint32_t s = t.begin; s < t.end; ++s) {
        if (rg.batch.spans[s].trace_id != t.id) Fail("Scan", "span of another trace in a segment");
      }
      scanned[t.id] += t.end - t.begin;
      next = t.end;
    }
    if (next != rg.batch.spans.size()) Fail("Scan", "spans outside every trace segment");
    scanned_spans += rg.batch.spans.size();
    return absl::OkStatus();
  });
  ExpectDamage(scan, "Scan");
  if (scan.ok() && scanned_spans != footer.span_count) {
    Fail("Scan", "span count differs from the footer's");
  }

  const absl::Status verify = reader.Verify();
  ExpectDamage(verify, "Verify");
  if (verify.ok() && !scan.ok()) Fail("Verify", "accepted a block that Scan refuses");

  absl::StatusOr<block::BlockTables> tables = reader.ReadTables();
  ExpectDamage(tables.status(), "ReadTables");
  absl::StatusOr<block::BlockStats> stats = reader.ReadStats();
  ExpectDamage(stats.status(), "ReadStats");
  if (stats.ok() && stats->row_groups.size() != footer.row_groups.size()) {
    Fail("ReadStats", "row group count differs from the footer's");
  }

  // IDs at the row groups' edges (and just past them), scanned IDs, and the extremes.
  std::vector<otlp::TraceId> ids;
  for (const block::RowGroupInfo& rg : footer.row_groups) {
    if (ids.size() >= kMaxLookups / 2) break;
    ids.push_back(rg.first_trace);
    ids.push_back(rg.last_trace);
    otlp::TraceId after = rg.last_trace;
    ++after[15];
    ids.push_back(after);
  }
  for (const auto& [id, spans] : scanned) {
    if (ids.size() >= kMaxLookups - 2) break;
    ids.push_back(id);
  }
  ids.push_back(otlp::TraceId{});
  otlp::TraceId max;
  max.fill(0xff);
  ids.push_back(max);
  for (const otlp::TraceId& id : ids) {
    absl::StatusOr<std::optional<block::FoundTrace>> found = reader.FindTrace(id);
    ExpectDamage(found.status(), "FindTrace");
    if (!found.ok()) continue;
    uint64_t spans = 0;
    if (found->has_value()) {
      const block::FoundTrace& trace = **found;
      CheckBatch(trace.spans, "FindTrace");
      for (const otlp::Span& s : trace.spans.spans) {
        if (s.trace_id != id) Fail("FindTrace", "returned a span of another trace");
      }
      if (trace.row_groups_read == 0) Fail("FindTrace", "found spans without reading");
      spans = trace.spans.spans.size();
    }
    if (scan.ok() && reader.MayContain(id)) {
      auto it = scanned.find(id);
      const uint64_t expected = it == scanned.end() ? 0 : it->second;
      if (spans != expected) {
        Fail("FindTrace",
             "found " + std::to_string(spans) + " spans, the scan " + std::to_string(expected));
      }
    }
  }
  return 0;
}
