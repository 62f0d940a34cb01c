// BlockGenerator: writes the load generator's data (RequestPool, the same requests
// strand-loadgen sends) straight into published blocks, so trace-by-ID and search can be
// measured over tens or hundreds of millions of stored spans without ingesting them.
//
// Request number s (0, 1, 2, ...) is rendered exactly as strand-loadgen renders its s-th
// send, with its timestamps moved so that the requests spread evenly over the time span
// [end - time_span, end]: the data looks like `time_span` of steady traffic. A block holds
// about `spans_per_block` spans of consecutive requests (so consecutive, narrow time
// ranges, as cut and compacted blocks have); its requests are decoded at once, grouped by
// trace ID and written through block::BlockWriter in ascending ID order.
//
// Memory: one block's requests decoded (~1 KB per span) plus the trace-ID sample.
// Not thread-safe: one thread drives a generator. The Env must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "block/block_meta.h"
#include "block/block_writer.h"
#include "common/env.h"
#include "loadgen/request_pool.h"
#include "otlp/span_batch.h"
#include "testdata/rng.h"

namespace strand::blockgen {

struct BlockGenOptions {
  // Blocks go to `<data_dir>/blocks/<tenant>/<block id>/`, where the store looks for them.
  std::string data_dir;
  std::string tenant;
  uint64_t spans = 10'000'000;           // rounded up to whole requests
  uint64_t spans_per_block = 2'000'000;  // rounded to whole requests, at least one
  // The data: the same generator options, pool size and ID rewriting as strand-loadgen.
  // Create() sets pool.generator.base_time_unix_nano (an hour before the first send).
  loadgen::RequestPoolOptions pool;
  uint64_t end_unix_nano = 0;  // newest span end, about
  uint64_t time_span_nanos = 3600ull * 1'000'000'000;
  block::BlockWriterOptions writer;
  // How many of the written trace IDs to keep (a uniform sample, for lookups).
  size_t id_sample = 10'000;
};

// What one WriteNextBlock() did.
struct BlockGenProgress {
  block::BlockMeta meta;
  uint64_t disk_bytes = 0;      // the block directory's files
  double generate_seconds = 0;  // render, decode and group the requests
  double write_seconds = 0;     // BlockWriter Add + Finish (compression, fsync)
};

class BlockGenerator {
 public:
  // Builds the request pool and creates the tenant's blocks directory.
  static absl::StatusOr<std::unique_ptr<BlockGenerator>> Create(Env& env, BlockGenOptions options);

  // Writes and publishes the next block; nullopt once every request is written.
  absl::StatusOr<std::optional<BlockGenProgress>> WriteNextBlock();

  uint64_t total_requests() const { return total_requests_; }
  uint64_t total_blocks() const;
  uint64_t spans_per_request() const { return pool_->spans_per_request(); }
  double mean_request_bytes() const { return pool_->mean_body_bytes(); }
  const std::string& blocks_dir() const { return blocks_dir_; }
  // A uniform sample of the trace IDs written so far, in no particular order.
  const std::vector<otlp::TraceId>& sampled_ids() const { return sample_; }
  uint64_t traces_written() const { return traces_written_; }

 private:
  BlockGenerator(Env& env, BlockGenOptions options, std::unique_ptr<loadgen::RequestPool> pool);
  // When request `sequence` is sent: its spans fall in the second before.
  uint64_t SendTime(uint64_t sequence) const;
  void Sample(const otlp::TraceId& id);

  Env& env_;
  const BlockGenOptions options_;
  std::unique_ptr<loadgen::RequestPool> pool_;
  std::string blocks_dir_;
  uint64_t total_requests_ = 0;
  uint64_t requests_per_block_ = 0;
  uint64_t next_request_ = 0;
  uint64_t traces_written_ = 0;
  std::vector<otlp::TraceId> sample_;
  testdata::Rng sample_rng_;
};

}  // namespace strand::blockgen
