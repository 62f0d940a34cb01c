// AWS Signature Version 4 for S3 requests (the Authorization header form): the canonical
// request, the string to sign, the derived signing key and the signature, as the AWS
// documentation defines them ("Authenticating Requests: Using the Authorization Header").
// The S3 client signs every request with it; the tests check it against the published
// AWS examples.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strand::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials (sent as x-amz-security-token)
};

// What is signed of one request.
struct SigningInput {
  std::string method;  // GET, PUT, POST, DELETE, HEAD
  // The path as sent on the wire, already encoded with UriEncodePath (S3 signs it as it
  // is: no second encoding, no normalization).
  std::string path;
  // Query parameters, not encoded (names and values are encoded and sorted here).
  // A parameter without a value (e.g. "uploads") has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // The headers to sign, names in any case; must include host and x-amz-date (and for
  // S3 x-amz-content-sha256). Values are trimmed and inner runs of spaces collapsed.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header's value
};

// Signs `input` at `amz_date` (YYYYMMDDTHHMMSSZ, the x-amz-date header's value) for
// `region` and `service` ("s3").
SigningResult SignV4(const SigningInput& input, const Credentials& credentials,
                     std::string_view region, std::string_view service, std::string_view amz_date);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// as they are, every other byte as %XX with upper-case hex; '/' kept by UriEncodePath.
std::string UriEncode(std::string_view text);
std::string UriEncodePath(std::string_view path);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// The x-amz-date form (YYYYMMDDTHHMMSSZ, UTC) of a Unix time in seconds.
std::string AmzDate(int64_t unix_seconds);

}  // namespace strand::s3
