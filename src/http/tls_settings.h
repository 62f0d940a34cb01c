// TlsSettings: a listener's TLS, in the OpenTelemetry Collector's terms (configtls):
// `cert_file` and `key_file` turn TLS on; `client_ca_file` requires and verifies client
// certificates (mTLS); `min_version` is "1.2" or "1.3"; the files are read again when
// they change, checked every `reload_interval` (cert-manager rotates them in place).
// Plain data; no Boost or OpenSSL here, so configuration code can include it.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace strand::http {

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  std::string min_version = "1.2";
  std::chrono::milliseconds reload_interval{10'000};

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// InvalidArgument naming `where` (e.g. "strand.api.tls") when the settings cannot work:
// one of cert_file / key_file without the other, client_ca_file without them, a
// min_version other than 1.2 or 1.3, a file that cannot be read.
absl::Status ValidateTlsSettings(const TlsSettings& tls, const std::string& where);

}  // namespace strand::http
