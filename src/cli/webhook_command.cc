#include "cli/webhook_command.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "webhook/kube_api_client.h"
#include "webhook/pod_mutator.h"
#include "http/self_signed_cert.h"
#include "webhook/static_cluster_source.h"
#include "webhook/webhook_server.h"

namespace strand::cli {
namespace {

int Fail(const absl::Status& s) {
  LOG_ERROR("{}", std::string(s.message()));
  return 1;
}

}  // namespace

WebhookCommand::WebhookCommand(CLI::App& app) {
  webhook_ = app.add_subcommand("webhook", "Serve the auto-instrumentation admission webhook");
  webhook_->add_option("--listen", listen_, "HTTPS listen address")->capture_default_str();
  webhook_->add_option("--tls-cert", tls_cert_, "PEM certificate (chain)")->required();
  webhook_->add_option("--tls-key", tls_key_, "PEM private key")->required();
  webhook_
      ->add_option("--instrumentation-source", source_,
                   "kube (the API server, in-cluster) or file:DIR (*.json objects)")
      ->capture_default_str();
  certs_ = app.add_subcommand(
      "webhook-certs",
      "Create the webhook's self-signed certificate Secret and set the webhook's caBundle");
  certs_->add_option("--namespace", namespace_, "Namespace of the Service and Secret")
      ->capture_default_str();
  certs_->add_option("--service", service_, "The webhook's Service")->capture_default_str();
  certs_->add_option("--secret", secret_, "kubernetes.io/tls Secret to create")
      ->capture_default_str();
  certs_
      ->add_option("--webhook-configuration", webhook_configuration_,
                   "MutatingWebhookConfiguration whose caBundle is set")
      ->capture_default_str();
  certs_->add_option("--days", days_, "Validity of a new certificate")->capture_default_str();
}

bool WebhookCommand::selected() const { return webhook_->parsed() || certs_->parsed(); }

int WebhookCommand::Run() const { return webhook_->parsed() ? RunWebhook() : RunCerts(); }

int WebhookCommand::RunWebhook() const {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<webhook::ClusterSource> source;
  if (source_ == "kube") {
    auto options = webhook::KubeApiClient::InClusterOptions();
    if (!options.ok()) return Fail(options.status());
    source = std::make_unique<webhook::KubeApiClient>(std::move(*options));
  } else if (absl::StartsWith(source_, "file:")) {
    auto files = std::make_unique<webhook::StaticClusterSource>();
    absl::Status s = files->LoadDir(source_.substr(5));
    if (!s.ok()) return Fail(s);
    source = std::move(files);
  } else {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--instrumentation-source ", source_, ": not supported (kube or file:DIR)")));
  }
  webhook::PodMutator mutator(*source);
  webhook::WebhookServerOptions o;
  o.address = listen_;
  o.cert_file = tls_cert_;
  o.key_file = tls_key_;
  auto server = webhook::WebhookServer::Start(o, mutator);
  if (!server.ok()) return Fail(server.status());
  LOG_INFO("strand webhook ready: https port {}, instrumentation source {}", (*server)->port(),
           source_);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  LOG_INFO("webhook stopped");
  return 0;
}

int WebhookCommand::RunCerts() const {
  auto options = webhook::KubeApiClient::InClusterOptions();
  if (!options.ok()) return Fail(options.status());
  webhook::KubeApiClient api(std::move(*options));
  const std::string secret_path =
      absl::StrCat("/api/v1/namespaces/", namespace_, "/secrets/", secret_);
  std::string ca_pem;
  auto existing = api.Get(secret_path);
  if (existing.ok()) {
    rapidjson::Document d;
    d.Parse(existing->c_str());
    if (!d.HasParseError() && d.IsObject() && d.HasMember("data") && d["data"].IsObject() &&
        d["data"].HasMember("tls.crt") && d["data"]["tls.crt"].IsString()) {
      absl::Base64Unescape(d["data"]["tls.crt"].GetString(), &ca_pem);
    }
    if (ca_pem.empty()) {
      return Fail(absl::FailedPreconditionError(
          absl::StrCat("Secret ", namespace_, "/", secret_, " exists without tls.crt")));
    }
    LOG_INFO("Secret {}/{} exists; keeping its certificate", namespace_, secret_);
  } else if (absl::IsNotFound(existing.status())) {
    const std::vector<std::string> names = {
        absl::StrCat(service_, ".", namespace_, ".svc"),
        absl::StrCat(service_, ".", namespace_, ".svc.cluster.local"),
        absl::StrCat(service_, ".", namespace_), service_};
    auto pair = http::MakeSelfSignedCertificate(names, days_);
    if (!pair.ok()) return Fail(pair.status());
    const std::string body = absl::StrCat(
        R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":")",
        secret_, R"(","namespace":")", namespace_,
        R"(","labels":{"app.kubernetes.io/part-of":"strand"}},"data":{"tls.crt":")",
        absl::Base64Escape(pair->cert_pem), R"(","tls.key":")", absl::Base64Escape(pair->key_pem),
        R"("}})");
    auto created =
        api.Request("POST", absl::StrCat("/api/v1/namespaces/", namespace_, "/secrets"), body);
    if (!created.ok()) return Fail(created.status());
    ca_pem = pair->cert_pem;
    LOG_INFO("created Secret {}/{} for {}", namespace_, secret_, names[0]);
  } else {
    return Fail(existing.status());
  }

  const std::string mwc_path =
      absl::StrCat("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/",
                   webhook_configuration_);
  auto mwc = api.Get(mwc_path);
  if (!mwc.ok()) return Fail(mwc.status());
  rapidjson::Document d;
  d.Parse(mwc->c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("webhooks") || !d["webhooks"].IsArray()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(mwc_path, ": no webhooks")));
  }
  std::string patch = "[";
  for (rapidjson::SizeType i = 0; i < d["webhooks"].Size(); ++i) {
    absl::StrAppend(&patch, i ? "," : "", R"({"op":"add","path":"/webhooks/)", i,
                    R"(/clientConfig/caBundle","value":")", absl::Base64Escape(ca_pem), "\"}");
  }
  patch += "]";
  auto patched = api.Request("PATCH", mwc_path, patch, "application/json-patch+json");
  if (!patched.ok()) return Fail(patched.status());
  LOG_INFO("set the caBundle of MutatingWebhookConfiguration {}", webhook_configuration_);
  return 0;
}

}  // namespace strand::cli
