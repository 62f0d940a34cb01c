// HttpServer: a small asynchronous HTTP/1.1 server (Boost.Beast) shared by the OTLP/HTTP
// receiver and the Tempo API.
//
// Each request is handed to the handler on an I/O thread together with a Responder. The
// handler may answer at once or later from any thread (for example once the WAL has made
// the data durable); the connection waits for the answer before reading the next request
// (HTTP/1.1 keep-alive without pipelining). Bodies over `max_body_bytes` are not read: the
// handler sees the request with `body_too_large` set. `Expect: 100-continue` is honoured.
//
// Hostile clients are bounded (docs/security.md):
//   - at most `max_connections` connections; past it a new connection gets 503 and is
//     closed at once, so file descriptors are never exhausted by one listener;
//   - a connection idle between requests longer than `idle_timeout`, a request line and
//     header not complete within `read_header_timeout` (slowloris), or a body making no
//     progress for `body_read_timeout` is closed;
//   - malformed requests are answered by the server itself, with a reason, and the
//     connection is closed: 400 (bad request line, header, Content-Length or chunk, both
//     Content-Length and Transfer-Encoding), 411 (a POST/PUT/PATCH body with no length),
//     414 (request line over `max_header_bytes`), 431 (header over it), 501 (a transfer
//     coding other than chunked);
//   - a body that the memory budget cannot hold is refused with 503 and Retry-After
//     before it is read (HttpServerOptions::memory);
//   - accept() failing for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS) backs
//     off and retries, logging one line a second at most.
//
// Thread-safe: Start/Stop from one thread; Responders from any thread, exactly once each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "http/tls_settings.h"
#include "common/memory_budget.h"

namespace strand::http {

// A request body's lease that stays with the original when a request is copied: a copy
// (a handler rewriting headers, say) holds no memory of its own.
struct BodyLease {
  MemoryLease lease;
  BodyLease() = default;
  BodyLease(const BodyLease&) {}
  BodyLease& operator=(const BodyLease&) { return *this; }
  BodyLease(BodyLease&&) noexcept = default;
  BodyLease& operator=(BodyLease&&) noexcept = default;
};

struct HttpRequest {
  std::string method;
  std::string target;                                        // path and query as received
  std::string path;                                          // percent-decoded once
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  bool body_too_large = false;
  std::string remote_address;
  // The body's bytes, held from the server's memory budget (empty without one). Keep it
  // for as long as the body, or what was made of it, is held. Only moves carry it.
  BodyLease body_lease;

  // First header with this lower-case name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  // First query parameter with this name, or empty; `found` says whether it was present.
  std::string_view Query(std::string_view name, bool* found = nullptr) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Responder = std::function<void(HttpResponse&&)>;
using HttpHandler = std::function<void(HttpRequest&&, Responder)>;

// How much of the server one client may hold (strand.connections in the configuration).
struct ConnectionLimits {
  size_t max_connections = 0;          // per listener; 0 means DefaultMaxConnections()
  size_t max_header_bytes = 64 << 10;  // request line plus header fields
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_header_timeout{10'000};
  std::chrono::milliseconds body_read_timeout{30'000};
};

struct HttpServerOptions {
  std::string address = "127.0.0.1:3200";  // host:port; port 0 picks a free port
  int threads = 2;
  size_t max_body_bytes = 64 << 20;
  std::string name = "http";  // for logs
  ConnectionLimits limits;
  TlsSettings tls;  // off unless cert_file and key_file are set
  // The process's memory limit (may be null): a body's bytes are taken from it before
  // they are read (the declared Content-Length, or chunk by chunk); a body it cannot hold
  // is answered 503 with Retry-After and not read.
  MemoryBudget* memory = nullptr;
};

// Connections one listener accepts by default: a quarter of the process's descriptor limit
// (RLIMIT_NOFILE) after a reserve for files, at least 64.
size_t DefaultMaxConnections();

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  int port() const;
  // Connections open now.
  size_t connections() const;
  // Stops accepting, waits up to `grace_ms` for answers still owed, then stops the threads.
  void Stop(int grace_ms = 2000);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The server's reading of one request's bytes, without a connection: the same parser,
// limits and refusals as a Session (for the fuzzer and tests).
struct HttpParseResult {
  int status = 0;      // the refusal the server would answer (400, 411, 413, ...), or 0
  std::string reason;  // why, when refused
  bool complete = false;  // a whole request was read (then `request` holds it)
  HttpRequest request;
};
HttpParseResult ParseHttpRequest(std::string_view bytes, size_t max_body_bytes,
                                 size_t max_header_bytes);

// Splits "host:port" (also "[v6]:port" and ":port"). Returns InvalidArgument on a bad form.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view address);

// Percent-decodes `s` ('+' stays '+' unless `plus_is_space`).
std::string PercentDecode(std::string_view s, bool plus_is_space = false);

}  // namespace strand::http
