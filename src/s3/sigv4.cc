#include "s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hex.h"

namespace strand::s3 {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool Unreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string Encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 15]);
    }
  }
  return out;
}

// A header value as canonical headers hold it: trimmed, inner runs of spaces made one.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size()))) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view text) { return Encode(text, false); }
std::string UriEncodePath(std::string_view path) { return Encode(path, true); }

std::string Sha256Hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::string AmzDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigningResult SignV4(const SigningInput& input, const Credentials& credentials,
                     std::string_view region, std::string_view service, std::string_view amz_date) {
  SigningResult r;
  // Query: encoded names and values, sorted by name, then value.
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(input.query.size());
  for (const auto& [name, value] : input.query)
    query.emplace_back(UriEncode(name), UriEncode(value));
  std::sort(query.begin(), query.end());
  std::vector<std::string> query_parts;
  query_parts.reserve(query.size());
  for (const auto& [name, value] : query) query_parts.push_back(absl::StrCat(name, "=", value));

  // Headers: lower-case names, sorted; repeated names joined with commas, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(input.headers.size());
  for (const auto& [name, value] : input.headers) {
    headers.emplace_back(absl::AsciiStrToLower(name), CanonicalValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  std::vector<std::string> names;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      absl::StrAppend(&canonical_headers, ",", headers[i].second);
      continue;
    }
    if (i > 0) canonical_headers.push_back('\n');
    absl::StrAppend(&canonical_headers, headers[i].first, ":", headers[i].second);
    names.push_back(headers[i].first);
  }
  canonical_headers.push_back('\n');
  r.signed_headers = absl::StrJoin(names, ";");

  r.canonical_request = absl::StrCat(input.method, "\n", input.path.empty() ? "/" : input.path,
                                     "\n", absl::StrJoin(query_parts, "&"), "\n", canonical_headers,
                                     "\n", r.signed_headers, "\n", input.payload_hash);
  // (Debian's Abseil has its own string_view: these go through std::string.)
  const std::string date(amz_date.substr(0, 8));
  const std::string scope =
      absl::StrCat(date, "/", std::string(region), "/", std::string(service), "/aws4_request");
  r.string_to_sign = absl::StrCat("AWS4-HMAC-SHA256\n", std::string(amz_date), "\n", scope, "\n",
                                  Sha256Hex(r.canonical_request));
  std::string key = HmacSha256(absl::StrCat("AWS4", credentials.secret_key), date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  const std::string mac = HmacSha256(key, r.string_to_sign);
  r.signature = HexEncode(mac);
  r.authorization = absl::StrCat("AWS4-HMAC-SHA256 Credential=", credentials.access_key, "/", scope,
                                 ",SignedHeaders=", r.signed_headers, ",Signature=", r.signature);
  return r;
}

}  // namespace strand::s3
