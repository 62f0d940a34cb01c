#include "loadgen/trace_verifier.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/hex.h"
#include "otlp/proto_decoder.h"

namespace strand::loadgen {
namespace {

constexpr size_t kMaxProblems = 10;

size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string IdHex(const uint8_t* id, size_t n) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(id), n));
}

}  // namespace

TraceVerifier::TraceVerifier(std::string base_url,
                             std::vector<std::pair<std::string, std::string>> headers,
                             std::chrono::milliseconds timeout)
    : base_url_(std::move(base_url)), headers_(std::move(headers)), timeout_(timeout) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

VerifyResult TraceVerifier::Verify(const std::vector<SentTrace>& traces) const {
  VerifyResult result;
  auto problem = [&result](std::string text) {
    if (result.problems.size() < kMaxProblems) result.problems.push_back(std::move(text));
  };
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) {
    result.errors = static_cast<int>(traces.size());
    problem("curl_easy_init failed");
    return result;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/protobuf");
  for (const auto& [key, value] : headers_) {
    headers = curl_slist_append(headers, absl::StrCat(key, ": ", value).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           curl_slist_free_all);
  std::string body;
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &body);

  for (const SentTrace& trace : traces) {
    ++result.checked;
    const std::string hex = IdHex(trace.trace_id.data(), 16);
    const std::string url = absl::StrCat(base_url_, "/api/traces/", hex);
    body.clear();
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    const CURLcode rc = curl_easy_perform(easy.get());
    if (rc != CURLE_OK) {
      ++result.errors;
      problem(absl::StrCat(hex, ": ", curl_easy_strerror(rc)));
      continue;
    }
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status == 404) {
      ++result.missing;
      problem(absl::StrCat(hex, ": not found (404)"));
      continue;
    }
    if (status != 200) {
      ++result.errors;
      problem(absl::StrCat(hex, ": HTTP ", status, " ", body.substr(0, 200)));
      continue;
    }
    auto decoded = otlp::DecodeProtoRequest(std::move(body));
    body = std::string();
    if (!decoded.ok()) {
      ++result.errors;
      problem(absl::StrCat(hex, ": answer does not decode: ", decoded.status().message()));
      continue;
    }
    std::vector<std::array<uint8_t, 8>> got, other_traces;
    for (const otlp::Span& s : decoded->batch.spans) {
      std::array<uint8_t, 8> id;
      std::memcpy(id.data(), s.span_id.data(), 8);
      if (std::memcmp(s.trace_id.data(), trace.trace_id.data(), 16) == 0) {
        got.push_back(id);
      } else {
        other_traces.push_back(id);
      }
    }
    std::vector<std::array<uint8_t, 8>> want = trace.span_ids;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    if (got == want && other_traces.empty()) {
      ++result.complete;
      continue;
    }
    ++result.incomplete;
    std::vector<std::array<uint8_t, 8>> lost, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(lost));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    std::string text = absl::StrCat(hex, ": got ", got.size(), " spans, sent ", want.size(), " (",
                                    lost.size(), " missing, ", extra.size(), " unexpected");
    if (!other_traces.empty())
      absl::StrAppend(&text, ", ", other_traces.size(), " of other traces");
    if (!lost.empty()) absl::StrAppend(&text, ", e.g. missing span ", IdHex(lost[0].data(), 8));
    problem(text + ")");
  }
  return result;
}

}  // namespace strand::loadgen
