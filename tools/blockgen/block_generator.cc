#include "blockgen/block_generator.h"

#include <algorithm>
#include <chrono>
#include <span>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/tenant.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace strand::blockgen {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One span of a block being built: where it is, keyed by its trace.
struct Row {
  otlp::TraceId id;
  uint32_t batch;
  uint32_t index;
};

}  // namespace

BlockGenerator::BlockGenerator(Env& env, BlockGenOptions options,
                               std::unique_ptr<loadgen::RequestPool> pool)
    : env_(env),
      options_(std::move(options)),
      pool_(std::move(pool)),
      sample_rng_(testdata::Mix64(options_.pool.generator.seed ^ options_.pool.id_salt)) {}

absl::StatusOr<std::unique_ptr<BlockGenerator>> BlockGenerator::Create(Env& env,
                                                                       BlockGenOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("no data directory given");
  if (options.spans == 0 || options.spans_per_block == 0) {
    return absl::InvalidArgumentError("spans and spans per block must be positive");
  }
  if (options.pool.format != loadgen::BodyFormat::kProtobuf) {
    return absl::InvalidArgumentError("blocks are generated from protobuf requests");
  }
  RETURN_IF_ERROR(ValidateTenantId(options.tenant));
  if (options.end_unix_nano == 0) {
    options.end_unix_nano =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  }
  if (options.time_span_nanos >= options.end_unix_nano) {
    return absl::InvalidArgumentError("the time span reaches back before 1970");
  }
  // As in strand-loadgen, the pool is generated an hour before the first send; every
  // request's times are then moved to its send time (see SendTime).
  const uint64_t hour = 3600ull * 1'000'000'000;
  const uint64_t first_send = options.end_unix_nano - options.time_span_nanos;
  options.pool.generator.base_time_unix_nano = first_send > hour ? first_send - hour : 0;
  ASSIGN_OR_RETURN(std::unique_ptr<loadgen::RequestPool> pool,
                   loadgen::RequestPool::Build(options.pool));
  std::unique_ptr<BlockGenerator> gen(new BlockGenerator(env, std::move(options), std::move(pool)));
  const uint64_t per_request = gen->pool_->spans_per_request();
  gen->total_requests_ = (gen->options_.spans + per_request - 1) / per_request;
  gen->requests_per_block_ =
      std::max<uint64_t>(1, (gen->options_.spans_per_block + per_request / 2) / per_request);
  if (gen->requests_per_block_ * per_request > UINT32_MAX) {
    return absl::InvalidArgumentError("too many spans per block");
  }
  gen->blocks_dir_ = JoinPath(JoinPath(gen->options_.data_dir, "blocks"), gen->options_.tenant);
  RETURN_IF_ERROR(env.CreateDirs(gen->blocks_dir_));
  gen->sample_.reserve(gen->options_.id_sample);
  return gen;
}

uint64_t BlockGenerator::total_blocks() const {
  return (total_requests_ + requests_per_block_ - 1) / requests_per_block_;
}

uint64_t BlockGenerator::SendTime(uint64_t sequence) const {
  const unsigned __int128 offset =
      static_cast<unsigned __int128>(sequence + 1) * options_.time_span_nanos / total_requests_;
  return options_.end_unix_nano - options_.time_span_nanos + static_cast<uint64_t>(offset);
}

void BlockGenerator::Sample(const otlp::TraceId& id) {
  // Reservoir sampling: every trace written so far is in the sample with equal chance.
  ++traces_written_;
  if (sample_.size() < options_.id_sample) {
    sample_.push_back(id);
    return;
  }
  const uint64_t slot = sample_rng_.Below(traces_written_);
  if (slot < sample_.size()) sample_[slot] = id;
}

absl::StatusOr<std::optional<BlockGenProgress>> BlockGenerator::WriteNextBlock() {
  if (next_request_ >= total_requests_) return std::nullopt;
  const uint64_t first = next_request_;
  const uint64_t count = std::min(requests_per_block_, total_requests_ - first);
  BlockGenProgress progress;

  const auto generate_start = std::chrono::steady_clock::now();
  // SpanRefs point into `batches`: it must not reallocate.
  std::vector<otlp::SpanBatch> batches;
  batches.reserve(count);
  std::vector<Row> rows;
  rows.reserve(count * pool_->spans_per_request());
  for (uint64_t seq = first; seq < first + count; ++seq) {
    std::string body(pool_->EntryFor(seq).body.size(), '\0');
    pool_->Render(seq, SendTime(seq), body.data());
    ASSIGN_OR_RETURN(otlp::DecodedRequest decoded, otlp::DecodeProtoRequest(std::move(body)));
    if (decoded.rejected_spans != 0) {
      return absl::InternalError(absl::StrCat("generated request ", seq,
                                              " has rejected spans: ", decoded.rejection_message));
    }
    const auto b = static_cast<uint32_t>(batches.size());
    const otlp::SpanBatch& batch = batches.emplace_back(std::move(decoded.batch));
    for (uint32_t i = 0; i < batch.spans.size(); ++i) {
      rows.push_back({batch.spans[i].trace_id, b, i});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.id, a.batch, a.index) < std::tie(b.id, b.batch, b.index);
  });
  progress.generate_seconds = SecondsSince(generate_start);

  const auto write_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<block::BlockWriter> writer,
                   block::BlockWriter::Create(env_, blocks_dir_, options_.tenant, options_.writer));
  std::vector<otlp::SpanRef> refs;
  for (size_t i = 0; i < rows.size();) {
    refs.clear();
    size_t j = i;
    for (; j < rows.size() && rows[j].id == rows[i].id; ++j) {
      refs.push_back({&batches[rows[j].batch], rows[j].index});
    }
    RETURN_IF_ERROR(writer->Add(rows[i].id, refs));
    Sample(rows[i].id);
    i = j;
  }
  ASSIGN_OR_RETURN(progress.meta, writer->Finish());
  progress.write_seconds = SecondsSince(write_start);
  ASSIGN_OR_RETURN(const uint64_t meta_bytes,
                   env_.GetFileSize(JoinPath(writer->dir(), "meta.json")));
  progress.disk_bytes = progress.meta.data_size + meta_bytes;
  next_request_ = first + count;
  return progress;
}

}  // namespace strand::blockgen
