#include "block/block_testdata.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "otlp/proto_decoder.h"

namespace strand::block::testdata {
namespace {

namespace pb = ::opentelemetry::proto;
using Attrs = google::protobuf::RepeatedPtrField<pb::common::v1::KeyValue>;

// splitmix64: small, seedable, identical everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  double LogUniform(double lo, double hi) { return lo * std::pow(hi / lo, Unit()); }
  std::string Chars(size_t n, std::string_view alphabet) {
    std::string out(n, ' ');
    for (char& c : out) c = alphabet[Below(alphabet.size())];
    return out;
  }
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; i += 8) {
      const uint64_t v = Next();
      std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
    }
    out[0] |= 1;  // never all zero
    return out;
  }

 private:
  uint64_t state_;
};

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kPodChars = "bcdfghjklmnpqrstvwxz2456789";

enum Svc { kFrontend, kCheckout, kCart, kPayment, kInventory, kShipping, kCatalog, kRecommend };
enum class Scope { kHttpServer, kHttpClient, kGrpc, kPostgres, kRedis, kKafka, kInternal };

struct Lang {
  const char* language;
  const char* sdk_version;
  const char* runtime;
  const char* runtime_version;
  const char* scopes[7];
  const char* scope_version;
  const char* user_agent;  // of the language's HTTP and gRPC clients
};

constexpr Lang kNode = {
    "nodejs",
    "1.17.1",
    "nodejs",
    "18.18.2",
    {"@opentelemetry/instrumentation-http", "@opentelemetry/instrumentation-http",
     "@opentelemetry/instrumentation-grpc", "@opentelemetry/instrumentation-pg",
     "@opentelemetry/instrumentation-ioredis", "@opentelemetry/instrumentation-kafkajs",
     "shop-frontend"},
    "0.44.0",
    "axios/1.6.0"};
constexpr Lang kGo = {
    "go",
    "1.19.0",
    "go",
    "go1.21.3",
    {"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
     "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
     "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
     "github.com/XSAM/otelsql", "github.com/redis/go-redis/extra/redisotel",
     "github.com/IBM/sarama/otelsarama", "shop/internal"},
    "0.45.0",
    "Go-http-client/1.1"};
constexpr Lang kJava = {
    "java",
    "1.31.0",
    "OpenJDK Runtime Environment",
    "17.0.9+9-LTS",
    {"io.opentelemetry.spring-webmvc-6.0", "io.opentelemetry.java-http-client",
     "io.opentelemetry.grpc-1.6", "io.opentelemetry.jdbc", "io.opentelemetry.lettuce-5.1",
     "io.opentelemetry.kafka-clients-2.6", "io.opentelemetry.methods"},
    "1.31.0-alpha",
    "Java-http-client/17.0.9"};
constexpr Lang kPython = {
    "python",
    "1.21.0",
    "cpython",
    "3.11.6",
    {"opentelemetry.instrumentation.flask", "opentelemetry.instrumentation.requests",
     "opentelemetry.instrumentation.grpc", "opentelemetry.instrumentation.psycopg2",
     "opentelemetry.instrumentation.redis", "opentelemetry.instrumentation.kafka",
     "recommendation"},
    "0.42b0",
    "python-requests/2.31.0"};
constexpr Lang kDotnet = {
    "dotnet",
    "1.6.0",
    ".NET",
    "8.0.0",
    {"OpenTelemetry.Instrumentation.AspNetCore", "OpenTelemetry.Instrumentation.Http",
     "OpenTelemetry.Instrumentation.GrpcNetClient", "OpenTelemetry.Instrumentation.SqlClient",
     "OpenTelemetry.Instrumentation.StackExchangeRedis", "Confluent.Kafka.Extensions.Diagnostics",
     "CartService"},
    "1.0.0-rc9.14",
    "grpc-dotnet/2.59.0 (.NET 8.0.0; CLR 8.0.0; net8.0; linux; x64)"};

struct ServiceDef {
  const char* name;
  const char* version;
  const Lang* lang;
  int port;
};
constexpr ServiceDef kServices[] = {
    {"frontend", "1.9.0", &kNode, 8080},     {"checkout", "2.4.1", &kGo, 5050},
    {"cart", "1.5.2", &kDotnet, 7070},       {"payment", "1.0.3", &kNode, 50051},
    {"inventory", "3.2.0", &kJava, 8081},    {"shipping", "1.3.0", &kGo, 50052},
    {"productcatalog", "1.7.1", &kGo, 3550}, {"recommendation", "2.1.0", &kPython, 9001},
};
constexpr int kNumServices = 8;
constexpr int kPods = 3;

struct Pod {
  std::string name, ip, node, instance_id;
  int64_t pid;
};

std::vector<std::vector<Pod>> BuildPods(uint64_t seed) {
  std::vector<std::vector<Pod>> pods(kNumServices);
  for (int s = 0; s < kNumServices; ++s) {
    Rng rng(seed * 7919 + static_cast<uint64_t>(s));
    const std::string rs = rng.Chars(10, kPodChars);
    for (int p = 0; p < kPods; ++p) {
      Pod pod;
      pod.name = absl::StrCat(kServices[s].name, "-", rs, "-", rng.Chars(5, kPodChars));
      pod.ip = absl::StrCat("10.42.", rng.Between(0, 15), ".", rng.Between(2, 250));
      pod.node = absl::StrCat("ip-10-0-", rng.Between(1, 60), "-", rng.Between(2, 250),
                              ".eu-west-1.compute.internal");
      pod.instance_id =
          absl::StrCat(rng.Chars(8, kHex), "-", rng.Chars(4, kHex), "-4", rng.Chars(3, kHex), "-a",
                       rng.Chars(3, kHex), "-", rng.Chars(12, kHex));
      pod.pid = rng.Between(1, 64);
      pods[s].push_back(std::move(pod));
    }
  }
  return pods;
}

void Str(Attrs* a, std::string_view k, std::string_view v) {
  auto* kv = a->Add();
  kv->set_key(std::string(k));
  kv->mutable_value()->set_string_value(std::string(v));
}
void Int(Attrs* a, std::string_view k, int64_t v) {
  auto* kv = a->Add();
  kv->set_key(std::string(k));
  kv->mutable_value()->set_int_value(v);
}
void Dbl(Attrs* a, std::string_view k, double v) {
  auto* kv = a->Add();
  kv->set_key(std::string(k));
  kv->mutable_value()->set_double_value(v);
}
void Bool(Attrs* a, std::string_view k, bool v) {
  auto* kv = a->Add();
  kv->set_key(std::string(k));
  kv->mutable_value()->set_bool_value(v);
}

constexpr const char* kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
};

// One span under construction.
struct Node {
  int parent = -1;
  int svc = 0;
  Scope scope = Scope::kInternal;
  pb::trace::v1::Span span;
  double own_ns = 0;  // time spent in the span itself
  int64_t start = 0;  // relative to the trace start
  int64_t duration = 0;
};

class TraceBuilder {
 public:
  explicit TraceBuilder(Rng& rng) : rng_(rng) {}

  int Add(int parent, int svc, Scope scope, std::string name, pb::trace::v1::Span::SpanKind kind,
          double lo_ns, double hi_ns) {
    Node n;
    n.parent = parent;
    n.svc = svc;
    n.scope = scope;
    n.span.set_name(std::move(name));
    n.span.set_kind(kind);
    n.own_ns = rng_.LogUniform(lo_ns, hi_ns);
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }
  Attrs* attrs(int i) { return nodes_[i].span.mutable_attributes(); }
  std::vector<Node>& nodes() { return nodes_; }

  int HttpServer(int parent, int svc, const char* method, std::string_view route,
                 std::string_view target) {
    const int n =
        Add(parent, svc, Scope::kHttpServer, absl::StrCat(method, " ", std::string(route)),
            pb::trace::v1::Span::SPAN_KIND_SERVER, 200e3, 4e6);
    Attrs* a = attrs(n);
    Str(a, "http.method", method);
    Str(a, "http.scheme", "http");
    Str(a, "http.target", target);
    Str(a, "http.route", route);
    Int(a, "http.status_code", 200);
    Str(a, "http.flavor", "1.1");
    Str(a, "net.host.name", kServices[svc].name);
    Int(a, "net.host.port", kServices[svc].port);
    Str(a, "net.sock.peer.addr",
        absl::StrCat("10.42.", rng_.Between(0, 15), ".", rng_.Between(2, 250)));
    Int(a, "net.sock.peer.port", rng_.Between(32768, 60999));
    Int(a, "http.response_content_length", rng_.Between(40, 30000));
    if (parent >= 0) Str(a, "http.user_agent", kServices[nodes_[parent].svc].lang->user_agent);
    const int64_t thread = rng_.Between(1, 200);
    Int(a, "thread.id", thread);
    Str(a, "thread.name", absl::StrCat("http-nio-", kServices[svc].port, "-exec-", thread));
    return n;
  }
  int HttpClient(int parent, int svc, int callee, const char* method, std::string_view target) {
    const int n = Add(parent, svc, Scope::kHttpClient, method,
                      pb::trace::v1::Span::SPAN_KIND_CLIENT, 100e3, 900e3);
    Attrs* a = attrs(n);
    Str(a, "http.method", method);
    Str(a, "http.url",
        absl::StrCat("http://", kServices[callee].name, ":", kServices[callee].port,
                     std::string(target)));
    Int(a, "http.status_code", 200);
    Str(a, "http.flavor", "1.1");
    Str(a, "net.peer.name", kServices[callee].name);
    Int(a, "net.peer.port", kServices[callee].port);
    Str(a, "user_agent.original", kServices[svc].lang->user_agent);
    Int(a, "http.response_content_length", rng_.Between(40, 30000));
    return n;
  }
  int Rpc(int parent, int svc, int callee, const char* service, const char* method, bool server) {
    const int n =
        Add(parent, server ? callee : svc, Scope::kGrpc, absl::StrCat(service, "/", method),
            server ? pb::trace::v1::Span::SPAN_KIND_SERVER : pb::trace::v1::Span::SPAN_KIND_CLIENT,
            server ? 150e3 : 100e3, server ? 3e6 : 600e3);
    Attrs* a = attrs(n);
    Str(a, "rpc.system", "grpc");
    Str(a, "rpc.service", service);
    Str(a, "rpc.method", method);
    Int(a, "rpc.grpc.status_code", 0);
    if (!server) {
      Str(a, "net.peer.name", kServices[callee].name);
      Int(a, "net.peer.port", kServices[callee].port);
    } else {
      Str(a, "net.sock.peer.addr",
          absl::StrCat("10.42.", rng_.Between(0, 15), ".", rng_.Between(2, 250)));
      Int(a, "net.sock.peer.port", rng_.Between(32768, 60999));
      Str(a, "rpc.user_agent", kServices[nodes_[parent].svc].lang->user_agent);
    }
    return n;
  }
  int Postgres(int parent, int svc, const char* db, const char* op, const char* table,
               const char* statement) {
    const int n = Add(parent, svc, Scope::kPostgres, absl::StrCat(op, " ", db, ".", table),
                      pb::trace::v1::Span::SPAN_KIND_CLIENT, 250e3, 12e6);
    Attrs* a = attrs(n);
    Str(a, "db.system", "postgresql");
    Str(a, "db.name", db);
    Str(a, "db.user", absl::StrCat(db, "_rw"));
    Str(a, "db.statement", statement);
    Str(a, "db.operation", op);
    Str(a, "db.sql.table", table);
    Str(a, "net.peer.name", "postgres-primary.data.svc.cluster.local");
    Int(a, "net.peer.port", 5432);
    Str(a, "net.sock.peer.addr", "10.43.12.7");
    Str(a, "db.connection_string",
        absl::StrCat("postgresql://postgres-primary.data.svc.cluster.local:5432/", db));
    return n;
  }
  int Redis(int parent, int svc, const char* command, std::string_view args) {
    const int n = Add(parent, svc, Scope::kRedis, command, pb::trace::v1::Span::SPAN_KIND_CLIENT,
                      80e3, 1.5e6);
    Attrs* a = attrs(n);
    Str(a, "db.system", "redis");
    Str(a, "db.statement", absl::StrCat(command, " ", std::string(args)));
    Int(a, "db.redis.database_index", 0);
    Str(a, "net.peer.name", "redis-cart.data.svc.cluster.local");
    Int(a, "net.peer.port", 6379);
    return n;
  }
  void Event(int node, std::string name, double fraction, const std::function<void(Attrs*)>& fill) {
    auto* e = nodes_[node].span.add_events();
    e->set_name(std::move(name));
    e->set_time_unix_nano(static_cast<uint64_t>(fraction * 1e6));  // placed by Finish
    fill(e->mutable_attributes());
  }

 private:
  Rng& rng_;
  std::vector<Node> nodes_;
};

std::string UserId(Rng& rng) { return absl::StrCat("u-", rng.Between(100000, 999999)); }
std::string ProductId(Rng& rng) { return rng.Chars(10, kUpperAlnum); }
std::string Uuid(Rng& rng) {
  return absl::StrCat(rng.Chars(8, kHex), "-", rng.Chars(4, kHex), "-4", rng.Chars(3, kHex), "-",
                      rng.Chars(4, kHex), "-", rng.Chars(12, kHex));
}

void Checkout(TraceBuilder& b, Rng& rng, const std::string& user) {
  const int root = b.HttpServer(-1, kFrontend, "POST", "/api/checkout", "/api/checkout");
  Str(b.attrs(root), "user_agent.original", kAgents[rng.Below(4)]);
  Str(b.attrs(root), "enduser.id", user);
  const int c1 = b.HttpClient(root, kFrontend, kCheckout, "POST", "/checkout");
  const int co = b.HttpServer(c1, kCheckout, "POST", "/checkout", "/checkout");
  const std::string order = Uuid(rng);
  const int items = static_cast<int>(rng.Between(1, 5));
  Str(b.attrs(co), "app.order.id", order);
  Int(b.attrs(co), "app.order.items", items);
  b.Event(co, "order.placed", 0.9, [&](Attrs* a) {
    Str(a, "app.order.id", order);
    Dbl(a, "app.order.total", static_cast<double>(rng.Between(500, 99999)) / 100);
    Int(a, "app.order.items", items);
    Bool(a, "app.order.expedited", rng.Chance(0.2));
  });
  const int c2 = b.HttpClient(co, kCheckout, kCart, "GET", absl::StrCat("/cart/", user));
  const int cart = b.HttpServer(c2, kCart, "GET", "/cart/{userId}", absl::StrCat("/cart/", user));
  b.Redis(cart, kCart, "HGETALL", absl::StrCat("cart:", user));
  const int c3 = b.Rpc(co, kCheckout, kPayment, "shop.PaymentService", "Charge", false);
  const int pay = b.Rpc(c3, kCheckout, kPayment, "shop.PaymentService", "Charge", true);
  Str(b.attrs(pay), "app.payment.card_type", rng.Chance(0.7) ? "visa" : "mastercard");
  Str(b.attrs(pay), "app.payment.transaction.id", Uuid(rng));
  if (rng.Chance(0.5)) {
    b.Event(pay, "fraud.check", 0.4, [&](Attrs* a) {
      Dbl(a, "fraud.score", static_cast<double>(rng.Between(0, 1000)) / 1000);
      Str(a, "fraud.model", "gbdt-2023-11");
    });
  }
  const int k = b.Add(co, kCheckout, Scope::kKafka, "orders publish",
                      pb::trace::v1::Span::SPAN_KIND_PRODUCER, 300e3, 5e6);
  Str(b.attrs(k), "messaging.system", "kafka");
  Str(b.attrs(k), "messaging.operation", "publish");
  Str(b.attrs(k), "messaging.destination.name", "orders");
  Str(b.attrs(k), "messaging.kafka.message.key", order);
  Int(b.attrs(k), "messaging.kafka.destination.partition", rng.Between(0, 11));
  b.Postgres(co, kCheckout, "inventory", "UPDATE", "stock",
             "UPDATE stock SET reserved = reserved + $1, updated_at = now() WHERE sku = $2");
}

void Product(TraceBuilder& b, Rng& rng, const std::string& user) {
  const std::string product = ProductId(rng);
  const int root = b.HttpServer(-1, kFrontend, "GET", "/api/products/{productId}",
                                absl::StrCat("/api/products/", product));
  Str(b.attrs(root), "user_agent.original", kAgents[rng.Below(4)]);
  Str(b.attrs(root), "enduser.id", user);
  const int c1 =
      b.Rpc(root, kFrontend, kCatalog, "shop.ProductCatalogService", "GetProduct", false);
  const int pc = b.Rpc(c1, kFrontend, kCatalog, "shop.ProductCatalogService", "GetProduct", true);
  Str(b.attrs(pc), "app.product.id", product);
  b.Postgres(pc, kCatalog, "catalog", "SELECT", "products",
             "SELECT id, name, description, picture, price_units, price_nanos, categories FROM "
             "products WHERE id = $1");
  const int c2 = b.HttpClient(root, kFrontend, kRecommend, "GET",
                              absl::StrCat("/recommendations?productId=", product));
  const int rec = b.HttpServer(c2, kRecommend, "GET", "/recommendations",
                               absl::StrCat("/recommendations?productId=", product));
  auto* picks = b.attrs(rec)->Add();
  picks->set_key("app.recommendation.product_ids");
  for (int i = 0; i < 4; ++i) {
    picks->mutable_value()->mutable_array_value()->add_values()->set_string_value(ProductId(rng));
  }
  const int c3 =
      b.Rpc(rec, kRecommend, kCatalog, "shop.ProductCatalogService", "ListProducts", false);
  const int lp =
      b.Rpc(c3, kRecommend, kCatalog, "shop.ProductCatalogService", "ListProducts", true);
  b.Postgres(lp, kCatalog, "catalog", "SELECT", "products",
             "SELECT id, name, price_units, price_nanos FROM products WHERE categories && $1 "
             "ORDER BY popularity DESC LIMIT 5");
  b.Add(root, kFrontend, Scope::kInternal, "render product page",
        pb::trace::v1::Span::SPAN_KIND_INTERNAL, 50e3, 2e6);
}

void Cart(TraceBuilder& b, Rng& rng, const std::string& user) {
  const std::string product = ProductId(rng);
  const int root = b.HttpServer(-1, kFrontend, "POST", "/api/cart", "/api/cart");
  Str(b.attrs(root), "user_agent.original", kAgents[rng.Below(4)]);
  Str(b.attrs(root), "enduser.id", user);
  Int(b.attrs(root), "http.request_content_length", rng.Between(60, 900));
  const int c1 =
      b.Rpc(root, kFrontend, kCatalog, "shop.ProductCatalogService", "GetProduct", false);
  const int pc = b.Rpc(c1, kFrontend, kCatalog, "shop.ProductCatalogService", "GetProduct", true);
  Str(b.attrs(pc), "app.product.id", product);
  b.Postgres(pc, kCatalog, "catalog", "SELECT", "products",
             "SELECT id, name, price_units, price_nanos FROM products WHERE id = $1");
  const int c2 =
      b.HttpClient(root, kFrontend, kCart, "POST", absl::StrCat("/cart/", user, "/items"));
  const int cart = b.HttpServer(c2, kCart, "POST", "/cart/{userId}/items",
                                absl::StrCat("/cart/", user, "/items"));
  Str(b.attrs(cart), "app.product.id", product);
  Int(b.attrs(cart), "app.cart.quantity", rng.Between(1, 4));
  const std::string key = absl::StrCat("cart:", user);
  b.Redis(cart, kCart, "HGET", absl::StrCat(key, " ", product));
  b.Redis(cart, kCart, "HSET", absl::StrCat(key, " ", product, " ?"));
  b.Redis(cart, kCart, "EXPIRE", absl::StrCat(key, " 2592000"));
  b.Add(root, kFrontend, Scope::kInternal, "middleware - jsonParser",
        pb::trace::v1::Span::SPAN_KIND_INTERNAL, 20e3, 400e3);
}

// Children run one after another inside their parent.
int64_t Layout(std::vector<Node>& nodes, const std::vector<std::vector<int>>& children, Rng& rng,
               int at, int64_t start) {
  nodes[at].start = start;
  int64_t cursor = start + static_cast<int64_t>(nodes[at].own_ns / 2);
  for (int c : children[at]) {
    cursor =
        Layout(nodes, children, rng, c, cursor) + static_cast<int64_t>(rng.LogUniform(5e3, 150e3));
  }
  cursor += static_cast<int64_t>(nodes[at].own_ns / 2);
  nodes[at].duration = cursor - start;
  return cursor;
}

}  // namespace

pb::collector::trace::v1::ExportTraceServiceRequest RealisticRequest(
    const RealisticOptions& options, uint64_t index) {
  const std::vector<std::vector<Pod>> pods = BuildPods(options.seed);
  Rng rng(options.seed ^ (0x5deece66dULL * (index + 1)));
  for (int i = 0; i < 4; ++i) rng.Next();
  const uint64_t request_start = options.base_time_unix_nano + index * 200'000'000ULL;
  const int spans_per_trace = std::max(3, options.spans_per_trace);

  struct Placed {
    int svc;
    int pod;
    Scope scope;
    pb::trace::v1::Span span;
  };
  std::vector<Placed> placed;
  std::string prev_trace, prev_root;
  for (int t = 0; t < options.traces_per_request; ++t) {
    TraceBuilder b(rng);
    const std::string user = UserId(rng);
    const uint64_t flow = rng.Below(100);
    if (flow < 40) {
      Checkout(b, rng, user);
    } else if (flow < 75) {
      Product(b, rng, user);
    } else {
      Cart(b, rng, user);
    }
    std::vector<Node>& nodes = b.nodes();
    // Pad or trim to the requested size: pre-order, so trimming the tail keeps parents.
    while (static_cast<int>(nodes.size()) < spans_per_trace) {
      b.Add(0, kFrontend, Scope::kInternal, "middleware - query",
            pb::trace::v1::Span::SPAN_KIND_INTERNAL, 10e3, 300e3);
    }
    nodes.resize(spans_per_trace);
    if (rng.Chance(0.02)) {
      const int at = static_cast<int>(rng.Between(1, spans_per_trace - 1));
      const std::string message = "rpc error: code = Unavailable desc = connection refused";
      for (int i = at; i >= 0; i = nodes[i].parent) {
        nodes[i].span.mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
      }
      nodes[at].span.mutable_status()->set_message(message);
      b.Event(at, "exception", 0.95, [&](Attrs* a) {
        Str(a, "exception.type", "Error");
        Str(a, "exception.message", message);
        Str(a, "exception.stacktrace",
            absl::StrCat("Error: ", message, "\n    at ", kServices[nodes[at].svc].name,
                         ".handler (/app/src/server.js:", rng.Between(20, 400),
                         ":17)\n    at process.processTicksAndRejections "
                         "(node:internal/process/task_queues:95:5)"));
      });
    }
    std::vector<std::vector<int>> children(nodes.size());
    for (size_t i = 1; i < nodes.size(); ++i)
      children[nodes[i].parent].push_back(static_cast<int>(i));
    Layout(nodes, children, rng, 0, 0);

    const std::string trace_id = rng.Bytes(16);
    std::vector<std::string> ids;
    for (size_t i = 0; i < nodes.size(); ++i) ids.push_back(rng.Bytes(8));
    const uint64_t trace_start = request_start + rng.Below(1'000'000'000ULL);
    if (t > 0 && rng.Chance(0.03)) {
      auto* link = nodes[0].span.add_links();
      link->set_trace_id(prev_trace);
      link->set_span_id(prev_root);
      Str(link->mutable_attributes(), "app.link.reason", "retry");
    }
    std::vector<int> pod_of(kNumServices);
    for (int& p : pod_of) p = static_cast<int>(rng.Below(kPods));
    for (size_t i = 0; i < nodes.size(); ++i) {
      Node& n = nodes[i];
      pb::trace::v1::Span& s = n.span;
      s.set_trace_id(trace_id);
      s.set_span_id(ids[i]);
      if (n.parent >= 0) s.set_parent_span_id(ids[n.parent]);
      const bool remote = n.parent >= 0 && nodes[n.parent].svc != n.svc;
      s.set_flags(remote ? 0x301 : 0x101);
      const uint64_t start = trace_start + static_cast<uint64_t>(n.start);
      s.set_start_time_unix_nano(start);
      s.set_end_time_unix_nano(start + static_cast<uint64_t>(n.duration));
      for (auto& e : *s.mutable_events()) {
        e.set_time_unix_nano(start +
                             static_cast<uint64_t>(n.duration) * e.time_unix_nano() / 1'000'000);
      }
      placed.push_back({n.svc, pod_of[n.svc], n.scope, std::move(s)});
    }
    prev_trace = trace_id;
    prev_root = ids[0];
  }

  // Group by resource, then scope, in first-appearance order, as SDK exporters do.
  pb::collector::trace::v1::ExportTraceServiceRequest request;
  std::map<std::pair<int, int>, pb::trace::v1::ResourceSpans*> resources;
  std::map<std::pair<pb::trace::v1::ResourceSpans*, int>, pb::trace::v1::ScopeSpans*> scopes;
  for (Placed& p : placed) {
    const ServiceDef& svc = kServices[p.svc];
    auto [rit, new_resource] = resources.try_emplace({p.svc, p.pod}, nullptr);
    if (new_resource) {
      rit->second = request.add_resource_spans();
      rit->second->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
      const Pod& pod = pods[p.svc][p.pod];
      Attrs* a = rit->second->mutable_resource()->mutable_attributes();
      Str(a, "service.name", svc.name);
      Str(a, "service.namespace", "shop");
      Str(a, "service.version", svc.version);
      Str(a, "service.instance.id", pod.instance_id);
      Str(a, "deployment.environment", "production");
      Str(a, "telemetry.sdk.name", "opentelemetry");
      Str(a, "telemetry.sdk.language", svc.lang->language);
      Str(a, "telemetry.sdk.version", svc.lang->sdk_version);
      Str(a, "process.runtime.name", svc.lang->runtime);
      Str(a, "process.runtime.version", svc.lang->runtime_version);
      Int(a, "process.pid", pod.pid);
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
    const int scope = static_cast<int>(p.scope);
    auto [sit, new_scope] = scopes.try_emplace({rit->second, scope}, nullptr);
    if (new_scope) {
      sit->second = rit->second->add_scope_spans();
      sit->second->mutable_scope()->set_name(svc.lang->scopes[scope]);
      sit->second->mutable_scope()->set_version(svc.lang->scope_version);
    }
    *sit->second->add_spans() = std::move(p.span);
  }
  return request;
}

absl::Status TraceSet::AddRequest(std::string bytes) {
  wire_bytes += bytes.size();
  absl::StatusOr<otlp::DecodedRequest> decoded = otlp::DecodeProtoRequest(std::move(bytes));
  if (!decoded.ok()) return decoded.status();
  if (decoded->rejected_spans != 0) {
    return absl::InvalidArgumentError("request had rejected spans: " + decoded->rejection_message);
  }
  batches.push_back(std::make_unique<otlp::SpanBatch>(std::move(decoded->batch)));
  const otlp::SpanBatch* batch = batches.back().get();
  for (uint32_t i = 0; i < batch->spans.size(); ++i) {
    traces[batch->spans[i].trace_id].push_back({batch, i});
  }
  span_count += batch->spans.size();
  return absl::OkStatus();
}

absl::Status TraceSet::AddRequest(const pb::collector::trace::v1::ExportTraceServiceRequest& r) {
  return AddRequest(r.SerializeAsString());
}

std::vector<std::string> CanonicalSpans(std::span<const otlp::SpanRef> spans) {
  pb::trace::v1::TracesData data;
  std::vector<std::string> out;
  if (!data.ParseFromString(otlp::EncodeResourceSpans(spans))) {
    out.push_back("<unparseable>");
    return out;
  }
  for (const pb::trace::v1::ResourceSpans& rs : data.resource_spans()) {
    for (const pb::trace::v1::ScopeSpans& ss : rs.scope_spans()) {
      for (const pb::trace::v1::Span& span : ss.spans()) {
        pb::trace::v1::ResourceSpans one;
        *one.mutable_resource() = rs.resource();
        one.set_schema_url(rs.schema_url());
        pb::trace::v1::ScopeSpans* scope = one.add_scope_spans();
        *scope->mutable_scope() = ss.scope();
        scope->set_schema_url(ss.schema_url());
        *scope->add_spans() = span;
        std::string bytes;
        {
          google::protobuf::io::StringOutputStream stream(&bytes);
          google::protobuf::io::CodedOutputStream coded(&stream);
          coded.SetSerializationDeterministic(true);
          one.SerializeToCodedStream(&coded);
        }
        out.push_back(std::move(bytes));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> CanonicalSpans(const otlp::SpanBatch& batch) {
  std::vector<otlp::SpanRef> refs;
  for (uint32_t i = 0; i < batch.spans.size(); ++i) refs.push_back({&batch, i});
  return CanonicalSpans(refs);
}

}  // namespace strand::block::testdata
