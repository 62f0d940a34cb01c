#include "testdata/trace_generator.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "testdata/attributes.h"
#include "testdata/rng.h"
#include "testdata/service_catalog.h"

namespace strand::testdata {
namespace {

namespace pb = ::opentelemetry::proto;
using pb::common::v1::KeyValue;
using pb::trace::v1::Span;
using pb::trace::v1::Status;

constexpr char kIdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// The core services, by their index in the catalog.
enum Role {
  kFrontend = 0,
  kCheckout,
  kCart,
  kPayment,
  kInventory,
  kShipping,
  kProductCatalog,
  kRecommendation,
};

// ---------------------------------------------------------------------------------------
// Attribute helpers.

// Sets an existing int attribute; returns false if there is none.
bool SetInt(Attributes* attrs, std::string_view key, int64_t value) {
  for (KeyValue& kv : *attrs) {
    if (kv.key() == key) {
      kv.mutable_value()->set_int_value(value);
      return true;
    }
  }
  return false;
}

constexpr const char* kBrowserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/117.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/117.0.5938.60 Mobile Safari/537.36",
};

// ---------------------------------------------------------------------------------------
// One trace under construction.

enum class NodeType { kServer, kClient, kDb, kProducer, kInternal };

struct Node {
  int parent = -1;
  int service = 0;
  ScopeKind scope = ScopeKind::kInternal;
  NodeType type = NodeType::kInternal;
  bool optional = false;  // a client span that may be dropped to fit the span budget
  int64_t own_ns = 0;     // leaf: whole duration; server: time before and after children
  int64_t net_ns = 0;     // client: network time each way
  int64_t start_ns = 0;   // relative to the trace's start, set by Layout
  int64_t duration_ns = 0;
  std::vector<int> children;
  // Events carry their offset within the span in thousandths until Finish.
  Span span;
};

// Builds the spans of one trace. Node order is depth-first (pre-order), so the last node
// is always a leaf: trimming from the end keeps every parent.
class TraceBuilder {
 public:
  TraceBuilder(const ServiceCatalog& services, Rng& rng)
      : services_(services), rng_(rng), replica_(services.size(), -1) {}

  bool Has(int service) const { return service < services_.size(); }
  std::vector<Node>& nodes() { return nodes_; }
  const ServiceModel& service(int i) const { return services_[i]; }
  const ServiceModel::Pod& pod(int service) {
    if (replica_[service] < 0)
      replica_[service] = static_cast<int>(rng_.Below(ServiceModel::kReplicas));
    return services_[service].pods[replica_[service]];
  }
  int replica(int service) {
    pod(service);
    return replica_[service];
  }

  int Root(const char* method, const std::string& route, const std::string& target,
           const std::string& user) {
    const int n = Add(-1, kFrontend, ScopeKind::kHttpServer, NodeType::kServer,
                      absl::StrCat(method, " ", route), Span::SPAN_KIND_SERVER);
    Attributes* a = attrs(n);
    Str(a, "http.method", method);
    Str(a, "http.scheme", "https");
    Str(a, "http.target", target);
    Str(a, "http.route", route);
    Int(a, "http.status_code", 200);
    Str(a, "http.flavor", "1.1");
    Str(a, "net.host.name", "shop.example.com");
    Int(a, "net.host.port", 8080);
    Str(a, "net.sock.peer.addr",
        absl::StrCat("10.0.", rng_.Between(0, 3), ".", rng_.Between(2, 250)));
    Int(a, "net.sock.peer.port", rng_.Between(32768, 60999));
    Str(a, "user_agent.original", rng_.Pick(kBrowserAgents));
    if (std::strcmp(method, "GET") != 0) {
      Int(a, "http.request_content_length", rng_.Between(60, 900));
    }
    Int(a, "http.response_content_length", rng_.Between(200, 60000));
    Str(a, "enduser.id", user);
    if (rng_.Chance(0.05)) {
      Event(n, 50, "session.refreshed",
            [&](Attributes* ea) { Int(ea, "session.age_s", rng_.Between(600, 86400)); });
    }
    nodes_[n].own_ns = static_cast<int64_t>(rng_.LogUniform(100e3, 3e6));
    return n;
  }

  // An HTTP call from the span `from` to service `to`: a client span (optional) and the
  // server span it causes. Returns the server span, or -1 when `to` is not in use.
  int HttpCall(int from, int to, const char* method, const std::string& route,
               const std::string& target) {
    if (!Has(to)) return -1;
    const ServiceModel& callee = services_[to];
    const int caller = nodes_[from].service;
    const int c = Add(from, caller, ScopeKind::kHttpClient, NodeType::kClient, method,
                      Span::SPAN_KIND_CLIENT);
    nodes_[c].optional = true;
    Attributes* ca = attrs(c);
    Str(ca, "http.method", method);
    Str(ca, "http.url", absl::StrCat("http://", callee.name, ":", callee.port, target));
    Int(ca, "http.status_code", 200);
    Str(ca, "http.flavor", "1.1");
    Str(ca, "net.peer.name", callee.name);
    Int(ca, "net.peer.port", callee.port);

    const int s = Add(c, to, ScopeKind::kHttpServer, NodeType::kServer,
                      absl::StrCat(method, " ", route), Span::SPAN_KIND_SERVER);
    Attributes* sa = attrs(s);
    Str(sa, "http.method", method);
    Str(sa, "http.scheme", "http");
    Str(sa, "http.target", target);
    Str(sa, "http.route", route);
    Int(sa, "http.status_code", 200);
    Str(sa, "http.flavor", "1.1");
    Str(sa, "net.host.name", callee.name);
    Int(sa, "net.host.port", callee.port);
    Str(sa, "net.sock.peer.addr", pod(caller).ip);
    Str(sa, "user_agent.original", services_[caller].lang_info().user_agent);
    Int(sa, "http.response_content_length", rng_.Between(2, 6000));
    nodes_[s].own_ns = static_cast<int64_t>(rng_.LogUniform(80e3, 2e6));
    return s;
  }

  // A gRPC call from `from` to service `to`; returns the server span or -1.
  int RpcCall(int from, int to, const char* rpc_service, const char* rpc_method) {
    if (!Has(to)) return -1;
    const ServiceModel& callee = services_[to];
    const int caller = nodes_[from].service;
    const std::string name = absl::StrCat(rpc_service, "/", rpc_method);
    const int c =
        Add(from, caller, ScopeKind::kRpc, NodeType::kClient, name, Span::SPAN_KIND_CLIENT);
    nodes_[c].optional = true;
    Attributes* ca = attrs(c);
    Str(ca, "rpc.system", "grpc");
    Str(ca, "rpc.service", rpc_service);
    Str(ca, "rpc.method", rpc_method);
    Int(ca, "rpc.grpc.status_code", 0);
    Str(ca, "net.peer.name", callee.name);
    Int(ca, "net.peer.port", callee.port);

    const int s = Add(c, to, ScopeKind::kRpc, NodeType::kServer, name, Span::SPAN_KIND_SERVER);
    Attributes* sa = attrs(s);
    Str(sa, "rpc.system", "grpc");
    Str(sa, "rpc.service", rpc_service);
    Str(sa, "rpc.method", rpc_method);
    Int(sa, "rpc.grpc.status_code", 0);
    Str(sa, "net.sock.peer.addr", pod(caller).ip);
    Int(sa, "net.sock.peer.port", rng_.Between(32768, 60999));
    nodes_[s].own_ns = static_cast<int64_t>(rng_.LogUniform(50e3, 1.5e6));
    return s;
  }

  int Postgres(int from, const char* db, const char* operation, const char* table,
               std::string statement) {
    const int n = Add(from, nodes_[from].service, ScopeKind::kPostgres, NodeType::kDb,
                      absl::StrCat(operation, " ", db, ".", table), Span::SPAN_KIND_CLIENT);
    Attributes* a = attrs(n);
    Str(a, "db.system", "postgresql");
    Str(a, "db.name", db);
    Str(a, "db.user", "shop_app");
    Str(a, "db.statement", statement);
    Str(a, "db.operation", operation);
    Str(a, "db.sql.table", table);
    Str(a, "net.peer.name", "postgres-primary.data.svc.cluster.local");
    Int(a, "net.peer.port", 5432);
    nodes_[n].own_ns = static_cast<int64_t>(rng_.LogUniform(250e3, 15e6));
    return n;
  }

  int Redis(int from, const char* command, const std::string& args) {
    const int n = Add(from, nodes_[from].service, ScopeKind::kRedis, NodeType::kDb, command,
                      Span::SPAN_KIND_CLIENT);
    Attributes* a = attrs(n);
    Str(a, "db.system", "redis");
    Str(a, "db.statement", absl::StrCat(command, " ", args));
    Int(a, "db.redis.database_index", 0);
    Str(a, "net.peer.name", "redis-cart.data.svc.cluster.local");
    Int(a, "net.peer.port", 6379);
    nodes_[n].own_ns = static_cast<int64_t>(rng_.LogUniform(80e3, 1.5e6));
    return n;
  }

  int Kafka(int from, const char* topic, const std::string& key) {
    const int n = Add(from, nodes_[from].service, ScopeKind::kKafka, NodeType::kProducer,
                      absl::StrCat(topic, " publish"), Span::SPAN_KIND_PRODUCER);
    Attributes* a = attrs(n);
    Str(a, "messaging.system", "kafka");
    Str(a, "messaging.operation", "publish");
    Str(a, "messaging.destination.name", topic);
    Str(a, "messaging.kafka.message.key", key);
    Int(a, "messaging.kafka.destination.partition", rng_.Between(0, 11));
    Int(a, "messaging.message.payload_size_bytes", rng_.Between(200, 4000));
    Str(a, "net.peer.name", "kafka-0.kafka-headless.data.svc.cluster.local");
    nodes_[n].own_ns = static_cast<int64_t>(rng_.LogUniform(300e3, 6e6));
    return n;
  }

  int Internal(int from, std::string name) {
    const int n = Add(from, nodes_[from].service, ScopeKind::kInternal, NodeType::kInternal,
                      std::move(name), Span::SPAN_KIND_INTERNAL);
    nodes_[n].own_ns = static_cast<int64_t>(rng_.LogUniform(10e3, 2e6));
    return n;
  }

  // Adds an event at `permille` of the span's duration (placed by Finish).
  void Event(int node, int permille, std::string_view name,
             const std::function<void(Attributes*)>& fill) {
    auto* e = nodes_[node].span.add_events();
    e->set_time_unix_nano(static_cast<uint64_t>(permille));
    e->set_name(std::string(name));
    fill(e->mutable_attributes());
  }

  Attributes* attrs(int node) { return nodes_[node].span.mutable_attributes(); }

 private:
  int Add(int parent, int service, ScopeKind scope, NodeType type, std::string name,
          Span::SpanKind kind) {
    Node n;
    n.parent = parent;
    n.service = service;
    n.scope = scope;
    n.type = type;
    n.span.set_name(std::move(name));
    n.span.set_kind(kind);
    nodes_.push_back(std::move(n));
    pod(service);
    return static_cast<int>(nodes_.size()) - 1;
  }

  const ServiceCatalog& services_;
  Rng& rng_;
  std::vector<int> replica_;
  std::vector<Node> nodes_;
};

// ---------------------------------------------------------------------------------------
// The user flows.

std::string ProductId(Rng& rng) { return rng.Chars(10, kIdAlphabet); }
std::string OrderId(Rng& rng) {
  return absl::StrCat(rng.Chars(8, kHexAlphabet), "-", rng.Chars(4, kHexAlphabet), "-",
                      rng.Chars(4, kHexAlphabet), "-", rng.Chars(4, kHexAlphabet), "-",
                      rng.Chars(12, kHexAlphabet));
}

void CheckoutFlow(TraceBuilder& b, Rng& rng, int root, const std::string& user) {
  const int co = b.HttpCall(root, kCheckout, "POST", "/checkout", "/checkout");
  if (co < 0) return;
  const std::string order = OrderId(rng);
  const int items = static_cast<int>(rng.Between(1, 5));
  if (int cart = b.HttpCall(co, kCart, "GET", "/cart/{userId}", absl::StrCat("/cart/", user));
      cart >= 0) {
    b.Redis(cart, "HGETALL", absl::StrCat("cart:", user));
  }
  if (int pay = b.RpcCall(co, kPayment, "shop.PaymentService", "Charge"); pay >= 0) {
    Attributes* a = b.attrs(pay);
    Str(a, "app.payment.card_type", rng.Chance(0.7) ? "visa" : "mastercard");
    Str(a, "app.payment.transaction.id", OrderId(rng));
    if (rng.Chance(0.5)) {
      b.Event(pay, 400, "fraud.check", [&](Attributes* ea) {
        Double(ea, "fraud.score", static_cast<double>(rng.Between(0, 1000)) / 1000.0);
        Str(ea, "fraud.model", "gbdt-2023-09");
      });
    }
  }
  if (int inv =
          b.HttpCall(co, kInventory, "POST", "/inventory/reservations", "/inventory/reservations");
      inv >= 0) {
    b.Postgres(inv, "inventory", "SELECT", "stock",
               "SELECT sku, available, reserved FROM stock WHERE sku = ANY($1) FOR UPDATE");
    b.Postgres(inv, "inventory", "UPDATE", "stock",
               "UPDATE stock SET reserved = reserved + $1, updated_at = now() WHERE sku = $2");
  }
  if (int ship = b.HttpCall(co, kShipping, "POST", "/shipping/orders", "/shipping/orders");
      ship >= 0) {
    Attributes* a = b.attrs(ship);
    Str(a, "app.shipping.carrier", rng.Chance(0.5) ? "dhl" : "ups");
    b.Kafka(ship, "orders", order);
  }
  if (int cart = b.HttpCall(co, kCart, "DELETE", "/cart/{userId}", absl::StrCat("/cart/", user));
      cart >= 0) {
    b.Redis(cart, "DEL", absl::StrCat("cart:", user));
  }
  if (int pc = b.RpcCall(co, kProductCatalog, "shop.ProductCatalogService", "GetProducts");
      pc >= 0) {
    b.Postgres(pc, "catalog", "SELECT", "products",
               "SELECT id, name, price_units, price_nanos FROM products WHERE id = ANY($1)");
  }
  Attributes* a = b.attrs(co);
  Str(a, "app.order.id", order);
  Int(a, "app.order.items", items);
  b.Event(co, 900, "order.placed", [&](Attributes* ea) {
    Str(ea, "app.order.id", order);
    Double(ea, "app.order.total", static_cast<double>(rng.Between(500, 99999)) / 100.0);
    Int(ea, "app.order.items", items);
    Bool(ea, "app.order.expedited", rng.Chance(0.2));
  });
}

void ProductFlow(TraceBuilder& b, Rng& rng, int root, const std::string& product) {
  if (int pc = b.RpcCall(root, kProductCatalog, "shop.ProductCatalogService", "GetProduct");
      pc >= 0) {
    Str(b.attrs(pc), "app.product.id", product);
    b.Postgres(pc, "catalog", "SELECT", "products",
               "SELECT id, name, description, picture, price_units, price_nanos, categories "
               "FROM products WHERE id = $1");
  }
  if (int rec = b.HttpCall(root, kRecommendation, "GET", "/recommendations",
                           absl::StrCat("/recommendations?productId=", product));
      rec >= 0) {
    std::vector<std::string> picks;
    for (int i = 0; i < 4; ++i) picks.push_back(ProductId(rng));
    StrArray(b.attrs(rec), "app.recommendation.product_ids", picks);
    if (int pc = b.RpcCall(rec, kProductCatalog, "shop.ProductCatalogService", "ListProducts");
        pc >= 0) {
      b.Postgres(pc, "catalog", "SELECT", "products",
                 "SELECT id, name, price_units, price_nanos FROM products WHERE categories && "
                 "$1 ORDER BY popularity DESC LIMIT 5");
    }
  }
  if (int inv = b.HttpCall(root, kInventory, "GET", "/inventory/{sku}",
                           absl::StrCat("/inventory/", product));
      inv >= 0) {
    b.Postgres(inv, "inventory", "SELECT", "stock", "SELECT available FROM stock WHERE sku = $1");
  }
}

void CartFlow(TraceBuilder& b, Rng& rng, int root, const std::string& user,
              const std::string& product) {
  if (int pc = b.RpcCall(root, kProductCatalog, "shop.ProductCatalogService", "GetProduct");
      pc >= 0) {
    Str(b.attrs(pc), "app.product.id", product);
    b.Postgres(pc, "catalog", "SELECT", "products",
               "SELECT id, name, price_units, price_nanos FROM products WHERE id = $1");
  }
  if (int cart = b.HttpCall(root, kCart, "POST", "/cart/{userId}/items",
                            absl::StrCat("/cart/", user, "/items"));
      cart >= 0) {
    Attributes* a = b.attrs(cart);
    Str(a, "app.product.id", product);
    Int(a, "app.cart.quantity", rng.Between(1, 4));
    const std::string key = absl::StrCat("cart:", user);
    b.Redis(cart, "HGET", absl::StrCat(key, " ", product));
    b.Redis(cart, "HSET", absl::StrCat(key, " ", product, " ?"));
    b.Redis(cart, "EXPIRE", absl::StrCat(key, " 2592000"));
  }
}

// Internal span names for padding a short trace, by language.
constexpr const char* kFillerNames[][3] = {
    {"middleware - query", "middleware - expressInit", "middleware - jsonParser"},
    {"validate request", "load config", "encode response"},
    {"OrderRepository.findById", "PricingService.quote", "AuditLogger.log"},
    {"render_template", "validate_payload", "serialize_response"},
    {"CartStore.Load", "CartStore.Validate", "CartStore.Serialize"},
};

// Makes the trace exactly `target` spans long (see the header comment).
void FitToBudget(TraceBuilder& b, Rng& rng, size_t target) {
  std::vector<Node>& nodes = b.nodes();
  // Drop optional client spans, last first, re-parenting their children.
  for (size_t i = nodes.size(); i-- > 0 && nodes.size() > target;) {
    if (!nodes[i].optional) continue;
    const int parent = nodes[i].parent;
    for (Node& n : nodes) {
      if (n.parent == static_cast<int>(i)) n.parent = parent;
      if (n.parent > static_cast<int>(i)) --n.parent;
    }
    nodes.erase(nodes.begin() + static_cast<ptrdiff_t>(i));
  }
  // Pre-order: the last node is a leaf, so trimming the tail keeps every parent.
  if (nodes.size() > target) nodes.resize(target);
  while (nodes.size() < target) {
    std::vector<int> servers;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].type == NodeType::kServer) servers.push_back(static_cast<int>(i));
    }
    const int at = servers[rng.Below(servers.size())];
    const int lang = static_cast<int>(b.service(nodes[at].service).lang);
    b.Internal(at, kFillerNames[lang][rng.Below(3)]);
  }
}

// Fails one span and marks its ancestors failed too, as instrumentations do when the
// error propagates up the call chain.
void InjectError(TraceBuilder& b, Rng& rng) {
  std::vector<Node>& nodes = b.nodes();
  if (nodes.size() < 2) return;
  const int at = static_cast<int>(rng.Between(1, static_cast<int64_t>(nodes.size()) - 1));
  Node& n = nodes[at];
  const ServiceModel& svc = b.service(n.service);
  const LangInfo& lang = svc.lang_info();
  std::string type = lang.exception_type;
  std::string message;
  switch (n.type) {
    case NodeType::kDb:
      message = n.scope == ScopeKind::kRedis
                    ? "Timeout performing HGETALL (5000ms), inst: 1, qs: 12, in: 0"
                    : "ERROR: could not serialize access due to concurrent update";
      break;
    case NodeType::kProducer:
      message = "kafka: client has run out of available brokers to talk to";
      break;
    case NodeType::kClient:
      message = "read ECONNRESET";
      break;
    case NodeType::kServer:
      message = n.scope == ScopeKind::kRpc ? "rpc error: code = Unavailable desc = upstream "
                                             "connect error or disconnect/reset before headers"
                                           : "upstream request timeout";
      break;
    case NodeType::kInternal:
      message = "TypeError: Cannot read properties of undefined (reading 'priceUsd')";
      type = "TypeError";
      break;
  }
  const std::string stack =
      absl::StrCat(type, ": ", message, "\n    at ", svc.name, ".handler (/app/src/",
                   n.span.name().substr(0, 12), ".js:", rng.Between(20, 400),
                   ":17)\n    at process.processTicksAndRejections (node:internal/process/"
                   "task_queues:95:5)\n    at async Layer.handle (/app/node_modules/express/lib/"
                   "router/layer.js:95:5)\n    at async next (/app/node_modules/express/lib/"
                   "router/route.js:144:13)");
  n.span.mutable_status()->set_code(Status::STATUS_CODE_ERROR);
  n.span.mutable_status()->set_message(message);
  b.Event(at, 980, "exception", [&](Attributes* ea) {
    Str(ea, "exception.type", type);
    Str(ea, "exception.message", message);
    Str(ea, "exception.stacktrace", stack);
  });
  n.own_ns += static_cast<int64_t>(rng.LogUniform(1e6, 50e6));  // failures are slow
  for (int i = at; i >= 0; i = nodes[i].parent) {
    Attributes* a = nodes[i].span.mutable_attributes();
    nodes[i].span.mutable_status()->set_code(Status::STATUS_CODE_ERROR);
    if (!SetInt(a, "http.status_code", i == at ? 503 : 500)) {
      SetInt(a, "rpc.grpc.status_code", 14);
    }
  }
}

// Assigns start offsets and durations: children run one after another inside their parent.
int64_t Layout(std::vector<Node>& nodes, Rng& rng, int at, int64_t start) {
  Node& n = nodes[at];
  n.start_ns = start;
  int64_t cursor = start;
  if (n.type == NodeType::kClient) {
    n.net_ns = static_cast<int64_t>(rng.LogUniform(100e3, 800e3));
    cursor += n.net_ns;
  } else {
    cursor += n.own_ns / 2;
  }
  for (size_t k = 0; k < n.children.size(); ++k) {
    const int64_t child_end = Layout(nodes, rng, n.children[k], cursor);
    cursor = child_end + static_cast<int64_t>(rng.LogUniform(10e3, 200e3));
  }
  Node& m = nodes[at];  // `nodes` does not grow here, but keep the reference obvious
  if (m.type == NodeType::kClient) {
    cursor += m.children.empty() ? static_cast<int64_t>(rng.LogUniform(500e3, 20e6)) : 0;
    cursor += m.net_ns;
  } else {
    cursor += m.own_ns - m.own_ns / 2;
  }
  m.duration_ns = cursor - start;
  return cursor;
}

void RandomBytes(Rng& rng, std::string& out, size_t n) {
  out.resize(n);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng.Next();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  if (out.find_first_not_of('\0') == std::string::npos) out[0] = 1;
}

GeneratorOptions Normalized(GeneratorOptions options) {
  options.services = std::max(1, options.services);
  options.traces_per_request = std::max(1, options.traces_per_request);
  options.spans_per_trace = std::max(1, options.spans_per_trace);
  return options;
}

}  // namespace

TraceGenerator::TraceGenerator(const GeneratorOptions& options)
    : options_(Normalized(options)), catalog_(options_.seed, options_.services) {
  for (int i = 0; i < catalog_.size(); ++i) service_names_.push_back(catalog_[i].name);
}

pb::collector::trace::v1::ExportTraceServiceRequest TraceGenerator::Generate(uint64_t index) const {
  const ServiceCatalog& services = catalog_;
  Rng rng(Mix64(options_.seed ^ Mix64(index + 0x10adULL)));
  const uint64_t request_start = options_.base_time_unix_nano + index * 100'000'000ULL;

  struct Placed {
    int service;
    int replica;
    ScopeKind scope;
    Span span;
  };
  std::vector<Placed> placed;
  placed.reserve(static_cast<size_t>(options_.traces_per_request) * options_.spans_per_trace);
  std::string previous_trace_id, previous_root_id;

  for (int t = 0; t < options_.traces_per_request; ++t) {
    TraceBuilder b(services, rng);
    const std::string user = absl::StrCat("u-", rng.Between(100000, 999999));
    const std::string product = ProductId(rng);
    const uint64_t flow = rng.Below(100);
    int root;
    if (flow < 40) {
      root = b.Root("POST", "/api/checkout", "/api/checkout", user);
    } else if (flow < 75) {
      root =
          b.Root("GET", "/api/products/{productId}", absl::StrCat("/api/products/", product), user);
    } else {
      root = b.Root("POST", "/api/cart", "/api/cart", user);
    }
    if (options_.services > kCoreServices) {
      const int extra =
          kCoreServices +
          static_cast<int>(rng.Below(static_cast<uint64_t>(options_.services - kCoreServices)));
      const std::string path = absl::StrCat("/", services[extra].name, "/v1/lookup");
      b.HttpCall(root, extra, "GET", path, absl::StrCat(path, "?user=", user));
    }
    if (flow < 40) {
      CheckoutFlow(b, rng, root, user);
    } else if (flow < 75) {
      ProductFlow(b, rng, root, product);
    } else {
      CartFlow(b, rng, root, user, product);
    }
    FitToBudget(b, rng, static_cast<size_t>(options_.spans_per_trace));
    if (rng.Chance(options_.error_rate)) InjectError(b, rng);

    std::vector<Node>& nodes = b.nodes();
    for (Node& n : nodes) n.children.clear();
    for (size_t i = 1; i < nodes.size(); ++i) nodes[nodes[i].parent].children.push_back(i);
    Layout(nodes, rng, 0, 0);

    std::string trace_id;
    RandomBytes(rng, trace_id, 16);
    std::vector<std::string> span_ids(nodes.size());
    for (std::string& id : span_ids) RandomBytes(rng, id, 8);
    const uint64_t trace_start = request_start + rng.Below(1'000'000'000ULL);

    if (t > 0 && rng.Chance(0.03)) {
      auto* link = nodes[0].span.add_links();
      link->set_trace_id(previous_trace_id);
      link->set_span_id(previous_root_id);
      Str(link->mutable_attributes(), "app.link.reason", "retry");
      Int(link->mutable_attributes(), "app.retry.attempt", rng.Between(1, 3));
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      Node& n = nodes[i];
      Span& s = n.span;
      s.set_trace_id(trace_id);
      s.set_span_id(span_ids[i]);
      const bool remote_parent = n.parent >= 0 && nodes[n.parent].service != n.service;
      if (n.parent >= 0) s.set_parent_span_id(span_ids[n.parent]);
      s.set_flags(remote_parent ? 0x301 : 0x101);
      const uint64_t start = trace_start + static_cast<uint64_t>(n.start_ns);
      s.set_start_time_unix_nano(start);
      s.set_end_time_unix_nano(start + static_cast<uint64_t>(n.duration_ns));
      for (auto& e : *s.mutable_events()) {
        e.set_time_unix_nano(start +
                             static_cast<uint64_t>(n.duration_ns) * e.time_unix_nano() / 1000);
      }
      placed.push_back(Placed{n.service, b.replica(n.service), n.scope, std::move(s)});
    }
    previous_trace_id = trace_id;
    previous_root_id = span_ids[0];
  }

  // Group as an SDK exporter or a collector batch would: by resource, then by scope, in
  // order of first appearance.
  pb::collector::trace::v1::ExportTraceServiceRequest request;
  std::map<std::pair<int, int>, pb::trace::v1::ResourceSpans*> resources;
  std::map<std::pair<pb::trace::v1::ResourceSpans*, std::string>, pb::trace::v1::ScopeSpans*>
      scopes;
  for (Placed& p : placed) {
    const LangInfo& lang = services[p.service].lang_info();
    auto [rit, new_resource] = resources.try_emplace({p.service, p.replica}, nullptr);
    if (new_resource) {
      rit->second = request.add_resource_spans();
      rit->second->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
      catalog_.FillResource(p.service, p.replica, rit->second->mutable_resource());
    }
    const std::string scope_name = lang.scopes[static_cast<int>(p.scope)];
    auto [sit, new_scope] = scopes.try_emplace({rit->second, scope_name}, nullptr);
    if (new_scope) {
      sit->second = rit->second->add_scope_spans();
      sit->second->mutable_scope()->set_name(scope_name);
      sit->second->mutable_scope()->set_version(lang.scope_version);
    }
    *sit->second->add_spans() = std::move(p.span);
  }
  return request;
}

pb::collector::trace::v1::ExportTraceServiceRequest RealisticRequest(
    const GeneratorOptions& options, uint64_t index) {
  return TraceGenerator(options).Generate(index);
}

}  // namespace strand::testdata
