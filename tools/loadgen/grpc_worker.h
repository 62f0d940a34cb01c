// GrpcWorker: one OTLP/gRPC connection that keeps up to `inflight` Export calls in flight
// through the generic callback API (raw request bytes, no message classes on the send
// path), paced to its share of the target rate. Run() is called once, from one thread;
// completions arrive on gRPC's threads and are counted under a mutex.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "loadgen/load_config.h"
#include "loadgen/request_pool.h"
#include "loadgen/run_stats.h"
#include "testdata/rng.h"

namespace strand::loadgen {

class GrpcWorker {
 public:
  using Clock = std::chrono::steady_clock;

  // `config`, `pool`, `sequence` (the run's shared request counter) and `live` must
  // outlive this.
  GrpcWorker(const LoadConfig& config, const RequestPool& pool, std::atomic<uint64_t>& sequence,
             LiveCounters& live, int index);

  // Waits until the channel is connected; false if it is not by `deadline`.
  bool Connect(std::chrono::system_clock::time_point deadline);

  // Sends until `stop`, then waits for the calls in flight (cancelling them after the
  // request timeout) and returns what it saw.
  RunStats Run(double requests_per_second, Clock::time_point stop);

 private:
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    Clock::time_point sent_at;
    uint64_t sequence = 0;
  };

  void Start(Call* call);
  void Done(Call* call, const grpc::Status& status);
  bool HasFreeCall() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); }
  bool AllDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return free_.size() == calls_.size(); }

  const LoadConfig& config_;
  const RequestPool& pool_;
  std::atomic<uint64_t>& sequence_;
  LiveCounters& live_;
  const int index_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<std::unique_ptr<Call>> calls_;

  absl::Mutex mu_;
  std::vector<Call*> free_ ABSL_GUARDED_BY(mu_);
  RunStats stats_ ABSL_GUARDED_BY(mu_);
  testdata::Rng rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace strand::loadgen
