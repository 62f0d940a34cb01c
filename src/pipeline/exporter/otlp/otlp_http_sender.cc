#include "pipeline/exporter/otlp/otlp_http_sender.h"

#include <curl/curl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/compression.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/json_encoder.h"

namespace strand::pipeline {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() &&
      absl::AsciiStrToLower(std::string(line.substr(0, kRetryAfter.size()))) == kRetryAfter) {
    std::string value(absl::StripAsciiWhitespace(std::string(line.substr(kRetryAfter.size()))));
    int64_t seconds = 0;
    if (absl::SimpleAtoi(value, &seconds) && seconds > 0) {
      *static_cast<int64_t*>(out) = seconds * 1'000'000'000;
    }
  }
  return size * n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpHttpSender>> OtlpHttpSender::Create(
    OtlpHttpSenderOptions options) {
  if (options.url.empty()) return absl::InvalidArgumentError("endpoint must be set");
  const std::string c = absl::AsciiStrToLower(options.compression);
  if (c != "gzip" && c != "zstd" && c != "deflate" && c != "snappy" && c != "none" && !c.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("compression \"", options.compression,
                     "\": not supported (use gzip, zstd, deflate, snappy or none)"));
  }
  options.compression = c == "none" ? "" : c;
  if (options.encoding != "proto" && options.encoding != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("encoding \"", options.encoding, "\": must be proto or json"));
  }
  std::unique_ptr<OtlpHttpSender> s(new OtlpHttpSender());
  s->options_ = std::move(options);
  return s;
}

OtlpHttpSender::~OtlpHttpSender() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

std::string OtlpHttpSender::Describe() const { return absl::StrCat("otlphttp ", options_.url); }

void* OtlpHttpSender::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void OtlpHttpSender::ReturnHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(handle);
}

SendResult OtlpHttpSender::Send(std::string_view body, int64_t timeout_nanos) {
  SendResult r;
  std::string payload;
  const bool json = options_.encoding == "json";
  if (json) {
    auto text = otlp::ProtoRequestToJson(body);
    if (!text.ok()) {
      r.status = text.status();
      return r;
    }
    payload = std::move(*text);
  }
  std::string_view out = json ? std::string_view(payload) : body;
  std::string compressed;
  if (!options_.compression.empty()) {
    auto z = Compress(options_.compression, out);
    if (!z.ok()) {
      r.status = z.status();
      return r;
    }
    compressed = std::move(*z);
    out = compressed;
  }
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) {
    r.status = absl::ResourceExhaustedError("curl_easy_init failed");
    r.retryable = true;
    return r;
  }
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(
      headers, json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
  if (!options_.compression.empty()) {
    headers = curl_slist_append(headers,
                                absl::StrCat("Content-Encoding: ", options_.compression).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  std::map<std::string, std::pair<std::string, std::string>> fields;  // by lower-case name
  for (const auto& [k, v] : options_.headers) fields[absl::AsciiStrToLower(k)] = {k, v};
  if (options_.auth != nullptr) {
    for (const auto& [k, v] : options_.auth->Headers()) fields[absl::AsciiStrToLower(k)] = {k, v};
  }
  for (const auto& [lower, field] : fields) {
    headers = curl_slist_append(headers, absl::StrCat(field.first, ": ", field.second).c_str());
  }
  std::string response;
  int64_t retry_after = 0;
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, out.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(out.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (timeout_nanos > 0) {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max<long>(1, timeout_nanos / 1'000'000));
  }
  if (!options_.tls.ca_file.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
  if (!options_.tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls.cert_file.c_str());
  }
  if (!options_.tls.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls.key_file.c_str());
  }
  long ssl_version = options_.tls.min_version == "1.3" ? CURL_SSLVERSION_TLSv1_3
                                                       : CURL_SSLVERSION_TLSv1_2;
  if (options_.tls.max_version == "1.2") ssl_version |= CURL_SSLVERSION_MAX_TLSv1_2;
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, ssl_version);
  if (options_.tls.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  ReturnHandle(curl);
  if (rc != CURLE_OK) {
    r.status = absl::UnavailableError(absl::StrCat(Describe(), ": ", curl_easy_strerror(rc)));
    r.retryable = true;
    return r;
  }
  if (code >= 200 && code < 300) {
    if (!json) {
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse resp;
      if (!response.empty() && resp.ParseFromString(response) && resp.has_partial_success()) {
        r.rejected_spans = static_cast<uint64_t>(resp.partial_success().rejected_spans());
      }
    }
    return r;
  }
  r.status = absl::Status(code == 429   ? absl::StatusCode::kResourceExhausted
                          : code >= 500 ? absl::StatusCode::kUnavailable
                                        : absl::StatusCode::kInvalidArgument,
                          absl::StrCat(Describe(), ": HTTP ", code));
  r.retryable = code == 429 || code == 502 || code == 503 || code == 504;
  r.retry_after_nanos = retry_after;
  return r;
}

}  // namespace strand::pipeline
