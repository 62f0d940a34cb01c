// A self-signed certificate (ECDSA P-256) for a set of DNS names: the webhook's serving
// certificate (its own CA, so the PEM goes into the MutatingWebhookConfiguration's caBundle
// as is) and the certificates of TLS tests.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strand::http {

struct CertificatePair {
  std::string cert_pem;
  std::string key_pem;
};

// `dns_names` must not be empty: the first is also the subject's common name.
absl::StatusOr<CertificatePair> MakeSelfSignedCertificate(const std::vector<std::string>& dns_names,
                                                          int valid_days);

}  // namespace strand::http
