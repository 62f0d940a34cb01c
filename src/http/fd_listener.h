// FdListener: a listening TCP socket whose accept loop Strand owns, for servers that take
// connections as file descriptors (gRPC's external connection acceptor).
//
// gRPC's own listener stops accepting for good after accept() fails with EMFILE; this one
// waits and tries again, logging one line a second at most. Before handing a connection
// on it checks the process's descriptor headroom: when fewer than `reserve_fds`
// descriptors remain under RLIMIT_NOFILE, or `max_connections` connections were handed on
// and are still counted open by `open_connections`, the new connection is closed at once.
//
// Thread-safe: Start/Stop from one thread; the callback runs on the listener's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace strand::http {

struct FdListenerOptions {
  std::string address;  // host:port; port 0 picks a free port
  std::string name = "listener";  // for logs
  // Descriptors kept free for the rest of the process (WAL, blocks, queries).
  size_t reserve_fds = 64;
};

class FdListener {
 public:
  // `on_connection(listener_fd, fd)` owns `fd` from the call on; it is non-blocking and
  // close-on-exec.
  using Callback = std::function<void(int listener_fd, int fd)>;

  static absl::StatusOr<std::unique_ptr<FdListener>> Start(FdListenerOptions options,
                                                           Callback on_connection);
  ~FdListener();
  FdListener(const FdListener&) = delete;
  FdListener& operator=(const FdListener&) = delete;

  int port() const;
  // Connections refused for want of descriptors so far.
  uint64_t refused() const;
  // Stops accepting; connections already handed on are not affected.
  void Stop();

  class Impl;

 private:
  explicit FdListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Descriptors the process has open now (entries of /proc/self/fd).
size_t OpenFdCount();

}  // namespace strand::http
