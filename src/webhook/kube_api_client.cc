#include "webhook/kube_api_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace strand::webhook {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

absl::StatusOr<KubeApiOptions> KubeApiClient::InClusterOptions() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return absl::FailedPreconditionError(
        "not in a Kubernetes pod: KUBERNETES_SERVICE_HOST/PORT are not set (use "
        "--instrumentation-source file:DIR outside a cluster)");
  }
  KubeApiOptions o;
  const std::string h = host;
  o.server = h.find(':') != std::string::npos ? absl::StrCat("https://[", h, "]:", port)
                                              : absl::StrCat("https://", h, ":", port);
  return o;
}

absl::StatusOr<std::string> KubeApiClient::Get(const std::string& path) {
  return Request("GET", path);
}

absl::StatusOr<std::string> KubeApiClient::Request(const std::string& method,
                                                   const std::string& path, const std::string& body,
                                                   const std::string& content_type) {
  std::ifstream token_in(options_.token_file);
  std::stringstream token;
  token << token_in.rdbuf();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  const std::string url = options_.server + path;
  std::string response;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string auth =
      absl::StrCat("Authorization: Bearer ", absl::StripAsciiWhitespace(token.str()));
  if (!token.str().empty()) headers = curl_slist_append(headers, auth.c_str());
  const std::string ctype = absl::StrCat("Content-Type: ", content_type);
  if (!body.empty()) headers = curl_slist_append(headers, ctype.c_str());
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  if (!body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(method, " ", url, ": ", curl_easy_strerror(rc)));
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return response;
  const std::string what = absl::StrCat(method, " ", path, ": HTTP ", code, ": ", response);
  switch (code) {
    case 404:
      return absl::NotFoundError(what);
    case 409:
      return absl::AlreadyExistsError(what);
    case 401:
    case 403:
      return absl::PermissionDeniedError(what);
    default:
      return absl::InternalError(what);
  }
}

}  // namespace strand::webhook
