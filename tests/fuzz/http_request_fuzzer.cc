// libFuzzer target for the HTTP request path: the bytes a client sends go through the
// server's parser, limits and refusals (http::ParseHttpRequest, the same steps a connection
// takes). Any input must be refused with one of the documented statuses, be incomplete, or
// give a request whose fields are consistent.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http_server.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "http_request_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

constexpr size_t kMaxBody = 4096;
constexpr size_t kMaxHeader = 2048;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  strand::http::HttpParseResult r = strand::http::ParseHttpRequest(bytes, kMaxBody, kMaxHeader);
  switch (r.status) {
    case 0:
      break;
    case 400:
    case 411:
    case 413:
    case 414:
    case 431:
    case 501:
      if (r.reason.empty()) Fail("refusal without a reason", std::to_string(r.status));
      if (r.complete) Fail("refused and complete", r.reason);
      return 0;
    default:
      Fail("undocumented refusal status", std::to_string(r.status) + " " + r.reason);
  }
  if (!r.complete) return 0;
  const strand::http::HttpRequest& req = r.request;
  if (req.method.empty()) Fail("request without a method", req.target);
  if (!req.body_too_large && req.body.size() > kMaxBody) Fail("body over the limit", req.target);
  if (req.body_too_large && !req.body.empty()) Fail("a refused body was kept", req.target);
  if (req.path.size() > req.target.size()) Fail("decoded path longer than the target", req.target);
  for (const auto& [name, value] : req.headers) {
    for (char c : name) {
      if (c >= 'A' && c <= 'Z') Fail("header name not lower-cased", name);
    }
  }
  return 0;
}
