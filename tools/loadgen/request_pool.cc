#include "loadgen/request_pool.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "otlp/json_encoder.h"
#include "testdata/rng.h"

namespace strand::loadgen {

absl::StatusOr<std::unique_ptr<RequestPool>> RequestPool::Build(const RequestPoolOptions& options) {
  if (options.size == 0) return absl::InvalidArgumentError("the request pool needs entries");
  std::unique_ptr<RequestPool> pool(new RequestPool(options));
  pool->trace_salt_ = testdata::Mix64(options.id_salt ^ 0x7261636574726163ULL);
  pool->span_salt_ = testdata::Mix64(options.id_salt ^ 0x7370616e7370616eULL);
  testdata::TraceGenerator generator(options.generator);
  absl::flat_hash_set<uint64_t> trace_prefixes;
  pool->entries_.reserve(options.size);
  for (size_t i = 0; i < options.size; ++i) {
    const auto request = generator.Generate(i);
    Entry entry;
    entry.base_time_unix_nano = options.generator.base_time_unix_nano + i * 100'000'000ULL;
    std::string proto = request.SerializeAsString();
    auto proto_sites = FindProtoPatchSites(proto);
    if (!proto_sites.ok()) return proto_sites.status();
    if (options.format == BodyFormat::kProtobuf) {
      entry.body = std::move(proto);
      entry.sites = std::move(*proto_sites);
    } else {
      entry.body = otlp::WriteOtlpJson(request, &entry.sites);
      if (entry.sites.trace_ids.size() != proto_sites->trace_ids.size() ||
          entry.sites.span_ids.size() != proto_sites->span_ids.size() ||
          entry.sites.times.size() != proto_sites->times.size()) {
        return absl::InternalError(
            "OTLP/JSON body has IDs or timestamps that cannot be rewritten in place "
            "(timestamps must have 19 digits)");
      }
    }
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          ++entry.spans;
          SentTrace* trace = nullptr;
          for (SentTrace& t : entry.traces) {
            if (std::memcmp(t.trace_id.data(), span.trace_id().data(), 16) == 0) trace = &t;
          }
          if (trace == nullptr) {
            trace = &entry.traces.emplace_back();
            std::memcpy(trace->trace_id.data(), span.trace_id().data(), 16);
            uint64_t prefix;
            std::memcpy(&prefix, trace->trace_id.data(), 8);
            if (!trace_prefixes.insert(prefix).second) {
              return absl::InternalError(
                  "two generated traces share the high half of their ID; try another --seed");
            }
          }
          std::array<uint8_t, 8> span_id;
          std::memcpy(span_id.data(), span.span_id().data(), 8);
          trace->span_ids.push_back(span_id);
        }
      }
    }
    if (!pool->entries_.empty() && entry.spans != pool->entries_.front().spans) {
      return absl::InternalError("pool entries differ in span count");
    }
    pool->entries_.push_back(std::move(entry));
  }
  return pool;
}

IdShift RequestPool::ShiftFor(uint64_t sequence, uint64_t now_unix_nano) const {
  IdShift shift;
  shift.trace_xor = testdata::Mix64(trace_salt_ + sequence);
  shift.span_xor = testdata::Mix64(span_salt_ + sequence);
  const uint64_t target = EntryFor(sequence).base_time_unix_nano + 1'000'000'000ULL;
  shift.time_delta = now_unix_nano > target ? now_unix_nano - target : 0;
  return shift;
}

void RequestPool::Render(uint64_t sequence, uint64_t now_unix_nano, char* out) const {
  const Entry& e = EntryFor(sequence);
  std::memcpy(out, e.body.data(), e.body.size());
  ApplyPatches(e.sites, options_.format, ShiftFor(sequence, now_unix_nano), out);
}

SentTrace RequestPool::Sent(uint64_t sequence, size_t t) const {
  const IdShift shift = ShiftFor(sequence, 0);
  SentTrace out = EntryFor(sequence).traces[t];
  ShiftTraceId(shift.trace_xor, out.trace_id.data());
  for (auto& id : out.span_ids) ShiftSpanId(shift.span_xor, id.data());
  return out;
}

double RequestPool::mean_body_bytes() const {
  double total = 0;
  for (const Entry& e : entries_) total += static_cast<double>(e.body.size());
  return total / static_cast<double>(entries_.size());
}

}  // namespace strand::loadgen
