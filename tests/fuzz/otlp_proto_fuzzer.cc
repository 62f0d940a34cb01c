// libFuzzer target for the OTLP protobuf decoder. Any input must either fail with
// InvalidArgument or decode into a batch whose every index and range is in bounds, and
// re-encoding that batch must give bytes that decode to the same spans.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "otlp/batch_testutil.h"
#include "otlp/proto_decoder.h"
#include "otlp/proto_encoder.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "otlp_proto_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace otlp = strand::otlp;
  absl::StatusOr<otlp::DecodedRequest> decoded =
      otlp::DecodeProtoRequest(std::string(reinterpret_cast<const char*>(data), size));
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
  // Reads every byte the batch refers to, so ASan sees any view outside the buffer.
  const std::string dump = otlp::testutil::DumpBatch(batch);

  absl::StatusOr<otlp::DecodedRequest> again =
      otlp::DecodeProtoRequest(otlp::EncodeExportRequest(batch));
  if (!again.ok()) Fail("re-encoded batch does not decode", again.status().ToString());
  if (again->rejected_spans != 0) Fail("re-encoded batch has rejected spans", dump);
  if (std::string after = otlp::testutil::DumpBatch(again->batch); after != dump) {
    Fail("protobuf round trip changed the batch", dump + "\n---- became ----\n" + after);
  }
  return 0;
}
