// ServiceCatalog: the services of the generated online shop — names, versions, languages
// and the OpenTelemetry SDK and instrumentation libraries each language reports, and three
// Kubernetes pods per service — and the resource attributes a pod's SDK would send.
// Derived from a seed only, so a seed names the same pods everywhere. Immutable after
// construction; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "opentelemetry/proto/resource/v1/resource.pb.h"

namespace strand::testdata {

enum class Lang { kNode, kGo, kJava, kPython, kDotnet };

// What kind of instrumentation library reports a span: picks the scope name.
enum class ScopeKind { kHttpServer, kHttpClient, kRpc, kPostgres, kRedis, kKafka, kInternal };

struct LangInfo {
  const char* language;  // telemetry.sdk.language
  const char* sdk_version;
  const char* runtime_name;
  const char* runtime_version;
  const char* user_agent;  // of the HTTP client library
  const char* exception_type;
  const char* scopes[7];  // instrumentation scope names, by ScopeKind
  const char* scope_version;
};

struct ServiceModel {
  struct Pod {
    std::string name;
    std::string ip;
    std::string node;
    std::string instance_id;
    int64_t pid = 0;
  };
  static constexpr int kReplicas = 3;

  std::string name;
  std::string version;
  Lang lang = Lang::kNode;
  int port = 0;
  Pod pods[kReplicas];

  const LangInfo& lang_info() const;
};

class ServiceCatalog {
 public:
  // The first services are the shop's core (frontend, checkout, cart, payment, inventory,
  // shipping, productcatalog, recommendation); more are leaf services ("ad", "email", ...).
  static constexpr int kCoreServices = 8;

  ServiceCatalog(uint64_t seed, int count);

  int size() const { return static_cast<int>(services_.size()); }
  const ServiceModel& operator[](int i) const { return services_[i]; }

  // Sets the attributes of the resource that pod `replica` of `service` reports.
  void FillResource(int service, int replica,
                    opentelemetry::proto::resource::v1::Resource* resource) const;

 private:
  std::vector<ServiceModel> services_;
};

}  // namespace strand::testdata
