#include "pipeline/processor/tail_sampling/sampling_policy.h"

#include <re2/re2.h>

#include <algorithm>
#include <limits>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace strand::pipeline {
namespace {

using otlp::AnyValue;
using otlp::SpanBatch;
using otlp::SpanRef;
using otlp::ValueType;

constexpr int64_t kNanosPerSecond = 1'000'000'000;

bool IsYes(Decision d) { return d == Decision::kSampled || d == Decision::kInvertSampled; }

// The value of the first attribute named `key` in `range` satisfies `pred`.
template <typename Pred>
bool AttributeMatches(const SpanBatch& batch, otlp::Range range, std::string_view key,
                      const Pred& pred) {
  for (uint32_t i = range.begin; i < range.end; ++i) {
    if (batch.attributes[i].key == key) return pred(batch.attributes[i].value);
  }
  return false;
}

// Some span of the trace, or the resource of some span, has attribute `key` satisfying
// `pred`. Each resource is looked at once per run of spans that share it.
template <typename Pred>
bool AnyResourceOrSpanAttribute(const TraceView& trace, std::string_view key, const Pred& pred) {
  const SpanBatch* last_batch = nullptr;
  uint32_t last_resource = std::numeric_limits<uint32_t>::max();
  for (const SpanRef& ref : trace.spans) {
    const SpanBatch& batch = *ref.batch;
    const otlp::Span& span = ref.span();
    const uint32_t resource = batch.scopes[span.scope_index].resource_index;
    if (ref.batch != last_batch || resource != last_resource) {
      last_batch = ref.batch;
      last_resource = resource;
      if (AttributeMatches(batch, batch.resources[resource].attributes, key, pred)) return true;
    }
    if (AttributeMatches(batch, span.attributes, key, pred)) return true;
  }
  return false;
}

// A match turned into a decision; with invert_match a match vetoes the trace.
Decision FromMatch(bool matched, bool invert) {
  if (invert) return matched ? Decision::kInvertNotSampled : Decision::kInvertSampled;
  return matched ? Decision::kSampled : Decision::kNotSampled;
}

class AlwaysSample : public SamplingPolicy {
 public:
  Decision Evaluate(const TraceView&, int64_t) override { return Decision::kSampled; }
};

// Trace duration: earliest start to latest end, in whole milliseconds.
class Latency : public SamplingPolicy {
 public:
  explicit Latency(const PolicyConfig& c) : lower_(c.threshold_ms), upper_(c.upper_threshold_ms) {}
  Decision Evaluate(const TraceView& trace, int64_t) override {
    if (trace.spans.empty()) return Decision::kNotSampled;
    uint64_t start = std::numeric_limits<uint64_t>::max(), end = 0;
    for (const SpanRef& ref : trace.spans) {
      start = std::min(start, ref.span().start_time_unix_nano);
      end = std::max(end, ref.span().end_time_unix_nano);
    }
    const int64_t ms = end > start ? static_cast<int64_t>((end - start) / 1'000'000) : 0;
    const bool hit = upper_ == 0 ? ms >= lower_ : (ms > lower_ && ms <= upper_);
    return hit ? Decision::kSampled : Decision::kNotSampled;
  }

 private:
  int64_t lower_, upper_;
};

class StatusCodeFilter : public SamplingPolicy {
 public:
  explicit StatusCodeFilter(const PolicyConfig& c) : codes_(c.status_codes) {}
  Decision Evaluate(const TraceView& trace, int64_t) override {
    for (const SpanRef& ref : trace.spans) {
      if (std::find(codes_.begin(), codes_.end(), ref.span().status_code) != codes_.end()) {
        return Decision::kSampled;
      }
    }
    return Decision::kNotSampled;
  }

 private:
  std::vector<int32_t> codes_;
};

// Exact values, or regular expressions (RE2, matching anywhere in the value, like Go's
// MatchString). Only string values are compared; empty strings never match.
class StringAttributeFilter : public SamplingPolicy {
 public:
  explicit StringAttributeFilter(const PolicyConfig& c)
      : key_(c.key), invert_(c.invert_match), values_(c.values.begin(), c.values.end()) {
    if (c.enabled_regex_matching) {
      for (const std::string& v : c.values) regexes_.push_back(std::make_unique<RE2>(v));
    }
  }
  bool ok() const {
    return std::all_of(regexes_.begin(), regexes_.end(), [](const auto& r) { return r->ok(); });
  }
  Decision Evaluate(const TraceView& trace, int64_t) override {
    const bool matched = AnyResourceOrSpanAttribute(trace, key_, [&](const AnyValue& v) {
      if (v.type != ValueType::kString || v.str.empty()) return false;
      if (regexes_.empty()) return values_.contains(std::string(v.str));
      const re2::StringPiece text(v.str.data(), v.str.size());
      return std::any_of(regexes_.begin(), regexes_.end(),
                         [&](const auto& re) { return RE2::PartialMatch(text, *re); });
    });
    return FromMatch(matched, invert_);
  }

 private:
  std::string key_;
  bool invert_;
  absl::flat_hash_set<std::string> values_;
  std::vector<std::unique_ptr<RE2>> regexes_;
};

// Integer values in [min, max].
class NumericAttributeFilter : public SamplingPolicy {
 public:
  explicit NumericAttributeFilter(const PolicyConfig& c)
      : key_(c.key), min_(c.min_value), max_(c.max_value), invert_(c.invert_match) {}
  Decision Evaluate(const TraceView& trace, int64_t) override {
    const bool matched = AnyResourceOrSpanAttribute(trace, key_, [&](const AnyValue& v) {
      return v.type == ValueType::kInt && v.int_value >= min_ && v.int_value <= max_;
    });
    return FromMatch(matched, invert_);
  }

 private:
  std::string key_;
  int64_t min_, max_;
  bool invert_;
};

class BooleanAttributeFilter : public SamplingPolicy {
 public:
  explicit BooleanAttributeFilter(const PolicyConfig& c)
      : key_(c.key), value_(c.bool_value), invert_(c.invert_match) {}
  Decision Evaluate(const TraceView& trace, int64_t) override {
    const bool matched = AnyResourceOrSpanAttribute(trace, key_, [&](const AnyValue& v) {
      return v.type == ValueType::kBool && v.bool_value == value_;
    });
    return FromMatch(matched, invert_);
  }

 private:
  std::string key_;
  bool value_;
  bool invert_;
};

class Probabilistic : public SamplingPolicy {
 public:
  explicit Probabilistic(const PolicyConfig& c)
      : salt_(c.hash_salt.empty() ? "default-hash-seed" : c.hash_salt) {
    const long double ratio = c.sampling_percentage / 100.0L;
    threshold_ = ratio >= 1
                     ? std::numeric_limits<uint64_t>::max()
                     : static_cast<uint64_t>(
                           ratio * static_cast<long double>(std::numeric_limits<uint64_t>::max()));
  }
  Decision Evaluate(const TraceView& trace, int64_t) override {
    return ProbabilisticHash(salt_, trace.trace_id) <= threshold_ ? Decision::kSampled
                                                                  : Decision::kNotSampled;
  }

 private:
  std::string salt_;
  uint64_t threshold_;
};

// A token bucket of spans: refills at spans_per_second, holds at most twice that, starts
// full; a trace passes when the bucket holds all its spans.
class RateLimiting : public SamplingPolicy {
 public:
  explicit RateLimiting(const PolicyConfig& c)
      : rate_(static_cast<double>(c.spans_per_second)), capacity_(2 * rate_), tokens_(capacity_) {}
  Decision Evaluate(const TraceView& trace, int64_t now_nanos) override {
    if (last_nanos_ != kNever) {
      const double elapsed = static_cast<double>(now_nanos - last_nanos_) / kNanosPerSecond;
      tokens_ = std::min(capacity_, tokens_ + std::max(0.0, elapsed) * rate_);
    }
    last_nanos_ = now_nanos;
    const double need = static_cast<double>(trace.spans.size());
    if (need > tokens_) return Decision::kNotSampled;
    tokens_ -= need;
    return Decision::kSampled;
  }

 private:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  double rate_, capacity_, tokens_;
  int64_t last_nanos_ = kNever;
};

class SpanCount : public SamplingPolicy {
 public:
  explicit SpanCount(const PolicyConfig& c) : min_(c.min_spans), max_(c.max_spans) {}
  Decision Evaluate(const TraceView& trace, int64_t) override {
    const int64_t n = static_cast<int64_t>(trace.spans.size());
    return n >= min_ && (max_ == 0 || n <= max_) ? Decision::kSampled : Decision::kNotSampled;
  }

 private:
  int64_t min_, max_;
};

// and: every sub-policy says yes → kSampled. drop: the same test → kDropped.
class AllOf : public SamplingPolicy {
 public:
  AllOf(std::vector<std::unique_ptr<SamplingPolicy>> subs, Decision on_all)
      : subs_(std::move(subs)), on_all_(on_all) {}
  Decision Evaluate(const TraceView& trace, int64_t now_nanos) override {
    for (auto& sub : subs_) {
      if (!IsYes(sub->Evaluate(trace, now_nanos))) return Decision::kNotSampled;
    }
    return on_all_;
  }

 private:
  std::vector<std::unique_ptr<SamplingPolicy>> subs_;
  Decision on_all_;
};

// Sub-policies in policy_order (then the unlisted ones in list order); the first that says
// yes decides, within its spans-per-second allocation and the total, per clock second.
class Composite : public SamplingPolicy {
 public:
  struct Sub {
    std::unique_ptr<SamplingPolicy> policy;
    int64_t allocated = 0;
    int64_t used = 0;
  };
  Composite(std::vector<Sub> subs, int64_t max_total)
      : subs_(std::move(subs)), max_total_(max_total) {}
  Decision Evaluate(const TraceView& trace, int64_t now_nanos) override {
    const int64_t second = now_nanos / kNanosPerSecond;
    if (second != second_) {
      second_ = second;
      total_ = 0;
      for (Sub& s : subs_) s.used = 0;
    }
    const int64_t n = static_cast<int64_t>(trace.spans.size());
    for (Sub& s : subs_) {
      if (!IsYes(s.policy->Evaluate(trace, now_nanos))) continue;
      if (s.used + n > s.allocated || total_ + n > max_total_) return Decision::kNotSampled;
      s.used += n;
      total_ += n;
      return Decision::kSampled;
    }
    return Decision::kNotSampled;
  }

 private:
  std::vector<Sub> subs_;
  int64_t max_total_;
  int64_t second_ = std::numeric_limits<int64_t>::min();
  int64_t total_ = 0;
};

absl::StatusOr<std::vector<std::unique_ptr<SamplingPolicy>>> BuildAll(
    const std::vector<PolicyConfig>& configs) {
  std::vector<std::unique_ptr<SamplingPolicy>> out;
  for (const PolicyConfig& c : configs) {
    auto p = BuildSamplingPolicy(c);
    if (!p.ok()) return p.status();
    out.push_back(*std::move(p));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SamplingPolicy>> BuildComposite(const PolicyConfig& c) {
  auto built = BuildAll(c.sub_policies);
  if (!built.ok()) return built.status();
  const int64_t max_total = c.max_total_spans_per_second;
  const int64_t even_share = max_total / static_cast<int64_t>(c.sub_policies.size());
  // Explicit allocations first; sub-policies without one share what is left.
  std::vector<int64_t> allocated(c.sub_policies.size(), -1);
  int64_t explicit_total = 0;
  for (const auto& [name, percent] : c.rate_allocation) {
    for (size_t i = 0; i < c.sub_policies.size(); ++i) {
      if (c.sub_policies[i].name != name) continue;
      allocated[i] = percent > 0 ? max_total * percent / 100 : even_share;
      explicit_total += allocated[i];
    }
  }
  const int64_t remainder = std::max<int64_t>(0, max_total - explicit_total);
  std::vector<size_t> order;
  for (const std::string& name : c.policy_order) {
    for (size_t i = 0; i < c.sub_policies.size(); ++i) {
      if (c.sub_policies[i].name == name &&
          std::find(order.begin(), order.end(), i) == order.end()) {
        order.push_back(i);
      }
    }
  }
  for (size_t i = 0; i < c.sub_policies.size(); ++i) {
    if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  }
  std::vector<Composite::Sub> subs;
  for (size_t i : order) {
    subs.push_back({std::move((*built)[i]), allocated[i] >= 0 ? allocated[i] : remainder});
  }
  return std::make_unique<Composite>(std::move(subs), max_total);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SamplingPolicy>> BuildSamplingPolicy(const PolicyConfig& c) {
  switch (c.type) {
    case PolicyType::kAlwaysSample:
      return std::make_unique<AlwaysSample>();
    case PolicyType::kLatency:
      return std::make_unique<Latency>(c);
    case PolicyType::kStatusCode:
      return std::make_unique<StatusCodeFilter>(c);
    case PolicyType::kStringAttribute: {
      auto p = std::make_unique<StringAttributeFilter>(c);
      if (!p->ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("policy \"", c.name, "\": invalid regular expression"));
      }
      return p;
    }
    case PolicyType::kNumericAttribute:
      return std::make_unique<NumericAttributeFilter>(c);
    case PolicyType::kBooleanAttribute:
      return std::make_unique<BooleanAttributeFilter>(c);
    case PolicyType::kProbabilistic:
      return std::make_unique<Probabilistic>(c);
    case PolicyType::kRateLimiting:
      return std::make_unique<RateLimiting>(c);
    case PolicyType::kSpanCount:
      return std::make_unique<SpanCount>(c);
    case PolicyType::kAnd:
    case PolicyType::kDrop: {
      auto subs = BuildAll(c.sub_policies);
      if (!subs.ok()) return subs.status();
      return std::make_unique<AllOf>(
          *std::move(subs), c.type == PolicyType::kAnd ? Decision::kSampled : Decision::kDropped);
    }
    case PolicyType::kComposite:
      return BuildComposite(c);
  }
  return absl::InternalError("unknown policy type");
}

bool CombineDecisions(std::span<const Decision> decisions) {
  auto has = [&](Decision d) {
    return std::find(decisions.begin(), decisions.end(), d) != decisions.end();
  };
  if (has(Decision::kDropped) || has(Decision::kInvertNotSampled)) return false;
  if (has(Decision::kSampled)) return true;
  return has(Decision::kInvertSampled) && !has(Decision::kNotSampled);
}

uint64_t ProbabilisticHash(std::string_view salt, const otlp::TraceId& id) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&](uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  for (char c : salt) mix(static_cast<uint8_t>(c));
  for (uint8_t b : id) mix(b);
  return h;
}

}  // namespace strand::pipeline
