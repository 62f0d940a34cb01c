#include "pipeline/exporter/otlp/otlp_grpc_sender.h"

#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/compression.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace strand::pipeline {
namespace {

constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusCode ToAbsl(grpc::StatusCode code) { return static_cast<absl::StatusCode>(code); }

// Reads a varint at `p`; false when the bytes end first.
bool ReadVarint(std::string_view& s, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !s.empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(s[0]);
    s.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// The delay of a google.rpc.RetryInfo (field 1: Duration{1: seconds, 2: nanos}), or -1.
int64_t RetryInfoDelay(std::string_view info) {
  uint64_t tag, len;
  while (!info.empty()) {
    if (!ReadVarint(info, tag)) return -1;
    if ((tag & 7) != 2) return -1;
    if (!ReadVarint(info, len) || len > info.size()) return -1;
    std::string_view field = info.substr(0, len);
    info.remove_prefix(len);
    if ((tag >> 3) != 1) continue;
    int64_t seconds = 0, nanos = 0;
    while (!field.empty()) {
      uint64_t t, v;
      if (!ReadVarint(field, t) || (t & 7) != 0 || !ReadVarint(field, v)) return -1;
      if ((t >> 3) == 1) seconds = static_cast<int64_t>(v);
      if ((t >> 3) == 2) nanos = static_cast<int64_t>(v);
    }
    return seconds * 1'000'000'000 + nanos;
  }
  return -1;
}

}  // namespace
}  // namespace strand::pipeline

// gRPC sends a byte buffer made by grpc_raw_compressed_byte_buffer_create as it is, with the
// message's compressed flag set, instead of compressing it again. grpc::ByteBuffer has no
// public way to adopt such a buffer; this is the peer class its header declares for that.
namespace grpc::internal {
class GrpcByteBufferPeer {
 public:
  explicit GrpcByteBufferPeer(ByteBuffer* bb) : bb_(bb) {}
  void Adopt(grpc_byte_buffer* raw) { bb_->set_buffer(raw); }

 private:
  ByteBuffer* bb_;
};
}  // namespace grpc::internal

namespace strand::pipeline {
namespace {

grpc::ByteBuffer PrecompressedBuffer(std::string&& gzip) {
  // The slice owns the string (no copy); gRPC frees it once the message is sent.
  auto* owned = new std::string(std::move(gzip));
  grpc_slice slice = grpc_slice_new_with_user_data(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  grpc::ByteBuffer bb;
  grpc::internal::GrpcByteBufferPeer(&bb).Adopt(
      grpc_raw_compressed_byte_buffer_create(&slice, 1, GRPC_COMPRESS_GZIP));
  grpc_slice_unref(slice);
  return bb;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpGrpcSender>> OtlpGrpcSender::Create(
    OtlpGrpcSenderOptions options) {
  std::unique_ptr<OtlpGrpcSender> s(new OtlpGrpcSender());
  std::string target = options.endpoint;
  if (absl::StartsWith(target, "http://")) {
    target = target.substr(7);
  } else if (absl::StartsWith(target, "https://")) {
    target = target.substr(8);
  }
  if (target.empty()) return absl::InvalidArgumentError("endpoint must be set");
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls.insecure) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    if (options.tls.insecure_skip_verify) {
      return absl::InvalidArgumentError(
          "tls::insecure_skip_verify: not supported for gRPC; give tls::ca_file instead");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options.tls.ca_file.empty()) {
      auto ca = ReadFile(options.tls.ca_file, "tls::ca_file");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (!options.tls.cert_file.empty() || !options.tls.key_file.empty()) {
      auto cert = ReadFile(options.tls.cert_file, "tls::cert_file");
      if (!cert.ok()) return cert.status();
      auto key = ReadFile(options.tls.key_file, "tls::key_file");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
    if (!options.tls.server_name_override.empty()) {
      args.SetSslTargetNameOverride(options.tls.server_name_override);
    }
  }
  // gRPC's own gzip is zlib at its default level; Strand compresses the message itself
  // (libdeflate, common/compression.h) and hands gRPC the compressed bytes (Send).
  args.SetCompressionAlgorithm(GRPC_COMPRESS_NONE);
  const std::string c = absl::AsciiStrToLower(options.compression);
  if (c == "gzip") {
    s->gzip_ = true;
  } else if (c != "none" && !c.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "compression \"", options.compression, "\": not supported over gRPC (use gzip or none)"));
  }
  s->channel_ = grpc::CreateCustomChannel(target, creds, args);
  s->stub_ = std::make_unique<grpc::GenericStub>(s->channel_);
  s->options_ = std::move(options);
  return s;
}

OtlpGrpcSender::~OtlpGrpcSender() = default;

std::string OtlpGrpcSender::Describe() const {
  return absl::StrCat("otlp (gRPC) ", options_.endpoint);
}

SendResult OtlpGrpcSender::Send(std::string_view body, int64_t timeout_nanos) {
  grpc::ClientContext ctx;
  if (timeout_nanos > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(timeout_nanos));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [k, v] : options_.headers) metadata[absl::AsciiStrToLower(k)] = v;
  if (options_.auth != nullptr) {
    for (const auto& [k, v] : options_.auth->Headers()) metadata[absl::AsciiStrToLower(k)] = v;
  }
  for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
  grpc::ByteBuffer request;
  if (gzip_) {
    auto compressed = Compress("gzip", body);
    if (!compressed.ok()) return {compressed.status(), false, 0, 0};
    ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    request = PrecompressedBuffer(std::move(*compressed));
  } else {
    grpc::Slice slice(body.data(), body.size());
    request = grpc::ByteBuffer(&slice, 1);
  }
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub_->UnaryCall(&ctx, kExportMethod, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
  done.WaitForNotification();
  SendResult r;
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (response.Dump(&slices).ok()) {
      for (const auto& sl : slices)
        bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse resp;
    if (!bytes.empty() && resp.ParseFromString(bytes) && resp.has_partial_success()) {
      r.rejected_spans = static_cast<uint64_t>(resp.partial_success().rejected_spans());
    }
    return r;
  }
  r.status = absl::Status(ToAbsl(status.error_code()),
                          absl::StrCat(Describe(), ": ", status.error_message()));
  int64_t delay = -1;
  if (!status.error_details().empty()) {
    google::rpc::Status details;
    if (details.ParseFromString(status.error_details())) {
      for (const auto& any : details.details()) {
        if (absl::EndsWith(any.type_url(), "google.rpc.RetryInfo")) {
          delay = RetryInfoDelay(any.value());
        }
      }
    }
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::DATA_LOSS:
      r.retryable = true;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      r.retryable = delay >= 0;
      break;
    default:
      break;
  }
  if (delay > 0) r.retry_after_nanos = delay;
  return r;
}

}  // namespace strand::pipeline
