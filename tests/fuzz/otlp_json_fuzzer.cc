// libFuzzer target for the OTLP/JSON decoder. Any input must either fail with
// InvalidArgument or decode into a batch whose every index and range is in bounds, and that
// batch must come back unchanged through the protobuf encoder and decoder.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "otlp/batch_testutil.h"
#include "otlp/json_decoder.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "otlp_json_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace otlp = strand::otlp;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<otlp::DecodedRequest> decoded = otlp::DecodeJsonRequest(body);
  if (!decoded.ok()) {
    if (decoded.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("error is not InvalidArgument", decoded.status().ToString());
    }
    return 0;
  }
  const otlp::SpanBatch& batch = decoded->batch;
  if (std::string violation = otlp::testutil::BatchInvariantViolation(batch); !violation.empty()) {
    Fail("decoded batch is inconsistent", violation);
  }
  if ((decoded->rejected_spans == 0) != decoded->rejection_message.empty()) {
    Fail("rejected count and message disagree", decoded->rejection_message);
  }
  // Reads every string the batch refers to, so ASan sees any dangling view.
  const std::string dump = otlp::testutil::DumpBatch(batch);

  absl::StatusOr<otlp::DecodedRequest> again =
      otlp::DecodeProtoRequest(otlp::EncodeExportRequest(batch));
  if (!again.ok()) {
    // The protobuf decoder bounds value nesting lower than the JSON decoder does.
    if (absl::StrContains(again.status().message(), "nested")) return 0;
    Fail("re-encoded batch does not decode", again.status().ToString());
  }
  if (again->rejected_spans != 0) Fail("re-encoded batch has rejected spans", dump);
  if (std::string after = otlp::testutil::DumpBatch(again->batch); after != dump) {
    Fail("protobuf round trip changed the batch", dump + "\n---- became ----\n" + after);
  }
  return 0;
}
