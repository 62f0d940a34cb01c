// The server side of the Collector's configtls: a listener's `tls:` section (the otlp
// receiver's protocols, the health_check and zpages extensions).
#pragma once

#include "http/tls_settings.h"
#include "pipeline/config/config_map.h"

namespace strand::pipeline {

// Reads `parent`'s `tls:` section (cert_file, key_file, client_ca_file, min_version,
// reload_interval) into `tls`; leaves it off when there is none. Errors go to `parent`.
void ReadServerTls(ConfigMap& parent, http::TlsSettings& tls);

}  // namespace strand::pipeline
