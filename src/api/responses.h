// Small response builders shared by the API's handlers.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "api/http_server.h"

namespace strand::api {

// A plain-text answer, ending with a newline.
inline HttpResponse TextResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body.push_back('\n');
  return r;
}

// 503 with Retry-After: the memory limit cannot hold the work now (`why` says so).
inline HttpResponse MemoryRefusal(const absl::Status& why) {
  HttpResponse r = TextResponse(503, std::string(why.message()));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

inline HttpResponse JsonResponse(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace strand::api
