#include "http/fd_listener.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <thread>

#include "http/listen.h"
#include "common/log_limiter.h"
#include "common/logging.h"

namespace strand::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

size_t OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t n = 0;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n >= 3 ? n - 3 : 0;  // ".", ".." and the directory's own descriptor
}

namespace {

size_t FdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return static_cast<size_t>(rl.rlim_cur);
}

}  // namespace

class FdListener::Impl {
 public:
  Impl(FdListenerOptions options, Callback cb)
      : options_(std::move(options)), callback_(std::move(cb)), acceptor_(ioc_), retry_(ioc_) {}

  absl::Status Listen() {
    if (absl::Status s = ListenOn(acceptor_, options_.address, options_.name); !s.ok()) return s;
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    thread_ = std::thread([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    asio::post(ioc_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      retry_.cancel();
    });
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  uint64_t refused() const { return refused_.load(); }

 private:
  void DoAccept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || stopped_) return;
      if (ec) return Backoff(ec);
      HandOn(std::move(s));
      DoAccept();
    });
  }

  // accept() failed; with descriptors or memory short the queued connection would fail
  // again at once, so wait for some to be released.
  void Backoff(const boost::system::error_code& ec) {
    LOG_WARN_LIMITED(accept_log_, "{}: accept failed: {}", options_.name, ec.message());
    retry_.expires_after(std::chrono::milliseconds(IsAcceptResourceShortage(ec) ? 100 : 10));
    retry_.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && !stopped_) DoAccept();
    });
  }

  void HandOn(tcp::socket s) {
    const size_t limit = FdLimit();
    const size_t in_use = limit != SIZE_MAX ? OpenFdCount() : 0;
    if (limit != SIZE_MAX && in_use + options_.reserve_fds >= limit) {
      refused_.fetch_add(1);
      LOG_WARN_LIMITED(refuse_log_,
                       "{}: refusing a connection: {} of {} file descriptors in use, {} kept "
                       "in reserve",
                       options_.name, in_use, limit, options_.reserve_fds);
      boost::system::error_code ignored;
      s.close(ignored);
      return;
    }
    boost::system::error_code opt_ec;
    s.set_option(tcp::no_delay(true), opt_ec);
    const int fd = s.release(opt_ec);
    if (opt_ec) return;
    // accept() gave a blocking descriptor; the receiving server polls it and must never
    // block in read() (gRPC's external connections assume non-blocking sockets).
    const int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      close(fd);
      return;
    }
    callback_(acceptor_.native_handle(), fd);
  }

  FdListenerOptions options_;
  Callback callback_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> refused_{0};
  LogLimiter accept_log_;
  LogLimiter refuse_log_;
};

FdListener::FdListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FdListener::~FdListener() { Stop(); }

absl::StatusOr<std::unique_ptr<FdListener>> FdListener::Start(FdListenerOptions options,
                                                              Callback on_connection) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(on_connection));
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<FdListener>(new FdListener(std::move(impl)));
}

int FdListener::port() const { return impl_->port(); }
uint64_t FdListener::refused() const { return impl_->refused(); }
void FdListener::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace strand::http
