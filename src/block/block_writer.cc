#include "block/block_writer.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/memory/memory.h"
#include "block/bloom_filter.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace strand::block {
namespace {

uint64_t SpanIdKey(const otlp::SpanId& id) {
  uint64_t v;
  std::memcpy(&v, id.data(), 8);
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlockWriter>> BlockWriter::Create(Env& env, std::string parent_dir,
                                                                 std::string tenant,
                                                                 BlockWriterOptions options) {
  const BlockId id = options.block_id.value_or(BlockId::Random());
  auto writer = absl::WrapUnique(
      new BlockWriter(env, std::move(parent_dir), std::move(tenant), std::move(options), id));
  absl::Status status = writer->Open();
  if (!status.ok()) {
    // The destructor removes what Open() created; never a directory it did not create.
    if (!writer->created_dir_) writer->abandoned_ = true;
    return status;
  }
  return writer;
}

BlockWriter::BlockWriter(Env& env, std::string parent_dir, std::string tenant,
                         BlockWriterOptions options, BlockId id)
    : env_(env),
      parent_dir_(std::move(parent_dir)),
      tenant_(std::move(tenant)),
      options_(std::move(options)),
      block_id_(id),
      dir_(JoinPath(parent_dir_, id.ToHex())),
      data_path_(JoinPath(dir_, kDataFileName)),
      compressor_(options_.zstd_level, options_.compress),
      row_group_(std::make_unique<RowGroupBuilder>(tables_)) {}

BlockWriter::~BlockWriter() { Abandon(); }

absl::Status BlockWriter::Open() {
  if (env_.FileExists(dir_)) {
    return absl::AlreadyExistsError(std::string(dir_) + ": block directory already exists");
  }
  RETURN_IF_ERROR(env_.CreateDirs(dir_));
  created_dir_ = true;
  RETURN_IF_ERROR(env_.SyncDir(parent_dir_));
  ASSIGN_OR_RETURN(file_, env_.NewWritableFile(data_path_));
  header_ = EncodeHeader(block_id_);
  RETURN_IF_ERROR(file_->Append(header_));
  offset_ = header_.size();
  column_sizes_["header"] = header_.size();
  footer_.block_id = block_id_;
  return absl::OkStatus();
}

absl::Status BlockWriter::Fail(absl::Status status) {
  if (status_.ok()) status_ = status;
  return status_;
}

absl::Status BlockWriter::Add(const otlp::TraceId& id, std::span<const otlp::SpanRef> spans) {
  if (!status_.ok()) return status_;
  if (finished_ || abandoned_) return absl::FailedPreconditionError("block writer is closed");
  if (spans.empty()) return absl::InvalidArgumentError("a trace needs at least one span");
  if (last_trace_.has_value() && !(*last_trace_ < id)) {
    return absl::InvalidArgumentError("traces must be added in strictly ascending ID order");
  }
  for (const otlp::SpanRef& ref : spans) {
    if (ref.batch == nullptr || ref.index >= ref.batch->spans.size()) {
      return absl::InvalidArgumentError("span reference out of range");
    }
    if (ref.span().trace_id != id) {
      return absl::InvalidArgumentError("a span's trace ID differs from the trace's");
    }
  }
  last_trace_ = id;
  ++trace_count_;
  span_count_ += spans.size();
  trace_hashes_.push_back(BloomFilter::HashTraceId(id));

  std::vector<otlp::SpanRef> sorted(spans.begin(), spans.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const otlp::SpanRef& a, const otlp::SpanRef& b) {
                     return a.span().start_time_unix_nano < b.span().start_time_unix_nano;
                   });

  // Where each span ID first appears, to store parents as relative rows.
  constexpr size_t kLinearLimit = 32;
  absl::flat_hash_map<uint64_t, uint32_t> position;
  if (sorted.size() > kLinearLimit) {
    for (uint32_t i = 0; i < sorted.size(); ++i) {
      position.try_emplace(SpanIdKey(sorted[i].span().span_id), i);
    }
  }
  auto find_span = [&](const otlp::SpanId& span_id) -> int64_t {
    if (sorted.size() > kLinearLimit) {
      auto it = position.find(SpanIdKey(span_id));
      return it == position.end() ? -1 : it->second;
    }
    for (uint32_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i].span().span_id == span_id) return i;
    }
    return -1;
  };

  // Block scope indexes of the (batch, scope) pairs seen in this call.
  struct ScopeCacheEntry {
    const otlp::SpanBatch* batch;
    uint32_t scope;
    uint32_t id;
  };
  std::vector<ScopeCacheEntry> scope_cache;
  auto scope_of = [&](const otlp::SpanRef& ref) {
    const uint32_t scope = ref.span().scope_index;
    for (const ScopeCacheEntry& e : scope_cache) {
      if (e.batch == ref.batch && e.scope == scope) return e.id;
    }
    uint32_t id;
    if (options_.batches_outlive_writer) {
      auto [it, inserted] = stable_scope_ids_.try_emplace({ref.batch, scope}, 0);
      if (inserted) it->second = tables_.InternScope(*ref.batch, scope);
      id = it->second;
    } else {
      id = tables_.InternScope(*ref.batch, scope);
    }
    scope_cache.push_back({ref.batch, scope, id});
    return id;
  };

  row_group_->BeginTrace(id);
  uint32_t segment_begin = 0;
  for (uint32_t i = 0; i < sorted.size(); ++i) {
    if (row_group_->span_count() >= options_.spans_per_row_group ||
        row_group_->estimated_bytes() >= options_.max_row_group_bytes) {
      if (row_group_->span_count() > 0) {
        RETURN_IF_ERROR(FlushRowGroup());
        row_group_->BeginTrace(id);
        segment_begin = i;
      }
    }
    const otlp::Span& span = sorted[i].span();
    uint64_t parent_code = kParentNone;
    if (span.has_parent) {
      const int64_t p = find_span(span.parent_span_id);
      if (p >= segment_begin && p <= i) {
        parent_code = kParentRelativeBase + ZigZagEncode(static_cast<int64_t>(i) - p);
      } else {
        parent_code = kParentExternal;
      }
    }
    row_group_->AddSpan(*sorted[i].batch, span, scope_of(sorted[i]), parent_code);
    span_times_.Add(span.start_time_unix_nano, span.end_time_unix_nano);
  }
  if (row_group_->span_count() >= options_.spans_per_row_group ||
      row_group_->estimated_bytes() >= options_.max_row_group_bytes) {
    RETURN_IF_ERROR(FlushRowGroup());
  }
  return absl::OkStatus();
}

absl::Status BlockWriter::FlushRowGroup() {
  RowGroupBuilder::Encoded rg = row_group_->Finish(compressor_);
  row_group_ = std::make_unique<RowGroupBuilder>(tables_);
  RowGroupInfo info;
  info.offset = offset_;
  info.size = rg.bytes.size();
  info.directory = rg.directory;
  info.span_count = rg.span_count;
  info.trace_count = rg.trace_count;
  info.first_trace = rg.first_trace;
  info.last_trace = rg.last_trace;
  absl::Status status = file_->Append(rg.bytes);
  if (!status.ok()) return Fail(status);
  offset_ += rg.bytes.size();
  footer_.row_groups.push_back(info);
  stats_.row_groups.push_back(std::move(rg.stats));
  for (auto& [name, size] : rg.column_sizes) column_sizes_[name] += size;
  return absl::OkStatus();
}

absl::Status BlockWriter::AppendSection(std::string_view raw, bool compress, PageRef* ref) {
  std::string stored;
  if (compress) {
    *ref = compressor_.Append(raw, &stored);
  } else {
    stored = std::string(raw);
    ref->codec = Codec::kNone;
    ref->stored_size = ref->raw_size = raw.size();
    ref->checksum = Checksum32(raw);
  }
  ref->offset = offset_;
  RETURN_IF_ERROR(file_->Append(stored));
  offset_ += stored.size();
  return absl::OkStatus();
}

absl::StatusOr<BlockMeta> BlockWriter::Finish() {
  if (!status_.ok()) return status_;
  if (finished_ || abandoned_) return absl::FailedPreconditionError("block writer is closed");
  absl::StatusOr<BlockMeta> meta = FinishInternal();
  if (!meta.ok()) {
    Fail(meta.status()).IgnoreError();
    Abandon();
    return status_;
  }
  finished_ = true;
  return meta;
}

absl::StatusOr<BlockMeta> BlockWriter::FinishInternal() {
  if (!row_group_->empty()) RETURN_IF_ERROR(FlushRowGroup());
  if (trace_count_ == 0) return absl::FailedPreconditionError("block has no traces");

  std::string raw;
  tables_.Encode(&raw);
  RETURN_IF_ERROR(AppendSection(raw, true, &footer_.tables));
  column_sizes_["tables"] = footer_.tables.stored_size;

  raw.clear();
  stats_.Encode(&raw);
  RETURN_IF_ERROR(AppendSection(raw, true, &footer_.stats));
  column_sizes_["stats"] = footer_.stats.stored_size;

  const BloomFilter bloom = BloomFilter::Build(trace_hashes_, options_.bloom_false_positive_rate);
  RETURN_IF_ERROR(AppendSection(bloom.bits(), false, &footer_.bloom));
  footer_.bloom_hashes = bloom.num_hashes();
  column_sizes_["bloom"] = footer_.bloom.stored_size;

  footer_.span_count = span_count_;
  footer_.trace_count = trace_count_;
  const bool placed = options_.time_range.has_value() && !options_.time_range->empty();
  footer_.set_time_range(placed ? *options_.time_range : span_times_);
  std::string footer;
  footer_.Encode(&footer);
  Trailer trailer;
  trailer.footer_size = static_cast<uint32_t>(footer.size());
  trailer.footer_checksum = FooterChecksum(footer, trailer.version, trailer.flags);
  const std::string trailer_bytes = EncodeTrailer(trailer);
  RETURN_IF_ERROR(file_->Append(footer));
  RETURN_IF_ERROR(file_->Append(trailer_bytes));
  offset_ += footer.size() + trailer_bytes.size();
  column_sizes_["footer"] = footer.size() + trailer_bytes.size();
  RETURN_IF_ERROR(file_->Sync());
  RETURN_IF_ERROR(file_->Close());
  RETURN_IF_ERROR(env_.SyncDir(dir_));

  BlockMeta meta = BlockMeta::FromFooter(
      footer_, offset_, DecodeFixed32(header_.data() + kHeaderSize - 4), trailer.footer_checksum);
  meta.tenant = tenant_;
  meta.created_unix_nano = options_.clock->NowUnixNanos();
  meta.compaction_level = options_.compaction_level;
  meta.compacted_from = options_.compacted_from;
  meta.column_sizes.assign(column_sizes_.begin(), column_sizes_.end());
  RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(dir_, kMetaFileName), meta.ToJson()));
  return meta;
}

void BlockWriter::Abandon() {
  if (finished_ || abandoned_) return;
  abandoned_ = true;
  if (status_.ok()) status_ = absl::FailedPreconditionError("block writer was abandoned");
  if (file_ != nullptr) file_->Close().IgnoreError();
  // Best effort: a crash or I/O error may leave these; block lists ignore directories
  // without meta.json.
  const std::string meta = JoinPath(dir_, kMetaFileName);
  for (const std::string& path : {meta + ".tmp", meta, data_path_}) {
    if (env_.FileExists(path)) env_.RemoveFile(path).IgnoreError();
  }
  env_.RemoveDir(dir_).IgnoreError();
}

}  // namespace strand::block
