// A blocking HTTP client for tests (libcurl). Test-only.
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <string>
#include <utility>
#include <vector>

namespace strand::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string Header(const std::string& lower) const {
    for (const auto& [k, v] : headers) {
      if (k == lower) return v;
    }
    return {};
  }
};

inline size_t CurlWrite(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

inline size_t CurlHeader(char* p, size_t size, size_t n, void* out) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<HttpResult*>(out)->headers.emplace_back(name, value);
  }
  return size * n;
}

// Percent-encodes everything but unreserved characters (for query parameters).
inline std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// TLS for HttpCall: trust `ca_file`; present `cert_file`/`key_file` when set (mTLS).
// `resolve` is curl's "host:port:address" pinning (to test a certificate's name).
struct TlsClient {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string resolve;
  bool max_tls12 = false;  // offer TLS 1.2 at most
};

inline HttpResult HttpCall(const std::string& method, const std::string& url,
                           const std::string& body = "",
                           const std::vector<std::string>& headers = {},
                           const TlsClient* tls = nullptr) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_slist* resolve = nullptr;
  if (tls != nullptr) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls->ca_file.c_str());
    if (!tls->cert_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->cert_file.c_str());
    if (!tls->key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->key_file.c_str());
    if (tls->max_tls12) {
      const long versions = static_cast<long>(CURL_SSLVERSION_TLSv1_2) |
                            static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2);
      curl_easy_setopt(curl, CURLOPT_SSLVERSION, versions);
    }
    if (!tls->resolve.empty()) {
      resolve = curl_slist_append(resolve, tls->resolve.c_str());
      curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    }
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT" || !body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Expect:");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    result.content_type = result.Header("content-type");
  }
  curl_slist_free_all(list);
  curl_slist_free_all(resolve);
  curl_easy_cleanup(curl);
  return result;
}

// A TCP connection to 127.0.0.1:port for sending raw bytes; -1 when it cannot connect.
inline int RawConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool RawSend(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes or `timeout` passes. `closed` says which it was.
inline std::string RawReadUntilClose(int fd, std::chrono::milliseconds timeout,
                                     bool* closed = nullptr) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (closed) *closed = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (closed) *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// Uses up the process's file descriptors (lowering RLIMIT_NOFILE near the current count
// and opening /dev/null until open fails), leaving `keep_free` descriptors free. Release()
// (or the destructor) closes them and restores the limit. Test-only; not thread-safe.
class DescriptorExhaustion {
 public:
  explicit DescriptorExhaustion(int keep_free) {
    // UBSan checks a virtual call's dynamic type through a pipe the first time it meets a
    // type; with no descriptor left that check fails. One formatted log line beforehand
    // caches it for the logger and fmt's buffer, which the server uses while descriptors
    // are out.
    spdlog::warn("test: using up file descriptors; {} will fail ({})", "the server's accept()",
                 std::string("EMFILE"));
    getrlimit(RLIMIT_NOFILE, &saved_);
    const int highest = open("/dev/null", O_RDONLY);
    if (highest < 0) return;
    fillers_.push_back(highest);
    rlimit tight = saved_;
    tight.rlim_cur = static_cast<rlim_t>(highest + 16);
    setrlimit(RLIMIT_NOFILE, &tight);
    for (int fd; (fd = open("/dev/null", O_RDONLY)) >= 0;) fillers_.push_back(fd);
    for (int i = 0; i < keep_free && !fillers_.empty(); ++i) {
      close(fillers_.back());
      fillers_.pop_back();
    }
  }
  ~DescriptorExhaustion() { Release(); }
  void Release() {
    for (int fd : fillers_) close(fd);
    fillers_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fillers_;
};

// Sends `request` on a new connection and returns what came back before the server
// closed it (or 5 s passed).
inline std::string RawExchange(int port, std::string_view request) {
  int fd = RawConnect(port);
  if (fd < 0) return "connect failed";
  RawSend(fd, request);
  std::string out = RawReadUntilClose(fd, std::chrono::seconds(5));
  close(fd);
  return out;
}

}  // namespace strand::testing
