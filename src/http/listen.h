// The listening socket both Strand's HTTP servers open (the API and OTLP/HTTP server, and
// the webhook's TLS server). Kept out of http_server.h so that its users need no Boost.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "absl/status/status.h"

namespace strand::http {

// Opens `acceptor` on `address` (host:port; port 0 picks a free one) with SO_REUSEADDR
// and starts listening. InvalidArgument for a bad address, Unavailable (naming `name`) when
// the port cannot be bound.
absl::Status ListenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                      const std::string& name);

// True when accept() failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
// ENOMEM): the connection stays queued and an immediate retry would fail the same way.
bool IsAcceptResourceShortage(const boost::system::error_code& ec);

}  // namespace strand::http
