// Protobuf wire types: the low three bits of a field's tag, as the protobuf encoding spec
// defines them. Shared by the hand-written OTLP decoder and encoder.
#pragma once

#include <cstdint>

namespace strand::otlp {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

}  // namespace strand::otlp
