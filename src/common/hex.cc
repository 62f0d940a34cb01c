#include "common/hex.h"

#include "absl/strings/escaping.h"

namespace strand {
int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

bool HexDecode(std::string_view hex, char* out) {
  if (hex.size() % 2 != 0) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigitValue(hex[i]);
    int lo = HexDigitValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  if (!HexDecode(hex, out.data())) return std::nullopt;
  return out;
}

std::string Base64Encode(std::string_view bytes) { return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size())); }

std::optional<std::string> Base64Decode(std::string_view b64) {
  std::string out;
  absl::string_view in(b64.data(), b64.size());
  if (absl::Base64Unescape(in, &out)) return out;
  if (absl::WebSafeBase64Unescape(in, &out)) return out;
  return std::nullopt;
}

}  // namespace strand
