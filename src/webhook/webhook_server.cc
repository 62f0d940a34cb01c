#include "webhook/webhook_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "http/http_server.h"
#include "http/listen.h"
#include "webhook/admission.h"

namespace strand::webhook {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;  // Beast's; Strand's own is strand::http
using tcp = asio::ip::tcp;

class WebhookServer::Impl {
 public:
  Impl(WebhookServerOptions options, const PodMutator& mutator)
      : options_(std::move(options)),
        mutator_(mutator),
        ioc_(options_.threads),
        acceptor_(asio::make_strand(ioc_)) {}

  absl::Status Listen() {
    {
      absl::MutexLock lock(&mu_);
      auto ctx = LoadContext();
      if (!ctx.ok()) return ctx.status();
      ctx_ = std::move(*ctx);
    }
    if (absl::Status s = strand::http::ListenOn(acceptor_, options_.address, "webhook"); !s.ok()) return s;
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }

  // The TLS context for a new connection; reloaded when the PEM files change.
  std::shared_ptr<ssl::context> Context() {
    absl::MutexLock lock(&mu_);
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(options_.cert_file, ec);
    if (!ec && mtime != cert_mtime_) {
      auto ctx = LoadContext();
      if (ctx.ok()) {
        ctx_ = std::move(*ctx);
        LOG_INFO("webhook: reloaded the certificate {}", options_.cert_file);
      } else {
        LOG_WARN("webhook: keeping the old certificate: {}", std::string(ctx.status().message()));
      }
    }
    return ctx_;
  }

  strand::http::HttpResponse Handle(const http::request<http::string_body>& req) {
    strand::http::HttpResponse r;
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (target == "/healthz") {
      r.body = "ok\n";
    } else if (target == "/mutate-v1-pod") {
      if (req.method() != http::verb::post) {
        r.status = 405;
        r.body = "POST an AdmissionReview\n";
      } else {
        AdmissionAnswer a = HandleAdmissionReview(req.body(), mutator_);
        r.status = a.status;
        r.body = std::move(a.body);
        if (a.status == 200) r.content_type = "application/json";
      }
    } else {
      r.status = 404;
      r.body = "not found: the webhook serves /mutate-v1-pod and /healthz\n";
    }
    return r;
  }

 private:
  absl::StatusOr<std::shared_ptr<ssl::context>> LoadContext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    std::error_code fs_ec;
    cert_mtime_ = std::filesystem::last_write_time(options_.cert_file, fs_ec);
    ctx->use_certificate_chain_file(options_.cert_file, ec);
    if (!ec) ctx->use_private_key_file(options_.key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("webhook: TLS certificate ",
                                                     options_.cert_file, " / key ",
                                                     options_.key_file, ": ", ec.message()));
    }
    return ctx;
  }

  void DoAccept();

  WebhookServerOptions options_;
  const PodMutator& mutator_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::shared_ptr<ssl::context> ctx_ ABSL_GUARDED_BY(mu_);
  std::filesystem::file_time_type cert_mtime_ ABSL_GUARDED_BY(mu_);
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  friend class Session;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ssl::context> ctx, WebhookServer::Impl& server,
          size_t max_body)
      : ctx_(std::move(ctx)),
        stream_(std::move(socket), *ctx_),
        server_(server),
        max_body_(max_body) {}

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec) self->Read();
                            });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(max_body_);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;  // closed, timed out or too large: drop the connection
                       self->Respond();
                     });
  }

  void Respond() {
    const auto& req = parser_->get();
    strand::http::HttpResponse r = server_.Handle(req);
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version());
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::content_type, r.content_type);
    res->body() = std::move(r.body);
    res->keep_alive(req.keep_alive());
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  std::shared_ptr<ssl::context> ctx_;  // outlives the stream that uses it
  beast::ssl_stream<beast::tcp_stream> stream_;
  WebhookServer::Impl& server_;
  size_t max_body_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void WebhookServer::Impl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      LOG_WARN("webhook: accept failed: {}", ec.message());
    } else {
      std::make_shared<Session>(std::move(s), Context(), *this, options_.max_body_bytes)->Start();
    }
    if (!stopped_) DoAccept();
  });
}

WebhookServer::WebhookServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookServer::~WebhookServer() { Stop(); }

absl::StatusOr<std::unique_ptr<WebhookServer>> WebhookServer::Start(WebhookServerOptions options,
                                                                    const PodMutator& mutator) {
  auto impl = std::make_unique<Impl>(std::move(options), mutator);
  absl::Status s = impl->Listen();
  if (!s.ok()) return s;
  return std::unique_ptr<WebhookServer>(new WebhookServer(std::move(impl)));
}

int WebhookServer::port() const { return impl_->port(); }
void WebhookServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace strand::webhook
