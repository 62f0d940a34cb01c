#include "loadgen/grpc_worker.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "loadgen/pacer.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::loadgen {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN_CODE";
}

absl::Time ToAbslDeadline(GrpcWorker::Clock::time_point t) {
  return absl::Now() + absl::FromChrono(t - GrpcWorker::Clock::now());
}

}  // namespace

GrpcWorker::GrpcWorker(const LoadConfig& config, const RequestPool& pool,
                       std::atomic<uint64_t>& sequence, LiveCounters& live, int index)
    : config_(config),
      pool_(pool),
      sequence_(sequence),
      live_(live),
      index_(index),
      rng_(testdata::Mix64(config.generator.seed ^ (0x3000ULL + static_cast<uint64_t>(index)))) {
  grpc::ChannelArguments args;
  // A connection of its own per worker, rather than one shared subchannel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("strand.loadgen.worker", index);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(16 << 20);
  if (config.gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  channel_ = grpc::CreateCustomChannel(config.endpoint, grpc::InsecureChannelCredentials(), args);
  stub_ = std::make_unique<grpc::GenericStub>(channel_);
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < std::max(1, config.inflight); ++i) {
    calls_.push_back(std::make_unique<Call>());
    free_.push_back(calls_.back().get());
  }
}

bool GrpcWorker::Connect(std::chrono::system_clock::time_point deadline) {
  return channel_->WaitForConnected(deadline);
}

RunStats GrpcWorker::Run(double requests_per_second, Clock::time_point stop) {
  Pacer pacer(requests_per_second, Clock::now());
  while (true) {
    Clock::time_point now = Clock::now();
    if (now >= stop) break;
    if (!pacer.Due(now)) {
      std::this_thread::sleep_until(std::min(pacer.next(), stop));
      continue;
    }
    Call* call = nullptr;
    {
      mu_.Lock();
      if (mu_.AwaitWithDeadline(absl::Condition(this, &GrpcWorker::HasFreeCall),
                                ToAbslDeadline(stop))) {
        call = free_.back();
        free_.pop_back();
      }
      mu_.Unlock();
    }
    if (call == nullptr) break;  // stop reached while every call was in flight
    pacer.Sent(Clock::now());
    Start(call);
  }

  // Drain: every call has a deadline, so this ends; cancel as a second line of defence.
  mu_.Lock();
  const auto drain_until = stop + config_.timeout + std::chrono::seconds(5);
  if (!mu_.AwaitWithDeadline(absl::Condition(this, &GrpcWorker::AllDone),
                             ToAbslDeadline(drain_until))) {
    for (auto& c : calls_) {
      if (c->context) c->context->TryCancel();
    }
    mu_.Await(absl::Condition(this, &GrpcWorker::AllDone));
  }
  RunStats out = std::move(stats_);
  mu_.Unlock();
  return out;
}

void GrpcWorker::Start(Call* call) {
  call->sequence = sequence_.fetch_add(1, std::memory_order_relaxed);
  const RequestPool::Entry& entry = pool_.EntryFor(call->sequence);
  grpc::Slice slice(entry.body.size());
  // A fresh slice is ours to fill: its bytes are not shared until the buffer is sent.
  pool_.Render(call->sequence, static_cast<uint64_t>(strand::Clock::Real()->NowUnixNanos()),
               reinterpret_cast<char*>(const_cast<uint8_t*>(slice.begin())));
  call->request = grpc::ByteBuffer(&slice, 1);
  call->response.Clear();
  call->context = std::make_unique<grpc::ClientContext>();
  call->context->set_deadline(std::chrono::system_clock::now() + config_.timeout);
  for (const auto& [key, value] : config_.headers) {
    call->context->AddMetadata(absl::AsciiStrToLower(key), value);
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.requests_sent;
    stats_.spans_sent += entry.spans;
    stats_.body_bytes += entry.body.size();
    stats_.wire_bytes += entry.body.size();
  }
  call->sent_at = Clock::now();
  stub_->UnaryCall(call->context.get(), kExportMethod, grpc::StubOptions(), &call->request,
                   &call->response, [this, call](grpc::Status status) { Done(call, status); });
}

void GrpcWorker::Done(Call* call, const grpc::Status& status) {
  const int64_t latency =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - call->sent_at).count();
  const uint64_t spans = pool_.EntryFor(call->sequence).spans;
  uint64_t rejected = 0;
  if (status.ok() && call->response.Length() > 0) {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (call->response.Dump(&slices).ok()) {
      for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
    if (response.ParseFromString(bytes) && response.has_partial_success()) {
      rejected =
          static_cast<uint64_t>(std::max<int64_t>(0, response.partial_success().rejected_spans()));
    }
  }
  absl::MutexLock lock(&mu_);
  stats_.latency.Record(latency);
  if (status.ok()) {
    ++stats_.requests_ok;
    rejected = std::min(rejected, spans);
    stats_.spans_rejected += rejected;
    stats_.spans_acked += spans - rejected;
    live_.spans_acked.fetch_add(spans - rejected, std::memory_order_relaxed);
    stats_.SampleAck(call->sequence, static_cast<size_t>(std::max(0, config_.verify_sample)), rng_);
  } else {
    stats_.RecordFailure(CodeName(status.error_code()), status.error_message(), spans);
    live_.requests_failed.fetch_add(1, std::memory_order_relaxed);
  }
  free_.push_back(call);
}

}  // namespace strand::loadgen
