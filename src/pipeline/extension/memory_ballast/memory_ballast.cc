#include "pipeline/extension/memory_ballast/memory_ballast.h"

#include "common/logging.h"

namespace strand::pipeline {
namespace {

struct BallastSettings : ComponentSettings {};

class MemoryBallast : public Extension {
 public:
  explicit MemoryBallast(std::string id) : id_(std::move(id)) {}
  absl::Status Start() override {
    LOG_WARN(
        "{}: the memory_ballast extension is deprecated and removed from the "
        "OpenTelemetry Collector; Strand accepts it and does nothing (remove it, and "
        "size the memory_limiter instead)",
        id_);
    return absl::OkStatus();
  }

 private:
  std::string id_;
};

class MemoryBallastFactory : public ExtensionFactory {
 public:
  std::string_view type() const override { return "memory_ballast"; }
  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    map.Ignore("size_mib");
    map.Ignore("size_in_percentage");
    return std::make_unique<BallastSettings>();
  }
  absl::StatusOr<std::unique_ptr<Extension>> Create(const ComponentSettings& /*settings*/,
                                                    const BuildContext& ctx) const override {
    return std::make_unique<MemoryBallast>(ctx.id.ToString());
  }
};

}  // namespace

std::unique_ptr<ExtensionFactory> NewMemoryBallastFactory() {
  return std::make_unique<MemoryBallastFactory>();
}

}  // namespace strand::pipeline
