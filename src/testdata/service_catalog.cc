#include "testdata/service_catalog.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "testdata/attributes.h"
#include "testdata/rng.h"

namespace strand::testdata {
namespace {

using opentelemetry::proto::common::v1::KeyValue;

constexpr LangInfo kLangs[] = {
    {"nodejs",
     "1.15.2",
     "nodejs",
     "18.17.1",
     "axios/1.4.0",
     "Error",
     {"@opentelemetry/instrumentation-http", "@opentelemetry/instrumentation-http",
      "@opentelemetry/instrumentation-grpc", "@opentelemetry/instrumentation-pg",
      "@opentelemetry/instrumentation-ioredis", "opentelemetry-instrumentation-kafkajs",
      "@opentelemetry/instrumentation-express"},
     "0.41.2"},
    {"go",
     "1.17.0",
     "go",
     "go1.21.1",
     "Go-http-client/1.1",
     "*errors.errorString",
     {"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
      "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
      "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
      "github.com/XSAM/otelsql", "github.com/redis/go-redis/extra/redisotel",
      "go.opentelemetry.io/contrib/instrumentation/github.com/Shopify/sarama/otelsarama",
      "github.com/shop/internal/tracing"},
     "0.43.0"},
    {"java",
     "1.29.0",
     "OpenJDK Runtime Environment",
     "17.0.8+7-LTS",
     "Java-http-client/17.0.8",
     "org.postgresql.util.PSQLException",
     {"io.opentelemetry.spring-webmvc-6.0", "io.opentelemetry.java-http-client",
      "io.opentelemetry.grpc-1.6", "io.opentelemetry.jdbc", "io.opentelemetry.lettuce-5.1",
      "io.opentelemetry.kafka-clients-2.6",
      "io.opentelemetry.opentelemetry-instrumentation-annotations-1.16"},
     "1.29.0-alpha"},
    {"python",
     "1.20.0",
     "cpython",
     "3.11.5",
     "python-requests/2.31.0",
     "psycopg2.OperationalError",
     {"opentelemetry.instrumentation.flask", "opentelemetry.instrumentation.requests",
      "opentelemetry.instrumentation.grpc", "opentelemetry.instrumentation.psycopg2",
      "opentelemetry.instrumentation.redis", "opentelemetry.instrumentation.kafka",
      "opentelemetry.instrumentation.flask"},
     "0.41b0"},
    {"dotnet",
     "1.6.0",
     ".NET",
     "7.0.11",
     "dotnet-httpclient/7.0",
     "StackExchange.Redis.RedisTimeoutException",
     {"OpenTelemetry.Instrumentation.AspNetCore", "OpenTelemetry.Instrumentation.Http",
      "OpenTelemetry.Instrumentation.GrpcNetClient", "OpenTelemetry.Instrumentation.SqlClient",
      "OpenTelemetry.Instrumentation.StackExchangeRedis", "Confluent.Kafka.Extensions.Diagnostics",
      "CartService"},
     "1.0.0-rc9.14"},
};

struct ServiceDef {
  const char* name;
  const char* version;
  Lang lang;
  int port;
};

constexpr ServiceDef kCoreDefs[ServiceCatalog::kCoreServices] = {
    {"frontend", "1.8.2", Lang::kNode, 8080},     {"checkout", "2.3.1", Lang::kGo, 5050},
    {"cart", "1.4.0", Lang::kDotnet, 7070},       {"payment", "0.9.7", Lang::kNode, 50051},
    {"inventory", "3.1.0", Lang::kJava, 8081},    {"shipping", "1.2.5", Lang::kGo, 50052},
    {"productcatalog", "1.6.0", Lang::kGo, 3550}, {"recommendation", "2.0.4", Lang::kPython, 9001},
};

constexpr const char* kExtraNames[] = {
    "ad",         "email",   "currency", "quote",   "fraud-detection",
    "accounting", "loyalty", "search",   "reviews", "notification"};

constexpr char kPodAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";

}  // namespace

const LangInfo& ServiceModel::lang_info() const { return kLangs[static_cast<int>(lang)]; }

ServiceCatalog::ServiceCatalog(uint64_t seed, int count) {
  for (int i = 0; i < count; ++i) {
    ServiceModel s;
    if (i < kCoreServices) {
      s.name = kCoreDefs[i].name;
      s.version = kCoreDefs[i].version;
      s.lang = kCoreDefs[i].lang;
      s.port = kCoreDefs[i].port;
    } else {
      const int extra = i - kCoreServices;
      constexpr int kNamed = sizeof(kExtraNames) / sizeof(kExtraNames[0]);
      s.name = extra < kNamed ? std::string(kExtraNames[extra]) : absl::StrCat("svc-", i);
      s.version = absl::StrCat("1.", i % 7, ".", i % 13);
      s.lang = static_cast<Lang>(i % 5);
      s.port = 8000 + i;
    }
    Rng rng(Mix64(seed ^ (0x5e41ce00ULL + static_cast<uint64_t>(i))));
    const std::string deployment_hash = rng.Chars(10, kPodAlphabet);
    for (int r = 0; r < ServiceModel::kReplicas; ++r) {
      ServiceModel::Pod& pod = s.pods[r];
      pod.name = absl::StrCat(s.name, "-", deployment_hash, "-", rng.Chars(5, kPodAlphabet));
      pod.ip = absl::StrCat("10.42.", rng.Between(0, 15), ".", rng.Between(2, 250));
      pod.node = absl::StrCat("ip-10-0-", rng.Between(0, 3) * 16 + rng.Between(1, 14), "-",
                              rng.Between(2, 250), ".eu-west-1.compute.internal");
      pod.instance_id = absl::StrCat(rng.Chars(8, kHexAlphabet), "-", rng.Chars(4, kHexAlphabet),
                                     "-4", rng.Chars(3, kHexAlphabet), "-a",
                                     rng.Chars(3, kHexAlphabet), "-", rng.Chars(12, kHexAlphabet));
      pod.pid = rng.Between(1, 64);
    }
    services_.push_back(std::move(s));
  }
}

void ServiceCatalog::FillResource(int service, int replica,
                                  opentelemetry::proto::resource::v1::Resource* resource) const {
  const ServiceModel& svc = services_[service];
  const ServiceModel::Pod& pod = svc.pods[replica];
  const LangInfo& lang = svc.lang_info();
  auto* a = resource->mutable_attributes();
  Str(a, "service.name", svc.name);
  Str(a, "service.namespace", "shop");
  Str(a, "service.version", svc.version);
  Str(a, "service.instance.id", pod.instance_id);
  Str(a, "deployment.environment", "production");
  Str(a, "telemetry.sdk.name", "opentelemetry");
  Str(a, "telemetry.sdk.language", lang.language);
  Str(a, "telemetry.sdk.version", lang.sdk_version);
  Str(a, "process.runtime.name", lang.runtime_name);
  Str(a, "process.runtime.version", lang.runtime_version);
  KeyValue* pid = a->Add();
  pid->set_key("process.pid");
  pid->mutable_value()->set_int_value(pod.pid);
  Str(a, "host.name", pod.name);
  Str(a, "host.arch", "amd64");
  Str(a, "os.type", "linux");
  Str(a, "cloud.provider", "aws");
  Str(a, "cloud.region", "eu-west-1");
  Str(a, "k8s.cluster.name", "prod-eu-west-1");
  Str(a, "k8s.namespace.name", "shop");
  Str(a, "k8s.deployment.name", svc.name);
  Str(a, "k8s.pod.name", pod.name);
  Str(a, "k8s.pod.ip", pod.ip);
  Str(a, "k8s.node.name", pod.node);
  Str(a, "container.name", svc.name);
}

}  // namespace strand::testdata
