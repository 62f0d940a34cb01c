#include "pipeline/config/server_tls.h"

#include <algorithm>

namespace strand::pipeline {

void ReadServerTls(ConfigMap& protocol, http::TlsSettings& tls) {
  if (!protocol.Has("tls")) return protocol.Ignore("tls");
  ConfigMap t = protocol.Sub("tls");
  t.Read("cert_file", tls.cert_file);
  t.Read("key_file", tls.key_file);
  t.Read("client_ca_file", tls.client_ca_file);
  t.Read("min_version", tls.min_version);
  int64_t reload = 0;
  t.ReadDuration("reload_interval", reload);
  if (reload > 0) tls.reload_interval = std::chrono::milliseconds(std::max<int64_t>(1, reload / 1'000'000));
  std::string max_version;
  t.Read("max_version", max_version);
  if (!max_version.empty() && max_version != "1.3") {
    t.Fail("max_version", "not supported: Strand offers TLS up to 1.3");
  }
  for (const char* key : {"cert_pem", "key_pem", "client_ca_pem", "ca_pem"}) {
    t.Unsupported(key, "inline PEM; give the file (cert_file, key_file, client_ca_file)");
  }
  t.Unsupported("ca_file", "on a receiver; client_ca_file verifies client certificates");
  t.Unsupported("cipher_suites", "choosing cipher suites (OpenSSL's defaults apply)");
  t.Ignore("include_system_ca_certs_pool");
  (void)t.Finish();
  if (tls.cert_file.empty() != tls.key_file.empty() ||
      (!tls.client_ca_file.empty() && tls.cert_file.empty())) {
    protocol.Fail("tls", "cert_file and key_file go together, and client_ca_file needs them");
  }
}

}  // namespace strand::pipeline
