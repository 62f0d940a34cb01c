// RequestPool: pre-encoded OTLP request bodies that the senders turn into an endless
// stream of distinct requests at the cost of a copy and a few thousand small rewrites.
//
// Request number `sequence` (0, 1, 2, ... across all workers of a run) is pool entry
// `sequence % size()` with its IDs shifted by a function of `sequence` and the run's salt
// (see patch_sites.h) and its timestamps moved to the time it is sent. Trace IDs are
// distinct across the whole run: the pool checks that the high 8 bytes of its trace IDs
// are all different, and the low 8 bytes are XORed with a value that is a bijection of
// the sequence number. Immutable after Build; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "loadgen/patch_sites.h"
#include "testdata/trace_generator.h"

namespace strand::loadgen {

struct RequestPoolOptions {
  testdata::GeneratorOptions generator;
  size_t size = 16;
  BodyFormat format = BodyFormat::kProtobuf;
  uint64_t id_salt = 0;  // runs with different salts send different IDs
};

// The IDs of one trace of one request.
struct SentTrace {
  std::array<uint8_t, 16> trace_id{};
  std::vector<std::array<uint8_t, 8>> span_ids;
};

class RequestPool {
 public:
  struct Entry {
    std::string body;
    PatchSites sites;
    std::vector<SentTrace> traces;  // before shifting
    uint64_t spans = 0;
    uint64_t base_time_unix_nano = 0;  // the generator's start time for this request
  };

  static absl::StatusOr<std::unique_ptr<RequestPool>> Build(const RequestPoolOptions& options);

  size_t size() const { return entries_.size(); }
  const Entry& entry(size_t i) const { return entries_[i]; }
  const Entry& EntryFor(uint64_t sequence) const { return entries_[sequence % size()]; }
  BodyFormat format() const { return options_.format; }
  const RequestPoolOptions& options() const { return options_; }

  // The shift of request `sequence` sent at `now_unix_nano`: its traces start within the
  // second before `now`.
  IdShift ShiftFor(uint64_t sequence, uint64_t now_unix_nano) const;

  // Writes request `sequence` into `out`, which holds EntryFor(sequence).body.size() bytes.
  void Render(uint64_t sequence, uint64_t now_unix_nano, char* out) const;

  // The IDs of trace `t` of request `sequence` as sent.
  SentTrace Sent(uint64_t sequence, size_t t) const;

  // Mean body size over the pool, and spans per request (the same for every entry).
  double mean_body_bytes() const;
  uint64_t spans_per_request() const { return entries_.front().spans; }

 private:
  explicit RequestPool(const RequestPoolOptions& options) : options_(options) {}

  RequestPoolOptions options_;
  std::vector<Entry> entries_;
  uint64_t trace_salt_ = 0;
  uint64_t span_salt_ = 0;
};

}  // namespace strand::loadgen
