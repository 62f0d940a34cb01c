// TlsContextSource: the OpenSSL server context of one TLS listener, built from the files
// its TlsSettings name and built again when they change (their size or modification time
// differs when looked at, at most once per reload_interval). Connections take the current
// context when they start and keep it; a reload that fails (a half-written file) keeps the
// previous context and logs the reason.
//
// Thread-safe.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "http/tls_settings.h"
#include "common/clock.h"

namespace strand::http {

class TlsContextSource {
 public:
  // Fails with InvalidArgument when the files do not make a context. `clock` (null: the
  // real one) must outlive the source.
  static absl::StatusOr<std::unique_ptr<TlsContextSource>> Create(TlsSettings settings,
                                                                  const Clock* clock = nullptr);

  // The context for a new connection.
  std::shared_ptr<boost::asio::ssl::context> Current();

  // Times the files were read into a new context since Create (for tests and /metrics).
  int reloads() const;

 private:
  TlsContextSource(TlsSettings settings, const Clock* clock);
  // A fingerprint of the files (size and modification time of each).
  std::string Stamp() const;

  const TlsSettings settings_;
  const Clock* clock_;
  mutable absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  std::string stamp_ ABSL_GUARDED_BY(mu_);
  int64_t next_check_nanos_ ABSL_GUARDED_BY(mu_) = 0;
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
};

// Builds a server context from `settings` (exposed for tests).
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsSettings& settings);

}  // namespace strand::http
