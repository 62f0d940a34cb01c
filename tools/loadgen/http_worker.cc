#include "loadgen/http_worker.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "loadgen/pacer.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::loadgen {
namespace {

// rejected_spans of an OTLP/JSON ExportTraceServiceResponse (a string or a number).
uint64_t JsonRejectedSpans(std::string_view body) {
  size_t at = body.find("\"rejectedSpans\"");
  if (at == std::string_view::npos) at = body.find("\"rejected_spans\"");
  if (at == std::string_view::npos) return 0;
  at = body.find(':', at);
  if (at == std::string_view::npos) return 0;
  ++at;
  while (at < body.size() && (body[at] == ' ' || body[at] == '"')) ++at;
  size_t end = at;
  while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
  uint64_t n = 0;
  if (!absl::SimpleAtoi(absl::string_view(body.data() + at, end - at), &n)) return 0;
  return n;
}

}  // namespace

HttpWorker::HttpWorker(const LoadConfig& config, const RequestPool& pool,
                       std::atomic<uint64_t>& sequence, LiveCounters& live, int index)
    : config_(config),
      pool_(pool),
      sequence_(sequence),
      live_(live),
      json_(config.protocol == Protocol::kHttpJson),
      rng_(testdata::Mix64(config.generator.seed ^ (0x4000ULL + static_cast<uint64_t>(index)))) {}

HttpWorker::~HttpWorker() {
  for (auto& t : transfers_) {
    if (t->easy == nullptr) continue;
    if (t->busy && multi_ != nullptr) curl_multi_remove_handle(multi_, t->easy);
    curl_easy_cleanup(t->easy);
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (headers_ != nullptr) curl_slist_free_all(headers_);
}

size_t HttpWorker::OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->response.size() < (1 << 20)) t->response.append(data, size * n);
  return size * n;
}

absl::Status HttpWorker::Setup() {
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  const long inflight = std::max(1, config_.inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, inflight);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, inflight);
  url_ = absl::StrCat("http://", config_.endpoint, "/v1/traces");
  headers_ = curl_slist_append(
      headers_, json_ ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
  headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
  if (config_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
  for (const auto& [key, value] : config_.headers) {
    headers_ = curl_slist_append(headers_, absl::StrCat(key, ": ", value).c_str());
  }
  for (long i = 0; i < inflight; ++i) {
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    if (t->easy == nullptr) return absl::InternalError("curl_easy_init failed");
    curl_easy_setopt(t->easy, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(t->easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(
        t->easy, CURLOPT_TIMEOUT_MS,
        static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(config_.timeout).count()));
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, &HttpWorker::OnData);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
    transfers_.push_back(std::move(t));
  }
  return absl::OkStatus();
}

absl::Status HttpWorker::Start(Transfer& t) {
  t.sequence = sequence_.fetch_add(1, std::memory_order_relaxed);
  const RequestPool::Entry& entry = pool_.EntryFor(t.sequence);
  t.body.resize(entry.body.size());
  pool_.Render(t.sequence, static_cast<uint64_t>(strand::Clock::Real()->NowUnixNanos()),
               t.body.data());
  const std::string* wire = &t.body;
  if (config_.gzip) {
    absl::Status s = gzip_.Compress(t.body, t.wire);
    if (!s.ok()) return s;
    wire = &t.wire;
  }
  t.response.clear();
  t.error[0] = '\0';
  curl_easy_setopt(t.easy, CURLOPT_POSTFIELDS, wire->data());
  curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(wire->size()));
  ++stats_.requests_sent;
  stats_.spans_sent += entry.spans;
  stats_.body_bytes += entry.body.size();
  stats_.wire_bytes += wire->size();
  t.sent_at = Clock::now();
  t.busy = true;
  if (CURLMcode rc = curl_multi_add_handle(multi_, t.easy); rc != CURLM_OK) {
    t.busy = false;
    return absl::InternalError(absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(rc)));
  }
  return absl::OkStatus();
}

void HttpWorker::Finish(Transfer& t, CURLcode result) {
  const int64_t latency =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t.sent_at).count();
  curl_multi_remove_handle(multi_, t.easy);
  t.busy = false;
  const uint64_t spans = pool_.EntryFor(t.sequence).spans;
  stats_.latency.Record(latency);
  if (result != CURLE_OK) {
    stats_.RecordFailure(absl::StrCat("curl: ", curl_easy_strerror(result)),
                         t.error[0] != '\0' ? std::string(t.error) : std::string(), spans);
    live_.requests_failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  long code = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    stats_.RecordFailure(absl::StrCat("http ", code), t.response.substr(0, 300), spans);
    live_.requests_failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  uint64_t rejected = 0;
  if (!t.response.empty()) {
    if (json_) {
      rejected = JsonRejectedSpans(t.response);
    } else {
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
      if (response.ParseFromString(t.response) && response.has_partial_success()) {
        rejected = static_cast<uint64_t>(
            std::max<int64_t>(0, response.partial_success().rejected_spans()));
      }
    }
  }
  rejected = std::min(rejected, spans);
  ++stats_.requests_ok;
  stats_.spans_rejected += rejected;
  stats_.spans_acked += spans - rejected;
  live_.spans_acked.fetch_add(spans - rejected, std::memory_order_relaxed);
  stats_.SampleAck(t.sequence, static_cast<size_t>(std::max(0, config_.verify_sample)), rng_);
}

absl::StatusOr<RunStats> HttpWorker::Run(double requests_per_second, Clock::time_point stop) {
  if (absl::Status s = Setup(); !s.ok()) return s;
  Pacer pacer(requests_per_second, Clock::now());
  const Clock::time_point drain_until = stop + config_.timeout + std::chrono::seconds(5);
  size_t busy = 0;
  while (true) {
    Clock::time_point now = Clock::now();
    const bool sending = now < stop;
    if (sending) {
      for (auto& t : transfers_) {
        if (t->busy || !pacer.Due(now)) continue;
        if (absl::Status s = Start(*t); !s.ok()) return s;
        pacer.Sent(now);
        ++busy;
      }
    } else if (busy == 0 || now >= drain_until) {
      break;
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      if (t == nullptr) continue;
      Finish(*t, msg->data.result);
      --busy;
    }
    // Sleep until a socket is ready, the next request is due, or sending stops.
    now = Clock::now();
    auto wait = std::chrono::milliseconds(100);
    const bool have_free = busy < transfers_.size();
    if (now < stop && have_free) {
      const auto until = std::min(pacer.throttled() ? pacer.next() : now, stop);
      wait = std::min<std::chrono::milliseconds>(
          wait, std::chrono::ceil<std::chrono::milliseconds>(
                    std::max(until - now, Clock::duration::zero())));
    }
    if (wait.count() > 0 || busy > 0) {
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait.count()), nullptr);
    }
  }
  for (auto& t : transfers_) {
    if (t->busy) {
      curl_multi_remove_handle(multi_, t->easy);
      t->busy = false;
      stats_.latency.Record(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t->sent_at).count());
      stats_.RecordFailure("abandoned", "no answer by the end of the drain",
                           pool_.EntryFor(t->sequence).spans);
    }
  }
  return std::move(stats_);
}

}  // namespace strand::loadgen
