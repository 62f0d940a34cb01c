#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "http/listen.h"
#include "http/tls_context.h"
#include "common/status_macros.h"
#include "common/hex.h"
#include "common/log_limiter.h"
#include "common/logging.h"

namespace strand::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::string_view HttpRequest::Query(std::string_view name, bool* found) const {
  for (const auto& [k, v] : query) {
    if (k == name) {
      if (found) *found = true;
      return v;
    }
  }
  if (found) *found = false;
  return {};
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view address) {
  std::string host;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("bad listen address '", std::string(address), "'"));
    }
    host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad listen address '", std::string(address), "': want host:port"));
    }
    host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  int p;
  if (!absl::SimpleAtoi(std::string(port), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad port in listen address '", std::string(address), "'"));
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  return std::make_pair(host, p);
}

namespace {

void ParseTarget(HttpRequest& r) {
  std::string_view target = r.target;
  auto q = target.find('?');
  r.path = PercentDecode(target.substr(0, q));
  if (q == std::string_view::npos) return;
  const std::string query(target.substr(q + 1));
  for (absl::string_view part_av : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::string_view part(part_av.data(), part_av.size());
    auto eq = part.find('=');
    std::string key = PercentDecode(part.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1), true);
    r.query.emplace_back(std::move(key), std::move(value));
  }
}

}  // namespace

size_t DefaultMaxConnections() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 16384;
  const uint64_t reserve = 128;  // WAL, blocks, logs, outgoing connections
  const uint64_t budget = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
  return std::max<size_t>(64, static_cast<size_t>(budget / 4));
}

namespace {

// The reason phrase and status for a request the parser refused; 0 when `ec` is not a
// protocol error (the peer went away, a timeout, the server stopping).
std::pair<int, std::string_view> ProtocolErrorStatus(const beast::error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return {0, {}};
  switch (static_cast<http::error>(ec.value())) {
    case http::error::bad_line_ending:
      return {400, "malformed line ending"};
    case http::error::bad_method:
      return {400, "malformed request line: bad method"};
    case http::error::bad_target:
      return {400, "malformed request line: bad target"};
    case http::error::bad_version:
      return {400, "malformed request line: bad HTTP version"};
    case http::error::bad_field:
      return {400, "malformed header field name"};
    case http::error::bad_value:
      return {400, "malformed header field value"};
    case http::error::bad_content_length:
      return {400, "bad Content-Length"};
    case http::error::bad_transfer_encoding:
      return {400, "bad Transfer-Encoding (repeated, or sent together with Content-Length)"};
    case http::error::bad_chunk:
      return {400, "bad chunk size or chunk framing"};
    case http::error::bad_chunk_extension:
      return {400, "bad chunk extension"};
    case http::error::bad_obs_fold:
      return {400, "obsolete header line folding is not accepted"};
    case http::error::body_limit:
      return {413, "request body too large"};
    case http::error::header_limit:
      return {431, "request header fields too large"};
    default:
      return {0, {}};
  }
}

// What Beast accepts but we do not: a transfer coding other than chunked (the body's end
// would be unknown) and a body-carrying method with no declared length.
std::pair<int, std::string_view> FramingRefusal(const http::request_parser<http::string_body>& p) {
  const auto& req = p.get();
  if (req.count(http::field::transfer_encoding) > 0 && !p.chunked()) {
    return {501, "unsupported Transfer-Encoding: only chunked is accepted"};
  }
  const auto method = req.method();
  if ((method == http::verb::post || method == http::verb::put || method == http::verb::patch) &&
      !p.content_length() && !p.chunked()) {
    return {411, "a request body needs Content-Length or Transfer-Encoding: chunked"};
  }
  return {0, {}};
}

bool HasCompleteLine(std::string_view bytes) { return bytes.find('\n') != std::string_view::npos; }

// Copies what the parser read into the handler's request.
HttpRequest ToHttpRequest(http::request<http::string_body>& msg, bool body_too_large) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  ParseTarget(req);
  for (const auto& field : msg) {
    req.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                             std::string(field.value()));
  }
  req.body_too_large = body_too_large;
  if (!body_too_large) req.body = std::move(msg.body());
  return req;
}

}  // namespace

HttpParseResult ParseHttpRequest(std::string_view bytes, size_t max_body_bytes,
                                 size_t max_header_bytes) {
  HttpParseResult result;
  http::request_parser<http::string_body> parser;
  parser.eager(false);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(static_cast<uint32_t>(max_header_bytes));
  beast::error_code ec;
  size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
  auto refuse = [&](std::pair<int, std::string_view> r) {
    result.status = r.first;
    result.reason = std::string(r.second);
    return result;
  };
  if (ec == http::error::need_more) {
    // Beast needs the whole header before it reports the header limit.
    if (bytes.size() > max_header_bytes) {
      return refuse(HasCompleteLine(bytes) ? std::pair<int, std::string_view>{431, "header too large"}
                                           : std::pair<int, std::string_view>{414, "URI too long"});
    }
    return result;  // incomplete: a server would wait for more
  }
  if (ec) {
    auto r = ProtocolErrorStatus(ec);
    if (r.first == 431 && !HasCompleteLine(bytes)) r = {414, "request line (URI) too long"};
    return r.first != 0 ? refuse(r) : result;
  }
  if (auto r = FramingRefusal(parser); r.first != 0) return refuse(r);
  auto cl = parser.content_length();
  bool too_large = cl && *cl > max_body_bytes;
  if (!too_large) {
    parser.body_limit(max_body_bytes);
    bytes.remove_prefix(used);
    while (!parser.is_done() && !bytes.empty()) {
      used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      if (ec == http::error::body_limit) {
        too_large = true;
        break;
      }
      if (ec == http::error::need_more) break;
      if (ec) {
        auto r = ProtocolErrorStatus(ec);
        return r.first != 0 ? refuse(r) : result;
      }
      bytes.remove_prefix(used);
    }
    if (!too_large && !parser.is_done()) return result;
  }
  result.complete = true;
  result.request = ToHttpRequest(parser.get(), too_large);
  return result;
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(options_.threads),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {
    if (options_.limits.max_connections == 0) options_.limits.max_connections = DefaultMaxConnections();
  }

  absl::Status Listen() {
    if (options_.tls.enabled()) {
      RETURN_IF_ERROR(ValidateTlsSettings(options_.tls, options_.name + ".tls"));
      ASSIGN_OR_RETURN(tls_, TlsContextSource::Create(options_.tls));
    }
    if (absl::Status s = ListenOn(acceptor_, options_.address, options_.name); !s.ok()) return s;
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  void Stop(int grace_ms) {
    if (stopped_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      accept_retry_.cancel();
    });
    for (int waited = 0; pending_.load() > 0 && waited < grace_ms; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }

  template <typename Stream>
  class Session;
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket s);
  void RefuseOverCapacity(tcp::socket& s);

  HttpServerOptions options_;
  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> pending_{0};       // responses owed to clients
  std::atomic<size_t> connections_{0};  // Sessions alive
  LogLimiter accept_log_;
  LogLimiter refuse_log_;
  LogLimiter memory_log_;
  std::unique_ptr<TlsContextSource> tls_;  // null without TLS
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: plain (PlainStream) or TLS (TlsStream, after its handshake).
template <typename Stream>
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr size_t kReadBufferBytes = 64 * 1024;
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(tcp::socket&& socket, Impl& server) : stream_(std::move(socket)), server_(server) {
    server_.connections_.fetch_add(1);
  }
  // TLS: `ctx` is the listener's context when the connection came; the session keeps it.
  Session(tcp::socket&& socket, Impl& server, std::shared_ptr<asio::ssl::context> ctx)
      : ctx_(std::move(ctx)), stream_(std::move(socket), *ctx_), server_(server) {
    server_.connections_.fetch_add(1);
  }
  ~Session() { server_.connections_.fetch_sub(1); }

  void Start() {
    // Beast reads at most (capacity - size) bytes, and never less than 512: without room
    // a 200 KB body would arrive in ~400 reads of 512 bytes, each a syscall and a timer.
    buffer_.reserve(kReadBufferBytes);
    if constexpr (kTls) {
      // The handshake has the header's time limit; plaintext or a bad certificate fails it.
      Lowest().expires_after(server_.options_.limits.read_header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  LOG_DEBUG("{}: TLS handshake failed: {}",
                                            self->server_.options_.name, ec.message());
                                  return self->CloseSocket();
                                }
                                self->AwaitRequest();
                              });
    } else {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::AwaitRequest, this->shared_from_this()));
    }
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  std::shared_ptr<Session> Self() { return this->shared_from_this(); }

  // Between requests the connection may sit idle for `idle_timeout`; the request line and
  // header then have `read_header_timeout` from their first byte.
  void AwaitRequest() {
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(server_.options_.limits.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kReadBufferBytes),
        [self = Self()](beast::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    parser_.emplace();
    // No body limit while the header is parsed (Beast would fail on Content-Length before
    // the other headers are read); the declared length is checked in OnHeader.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->header_limit(static_cast<uint32_t>(server_.options_.limits.max_header_bytes));
    Lowest().expires_after(server_.options_.limits.read_header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, Self()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    if (auto [status, reason] = FramingRefusal(*parser_); status != 0) {
      return Refuse(status, reason);
    }
    auto cl = parser_->content_length();
    if (cl && *cl > server_.options_.max_body_bytes) {
      too_large_ = true;
      return Dispatch();
    }
    parser_->body_limit(server_.options_.max_body_bytes);  // for chunked bodies
    // The declared body is taken from the memory budget before any of it is read (Beast
    // reserves it whole); a chunked body is taken as it grows (OnBody).
    lease_ = MemoryLease(server_.options_.memory);
    if (cl && *cl > 0) {
      if (absl::Status s = lease_.TryResize(*cl, "request body"); !s.ok()) return RefuseMemory(s);
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = Self(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // The body is read a piece at a time so that a stalled sender is noticed: each piece
  // must arrive within `body_read_timeout`.
  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(server_.options_.limits.body_read_timeout);
    http::async_read_some(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnBody, Self()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      too_large_ = true;
      return Dispatch();
    }
    if (ec) return OnReadError(ec);
    const size_t held = parser_->get().body().capacity();
    if (held > lease_.bytes()) {
      if (absl::Status s = lease_.TryResize(held, "request body"); !s.ok()) return RefuseMemory(s);
    }
    ReadBody();
  }

  // The memory budget cannot hold the body: 503, retryable, and the body is not read.
  void RefuseMemory(const absl::Status& why) {
    LOG_WARN_LIMITED(server_.memory_log_, "{}: {}", server_.options_.name,
                     std::string(why.message()));
    lease_.Reset();
    Refuse(503, std::string(why.message()), {{"Retry-After", "1"}});
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == beast::error::timeout) {
      // Idle, or a request trickling in (slowloris). The stream closed the socket already.
      LOG_DEBUG("{}: closed a connection: request not received in time", server_.options_.name);
      return;
    }
    auto [status, reason] = ProtocolErrorStatus(ec);
    if (status == 431 && RequestLineIncomplete()) {
      return Refuse(414, "request line (URI) too long");
    }
    if (status != 0) return Refuse(status, reason);
    Close();  // the client went away, or the server is stopping
  }

  // True when the header limit was hit inside the request line: the parser has not taken
  // a target (it consumes the request line once it has parsed it) and no line is buffered.
  bool RequestLineIncomplete() const {
    if (!parser_->get().target().empty()) return false;
    auto data = buffer_.cdata();
    return !HasCompleteLine(std::string_view(static_cast<const char*>(data.data()), data.size()));
  }

  // Answers a request the server itself refuses, then closes the connection.
  void Refuse(int status, std::string_view reason,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    LOG_DEBUG("{}: refused a request with {}: {}", server_.options_.name, status, reason);
    keep_alive_ = false;
    drain_after_write_ = true;
    version_ = 11;
    HttpResponse r;
    r.status = status;
    r.body = std::string(reason) + "\n";
    r.headers = std::move(headers);
    server_.pending_.fetch_add(1);
    Write(std::move(r));
  }

  void Dispatch() {
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive() && !too_large_;
    version_ = msg.version();
    HttpRequest req = ToHttpRequest(msg, too_large_);
    if (!too_large_) req.body_lease.lease = std::move(lease_);
    lease_.Reset();
    drain_after_write_ = too_large_;
    beast::error_code ec;
    auto remote = Lowest().socket().remote_endpoint(ec);
    if (!ec) req.remote_address = remote.address().to_string();
    // The handler may take its time (the WAL's fsync); no read is outstanding meanwhile.
    Lowest().expires_never();
    server_.pending_.fetch_add(1);
    auto self = Self();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder responder = [self, answered](HttpResponse&& resp) {
      if (answered->exchange(true)) return;
      asio::post(self->stream_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
    };
    server_.handler_(std::move(req), std::move(responder));
  }

  void Write(HttpResponse&& resp) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(resp.status));
    res->set(http::field::server, "strand");
    res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->set(k, v);
    res->body() = std::move(resp.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    // A client that does not read its answer cannot hold the connection forever.
    Lowest().expires_after(server_.options_.limits.body_read_timeout);
    http::async_write(stream_, *res,
                      [self = Self(), res](beast::error_code ec, size_t) {
                        self->server_.pending_.fetch_sub(1);
                        if (!ec && self->drain_after_write_) return self->CloseAndDrain();
                        if (ec || !self->keep_alive_) return self->Close();
                        self->too_large_ = false;
                        self->AwaitRequest();
                      });
  }

  // Ends the connection: TLS says close_notify first (a second at most), then the TCP
  // send side is shut down.
  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = Self()](beast::error_code) { self->CloseSocket(); });
    } else {
      CloseSocket();
    }
  }
  void CloseSocket() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // After refusing a request we did not read in full: half-close, then read and discard
  // what the client is still sending (for a few seconds at most), so closing the socket
  // does not reset the connection before the client has read our answer.
  void CloseAndDrain() {
    Close();
    Lowest().expires_after(std::chrono::seconds(5));
    drain_ = std::make_unique<char[]>(kDrainChunk);
    Drain();
  }
  void Drain() {
    stream_.async_read_some(asio::buffer(drain_.get(), kDrainChunk),
                            [self = Self()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();
                            });
  }
  static constexpr size_t kDrainChunk = 64 * 1024;
  std::unique_ptr<char[]> drain_;

  std::shared_ptr<asio::ssl::context> ctx_;  // TLS only; outlives stream_
  Stream stream_;
  Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  MemoryLease lease_;  // the body being read
  bool too_large_ = false;
  bool drain_after_write_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    OnAccept(ec, std::move(s));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket s) {
  if (ec == asio::error::operation_aborted || stopped_) return;
  if (ec) {
    LOG_WARN_LIMITED(accept_log_, "{}: accept failed: {}", options_.name, ec.message());
    // Out of descriptors or memory: the pending connection stays queued and accept() would
    // fail again at once. Wait for connections to close instead of spinning.
    accept_retry_.expires_after(std::chrono::milliseconds(IsAcceptResourceShortage(ec) ? 100 : 10));
    accept_retry_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopped_) DoAccept();
    });
    return;
  }
  if (connections_.load() >= options_.limits.max_connections) {
    // (A TLS client reads the plaintext 503 as a failed handshake: closed either way.)
    RefuseOverCapacity(s);
  } else {
    beast::error_code opt_ec;
    s.set_option(tcp::no_delay(true), opt_ec);
    if (tls_ != nullptr) {
      std::make_shared<Session<TlsStream>>(std::move(s), *this, tls_->Current())->Start();
    } else {
      std::make_shared<Session<PlainStream>>(std::move(s), *this)->Start();
    }
  }
  DoAccept();
}

// A connection past the cap gets a short 503 written without blocking (a new socket's send
// buffer has room for it) and is closed at once.
void HttpServer::Impl::RefuseOverCapacity(tcp::socket& s) {
  LOG_WARN_LIMITED(refuse_log_, "{}: {} connections open, the limit; refusing a new one",
                   options_.name, options_.limits.max_connections);
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
      "Content-Type: text/plain\r\nContent-Length: 33\r\n\r\ntoo many connections; retry later";
  beast::error_code ec;
  s.non_blocking(true, ec);
  s.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(0); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              HttpHandler handler) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  auto status = impl->Listen();
  if (!status.ok()) return status;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }
size_t HttpServer::connections() const { return impl_->connections_.load(); }
void HttpServer::Stop(int grace_ms) {
  if (impl_) impl_->Stop(grace_ms);
}

bool IsAcceptResourceShortage(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == boost::system::errc::no_buffer_space ||
         ec == boost::system::errc::not_enough_memory;
}

absl::Status ListenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                      const std::string& name) {
  namespace asio = boost::asio;
  auto hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->first, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad listen host '", hp->first, "': ", ec.message()));
  }
  asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(hp->second));
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(name, ": cannot listen on ", address, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace strand::http
