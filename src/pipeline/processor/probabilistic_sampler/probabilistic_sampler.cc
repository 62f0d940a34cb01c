#include "pipeline/processor/probabilistic_sampler/probabilistic_sampler.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace strand::pipeline {

namespace {

constexpr uint32_t kHashBuckets = 0x4000;  // 14 bits, as otelcol
constexpr float kPercentScale = static_cast<float>(kHashBuckets / 100.0);

struct SamplerSettings : ComponentSettings {
  double percentage = 0;
  uint32_t seed = 0;
};

enum class Priority { kDefer, kKeep, kDrop };

Priority SpanPriority(const otlp::SpanBatch& batch, const otlp::Span& span) {
  for (uint32_t i = span.attributes.begin; i < span.attributes.end; ++i) {
    const otlp::KeyValue& kv = batch.attributes[i];
    if (kv.key != "sampling.priority") continue;
    double p = 0;
    switch (kv.value.type) {
      case otlp::ValueType::kInt:
        p = static_cast<double>(kv.value.int_value);
        break;
      case otlp::ValueType::kDouble:
        p = kv.value.double_value;
        break;
      case otlp::ValueType::kString:
        if (!absl::SimpleAtod(std::string(kv.value.str), &p)) return Priority::kDefer;
        break;
      default:
        return Priority::kDefer;
    }
    if (p == 0) return Priority::kDrop;
    return p > 0 ? Priority::kKeep : Priority::kDefer;
  }
  return Priority::kDefer;
}

class ProbabilisticSampler : public Processor {
 public:
  ProbabilisticSampler(const SamplerSettings& settings, const BuildContext& ctx,
                       TracesConsumer& next)
      : seed_(settings.seed), next_(next) {
    const float pct = static_cast<float>(std::min(settings.percentage, 100.0));
    // As otelcol: the product in float32, truncated.
    threshold_ = static_cast<uint32_t>(pct * kPercentScale);
    if (ctx.metrics != nullptr) {
      dropped_ = ctx.metrics
                     ->AddCounter("strand_processor_sampler_dropped_spans_total",
                                  "Spans dropped by a probabilistic sampler.", {"processor"})
                     ->With({ctx.id.ToString()});
    }
  }

  absl::Status Admit(const RequestContext& ctx) override { return next_.Admit(ctx); }

  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    const size_t before = batch.spans.size();
    std::erase_if(batch.spans, [&](const otlp::Span& span) { return !Keep(batch, span); });
    const size_t dropped = before - batch.spans.size();
    if (dropped > 0) {
      if (dropped_ != nullptr) dropped_->Increment(dropped);
      batch.set_original_is_request(false);
    }
    if (batch.spans.empty()) {
      done(absl::OkStatus());
      return;
    }
    next_.Consume(std::move(ctx), std::move(batch), std::move(done));
  }

 private:
  bool Keep(const otlp::SpanBatch& batch, const otlp::Span& span) const {
    switch (SpanPriority(batch, span)) {
      case Priority::kKeep:
        return true;
      case Priority::kDrop:
        return false;
      case Priority::kDefer:
        break;
    }
    return TraceIdHashBucket(span.trace_id, seed_) < threshold_;
  }

  const uint32_t seed_;
  uint32_t threshold_ = 0;
  TracesConsumer& next_;
  Counter* dropped_ = nullptr;
};

class ProbabilisticSamplerFactory : public ProcessorFactory {
 public:
  std::string_view type() const override { return "probabilistic_sampler"; }

  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto settings = std::make_unique<SamplerSettings>();
    uint64_t seed = 0;
    std::string mode;
    map.Read("sampling_percentage", settings->percentage);
    map.Read("hash_seed", seed);
    map.Read("mode", mode);
    map.Unsupported("fail_closed", "Strand's hash_seed mode never fails a span");
    map.Unsupported("sampling_precision", "Strand does not write sampling thresholds");
    for (const char* key : {"attribute_source", "from_attribute", "sampling_priority"}) {
      map.Unsupported(key, "a logs-only setting; Strand samples traces");
    }
    if (!map.status().ok()) return nullptr;
    const double pct = settings->percentage;
    if (!std::isfinite(pct)) {
      map.Fail("sampling_percentage", "must be a finite number");
    } else if (pct < 0) {
      map.Fail("sampling_percentage", "must not be negative");
    } else if (pct > 0 && pct / 100 < std::ldexp(1.0, -56)) {
      map.Fail("sampling_percentage", "is too small (the least is 2^-56 of 100)");
    } else if (seed > std::numeric_limits<uint32_t>::max()) {
      map.Fail("hash_seed", "must fit in 32 bits");
    } else if (mode == "proportional" || mode == "equalizing") {
      map.Fail("mode", absl::StrCat("not supported: \"", mode, "\" (only hash_seed)"));
    } else if (!mode.empty() && mode != "hash_seed") {
      map.Fail("mode", absl::StrCat("invalid value \"", mode, "\" (want hash_seed)"));
    }
    if (!map.status().ok()) return nullptr;
    settings->seed = static_cast<uint32_t>(seed);
    return settings;
  }

  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& ctx,
                                                    TracesConsumer& next) const override {
    return std::make_unique<ProbabilisticSampler>(static_cast<const SamplerSettings&>(settings),
                                                  ctx, next);
  }
};

}  // namespace

uint32_t TraceIdHashBucket(const otlp::TraceId& trace_id, uint32_t seed) {
  constexpr uint32_t kOffset = 2166136261u;
  constexpr uint32_t kPrime = 16777619u;
  uint32_t h = kOffset;
  auto mix = [&](uint8_t byte) { h = (h ^ byte) * kPrime; };
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(seed >> (8 * i)));
  for (uint8_t byte : trace_id) mix(byte);
  return h & (kHashBuckets - 1);
}

std::unique_ptr<ProcessorFactory> NewProbabilisticSamplerFactory() {
  return std::make_unique<ProbabilisticSamplerFactory>();
}

}  // namespace strand::pipeline
