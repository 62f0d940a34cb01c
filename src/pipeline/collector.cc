#include "pipeline/collector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "pipeline/extension/auth/auth_extensions.h"
#include "pipeline/extension/file_storage/file_storage.h"
#include "pipeline/fanout.h"
#include "pipeline/queue/queued_exporter.h"

namespace strand::pipeline {

namespace {

// Counts what enters a pipeline and how it was answered.
class PipelineProbe : public TracesConsumer {
 public:
  PipelineProbe(TracesConsumer& next, MetricsRegistry& metrics, const std::string& pipeline)
      : next_(next) {
    auto* family = metrics.AddCounter("strand_pipeline_spans_total",
                                      "Spans that entered a pipeline, by how they were answered "
                                      "(accepted or refused).",
                                      {"pipeline", "outcome"});
    accepted_ = family->With({pipeline, "accepted"});
    refused_ = family->With({pipeline, "refused"});
  }
  absl::Status Admit(const RequestContext& ctx) override { return next_.Admit(ctx); }
  void Consume(RequestContext&& ctx, otlp::SpanBatch&& batch, ConsumeDone done) override {
    const uint64_t n = batch.spans.size();
    next_.Consume(std::move(ctx), std::move(batch),
                  [this, n, done = std::move(done)](absl::Status s) {
                    (s.ok() ? accepted_ : refused_)->Increment(n);
                    done(std::move(s));
                  });
  }
  uint64_t accepted() const { return accepted_->Value(); }
  uint64_t refused() const { return refused_->Value(); }

 private:
  TracesConsumer& next_;
  Counter* accepted_;
  Counter* refused_;
};

}  // namespace

struct Collector::PipelineRuntime {
  const PipelineConfig* config = nullptr;
  std::unique_ptr<TracesConsumer> exporters;           // fan-out over the pipeline's exporters
  std::vector<std::unique_ptr<Processor>> processors;  // first to last
  std::unique_ptr<PipelineProbe> head;
};

absl::StatusOr<std::unique_ptr<Collector>> Collector::Start(
    std::shared_ptr<const CollectorConfig> config, CollectorOptions options) {
  std::unique_ptr<Collector> c(new Collector());
  c->config_ = std::move(config);
  if (absl::Status s = c->Build(options); !s.ok()) {
    c->Shutdown();
    return s;
  }
  return c;
}

Collector::~Collector() { Shutdown(); }

BuildContext Collector::ContextFor(const ComponentId& id, const std::string& pipeline) const {
  BuildContext ctx;
  ctx.id = id;
  ctx.pipeline = pipeline;
  ctx.metrics = options_.metrics;
  ctx.clock = options_.clock;
  ctx.env = options_.env;
  ctx.store = options_.store;
  ctx.overrides = options_.overrides;
  ctx.multitenancy = options_.multitenancy;
  ctx.memory = options_.memory;
  ctx.find_storage = [this](const ComponentId& storage) -> FileStorage* {
    for (const auto& [eid, ext] : extensions_) {
      if (eid == storage) return dynamic_cast<FileStorage*>(ext.get());
    }
    return nullptr;
  };
  ctx.find_server_authenticator = [this](const ComponentId& auth_id) {
    return FindServerAuthenticator(auth_id);
  };
  ctx.find_client_authenticator =
      [this](const ComponentId& auth_id) -> std::shared_ptr<const auth::ClientAuthenticator> {
    const auto* ext = dynamic_cast<const AuthExtension*>(FindExtension(auth_id));
    return ext != nullptr ? ext->client() : nullptr;
  };
  ctx.pipelines_ready = [this] { return ready(); };
  ctx.describe_pipelines = [this] { return DescribePipelines(); };
  return ctx;
}

absl::Status Collector::Build(CollectorOptions options) {
  options_ = options;
  auto named = [](ComponentKind kind, const ComponentId& id, const absl::Status& s) {
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat(KindName(kind), "::", id.ToString(), ": ",
                                               std::string(s.message())));
  };
  for (const ComponentId& id : config_->service_extensions) {
    const ComponentConfig& cc = config_->extensions.at(id);
    auto ext =
        static_cast<const ExtensionFactory*>(cc.factory)->Create(*cc.settings, ContextFor(id, ""));
    if (!ext.ok()) return named(ComponentKind::kExtension, id, ext.status());
    if (absl::Status s = (*ext)->Start(); !s.ok()) {
      return named(ComponentKind::kExtension, id, s);
    }
    extensions_.emplace_back(id, std::move(*ext));
  }
  auto find_exporter = [this](const ComponentId& id) -> Exporter* {
    for (auto& [eid, e] : exporters_) {
      if (eid == id) return e.get();
    }
    return nullptr;
  };
  for (const PipelineConfig& p : config_->pipelines) {
    for (const ComponentId& id : p.exporters) {
      if (find_exporter(id) != nullptr) continue;
      const ComponentConfig& cc = config_->exporters.at(id);
      auto e =
          static_cast<const ExporterFactory*>(cc.factory)->Create(*cc.settings, ContextFor(id, ""));
      if (!e.ok()) return named(ComponentKind::kExporter, id, e.status());
      exporters_.emplace_back(id, std::move(*e));
    }
  }
  for (const PipelineConfig& p : config_->pipelines) {
    auto rt = std::make_unique<PipelineRuntime>();
    rt->config = &p;
    std::vector<TracesConsumer*> outs;
    for (const ComponentId& id : p.exporters) outs.push_back(find_exporter(id));
    rt->exporters = std::make_unique<Fanout>(std::move(outs));
    TracesConsumer* next = rt->exporters.get();
    std::vector<std::unique_ptr<Processor>> reversed;
    for (auto it = p.processors.rbegin(); it != p.processors.rend(); ++it) {
      const ComponentConfig& cc = config_->processors.at(*it);
      auto proc = static_cast<const ProcessorFactory*>(cc.factory)
                      ->Create(*cc.settings, ContextFor(*it, p.id), *next);
      if (!proc.ok()) {
        return absl::Status(
            proc.status().code(),
            absl::StrCat("service::pipelines::", p.id, ": processors::", it->ToString(), ": ",
                         std::string(proc.status().message())));
      }
      next = proc->get();
      reversed.push_back(std::move(*proc));
    }
    rt->processors.assign(std::make_move_iterator(reversed.rbegin()),
                          std::make_move_iterator(reversed.rend()));
    rt->head = std::make_unique<PipelineProbe>(*next, *options_.metrics, p.id);
    pipelines_.push_back(std::move(rt));
  }
  // Receivers: one per ID, feeding every pipeline that lists it.
  std::vector<ComponentId> receiver_ids;
  for (const PipelineConfig& p : config_->pipelines) {
    for (const ComponentId& id : p.receivers) {
      if (std::find(receiver_ids.begin(), receiver_ids.end(), id) == receiver_ids.end()) {
        receiver_ids.push_back(id);
      }
    }
  }
  for (const ComponentId& id : receiver_ids) {
    std::vector<TracesConsumer*> heads;
    for (auto& rt : pipelines_) {
      const auto& r = rt->config->receivers;
      if (std::find(r.begin(), r.end(), id) != r.end()) heads.push_back(rt->head.get());
    }
    fanouts_.push_back(std::make_unique<Fanout>(std::move(heads)));
    const ComponentConfig& cc = config_->receivers.at(id);
    auto rcv = static_cast<const ReceiverFactory*>(cc.factory)
                   ->Create(*cc.settings, ContextFor(id, ""), *fanouts_.back());
    if (!rcv.ok()) return named(ComponentKind::kReceiver, id, rcv.status());
    receivers_.emplace_back(id, std::move(*rcv));
  }
  // Start downstream first, so data always has somewhere to go.
  for (auto& [id, e] : exporters_) {
    if (absl::Status s = e->Start(); !s.ok()) return named(ComponentKind::kExporter, id, s);
  }
  for (auto& rt : pipelines_) {
    for (size_t i = rt->processors.size(); i-- > 0;) {
      if (absl::Status s = rt->processors[i]->Start(); !s.ok()) {
        return named(ComponentKind::kProcessor, rt->config->processors[i], s);
      }
    }
  }
  for (auto& [id, r] : receivers_) {
    if (absl::Status s = r->Start(); !s.ok()) return named(ComponentKind::kReceiver, id, s);
  }
  ready_.store(true);
  LOG_INFO("collector: {} pipeline(s) running: {} receiver(s), {} exporter(s), {} extension(s)",
           pipelines_.size(), receivers_.size(), exporters_.size(), extensions_.size());
  return absl::OkStatus();
}

void Collector::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false);
  for (auto& [id, r] : receivers_) r->Shutdown();
  for (auto& rt : pipelines_) {
    for (auto& p : rt->processors) p->Shutdown();
  }
  for (auto& [id, e] : exporters_) e->Shutdown();
  for (auto it = extensions_.rbegin(); it != extensions_.rend(); ++it) it->second->Shutdown();
}

const Extension* Collector::FindExtension(const ComponentId& id) const {
  for (const auto& [eid, ext] : extensions_) {
    if (eid == id) return ext.get();
  }
  return nullptr;
}

std::shared_ptr<const auth::ServerAuthenticator> Collector::FindServerAuthenticator(
    const ComponentId& id) const {
  const auto* ext = dynamic_cast<const AuthExtension*>(FindExtension(id));
  return ext != nullptr ? ext->server() : nullptr;
}

std::vector<int> Collector::ListenerPorts(const std::string& id) const {
  for (const auto& [rid, r] : receivers_) {
    if (rid.ToString() == id) return r->ListenerPorts();
  }
  for (const auto& [eid, e] : extensions_) {
    if (eid.ToString() == id) return e->ListenerPorts();
  }
  return {};
}

std::string Collector::DescribePipelines() const {
  // The lists below are complete and unchanging only while the pipelines run.
  if (!ready()) return "<h1>Pipelines</h1><p>The pipelines are not running.</p>";
  std::string out = "<h1>Pipelines</h1>";
  auto ids = [](const std::vector<ComponentId>& v) {
    std::string s;
    for (const auto& id : v) absl::StrAppend(&s, s.empty() ? "" : ", ", id.ToString());
    return s.empty() ? std::string("&ndash;") : s;
  };
  absl::StrAppend(&out,
                  "<table><tr><th>Pipeline</th><th>Receivers</th><th>Processors</th>"
                  "<th>Exporters</th><th>Spans accepted</th><th>Spans refused</th></tr>");
  for (const auto& rt : pipelines_) {
    absl::StrAppend(&out, "<tr><td>", rt->config->id, "</td><td>", ids(rt->config->receivers),
                    "</td><td>", ids(rt->config->processors), "</td><td>",
                    ids(rt->config->exporters), "</td><td>", rt->head->accepted(), "</td><td>",
                    rt->head->refused(), "</td></tr>");
  }
  absl::StrAppend(&out,
                  "</table><h1>Exporters</h1><table><tr><th>Exporter</th><th>Sent spans</th>"
                  "<th>Failed spans</th><th>Refused (queue full)</th><th>Retries</th>"
                  "<th>Queue</th></tr>");
  for (const auto& [id, e] : exporters_) {
    absl::StrAppend(&out, "<tr><td>", id.ToString(), "</td>");
    if (auto* q = dynamic_cast<const QueuedExporter*>(e.get())) {
      const ExporterStats& s = q->stats();
      absl::StrAppend(&out, "<td>", s.sent_spans->Value(), "</td><td>", s.failed_spans->Value(),
                      "</td><td>", s.enqueue_failed_spans->Value(), "</td><td>", s.retries->Value(),
                      "</td><td>", s.queue_size->Value(), " / ", s.queue_capacity->Value(),
                      "</td></tr>");
    } else {
      absl::StrAppend(&out, "<td colspan=5>writes locally</td></tr>");
    }
  }
  absl::StrAppend(&out, "</table><h1>Extensions</h1><ul>");
  for (const auto& [id, e] : extensions_) absl::StrAppend(&out, "<li>", id.ToString(), "</li>");
  absl::StrAppend(&out, "</ul>");
  return out;
}

}  // namespace strand::pipeline
