#include "pipeline/processor/attributes/attributes_processor.h"

#include <optional>
#include <string>
#include <utility>

#include "pipeline/processor/attributes/attribute_actions.h"
#include "pipeline/processor/attributes/attribute_editor.h"
#include "pipeline/processor/attributes/span_matcher.h"

namespace strand::pipeline {
namespace {

struct AttributesSettings : ComponentSettings {
  bool resources = false;  // edit resource attributes (`resource`), else span attributes
  AttributeActions actions;
  std::optional<SpanMatcher> include;
  std::optional<SpanMatcher> exclude;
};

class AttributesProcessor : public Processor {
 public:
  AttributesProcessor(const AttributesSettings& settings, TracesConsumer& next)
      : settings_(settings), next_(next) {}

  absl::Status Admit(const RequestContext& ctx) override { return next_.Admit(ctx); }

  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    AttributeEditor editor(batch);
    auto edit = [&](otlp::Range& attributes) {
      editor.Load(attributes);
      settings_.actions.Apply(editor, ctx);
      attributes = editor.Store();
    };
    if (settings_.resources) {
      for (otlp::Resource& resource : batch.resources) edit(resource.attributes);
    } else {
      for (otlp::Span& span : batch.spans) {
        if (settings_.include && !settings_.include->Matches(batch, span)) continue;
        if (settings_.exclude && settings_.exclude->Matches(batch, span)) continue;
        edit(span.attributes);
      }
    }
    next_.Consume(std::move(ctx), std::move(batch), std::move(done));
  }

 private:
  const AttributesSettings settings_;
  TracesConsumer& next_;
};

class AttributesProcessorFactory : public ProcessorFactory {
 public:
  explicit AttributesProcessorFactory(bool resources) : resources_(resources) {}

  std::string_view type() const override { return resources_ ? "resource" : "attributes"; }

  std::unique_ptr<ComponentSettings> Parse(ConfigMap& map) const override {
    auto settings = std::make_unique<AttributesSettings>();
    settings->resources = resources_;
    const std::string list = resources_ ? "attributes" : "actions";
    settings->actions = AttributeActions::Parse(map, list);
    if (!resources_) {
      for (auto [key, out] :
           {std::pair{"include", &settings->include}, std::pair{"exclude", &settings->exclude}}) {
        if (!map.Has(key)) {
          map.Ignore(key);
          continue;
        }
        ConfigMap sub = map.Sub(key);
        *out = SpanMatcher::Parse(sub);
        if (!sub.Finish().ok()) return nullptr;
      }
    }
    if (!map.status().ok()) return nullptr;
    if (settings->actions.empty()) {
      map.Fail(list, "missing required field (at least one action)");
      return nullptr;
    }
    return settings;
  }

  absl::StatusOr<std::unique_ptr<Processor>> Create(const ComponentSettings& settings,
                                                    const BuildContext& /*ctx*/,
                                                    TracesConsumer& next) const override {
    return std::make_unique<AttributesProcessor>(static_cast<const AttributesSettings&>(settings),
                                                 next);
  }

 private:
  const bool resources_;
};

}  // namespace

std::unique_ptr<ProcessorFactory> NewAttributesProcessorFactory() {
  return std::make_unique<AttributesProcessorFactory>(false);
}

std::unique_ptr<ProcessorFactory> NewResourceProcessorFactory() {
  return std::make_unique<AttributesProcessorFactory>(true);
}

}  // namespace strand::pipeline
