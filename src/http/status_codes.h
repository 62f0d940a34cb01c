// The one mapping from absl::Status codes to HTTP statuses and gRPC codes that every
// listener answers with (the OTLP receivers, the Tempo API, the collector's extensions).
#pragma once

#include "absl/status/status.h"
#include "http/http_server.h"

namespace strand::http {

// InvalidArgument 400, Unauthenticated 401, PermissionDenied 403, NotFound 404,
// ResourceExhausted 429, Unimplemented 501, Unavailable 503, DeadlineExceeded 504;
// everything else (DataLoss, Internal, ...) 500.
int HttpStatusFor(absl::StatusCode code);

// gRPC's status codes are absl's canonical numbers.
inline int GrpcCodeFor(absl::StatusCode code) { return static_cast<int>(code); }

// A plain-text answer carrying `status`'s message with HttpStatusFor's status; 429 and
// 503 say when to retry (Retry-After: 1). `status` must not be OK.
HttpResponse StatusTextResponse(const absl::Status& status);

}  // namespace strand::http
