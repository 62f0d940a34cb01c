#include "store/store.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "otlp/proto_encoder.h"
#include "wal/wal_replay.h"
#include "wal/wal_writer.h"

namespace strand::store {

Store::Store(Env& env, Clock& clock, MetricsRegistry* metrics, StoreOptions options)
    : env_(env), clock_(clock), options_(std::move(options)),
      live_(std::make_unique<LiveTraces>()) {
  static MetricsRegistry unused;
  MetricsRegistry& m = metrics ? *metrics : unused;
  replayed_records_ =
      m.AddCounter("strand_wal_replayed_records_total", "WAL records replayed at start.")
          ->With({});
  replayed_spans_ =
      m.AddCounter("strand_wal_replayed_spans_total", "Spans restored from the WAL at start.")
          ->With({});
  wal_errors_ =
      m.AddCounter("strand_wal_append_errors_total", "WAL appends that failed.")->With({});
  refused_over_budget_ =
      m.AddCounter("strand_store_batches_refused_total",
                    "Batches refused (retryable) because live traces were over their memory "
                    "budget.")
          ->With({});
}

Store::~Store() { Close(); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(Env& env, Clock& clock,
                                                   MetricsRegistry* metrics,
                                                   StoreOptions options) {
  std::unique_ptr<Store> store(new Store(env, clock, metrics, std::move(options)));
  RETURN_IF_ERROR(env.CreateDirs(store->options_.data_dir + "/wal"));
  RETURN_IF_ERROR(store->Replay());
  WalOptions wo;
  wo.sync = store->options_.wal_sync;
  wo.segment_size_limit = store->options_.wal_segment_bytes;
  wo.max_queued_bytes = store->options_.wal_max_queued_bytes;
  wo.clock = &store->clock_;
  ASSIGN_OR_RETURN(store->wal_, WalWriter::Open(env, store->options_.data_dir + "/wal", wo));
  if (metrics != nullptr) {
    WalWriter* wal = store->wal_.get();
    auto add = [&](const char* name, const char* help, MetricType type,
                   std::function<double(const WalWriterCounters&)> get) {
      metrics->AddCallback(name, help, type, [wal, get] { return get(wal->counters()); });
    };
    add("strand_wal_bytes_written_total", "Bytes written to the WAL, record headers included.",
        MetricType::kCounter, [](const WalWriterCounters& c) { return c.bytes_written; });
    add("strand_wal_records_written_total", "Records written to the WAL.", MetricType::kCounter,
        [](const WalWriterCounters& c) { return c.records_written; });
    add("strand_wal_fsyncs_total", "fdatasync calls that committed a group of WAL records.",
        MetricType::kCounter, [](const WalWriterCounters& c) { return c.syncs; });
    add("strand_wal_fsync_seconds_total", "Time spent in WAL fdatasync calls.",
        MetricType::kCounter, [](const WalWriterCounters& c) { return c.sync_nanos_total / 1e9; });
    add("strand_wal_fsync_seconds_max", "Longest WAL fdatasync call.", MetricType::kGauge,
        [](const WalWriterCounters& c) { return c.sync_nanos_max / 1e9; });
    add("strand_wal_segments_created_total", "WAL segment files created.", MetricType::kCounter,
        [](const WalWriterCounters& c) { return c.segments_created; });
    add("strand_wal_records_rejected_total", "WAL appends refused up front (queue full).",
        MetricType::kCounter, [](const WalWriterCounters& c) { return c.records_rejected; });
    add("strand_wal_queued_bytes", "WAL bytes accepted and waiting for their fsync.",
        MetricType::kGauge, [](const WalWriterCounters& c) { return c.queued_bytes; });
    LiveTraces* live = store->live_.get();
    metrics->AddCallback("strand_live_traces", "Traces held in memory.", MetricType::kGauge,
                         [live] { return static_cast<double>(live->NumTraces()); });
    metrics->AddCallback("strand_live_spans", "Spans held in memory.", MetricType::kGauge,
                         [live] { return static_cast<double>(live->NumSpans()); });
    Store* self = store.get();
    metrics->AddCallback("strand_live_bytes", "Bytes held by the batches of live traces.",
                         MetricType::kGauge,
                         [self] { return static_cast<double>(self->live_bytes()); });
  }
  return store;
}

absl::Status Store::Replay() {
  uint64_t records = 0, spans = 0;
  auto stats = ReplayWal(
      env_, options_.data_dir + "/wal",
      [&](uint8_t type, std::string_view payload) -> absl::Status {
        if (type != kWalRecordSpans) {
          return absl::DataLossError(absl::StrCat("unknown WAL record type ", type));
        }
        uint64_t tenant_len;
        const char* p = GetVarint64Ptr(payload.data(), payload.data() + payload.size(),
                                       &tenant_len);
        if (p == nullptr ||
            tenant_len > static_cast<uint64_t>(payload.data() + payload.size() - p)) {
          return absl::DataLossError("WAL span record has a bad tenant header");
        }
        std::string tenant(p, tenant_len);
        p += tenant_len;
        std::string body(p, payload.data() + payload.size() - p);
        auto decoded = otlp::DecodeProtoRequest(std::move(body));
        if (!decoded.ok()) {
          return absl::DataLossError(
              absl::StrCat("WAL span record does not decode: ", decoded.status().message()));
        }
        spans += decoded->batch.spans.size();
        ++records;
        auto batch = std::make_shared<otlp::SpanBatch>(std::move(decoded->batch));
        live_bytes_ += batch->MemoryUsage();
        live_->Add(tenant, std::move(batch), clock_.NowUnixNanos());
        return absl::OkStatus();
      });
  if (!stats.ok()) return stats.status();
  replayed_records_->Increment(records);
  replayed_spans_->Increment(spans);
  if (records > 0 || !stats->damage.empty()) {
    LOG_INFO("WAL replay: {} records, {} spans restored from {} ({} bytes of torn tail "
             "truncated)",
             records, spans, options_.data_dir + "/wal", stats->bytes_truncated);
  }
  if (!stats->damage.empty()) {
    if (stats->data_loss()) {
      LOG_ERROR("WAL replay found damage that may have lost data:\n{}", stats->DamageSummary());
    } else {
      LOG_WARN("WAL replay repaired the trace of a crash:\n{}", stats->DamageSummary());
    }
  }
  return absl::OkStatus();
}

void Store::Ingest(const std::string& tenant, otlp::SpanBatch&& batch,
                   std::function<void(absl::Status)> done) {
  if (wal_ == nullptr || closed_.load()) {
    done(absl::UnavailableError("store is shutting down"));
    return;
  }
  if (batch.spans.empty()) {
    done(absl::OkStatus());
    return;
  }
  const uint64_t live_bytes = live_bytes_.load(std::memory_order_relaxed);
  if (live_bytes > options_.max_live_bytes) {
    refused_over_budget_->Increment();
    done(absl::UnavailableError(absl::StrCat(
        "live traces hold ", live_bytes, " bytes, over their budget of ",
        options_.max_live_bytes, " (strand.store.max_live_bytes); retry later")));
    return;
  }
  auto shared = std::make_shared<otlp::SpanBatch>(std::move(batch));
  live_bytes_ += shared->MemoryUsage();
  std::string header;
  PutVarint64(&header, tenant.size());
  header += tenant;
  std::string_view body = shared->original_request();
  std::shared_ptr<std::string> encoded;
  if (body.empty()) {
    encoded = std::make_shared<std::string>(otlp::EncodeExportRequest(*shared));
    body = *encoded;
  }
  // The spans become queryable before the fsync completes; the client is answered only
  // after it. If the append fails the client retries, and duplicates are dropped at read.
  live_->Add(tenant, shared, clock_.NowUnixNanos());
  wal_->Append(kWalRecordSpans, std::move(header), body,
               [this, shared, encoded, done = std::move(done)](absl::Status s) {
                 if (!s.ok()) wal_errors_->Increment();
                 done(std::move(s));
               });
}

absl::StatusOr<TraceResult> Store::FindTraceById(const std::string& tenant,
                                                 const otlp::TraceId& id,
                                                 int64_t start_unix_seconds,
                                                 int64_t end_unix_seconds) const {
  auto found = live_->Find(tenant, id);
  if (!found) return absl::NotFoundError("trace not found");
  TraceResult result;
  result.spans.batches = std::move(found->batches);
  result.spans.min_start_unix_nano = found->min_start_unix_nano;
  result.spans.max_end_unix_nano = found->max_end_unix_nano;
  // One copy of each span: the same span ID and kind is the same span sent twice.
  absl::flat_hash_set<std::pair<uint64_t, int32_t>> seen;
  result.spans.spans.reserve(found->spans.size());
  for (const otlp::SpanRef& ref : found->spans) {
    uint64_t span_id;
    std::memcpy(&span_id, ref.span().span_id.data(), 8);
    if (seen.insert({span_id, ref.span().kind}).second) result.spans.spans.push_back(ref);
  }
  return result;
}

void Store::Close() {
  if (wal_ && !closed_.exchange(true)) {
    if (auto s = wal_->Close(); !s.ok()) LOG_ERROR("closing the WAL: {}", std::string(s.message()));
  }
}

}  // namespace strand::store
