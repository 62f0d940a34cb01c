// Small response builders shared by the API's handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "http/http_server.h"
#include "http/status_codes.h"

namespace strand::http {

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
  return StatusTextResponse(absl::UnavailableError(why.message()));
}

// A query reads and gathers data: while the memory limit (may be null) is reached it is
// refused up front, as MemoryRefusal, rather than adding to it. Nothing is taken.
inline std::optional<HttpResponse> RefuseUnderMemoryPressure(const MemoryBudget* memory,
                                                             std::string_view what) {
  if (memory == nullptr) return std::nullopt;
  if (absl::Status s = memory->CheckAdmission(0, what); !s.ok()) return MemoryRefusal(s);
  return std::nullopt;
}

inline HttpResponse JsonResponse(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace strand::http
