#include "store/store.h"

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "block/block_compactor.h"
#include "block/block_writer.h"
#include "common/coding.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "otlp/proto_encoder.h"
#include "store/wal_replay_report.h"
#include "wal/wal_replay.h"
#include "wal/wal_writer.h"

namespace strand::store {
namespace {

using SeenSpans = absl::flat_hash_set<otlp::SpanCopyKey>;

// The same span ID and kind is the same span sent twice (a retried request).
bool FirstCopy(const otlp::Span& span, SeenSpans& seen) {
  return seen.insert(otlp::CopyKeyOf(span)).second;
}

// On Linux a thread's nice value is its own, so this lowers only the calling thread
// (raising nice needs no privilege).
void LowerThreadPriority(int nice) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0) {
    LOG_WARN("could not lower a background thread's priority to nice {}", nice);
  }
}

}  // namespace

Store::Store(Env& env, Clock& clock, MetricsRegistry* metrics, StoreOptions options)
    : env_(env),
      clock_(clock),
      options_(std::move(options)),
      accounting_(std::make_shared<LiveAccounting>(options_.memory)),
      live_(std::make_unique<LiveTraces>(options_.ingestion_time_range_slack_nanos)),
      blocks_(std::make_unique<BlockList>(
          env, clock, JoinPath(options_.data_dir, "blocks"),
          JoinPath(options_.data_dir, "quarantine"),
          block::BlockReaderOptions{.bloom_in_memory = options_.bloom_filters_in_memory})),
      limits_log_(60'000'000'000, &clock),
      out_of_range_log_(60'000'000'000, &clock) {
  static MetricsRegistry unused;
  MetricsRegistry& m = metrics ? *metrics : unused;
  auto counter = [&m](const char* name, const char* help) {
    return m.AddCounter(name, help)->With({});
  };
  replayed_records_ =
      counter("strand_wal_replayed_records_total", "WAL records replayed at start.");
  replayed_spans_ =
      counter("strand_wal_replayed_spans_total", "Spans restored from the WAL at start.");
  wal_errors_ = counter("strand_wal_append_errors_total", "WAL appends that failed.");
  refused_over_budget_ =
      counter("strand_store_batches_refused_total",
              "Batches refused (retryable) because live traces were over their memory budget.");
  blocks_cut_ = counter("strand_blocks_cut_total", "Blocks written from live traces.");
  spans_cut_ = counter("strand_spans_cut_total", "Spans moved from live traces into blocks.");
  cut_errors_ = counter("strand_block_cut_errors_total",
                        "Cuts that failed (the traces stay live and are retried).");
  wal_segments_removed_ =
      counter("strand_wal_truncations_total", "Times the WAL was truncated behind the blocks.");
  blocks_compacted_ = counter("strand_blocks_compacted_total", "Blocks merged away by compaction.");
  compaction_errors_ = counter("strand_compaction_errors_total", "Compactions that failed.");
  compaction_spans_ = counter("strand_compaction_spans_total", "Spans written by compaction.");
  duplicates_dropped_ = counter("strand_duplicate_spans_dropped_total",
                                "Spans dropped as duplicates when cutting or compacting.");
  wal_segments_quarantined_ =
      counter("strand_wal_segments_quarantined_total",
              "Damaged WAL segments moved or copied to the quarantine directory at start.");
  blocks_quarantined_ =
      counter("strand_blocks_quarantined_total",
              "Blocks moved to the quarantine directory at start (unreadable: no footer, bloom "
              "filter or matching meta.json).");
  block_damage_ = m.AddCounter(
      "strand_block_damage_total",
      "Damaged parts of published blocks found (at open or by a read); the block stays listed "
      "and its other parts are read. part=tables|stats|row_group.",
      {"part"});
  blocks_recovered_ =
      counter("strand_blocks_recovered_total",
              "Blocks found without meta.json whose verified data file was published again.");
  blocks_expired_ = counter("strand_blocks_retention_deleted_total",
                            "Blocks deleted because they were past retention.");
  Family<Counter>* out_of_range = m.AddCounter(
      "strand_spans_out_of_time_range_total",
      "Spans ingested with a start or end time outside ingest time +- "
      "strand.store.ingestion_time_range_slack: stored as sent, placed by their ingest time "
      "(block time ranges, retention). direction=future when a time lay after the window.",
      {"direction"});
  spans_out_of_range_past_ = out_of_range->With({"past"});
  spans_out_of_range_future_ = out_of_range->With({"future"});
  discarded_spans_ = overrides::DiscardedSpans(m);
}

Store::~Store() { Close(); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Env& env, Clock& clock, MetricsRegistry* metrics,
                                                   StoreOptions options) {
  std::unique_ptr<Store> store(new Store(env, clock, metrics, std::move(options)));
  RETURN_IF_ERROR(env.CreateDirs(JoinPath(store->options_.data_dir, "wal")));
  ASSIGN_OR_RETURN(BlockLoadReport report, store->blocks_->Load());
  store->blocks_quarantined_->Increment(report.quarantined);
  store->blocks_recovered_->Increment(report.recovered);
  for (const BlockHandlePtr& b : *store->blocks_->snapshot()) store->CountOpenDamage(*b);
  if (report.loaded + report.quarantined + report.unfinished_removed + report.skipped +
          report.superseded_removed + report.deletions_finished >
      0) {
    LOG_INFO(
        "blocks: {} loaded ({} recovered without meta.json), {} quarantined, {} unfinished "
        "removed (empty), {} interrupted deletions finished, {} skipped (newer format), {} "
        "removed as already compacted, {} with a damaged section (kept, read without it)",
        report.loaded, report.recovered, report.quarantined, report.unfinished_removed,
        report.deletions_finished, report.skipped, report.superseded_removed, report.damaged);
  }
  RETURN_IF_ERROR(store->Replay());
  WalOptions wo;
  wo.sync = store->options_.wal_sync;
  wo.segment_size_limit = store->options_.wal_segment_bytes;
  wo.max_queued_bytes = store->options_.wal_max_queued_bytes;
  wo.clock = &store->clock_;
  ASSIGN_OR_RETURN(store->wal_,
                   WalWriter::Open(env, JoinPath(store->options_.data_dir, "wal"), wo));
  {
    absl::MutexLock lock(&store->cut_mu_);
    // Replayed batches (epoch 0) are in the segments before the first one written now.
    store->epoch_first_segment_[0] = 0;
    store->epoch_first_segment_[1] = store->wal_->current_segment();
  }
  if (metrics != nullptr) store->RegisterMetrics(*metrics);
  if (store->options_.background) store->StartBackground();
  return store;
}

void Store::RegisterMetrics(MetricsRegistry& metrics) {
  WalWriter* wal = wal_.get();
  auto add = [&](const char* name, const char* help, MetricType type,
                 std::function<double(const WalWriterCounters&)> get) {
    metrics.AddCallback(name, help, type, [wal, get] { return get(wal->counters()); });
  };
  add("strand_wal_bytes_written_total", "Bytes written to the WAL, record headers included.",
      MetricType::kCounter, [](const WalWriterCounters& c) { return c.bytes_written; });
  add("strand_wal_records_written_total", "Records written to the WAL.", MetricType::kCounter,
      [](const WalWriterCounters& c) { return c.records_written; });
  add("strand_wal_fsyncs_total", "fdatasync calls that committed a group of WAL records.",
      MetricType::kCounter, [](const WalWriterCounters& c) { return c.syncs; });
  add("strand_wal_fsync_seconds_total", "Time spent in WAL fdatasync calls.", MetricType::kCounter,
      [](const WalWriterCounters& c) { return c.sync_nanos_total / 1e9; });
  add("strand_wal_fsync_seconds_max", "Longest WAL fdatasync call.", MetricType::kGauge,
      [](const WalWriterCounters& c) { return c.sync_nanos_max / 1e9; });
  add("strand_wal_segments_created_total", "WAL segment files created.", MetricType::kCounter,
      [](const WalWriterCounters& c) { return c.segments_created; });
  add("strand_wal_records_rejected_total", "WAL appends refused up front (queue full).",
      MetricType::kCounter, [](const WalWriterCounters& c) { return c.records_rejected; });
  add("strand_wal_queued_bytes", "WAL bytes accepted and waiting for their fsync.",
      MetricType::kGauge, [](const WalWriterCounters& c) { return c.queued_bytes; });
  LiveTraces* live = live_.get();
  metrics.AddCallback("strand_live_traces", "Traces held in memory.", MetricType::kGauge,
                      [live] { return static_cast<double>(live->NumTraces()); });
  metrics.AddCallback("strand_live_spans", "Spans held in memory.", MetricType::kGauge,
                      [live] { return static_cast<double>(live->NumSpans()); });
  LiveAccounting* acc = accounting_.get();
  metrics.AddCallback("strand_live_bytes", "Bytes held in memory by live traces.",
                      MetricType::kGauge, [acc] { return static_cast<double>(acc->bytes()); });
  BlockList* blocks = blocks_.get();
  metrics.AddCallback("strand_blocks", "Published blocks.", MetricType::kGauge,
                      [blocks] { return static_cast<double>(blocks->snapshot()->size()); });
  metrics.AddCallback("strand_blocks_damaged",
                      "Published blocks with a damaged part (read without it; see "
                      "strand_block_damage_total).",
                      MetricType::kGauge, [blocks] {
                        double total = 0;
                        for (const auto& b : *blocks->snapshot()) total += b->damage->any();
                        return total;
                      });
  metrics.AddCallback("strand_block_bytes", "Bytes of published block data files.",
                      MetricType::kGauge, [blocks] {
                        double total = 0;
                        for (const auto& b : *blocks->snapshot()) total += b->meta.data_size;
                        return total;
                      });
  metrics.AddCallback("strand_block_spans", "Spans in published blocks (duplicates included).",
                      MetricType::kGauge, [blocks] {
                        double total = 0;
                        for (const auto& b : *blocks->snapshot()) total += b->meta.span_count;
                        return total;
                      });
  metrics.AddCallback("strand_block_list_memory_bytes",
                      "Memory held by the open blocks (footers, bloom filters, metadata).",
                      MetricType::kGauge,
                      [blocks] { return static_cast<double>(blocks->MemoryUsage()); });
}

namespace {

// A WAL record of the spans type, decoded.
struct SpanRecord {
  std::string tenant;
  std::shared_ptr<const std::string> body;  // the OTLP request bytes
  otlp::SpanBatch batch;
};

absl::StatusOr<SpanRecord> DecodeSpanRecord(uint8_t type, std::string_view payload) {
  if (type != kWalRecordSpans) {
    return absl::DataLossError(absl::StrCat("unknown WAL record type ", type));
  }
  uint64_t tenant_len;
  const char* p = GetVarint64Ptr(payload.data(), payload.data() + payload.size(), &tenant_len);
  if (p == nullptr || tenant_len > static_cast<uint64_t>(payload.data() + payload.size() - p)) {
    return absl::DataLossError("WAL span record has a bad tenant header");
  }
  SpanRecord record;
  record.tenant.assign(p, tenant_len);
  p += tenant_len;
  record.body = std::make_shared<const std::string>(p, payload.data() + payload.size() - p);
  auto decoded = otlp::DecodeProtoRequest(record.body);
  if (!decoded.ok()) {
    return absl::DataLossError(
        absl::StrCat("WAL span record does not decode: ", decoded.status().message()));
  }
  record.batch = std::move(decoded->batch);
  return record;
}

}  // namespace

absl::Status Store::Replay() {
  uint64_t records = 0, spans = 0;
  const int64_t now = clock_.NowUnixNanos();
  const std::string wal_dir = JoinPath(options_.data_dir, "wal");
  WalReplayReport report;
  ReplayOptions replay_options;
  replay_options.quarantine_dir = JoinPath(JoinPath(options_.data_dir, "quarantine"), "wal");
  replay_options.on_segment = [&report](uint64_t seq) { report.StartSegment(seq); };
  auto stats = ReplayWal(
      env_, wal_dir,
      [&](uint8_t type, std::string_view payload) -> absl::Status {
        ASSIGN_OR_RETURN(SpanRecord record, DecodeSpanRecord(type, payload));
        const uint32_t n = static_cast<uint32_t>(record.batch.spans.size());
        spans += n;
        ++records;
        report.Add(record.batch);
        auto batch = std::make_shared<const LiveBatch>(std::move(record.body), n, 0, accounting_);
        // The ingest time is not in the WAL: the restart stands for it (never earlier than
        // the real one). Out-of-range spans were counted when they were first ingested.
        live_->Add(record.tenant, batch, record.batch, now);
        return absl::OkStatus();
      },
      replay_options);
  if (!stats.ok()) return stats.status();
  replayed_records_->Increment(records);
  replayed_spans_->Increment(spans);
  wal_segments_quarantined_->Increment(stats->segments_quarantined);
  if (records > 0 || !stats->damage.empty()) {
    LOG_INFO(
        "WAL replay: {} records, {} spans restored from {} ({} bytes of torn tail "
        "truncated, {} damaged segments quarantined)",
        records, spans, wal_dir, stats->bytes_truncated, stats->segments_quarantined);
  }
  report.Log(*stats);
  return absl::OkStatus();
}

absl::Status Store::CheckAdmission() const {
  if (wal_ == nullptr || closed_.load()) return absl::UnavailableError("store is shutting down");
  const uint64_t live_bytes = accounting_->bytes();
  if (live_bytes > options_.max_live_bytes) {
    refused_over_budget_->Increment();
    return absl::UnavailableError(
        absl::StrCat("live traces hold ", live_bytes, " bytes, over their budget of ",
                     options_.max_live_bytes, " (strand.store.max_live_bytes); retry later"));
  }
  return absl::OkStatus();
}

void Store::Ingest(const std::string& tenant, otlp::SpanBatch&& batch,
                   std::function<void(absl::Status)> done, IngestRefusals* refused) {
  if (absl::Status admit = CheckAdmission(); !admit.ok()) {
    done(std::move(admit));
    return;
  }
  std::vector<uint32_t> sizes;
  if (options_.overrides != nullptr && !batch.spans.empty()) {
    ApplyTraceLimits(tenant, batch, sizes, refused);
  }
  if (batch.spans.empty()) {
    done(absl::OkStatus());
    return;
  }
  // Live traces keep the protobuf request (the received bytes when they are exactly the
  // batch), not the decoded form.
  std::shared_ptr<const std::string> bytes;
  if (!batch.original_request().empty()) {
    bytes = batch.shared_buffer();
  } else {
    bytes = std::make_shared<const std::string>(otlp::EncodeExportRequest(batch));
  }
  // Read the epoch before the append: a batch stamped with epoch e is then never in a
  // segment before epoch_first_segment_[e] (see CutBlocks).
  const uint64_t epoch = epoch_.load(std::memory_order_acquire);
  auto live_batch = std::make_shared<const LiveBatch>(
      bytes, static_cast<uint32_t>(batch.spans.size()), epoch, accounting_);
  std::string header;
  PutVarint64(&header, tenant.size());
  header += tenant;
  // The spans become queryable before the fsync completes; the client is answered only
  // after it. If the append fails the client retries, and duplicates are dropped at read.
  CountOutOfRange(tenant, live_->Add(tenant, live_batch, batch, clock_.NowUnixNanos(), sizes));
  appends_since_rotate_.fetch_add(1, std::memory_order_relaxed);
  const std::string_view body = *bytes;
  wal_->Append(kWalRecordSpans, std::move(header), body,
               [this, bytes = std::move(bytes), done = std::move(done)](absl::Status s) {
                 if (!s.ok()) wal_errors_->Increment();
                 done(std::move(s));
               });
  if (accounting_->bytes() > options_.max_head_bytes && options_.background) {
    absl::MutexLock lock(&bg_mu_);
    if (!cut_wanted_) {
      cut_wanted_ = true;
      ++cut_requests_;
    }
  }
}

void Store::ApplyTraceLimits(const std::string& tenant, otlp::SpanBatch& batch,
                             std::vector<uint32_t>& sizes, IngestRefusals* refused) {
  const overrides::Limits limits = options_.overrides->For(tenant);
  const TraceLimits trace_limits{limits.max_bytes_per_trace, limits.max_traces_per_user};
  if (trace_limits.max_bytes_per_trace == 0 && trace_limits.max_traces == 0) return;
  if (trace_limits.max_bytes_per_trace != 0) sizes = otlp::EncodedSpanSizes(batch);
  const std::vector<SpanRefusal> verdict = live_->CheckLimits(tenant, batch, sizes, trace_limits);
  uint64_t too_large = 0, too_many = 0;
  std::vector<otlp::SpanRef> kept;
  for (uint32_t i = 0; i < verdict.size(); ++i) {
    too_large += verdict[i] == SpanRefusal::kTraceTooLarge;
    too_many += verdict[i] == SpanRefusal::kLiveTracesExceeded;
    if (verdict[i] == SpanRefusal::kNone) kept.push_back({&batch, i});
  }
  if (too_large + too_many == 0) return;
  std::string message;
  if (too_large > 0) {
    discarded_spans_->With({tenant, overrides::kTraceTooLarge})->Increment(too_large);
    message = absl::StrCat("TRACE_TOO_LARGE: ", too_large,
                           " spans refused: their traces would exceed max_bytes_per_trace=",
                           limits.max_bytes_per_trace, " for tenant ", tenant);
  }
  if (too_many > 0) {
    discarded_spans_->With({tenant, overrides::kLiveTracesExceeded})->Increment(too_many);
    absl::StrAppend(&message, message.empty() ? "" : "; ", "LIVE_TRACES_EXCEEDED: ", too_many,
                    " spans of new traces refused: tenant ", tenant,
                    " has max_traces_per_user=", limits.max_traces_per_user, " live traces");
  }
  LOG_WARN_LIMITED(limits_log_, "{}", message);
  if (refused != nullptr) {
    refused->spans += too_large + too_many;
    refused->message = std::move(message);
  }
  // The kept spans become the batch, re-encoded and decoded again: the live batch's bytes
  // must be exactly its spans.
  otlp::SpanBatch filtered;
  if (!kept.empty()) {
    auto decoded = otlp::DecodeProtoRequest(otlp::EncodeResourceSpans(kept));
    assert(decoded.ok());  // our own encoding of spans that decoded once
    filtered = std::move(decoded->batch);
  }
  batch = std::move(filtered);
  sizes.clear();
  if (trace_limits.max_bytes_per_trace != 0) sizes = otlp::EncodedSpanSizes(batch);
}

void Store::CountOutOfRange(const std::string& tenant, const OutOfRangeSpans& spans) {
  if (spans.past + spans.future == 0) return;
  spans_out_of_range_past_->Increment(spans.past);
  spans_out_of_range_future_->Increment(spans.future);
  LOG_WARN_LIMITED(
      out_of_range_log_,
      "tenant {}: {} spans stamped earlier and {} later than their ingest time "
      "+- {} (strand.store.ingestion_time_range_slack, a client clock off?); "
      "stored as sent, placed at their ingest time for block time ranges and "
      "retention",
      tenant, spans.past, spans.future,
      absl::FormatDuration(absl::Nanoseconds(options_.ingestion_time_range_slack_nanos)));
}

void Store::AddLiveSpans(const LiveTrace& trace, TraceResult& result, SeenSpans& seen) const {
  absl::flat_hash_map<const LiveBatch*, const otlp::SpanBatch*> decoded;
  for (const LiveBatchPtr& b : trace.batches) {
    auto batch = b->Decode();
    if (!batch.ok()) {
      LOG_ERROR("decoding a live batch: {}", std::string(batch.status().message()));
      continue;
    }
    decoded[b.get()] = batch->get();
    result.batches.push_back(*std::move(batch));
  }
  for (const LiveSpanRef& ref : trace.spans) {
    auto it = decoded.find(ref.batch);
    if (it == decoded.end()) continue;
    otlp::SpanRef span{it->second, ref.index};
    if (FirstCopy(span.span(), seen)) result.spans.push_back(span);
  }
}

void Store::ReportDamage(const BlockHandlePtr& block, BlockPart part, size_t row_group,
                         const absl::Status& damage) const {
  if (!block->damage->Mark(part, row_group, damage)) return;
  block_damage_->With({BlockPartName(part)})->Increment();
  switch (part) {
    case BlockPart::kTables:
      LOG_ERROR(
          "block {} is damaged (tables section): none of its spans can be read; lookups of its "
          "traces answer that data is unavailable, searches skip it. Files left in place: {}",
          block->dir, std::string(damage.message()));
      break;
    case BlockPart::kStats:
      LOG_ERROR("block {} is damaged (statistics section): searches skip it: {}", block->dir,
                std::string(damage.message()));
      break;
    case BlockPart::kRowGroup:
      LOG_ERROR(
          "block {} row group {} is damaged: reads skip it and go on with the other {} row "
          "groups; lookups of its traces answer that data is unavailable: {}",
          block->dir, row_group, block->reader->num_row_groups() - 1,
          std::string(damage.message()));
      break;
  }
}

namespace {

std::string DamageNote(const BlockHandle& block, std::optional<size_t> row_group,
                       const absl::Status& damage) {
  return row_group.has_value() ? absl::StrCat("block ", block.meta.block_id.ToHex(), " row group ",
                                              *row_group, " is damaged (", damage.message(), ")")
                               : absl::StrCat("block ", block.meta.block_id.ToHex(),
                                              " is damaged (", damage.message(), ")");
}

}  // namespace

absl::StatusOr<TraceResult> Store::FindTraceById(const std::string& tenant, const otlp::TraceId& id,
                                                 int64_t start_unix_seconds,
                                                 int64_t end_unix_seconds) const {
  TraceResult result;
  SeenSpans seen;
  if (auto live = live_->Find(tenant, id)) AddLiveSpans(*live, result, seen);
  const uint64_t start_ns =
      start_unix_seconds > 0 ? static_cast<uint64_t>(start_unix_seconds) * 1'000'000'000 : 0;
  const uint64_t end_ns =
      end_unix_seconds > 0 ? static_cast<uint64_t>(end_unix_seconds) * 1'000'000'000 : UINT64_MAX;
  std::vector<std::string> unavailable;  // damaged parts that may hold some of the trace
  auto snapshot = blocks_->snapshot();
  for (const BlockHandlePtr& block : *snapshot) {
    const block::BlockMeta& meta = block->meta;
    if (meta.tenant != tenant || meta.max_end_unix_nano < start_ns ||
        meta.min_start_unix_nano > end_ns || !block->reader->MayContain(id)) {
      continue;
    }
    if (absl::Status tables = block->damage->Tables(); !tables.ok()) {
      unavailable.push_back(DamageNote(*block, std::nullopt, tables));
      continue;
    }
    block::FindTraceOptions find;
    find.skip = [&block](size_t rg) { return block->damage->RowGroup(rg); };
    find.continue_past_damage = true;
    auto found = block->reader->FindTrace(id, find);
    if (!found.ok()) {
      if (!absl::IsDataLoss(found.status())) return found.status();
      ReportDamage(block, BlockPart::kTables, 0, found.status());
      unavailable.push_back(DamageNote(*block, std::nullopt, found.status()));
      continue;
    }
    ++result.blocks_read;
    if (!found->has_value()) continue;
    for (const block::UnreadRowGroup& unread : (*found)->unread) {
      ReportDamage(block, BlockPart::kRowGroup, unread.index, unread.error);
      unavailable.push_back(DamageNote(*block, unread.index, unread.error));
    }
    result.inspected_bytes += (*found)->inspected_bytes;
    auto batch = std::make_shared<const otlp::SpanBatch>(std::move((*found)->spans));
    for (uint32_t i = 0; i < batch->spans.size(); ++i) {
      if (FirstCopy(batch->spans[i], seen)) result.spans.push_back({batch.get(), i});
    }
    result.batches.push_back(std::move(batch));
  }
  if (!unavailable.empty()) {
    const std::string what = absl::StrCat("data unavailable: ", absl::StrJoin(unavailable, "; "));
    if (result.spans.empty()) {
      return absl::DataLossError(absl::StrCat(what, "; the trace may be stored there"));
    }
    result.partial = absl::StrCat(what, "; the trace may be incomplete");
  }
  if (result.spans.empty()) return absl::NotFoundError("trace not found");
  return result;
}

std::vector<std::string> FitToMemoryLimit(StoreOptions& options, uint64_t request_memory) {
  std::vector<std::string> changed;
  auto fit = [&changed](const char* key, uint64_t& value, uint64_t most) {
    if (value <= most) return;
    changed.push_back(absl::StrCat(key, " ", value, " -> ", most));
    value = most;
  };
  fit("max_live_bytes", options.max_live_bytes, request_memory / 2);
  fit("max_head_bytes", options.max_head_bytes, options.max_live_bytes / 4);
  constexpr uint64_t kCutBytesPerSpan = 1536;
  fit("max_cut_spans", options.max_cut_spans,
      std::max<uint64_t>(request_memory / 8 / kCutBytesPerSpan, 1000));
  // Compaction holds one decoded row group of a cut block per input: an eighth too.
  uint64_t max_inputs = static_cast<uint64_t>(options.compaction_max_inputs);
  fit("compaction.max_inputs", max_inputs,
      std::max<uint64_t>(request_memory / 8 / (kCutBytesPerSpan * options.cut_spans_per_row_group),
                         static_cast<uint64_t>(options.compaction_min_inputs)));
  options.compaction_max_inputs = static_cast<int>(max_inputs);
  return changed;
}

absl::StatusOr<BlockHandlePtr> Store::WriteCutBlock(const std::string& tenant,
                                                    std::span<const LiveTrace> traces) {
  block::BlockWriterOptions wo;
  wo.zstd_level = options_.cut_zstd_level;
  wo.spans_per_row_group = options_.cut_spans_per_row_group;
  wo.batches_outlive_writer = true;  // `decoded` below lives until Finish()
  wo.clock = &clock_;
  wo.compaction_level = 0;
  // The block's time range is where its traces were placed, not their spans' own times.
  block::TimeRange placed;
  for (const LiveTrace& t : traces) {
    placed.Merge(
        {t.min_start_unix_nano, t.max_start_unix_nano, t.min_end_unix_nano, t.max_end_unix_nano});
  }
  wo.time_range = placed;
  ASSIGN_OR_RETURN(auto writer, block::BlockWriter::Create(
                                    env_, JoinPath(blocks_->blocks_dir(), tenant), tenant, wo));
  // Each batch is decoded once, when the first trace that needs it is written.
  absl::flat_hash_map<const LiveBatch*, std::shared_ptr<const otlp::SpanBatch>> decoded;
  // The decoded batches are charged to the memory limit while the cut holds them (without
  // refusal: the cut is what frees live memory), so admissions see them.
  MemoryLease decoded_lease(options_.memory);
  std::vector<otlp::SpanRef> refs;
  SeenSpans seen;
  uint64_t duplicates = 0;
  for (const LiveTrace& trace : traces) {
    refs.clear();
    seen.clear();
    for (const LiveBatchPtr& b : trace.batches) {
      if (decoded.contains(b.get())) continue;
      ASSIGN_OR_RETURN(decoded[b.get()], b->Decode());
      // (The request bytes it decodes from are the live batch's, counted already.)
      decoded_lease.Resize(decoded_lease.bytes() + decoded[b.get()]->DecodedMemoryUsage());
    }
    for (const LiveSpanRef& ref : trace.spans) {
      otlp::SpanRef span{decoded[ref.batch].get(), ref.index};
      if (FirstCopy(span.span(), seen)) {
        refs.push_back(span);
      } else {
        ++duplicates;
      }
    }
    RETURN_IF_ERROR(writer->Add(trace.id, refs));
  }
  ASSIGN_OR_RETURN(block::BlockMeta meta, writer->Finish());
  duplicates_dropped_->Increment(duplicates);
  ASSIGN_OR_RETURN(BlockHandlePtr block, blocks_->OpenBlock(writer->dir()));
  CountOpenDamage(*block);
  return block;
}

void Store::CountOpenDamage(const BlockHandle& block) const {
  // BlockList::OpenBlock checked (and logged) these sections; row groups are found by reads.
  if (!block.damage->Tables().ok()) block_damage_->With({"tables"})->Increment();
  if (!block.damage->Stats().ok()) block_damage_->With({"stats"})->Increment();
}

absl::Status Store::CutChunk(std::vector<LiveTrace> traces) {
  // One block per tenant and compaction window (of the traces' placed start: an
  // out-of-range span counts at its ingest time, see PlaceSpan), so a block's
  // time range stays tight: time-range queries skip it, retention can delete it whole and
  // compaction finds it in its window.
  const int64_t window_nanos = options_.compaction_window_nanos;
  auto window = [window_nanos](const LiveTrace& t) {
    return static_cast<int64_t>(t.min_start_unix_nano / static_cast<uint64_t>(window_nanos));
  };
  std::sort(traces.begin(), traces.end(), [&](const LiveTrace& a, const LiveTrace& b) {
    if (a.tenant != b.tenant) return a.tenant < b.tenant;
    if (window(a) != window(b)) return window(a) < window(b);
    return a.id < b.id;
  });
  std::vector<BlockHandlePtr> written;
  absl::Status status;
  size_t begin = 0;
  while (begin < traces.size()) {
    size_t end = begin;
    while (end < traces.size() && traces[end].tenant == traces[begin].tenant &&
           window(traces[end]) == window(traces[begin])) {
      ++end;
    }
    auto block = WriteCutBlock(traces[begin].tenant,
                               std::span<const LiveTrace>(traces).subspan(begin, end - begin));
    if (!block.ok()) {
      // The blocks already written stay published and their traces leave live below;
      // these traces and the rest stay live and are cut again later.
      cut_errors_->Increment();
      LOG_ERROR("cutting live traces of tenant {} into a block: {}", traces[begin].tenant,
                std::string(block.status().message()));
      status = block.status();
      traces.erase(traces.begin() + static_cast<ptrdiff_t>(begin), traces.end());
      break;
    }
    written.push_back(*std::move(block));
    blocks_cut_->Increment();
    begin = end;
  }
  if (written.empty()) return status;
  // Published first, then dropped from live: a query in between sees both copies (and
  // drops the duplicates), never neither.
  blocks_->Update({}, written);
  uint64_t spans = 0;
  for (const LiveTrace& t : traces) spans += t.spans.size();
  spans_cut_->Increment(spans);
  live_->Remove(traces);
  return status;
}

namespace {

// Splits a cut selection into chunks of about `max_spans` spans such that a chunk needs
// few batches decoded: batches are visited oldest epoch first and each takes the traces
// that use it (a trace goes with the first of its batches visited). With the usual
// traffic (a request holds whole traces, or the traces of one time slice) a chunk then
// decodes about its own spans' worth of batches, so memory stays bounded.
std::vector<std::vector<LiveTrace>> PlanChunks(std::vector<LiveTrace> traces, uint64_t max_spans) {
  absl::flat_hash_map<const LiveBatch*, std::vector<uint32_t>> users;
  std::vector<const LiveBatch*> order;
  for (uint32_t i = 0; i < traces.size(); ++i) {
    for (const LiveBatchPtr& b : traces[i].batches) {
      auto [it, inserted] = users.try_emplace(b.get());
      if (inserted) order.push_back(b.get());
      it->second.push_back(i);
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const LiveBatch* a, const LiveBatch* b) { return a->epoch() < b->epoch(); });
  std::vector<std::vector<LiveTrace>> chunks(1);
  std::vector<bool> assigned(traces.size(), false);
  uint64_t spans = 0;
  for (const LiveBatch* b : order) {
    if (spans >= max_spans) {
      chunks.emplace_back();
      spans = 0;
    }
    for (uint32_t i : users[b]) {
      if (assigned[i]) continue;
      assigned[i] = true;
      spans += traces[i].spans.size();
      chunks.back().push_back(std::move(traces[i]));
    }
  }
  if (chunks.back().empty()) chunks.pop_back();
  return chunks;
}

}  // namespace

absl::Status Store::CutBlocks(bool all, bool fill_blocks) {
  absl::MutexLock lock(&cut_mu_);
  if (wal_ == nullptr) return absl::FailedPreconditionError("store is not open");
  // A new epoch, so the segments before it can be removed once the older epochs' batches
  // are all in blocks. Batches ingested after the Rotate() returned read the new epoch
  // (or the old one, which is conservative) and are in segments >= the returned seq.
  if (appends_since_rotate_.exchange(0) > 0) {
    auto seq = wal_->Rotate();
    if (seq.ok()) {
      const uint64_t next = epoch_.load() + 1;
      epoch_first_segment_[next] = *seq;
      epoch_.store(next, std::memory_order_release);
    } else {
      appends_since_rotate_.fetch_add(1);  // try again next time
      LOG_WARN("rotating the WAL before a cut: {}", std::string(seq.status().message()));
    }
  }
  const int64_t now = clock_.NowUnixNanos();
  uint64_t cut_spans = 0;
  while (true) {
    CutSelection sel;
    sel.all = all;
    sel.idle_before = now - options_.trace_idle_nanos;
    sel.created_before = now - options_.max_trace_live_nanos;
    sel.max_spans = options_.max_cut_select_spans;
    const uint64_t bytes = accounting_->bytes();
    const uint64_t live_spans = live_->NumSpans();
    if (bytes > options_.max_head_bytes) {
      const long double excess = bytes - options_.max_head_bytes / 2;
      sel.extra_spans = static_cast<uint64_t>(live_spans * (excess / bytes)) + 1;
    }
    std::vector<LiveTrace> selected = live_->SelectForCut(sel);
    uint64_t selected_spans = 0;
    for (const LiveTrace& t : selected) selected_spans += t.spans.size();
    cut_spans += selected_spans;
    std::vector<std::vector<LiveTrace>> chunks =
        PlanChunks(std::move(selected), options_.max_cut_spans);
    const bool more = selected_spans >= options_.max_cut_select_spans;
    bool waits = false;
    if (fill_blocks && !all && !more && !chunks.empty()) {
      // The newest chunk, when it would make a small block, waits (see the header).
      uint64_t last = 0;
      for (const LiveTrace& t : chunks.back()) last += t.spans.size();
      // It waits only while the head stays within its size without it (else the head
      // trigger would wake the cutter again at once).
      const long double bytes_per_span =
          live_spans > 0 ? static_cast<long double>(bytes) / live_spans : 0;
      const bool head_fits =
          bytes - bytes_per_span * static_cast<long double>(selected_spans - last) <=
          static_cast<long double>(options_.max_head_bytes);
      if (last < options_.max_cut_spans && head_fits) {
        if (partial_chunk_since_ == 0) partial_chunk_since_ = now;
        waits = now - partial_chunk_since_ < options_.trace_idle_nanos;
      }
      if (waits) {
        cut_spans -= last;
        chunks.pop_back();
      }
    }
    if (!waits) partial_chunk_since_ = 0;
    for (auto& chunk : chunks) {
      RETURN_IF_ERROR(CutChunk(std::move(chunk)));
    }
    if (!more) break;  // everything due is cut (or waits to fill a block)
  }
  // A cut frees its decoded batches and the live traces' bytes; hand the free pages back
  // to the system so that RSS follows the live data, not its past peak.
  if (cut_spans > 0) malloc_trim(0);
  return TruncateWal();
}

absl::Status Store::TruncateWal() {
  const uint64_t current = epoch_.load();
  const uint64_t oldest = accounting_->OldestLiveEpoch().value_or(current);
  auto it = epoch_first_segment_.find(std::min(oldest, current));
  if (it == epoch_first_segment_.end() || it == epoch_first_segment_.begin()) {
    return absl::OkStatus();
  }
  const uint64_t before = it->second;
  epoch_first_segment_.erase(epoch_first_segment_.begin(), it);
  RETURN_IF_ERROR(wal_->RemoveSegmentsBefore(before));
  wal_segments_removed_->Increment();
  return absl::OkStatus();
}

bool Store::ShouldMerge(int64_t window, size_t inputs, uint64_t spans, int64_t now) const {
  if (inputs < 2) return false;
  // The output is final (never merged again): each of its spans is compacted once.
  if (spans >= options_.compaction_max_block_spans / 2) return true;
  // The merge is as wide as it may be: waiting would not make it wider.
  if (static_cast<int>(inputs) >= options_.compaction_max_inputs) return true;
  // Here the merge takes every small block of the window (the two rules above hold
  // whenever it leaves one out), and it goes ahead once the window is settled: past its
  // end by longer than a trace stays live, so no cut adds to it any more (only late data).
  // (In 128 bits: a window of a span dated near 2262 or before 1970 must not overflow.)
  const __int128 settled_at =
      (static_cast<__int128>(window) + 1) * options_.compaction_window_nanos +
      options_.max_trace_live_nanos + options_.trace_idle_nanos +
      options_.maintenance_interval_nanos;
  return static_cast<int>(inputs) >= options_.compaction_min_inputs &&
         static_cast<__int128>(now) >= settled_at;
}

absl::StatusOr<bool> Store::Compact() {
  if (!options_.compaction_enabled) return false;
  auto snapshot = blocks_->snapshot();
  // Candidates: blocks not yet full, grouped by tenant and time window.
  std::map<std::pair<std::string, int64_t>, std::vector<BlockHandlePtr>> groups;
  for (const BlockHandlePtr& b : *snapshot) {
    if (b->meta.span_count >= options_.compaction_max_block_spans / 2) continue;
    // A block with unreadable spans stays as it is (until retention): merging it would
    // either fail or drop them without a trace. Damaged statistics do not matter here.
    if (!b->damage->Tables().ok() || b->damage->damaged_row_groups() > 0) continue;
    const int64_t window =
        static_cast<int64_t>(b->meta.min_start_unix_nano) / options_.compaction_window_nanos;
    groups[{b->meta.tenant, window}].push_back(b);
  }
  const int64_t now = clock_.NowUnixNanos();
  for (auto& [key, candidates] : groups) {
    if (candidates.size() < 2) continue;
    // Smallest first: merging many small blocks pays the most.
    std::sort(candidates.begin(), candidates.end(),
              [](const BlockHandlePtr& a, const BlockHandlePtr& b) {
                return a->meta.span_count < b->meta.span_count;
              });
    std::vector<BlockHandlePtr> inputs;
    std::vector<const block::BlockReader*> readers;
    uint64_t spans = 0;
    for (const BlockHandlePtr& b : candidates) {
      if (static_cast<int>(inputs.size()) >= options_.compaction_max_inputs) break;
      if (!inputs.empty() && spans + b->meta.span_count > options_.compaction_max_block_spans) {
        break;
      }
      inputs.push_back(b);
      readers.push_back(b->reader.get());
      spans += b->meta.span_count;
    }
    if (!ShouldMerge(key.second, inputs.size(), spans, now)) continue;
    block::CompactOptions co;
    co.writer.zstd_level = options_.compaction_zstd_level;
    co.writer.clock = &clock_;
    const std::string& tenant = key.first;
    auto result =
        block::CompactBlocks(env_, readers, JoinPath(blocks_->blocks_dir(), tenant), tenant, co);
    if (!result.ok()) {
      compaction_errors_->Increment();
      // A damaged input would fail every later compaction of its window: find the damage
      // (checksums) and record it, so the next round merges the rest without that block.
      if (absl::IsDataLoss(result.status())) {
        for (const BlockHandlePtr& b : inputs) FindDamage(b);
      }
      return result.status();
    }
    ASSIGN_OR_RETURN(BlockHandlePtr output,
                     blocks_->OpenBlock(JoinPath(JoinPath(blocks_->blocks_dir(), tenant),
                                                 result->meta.block_id.ToHex())));
    CountOpenDamage(*output);
    blocks_->Update(inputs, {output});
    blocks_compacted_->Increment(inputs.size());
    compaction_spans_->Increment(result->output_spans);
    duplicates_dropped_->Increment(result->duplicates_dropped);
    LOG_INFO(
        "compacted {} blocks of tenant {} ({} spans) into {} ({} spans, {} duplicates "
        "dropped)",
        inputs.size(), tenant, result->input_spans, result->meta.block_id.ToHex(),
        result->output_spans, result->duplicates_dropped);
    malloc_trim(0);
    for (const BlockHandlePtr& b : inputs) {
      if (auto s = blocks_->DeleteFiles(*b); !s.ok()) {
        LOG_WARN("deleting compacted block {}: {}", b->dir, std::string(s.message()));
      }
    }
    return true;
  }
  return false;
}

void Store::FindDamage(const BlockHandlePtr& block) const {
  auto tables = block->reader->ReadTables();
  if (!tables.ok()) {
    if (absl::IsDataLoss(tables.status())) {
      ReportDamage(block, BlockPart::kTables, 0, tables.status());
    }
    return;
  }
  for (size_t i = 0; i < block->reader->num_row_groups(); ++i) {
    if (absl::Status s = block->reader->VerifyRowGroup(i, *tables); absl::IsDataLoss(s)) {
      ReportDamage(block, BlockPart::kRowGroup, i, s);
    }
  }
}

absl::StatusOr<int> Store::ApplyRetention() {
  const int64_t now = clock_.NowUnixNanos();
  // The cutoff of each tenant: its block_retention, else the store-wide retention; 0 keeps.
  absl::flat_hash_map<std::string, int64_t> cutoffs;
  auto cutoff_of = [&](const std::string& tenant) {
    auto [it, inserted] = cutoffs.try_emplace(tenant, 0);
    if (inserted) {
      int64_t retention = options_.retention_nanos;
      if (options_.overrides != nullptr) {
        const int64_t own = options_.overrides->For(tenant).block_retention_nanos;
        if (own > 0) retention = own;
      }
      it->second = retention > 0 ? std::max<int64_t>(now - retention, 0) : 0;
    }
    return it->second;
  };
  std::vector<BlockHandlePtr> expired;
  int64_t oldest_cutoff = INT64_MAX;
  for (const BlockHandlePtr& b : *blocks_->snapshot()) {
    const int64_t cutoff = cutoff_of(b->meta.tenant);
    if (cutoff > 0 && b->meta.max_end_unix_nano < static_cast<uint64_t>(cutoff)) {
      expired.push_back(b);
      oldest_cutoff = std::min(oldest_cutoff, cutoff);
    }
  }
  if (expired.empty()) return 0;
  blocks_->Update(expired, {});
  absl::Status first;
  for (const BlockHandlePtr& b : expired) {
    if (auto s = blocks_->DeleteFiles(*b); !s.ok() && first.ok()) first = s;
  }
  blocks_expired_->Increment(expired.size());
  LOG_INFO("retention: deleted {} blocks past their tenant's retention (cutoffs from {})",
           expired.size(),
           absl::FormatTime(absl::FromUnixNanos(oldest_cutoff), absl::UTCTimeZone()));
  if (!first.ok()) return first;
  return static_cast<int>(expired.size());
}

void Store::StartBackground() {
  cutter_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "strand-cutter");
    // Cutting yields to ingest (acknowledgement latency) but must keep up with it; the
    // head-size trigger and the live budget bound what it may fall behind by.
    LowerThreadPriority(5);
    CutterLoop();
  });
  maintenance_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "strand-compact");
    // Compaction can wait; ingest and cutting cannot.
    LowerThreadPriority(10);
    MaintenanceLoop();
  });
}

void Store::StopBackground() {
  {
    absl::MutexLock lock(&bg_mu_);
    stopping_ = true;
  }
  if (cutter_.joinable()) cutter_.join();
  if (maintenance_.joinable()) maintenance_.join();
}

void Store::CutterLoop() {
  while (true) {
    {
      absl::MutexLock lock(&bg_mu_);
      auto woken = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(bg_mu_) { return stopping_ || cut_wanted_; };
      clock_.AwaitWithTimeout(bg_mu_, absl::Condition(&woken), options_.cut_interval_nanos);
      if (stopping_) return;
      cut_wanted_ = false;
    }
    if (auto s = CutBlocks(/*all=*/false, /*fill_blocks=*/true); !s.ok()) {
      LOG_ERROR("cutting blocks: {}", std::string(s.message()));
    }
  }
}

void Store::MaintenanceLoop() {
  while (true) {
    {
      absl::MutexLock lock(&bg_mu_);
      const uint64_t requests = cut_requests_;
      auto woken = [this, requests]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(bg_mu_) {
        return stopping_ || cut_requests_ != requests;
      };
      clock_.AwaitWithTimeout(bg_mu_, absl::Condition(&woken), options_.maintenance_interval_nanos);
      if (stopping_) return;
    }
    if (auto n = ApplyRetention(); !n.ok()) {
      LOG_ERROR("applying retention: {}", std::string(n.status().message()));
    }
    while (true) {
      {
        absl::MutexLock lock(&bg_mu_);
        if (stopping_) return;
      }
      auto merged = Compact();
      if (!merged.ok()) LOG_ERROR("compaction: {}", std::string(merged.status().message()));
      if (!merged.ok() || !*merged) break;
    }
  }
}

void Store::Close() {
  if (wal_ == nullptr || closed_.exchange(true)) return;
  StopBackground();
  // Everything live goes into blocks, so the next start has no WAL to replay. If that
  // fails the WAL keeps the spans and the next start replays them.
  appends_since_rotate_.store(1);
  if (auto s = CutBlocks(/*all=*/true); !s.ok()) {
    LOG_ERROR("cutting live traces at shutdown (the WAL keeps them): {}", std::string(s.message()));
  }
  if (auto s = wal_->Close(); !s.ok()) LOG_ERROR("closing the WAL: {}", std::string(s.message()));
}

}  // namespace strand::store
