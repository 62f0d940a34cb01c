// Small response builders shared by the API's handlers.
#pragma once

#include <string>

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

inline HttpResponse JsonResponse(std::string body) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace strand::api
