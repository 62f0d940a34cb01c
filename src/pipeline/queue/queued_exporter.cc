#include "pipeline/queue/queued_exporter.h"

#include <atomic>
#include <deque>
#include <map>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/log_limiter.h"
#include "common/logging.h"

namespace strand::pipeline {

ExporterStats MakeExporterStats(MetricsRegistry* metrics, const std::string& exporter) {
  ExporterStats s;
  if (metrics == nullptr) {
    // Unregistered metrics for tests without a registry; they live for the process.
    static MetricsRegistry* unregistered = new MetricsRegistry();
    metrics = unregistered;
  }
  s.sent_spans = metrics
                     ->AddCounter("strand_exporter_sent_spans_total",
                                  "Spans the next hop acknowledged.", {"exporter"})
                     ->With({exporter});
  s.failed_spans = metrics
                       ->AddCounter("strand_exporter_send_failed_spans_total",
                                    "Spans dropped after a permanent error or after retries "
                                    "ran out.",
                                    {"exporter"})
                       ->With({exporter});
  s.enqueue_failed_spans = metrics
                               ->AddCounter("strand_exporter_enqueue_failed_spans_total",
                                            "Spans refused (retryable) because the sending "
                                            "queue was full.",
                                            {"exporter"})
                               ->With({exporter});
  s.retries = metrics
                  ->AddCounter("strand_exporter_send_retries_total",
                               "Sends retried after a retryable failure.", {"exporter"})
                  ->With({exporter});
  s.queue_size = metrics
                     ->AddGauge("strand_exporter_queue_size",
                                "Requests waiting in the sending queue.", {"exporter"})
                     ->With({exporter});
  s.queue_capacity = metrics
                         ->AddGauge("strand_exporter_queue_capacity",
                                    "Capacity of the sending queue, in requests.", {"exporter"})
                         ->With({exporter});
  return s;
}

namespace {

// A batch on its way out: the queued requests it carries (acknowledged together when the
// send ends) and the bodies to send (several when one request was split by
// send_batch_max_size; otherwise one, the requests' bodies joined).
struct OutBatch {
  std::vector<QueuedRequest> items;
  std::vector<std::shared_ptr<const std::string>> bodies;
  uint64_t spans = 0;
};

// Requests batch together when their policies are equal (by value: a request recovered
// from a persistent queue carries its own copy of the policy) and their metadata values
// are the same.
struct GroupKey {
  uint64_t send_batch_size;
  uint64_t send_batch_max_size;
  int64_t timeout_nanos;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  static GroupKey Of(const BatchPolicy& p, const std::vector<std::string>& values) {
    return {p.send_batch_size, p.send_batch_max_size, p.timeout_nanos, p.metadata_keys, values};
  }
  friend bool operator<(const GroupKey& a, const GroupKey& b) {
    return std::tie(a.send_batch_size, a.send_batch_max_size, a.timeout_nanos, a.keys, a.values) <
           std::tie(b.send_batch_size, b.send_batch_max_size, b.timeout_nanos, b.keys, b.values);
  }
};

struct Group {
  std::shared_ptr<const BatchPolicy> policy;
  std::vector<QueuedRequest> items;
  uint64_t spans = 0;
  int64_t deadline_nanos = 0;  // on the exporter's monotonic clock
};

}  // namespace

struct QueuedExporter::Impl {
  SenderSettings settings;
  std::string id;
  const Clock* clock = nullptr;
  std::unique_ptr<RequestQueue> queue;
  RequestSender* sender = nullptr;
  ExporterStats stats;

  absl::Mutex mu;
  std::deque<OutBatch> out ABSL_GUARDED_BY(mu);  // at most num_consumers
  bool batcher_done ABSL_GUARDED_BY(mu) = false;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread batcher;
  std::vector<std::thread> senders;
  std::unique_ptr<LogLimiter> warn_limiter;  // one warning a second
  bool started = false;

  uint64_t MaxOut() const { return static_cast<uint64_t>(settings.queue.num_consumers); }

  // Hands a batch to the senders, waiting while they are all busy.
  void Dispatch(OutBatch&& b) {
    absl::MutexLock lock(&mu);
    auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return out.size() < MaxOut(); };
    mu.Await(absl::Condition(&has_room));
    out.push_back(std::move(b));
  }

  // Turns a group into batches of at most max spans (when the policy caps them).
  void DispatchGroup(Group& g) {
    const uint64_t max = g.policy ? g.policy->send_batch_max_size : 0;
    OutBatch cur;
    auto flush = [&] {
      if (cur.items.empty()) return;
      Dispatch(std::move(cur));
      cur = OutBatch();
    };
    for (auto& item : g.items) {
      if (max > 0 && item.request.spans > max) {
        flush();
        OutBatch split;
        auto parts = SplitRequest(*item.request.body, max);
        if (parts.ok()) {
          for (auto& p : *parts) split.bodies.push_back(std::make_shared<const std::string>(p));
        } else {
          split.bodies.push_back(item.request.body);  // the next hop will say what is wrong
        }
        split.spans = item.request.spans;
        split.items.push_back(std::move(item));
        Dispatch(std::move(split));
        continue;
      }
      if (max > 0 && cur.spans + item.request.spans > max) flush();
      cur.spans += item.request.spans;
      cur.items.push_back(std::move(item));
    }
    flush();
    g.items.clear();
    g.spans = 0;
  }

  void RunBatcher() {
    std::map<GroupKey, Group> groups;
    for (;;) {
      // Wait for a request until the first group's timeout; with no group waiting, until
      // a request comes or the queue is closed.
      int64_t now = clock->MonotonicNanos();
      absl::Duration wait = absl::InfiniteDuration();
      for (auto& [k, g] : groups) {
        if (!g.items.empty())
          wait = std::min(wait, absl::Nanoseconds(std::max<int64_t>(g.deadline_nanos - now, 0)));
      }
      // `stopping` is read before Pop: Shutdown closes the queue before it sets the flag,
      // so once the flag is seen every accepted request is already in the queue and an
      // empty Pop means the queue is drained. (Read after Pop, a request offered between
      // an empty Pop and Close would be left behind, acknowledged but never sent.)
      bool stopping_now;
      {
        absl::MutexLock lock(&mu);
        stopping_now = stopping;
      }
      std::optional<QueuedRequest> item = queue->Pop(*clock, wait);
      if (stats.queue_size) stats.queue_size->Set(static_cast<int64_t>(queue->Size()));
      if (item) {
        const BatchPolicy* p = item->request.batching.get();
        if (p == nullptr || (p->timeout_nanos == 0 && p->send_batch_size <= item->request.spans)) {
          Group single{item->request.batching, {}, 0, now};
          single.spans = item->request.spans;
          single.items.push_back(std::move(*item));
          DispatchGroup(single);
        } else {
          GroupKey key = GroupKey::Of(*p, item->request.batch_key);
          auto it = groups.find(key);
          if (it == groups.end() && groups.size() >= p->metadata_cardinality_limit) {
            Group single{item->request.batching, {}, item->request.spans, now};
            single.items.push_back(std::move(*item));
            DispatchGroup(single);
          } else {
            Group& g = groups[key];
            if (g.items.empty()) {
              g.policy = item->request.batching;
              g.deadline_nanos = clock->MonotonicNanos() + p->timeout_nanos;
            }
            g.spans += item->request.spans;
            g.items.push_back(std::move(*item));
            if (g.spans >= p->send_batch_size) DispatchGroup(g);
          }
        }
      }
      now = clock->MonotonicNanos();
      for (auto it = groups.begin(); it != groups.end();) {
        Group& g = it->second;
        if (!g.items.empty() && (now >= g.deadline_nanos || stopping_now)) DispatchGroup(g);
        // Only groups with requests waiting count toward metadata_cardinality_limit.
        it = g.items.empty() ? groups.erase(it) : std::next(it);
      }
      // Once stopping, Pop returns nothing more when an in-memory queue is empty, or at
      // once for a persistent queue (what is left stays on disk).
      if (!item && stopping_now) break;
    }
    absl::MutexLock lock(&mu);
    batcher_done = true;
  }

  // Sleeps for `nanos` of the clock's time unless the exporter stops first; false when it
  // stopped.
  bool Sleep(int64_t nanos) {
    absl::MutexLock lock(&mu);
    return !clock->AwaitWithTimeout(mu, absl::Condition(&stopping), nanos);
  }

  void Warn(const std::string& message) {
    uint64_t held_back = 0;
    if (warn_limiter->Allow(held_back)) LOG_WARN("{}: {}", id, message);
  }

  // Sends one body with retries. OK, or the error that ended the attempts.
  absl::Status SendWithRetry(const std::string& body, uint64_t spans) {
    const RetrySettings& r = settings.retry;
    const int64_t start = clock->MonotonicNanos();
    double interval = static_cast<double>(r.initial_interval_nanos);
    std::mt19937_64 rng(std::hash<std::thread::id>()(std::this_thread::get_id()) ^
                        static_cast<uint64_t>(clock->NowUnixNanos()));
    for (;;) {
      SendResult res = sender->Send(body, settings.timeout_nanos);
      if (res.status.ok()) {
        if (res.rejected_spans > 0) {
          Warn(absl::StrCat("the next hop rejected ", res.rejected_spans,
                            " spans (partial success): ", std::string(res.status.message())));
        }
        return absl::OkStatus();
      }
      if (!res.retryable || !r.enabled) {
        Warn(absl::StrCat("dropping ", spans, " spans: permanent error from ", sender->Describe(),
                          ": ", res.status.ToString()));
        return res.status;
      }
      double backoff = interval;
      if (r.randomization_factor > 0) {
        std::uniform_real_distribution<double> jitter(1 - r.randomization_factor,
                                                      1 + r.randomization_factor);
        backoff *= jitter(rng);
      }
      if (res.retry_after_nanos > 0) backoff = static_cast<double>(res.retry_after_nanos);
      const int64_t wait = static_cast<int64_t>(backoff);
      if (r.max_elapsed_time_nanos > 0 &&
          clock->MonotonicNanos() - start + wait > r.max_elapsed_time_nanos) {
        Warn(absl::StrCat("dropping ", spans, " spans: retries ran out (max_elapsed_time) after ",
                          res.status.ToString()));
        return res.status;
      }
      Warn(absl::StrCat("sending to ", sender->Describe(), " failed (", res.status.ToString(),
                        "); retrying in ", absl::FormatDuration(absl::Nanoseconds(wait))));
      if (stats.retries) stats.retries->Increment();
      if (!Sleep(wait)) {
        return absl::CancelledError("exporter stopped while waiting to retry");
      }
      interval = std::min(interval * r.multiplier, static_cast<double>(r.max_interval_nanos));
    }
  }

  void RunSender() {
    for (;;) {
      OutBatch b;
      {
        absl::MutexLock lock(&mu);
        auto ready = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return !out.empty() || batcher_done; };
        mu.Await(absl::Condition(&ready));
        if (out.empty()) return;
        b = std::move(out.front());
        out.pop_front();
      }
      absl::Status status;
      if (b.bodies.empty()) {
        if (b.items.size() == 1) {
          status = SendWithRetry(*b.items[0].request.body, b.spans);
        } else {
          std::string joined;
          size_t total = 0;
          for (const auto& item : b.items) total += item.request.body->size();
          joined.reserve(total);
          // Concatenated ExportTraceServiceRequests are one request with every
          // ResourceSpans (a repeated field's encodings simply follow each other).
          for (const auto& item : b.items) joined += *item.request.body;
          status = SendWithRetry(joined, b.spans);
        }
      } else {
        for (const auto& body : b.bodies) {
          status = SendWithRetry(*body, b.spans);
          if (!status.ok()) break;
        }
      }
      const bool interrupted = absl::IsCancelled(status);
      if (status.ok()) {
        stats.sent_spans->Increment(b.spans);
      } else if (!interrupted || !persistent()) {
        stats.failed_spans->Increment(b.spans);
      }
      for (auto& item : b.items) {
        // A persistent queue keeps what an interrupted send could not deliver: it is
        // offered again after the restart.
        if (!(interrupted && persistent())) queue->Ack(item.id);
        if (item.done) item.done(status);
      }
    }
  }

  bool persistent() const { return queue->persistent(); }
};

QueuedExporter::QueuedExporter(SenderSettings settings, std::unique_ptr<RequestSender> sender,
                               std::unique_ptr<RequestQueue> queue, const BuildContext& ctx)
    : impl_(std::make_unique<Impl>()), sender_(std::move(sender)) {
  impl_->settings = std::move(settings);
  impl_->id = ctx.id.ToString();
  impl_->clock = ctx.clock != nullptr ? ctx.clock : Clock::Real();
  impl_->warn_limiter = std::make_unique<LogLimiter>(1'000'000'000, impl_->clock);
  if (!impl_->settings.queue.enabled) {
    // The holding line in front of the senders: requests wait here with their callers.
    impl_->settings.queue.num_consumers = std::max(impl_->settings.queue.num_consumers, 1);
    queue = std::make_unique<MemoryQueue>(
        std::max<uint64_t>(impl_->settings.queue.queue_size, 1000), ctx.memory);
  } else if (queue == nullptr) {
    queue = std::make_unique<MemoryQueue>(impl_->settings.queue.queue_size, ctx.memory);
  }
  impl_->queue = std::move(queue);
  impl_->sender = sender_.get();
  stats_ = MakeExporterStats(ctx.metrics, impl_->id);
  impl_->stats = stats_;
  stats_.queue_capacity->Set(static_cast<int64_t>(impl_->queue->Capacity()));
}

QueuedExporter::~QueuedExporter() { Shutdown(); }

absl::Status QueuedExporter::Start() {
  if (impl_->settings.queue.enabled && !impl_->persistent()) {
    // The otelcol format's default, and a relaxation of "acknowledged means durable":
    // say so once, with the way out.
    LOG_INFO(
        "{}: in-memory sending queue: acknowledged spans survive an outage of {} but "
        "not a crash of this process; set sending_queue::storage to a file_storage "
        "extension to keep them on disk",
        impl_->id, sender_->Describe());
  }
  impl_->started = true;
  impl_->batcher = std::thread([this] { impl_->RunBatcher(); });
  for (int i = 0; i < impl_->settings.queue.num_consumers; ++i) {
    impl_->senders.emplace_back([this] { impl_->RunSender(); });
  }
  return absl::OkStatus();
}

void QueuedExporter::Shutdown() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->queue->Close();
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->stopping = true;
  }
  impl_->batcher.join();
  for (auto& t : impl_->senders) t.join();
  impl_->senders.clear();
}

absl::Status QueuedExporter::Admit(const RequestContext& /*ctx*/) {
  if (impl_->queue->Size() >= impl_->queue->Capacity()) {
    return absl::UnavailableError("sending queue is full; retry later");
  }
  return absl::OkStatus();
}

void QueuedExporter::Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) {
  ConsumeRequest(MakeExportRequest(ctx, batch), std::move(done));
}

void QueuedExporter::ConsumeRequest(ExportRequest&& req, ConsumeDone done) {
  const uint64_t spans = req.spans;
  if (spans == 0) {
    done(absl::OkStatus());
    return;
  }
  Counter* enqueue_failed = stats_.enqueue_failed_spans;
  if (impl_->settings.queue.enabled) {
    impl_->queue->Offer(std::move(req), nullptr,
                        [done = std::move(done), enqueue_failed, spans](absl::Status s) {
                          if (!s.ok()) enqueue_failed->Increment(spans);
                          done(std::move(s));
                        });
    return;
  }
  // No queue: the caller waits for the send; `done` travels with the request and runs
  // once, either when the holding line refuses it or when the send ends.
  auto shared_done = std::make_shared<ConsumeDone>(std::move(done));
  impl_->queue->Offer(
      std::move(req), [shared_done](absl::Status st) { (*shared_done)(std::move(st)); },
      [shared_done, enqueue_failed, spans](absl::Status s) {
        if (!s.ok()) {
          enqueue_failed->Increment(spans);
          (*shared_done)(std::move(s));
        }
      });
}

}  // namespace strand::pipeline
