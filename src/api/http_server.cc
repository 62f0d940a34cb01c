#include "api/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/listen.h"
#include "common/hex.h"
#include "common/logging.h"

namespace strand::api {

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

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(options_.threads),
        acceptor_(asio::make_strand(ioc_)) {}

  absl::Status Listen() {
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
    });
    for (int waited = 0; pending_.load() > 0 && waited < grace_ms; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }

  class Session;
  void DoAccept();

  HttpServerOptions options_;
  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<int> pending_{0};  // responses owed to clients
};

class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr size_t kReadBufferBytes = 64 * 1024;

  Session(tcp::socket&& socket, Impl& server) : stream_(std::move(socket)), server_(server) {}

  void Start() {
    // Beast reads at most (capacity - size) bytes, and never less than 512: without room
    // a 200 KB body would arrive in ~400 reads of 512 bytes, each a syscall and a timer.
    buffer_.reserve(kReadBufferBytes);
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    // No body limit while the header is parsed (Beast would fail on Content-Length before
    // the other headers are read); the declared length is checked in OnHeader.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(300));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return Close();
    auto& req = parser_->get();
    auto cl = parser_->content_length();
    if (cl && *cl > server_.options_.max_body_bytes) {
      too_large_ = true;
      return Dispatch();
    }
    parser_->body_limit(server_.options_.max_body_bytes);  // for chunked bodies
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      too_large_ = true;
      return Dispatch();
    }
    if (ec) return Close();
    Dispatch();
  }

  void Dispatch() {
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    ParseTarget(req);
    for (const auto& field : msg) {
      req.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                               std::string(field.value()));
    }
    req.body_too_large = too_large_;
    if (!too_large_) req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive() && !too_large_;
    version_ = msg.version();
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) req.remote_address = remote.address().to_string();
    server_.pending_.fetch_add(1);
    auto self = shared_from_this();
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
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->server_.pending_.fetch_sub(1);
                        if (!ec && self->too_large_) return self->CloseAndDrain();
                        if (ec || !self->keep_alive_) return self->Close();
                        self->too_large_ = false;
                        self->ReadHeader();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // After refusing a body we did not read: half-close, then read and discard what the
  // client is still sending (for a few seconds at most), so closing the socket does not
  // reset the connection before the client has read our answer.
  void CloseAndDrain() {
    Close();
    stream_.expires_after(std::chrono::seconds(5));
    drain_ = std::make_unique<char[]>(kDrainChunk);
    Drain();
  }
  void Drain() {
    stream_.async_read_some(asio::buffer(drain_.get(), kDrainChunk),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();
                            });
  }
  static constexpr size_t kDrainChunk = 64 * 1024;
  std::unique_ptr<char[]> drain_;

  beast::tcp_stream stream_;
  Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool too_large_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      LOG_WARN("{}: accept failed: {}", options_.name, ec.message());
    } else {
      beast::error_code opt_ec;
      s.set_option(tcp::no_delay(true), opt_ec);
      std::make_shared<Session>(std::move(s), *this)->Start();
    }
    if (!stopped_) DoAccept();
  });
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
void HttpServer::Stop(int grace_ms) {
  if (impl_) impl_->Stop(grace_ms);
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

}  // namespace strand::api
