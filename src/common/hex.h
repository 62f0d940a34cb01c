// Hex and base64 helpers for IDs on the wire (OTLP/JSON uses hex, protobuf JSON base64).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strand {

// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);

std::string HexEncode(std::string_view bytes);
// Decodes hex digits (either case) into `out`, which must hold hex.size()/2 bytes.
// Returns false on an odd length or a non-hex character.
bool HexDecode(std::string_view hex, char* out);
std::optional<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with optional padding; URL-safe characters are accepted too.
std::optional<std::string> Base64Decode(std::string_view b64);

}  // namespace strand
