#include "loadgen/patch_sites.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace strand::loadgen {
namespace {

// A minimal protobuf wire reader over one message's bytes.
class WireReader {
 public:
  WireReader(std::string_view bytes, size_t base)
      : p_(bytes.data()), end_(p_ + bytes.size()), start_(bytes.data()), base_(base) {}

  bool done() const { return p_ >= end_; }
  size_t offset() const { return base_ + static_cast<size_t>(p_ - start_); }

  bool Varint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  // Reads one field header; for a length-delimited field also its payload.
  bool Field(uint32_t& number, uint32_t& wire_type, std::string_view& payload,
             size_t& payload_offset) {
    uint64_t key;
    if (!Varint(key)) return false;
    number = static_cast<uint32_t>(key >> 3);
    wire_type = static_cast<uint32_t>(key & 7);
    payload_offset = offset();
    switch (wire_type) {
      case 0: {
        uint64_t ignored;
        return Varint(ignored);
      }
      case 1:
        return Skip(8);
      case 5:
        return Skip(4);
      case 2: {
        uint64_t len;
        if (!Varint(len) || len > static_cast<uint64_t>(end_ - p_)) return false;
        payload_offset = offset();
        payload = std::string_view(p_, len);
        p_ += len;
        return true;
      }
      default:
        return false;
    }
  }

 private:
  bool Skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
  const char* start_;
  size_t base_;
};

absl::Status Malformed(const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed request: ", what));
}

absl::Status ScanLink(std::string_view link, size_t base, PatchSites& sites) {
  WireReader r(link, base);
  while (!r.done()) {
    uint32_t number, wire_type;
    std::string_view payload;
    size_t at;
    if (!r.Field(number, wire_type, payload, at)) return Malformed("link");
    if (wire_type != 2) continue;
    if (number == 1 && payload.size() == 16) sites.trace_ids.push_back(at);
    if (number == 2 && payload.size() == 8) sites.span_ids.push_back(at);
  }
  return absl::OkStatus();
}

absl::Status ScanSpan(std::string_view span, size_t base, PatchSites& sites) {
  WireReader r(span, base);
  while (!r.done()) {
    uint32_t number, wire_type;
    std::string_view payload;
    size_t at;
    if (!r.Field(number, wire_type, payload, at)) return Malformed("span");
    if (wire_type == 1 && (number == 7 || number == 8)) {
      sites.times.push_back(at);
      continue;
    }
    if (wire_type != 2) continue;
    switch (number) {
      case 1:
        if (payload.size() != 16) return Malformed("trace ID not 16 bytes");
        sites.trace_ids.push_back(at);
        break;
      case 2:
        if (payload.size() != 8) return Malformed("span ID not 8 bytes");
        sites.span_ids.push_back(at);
        break;
      case 4:
        if (payload.size() == 8) sites.span_ids.push_back(at);
        break;
      case 11: {  // Event: time_unix_nano is fixed64 field 1
        WireReader e(payload, at);
        while (!e.done()) {
          uint32_t en, ew;
          std::string_view ep;
          size_t eat;
          if (!e.Field(en, ew, ep, eat)) return Malformed("event");
          if (en == 1 && ew == 1) sites.times.push_back(eat);
        }
        break;
      }
      case 13: {
        absl::Status s = ScanLink(payload, at, sites);
        if (!s.ok()) return s;
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

// Walks `bytes` and calls `inner` on every length-delimited field `number`.
template <typename F>
absl::Status ForEach(std::string_view bytes, size_t base, uint32_t want, F&& inner) {
  WireReader r(bytes, base);
  while (!r.done()) {
    uint32_t number, wire_type;
    std::string_view payload;
    size_t at;
    if (!r.Field(number, wire_type, payload, at)) return Malformed("truncated field");
    if (number == want && wire_type == 2) {
      absl::Status s = inner(payload, at);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

uint64_t LoadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void StoreBigEndian(uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}
void XorHex16(uint64_t x, char* p) {
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 4) | static_cast<uint64_t>(HexValue(p[i]));
  v ^= x;
  for (int i = 15; i >= 0; --i) {
    p[i] = kDigits[v & 0xf];
    v >>= 4;
  }
}
void AddDecimal19(uint64_t delta, char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 19; ++i) v = v * 10 + static_cast<uint64_t>(p[i] - '0');
  v += delta;
  for (int i = 18; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

absl::StatusOr<PatchSites> FindProtoPatchSites(std::string_view body) {
  PatchSites sites;
  absl::Status s = ForEach(body, 0, 1, [&](std::string_view rs, size_t rs_at) {
    return ForEach(rs, rs_at, 2, [&](std::string_view ss, size_t ss_at) {
      return ForEach(ss, ss_at, 2, [&](std::string_view span, size_t span_at) {
        return ScanSpan(span, span_at, sites);
      });
    });
  });
  if (!s.ok()) return s;
  return sites;
}

void ApplyPatches(const PatchSites& sites, BodyFormat format, const IdShift& shift, char* body) {
  if (format == BodyFormat::kProtobuf) {
    for (uint32_t at : sites.trace_ids) {
      StoreBigEndian(LoadBigEndian(body + at + 8) ^ shift.trace_xor, body + at + 8);
    }
    for (uint32_t at : sites.span_ids) {
      StoreBigEndian(LoadBigEndian(body + at) ^ shift.span_xor, body + at);
    }
    for (uint32_t at : sites.times) {
      uint64_t t;
      std::memcpy(&t, body + at, 8);  // little-endian hosts only (x86-64, arm64)
      t += shift.time_delta;
      std::memcpy(body + at, &t, 8);
    }
    return;
  }
  for (uint32_t at : sites.trace_ids) XorHex16(shift.trace_xor, body + at + 16);
  for (uint32_t at : sites.span_ids) XorHex16(shift.span_xor, body + at);
  for (uint32_t at : sites.times) AddDecimal19(shift.time_delta, body + at);
}

void ShiftTraceId(uint64_t trace_xor, uint8_t id[16]) {
  char* p = reinterpret_cast<char*>(id) + 8;
  StoreBigEndian(LoadBigEndian(p) ^ trace_xor, p);
}

void ShiftSpanId(uint64_t span_xor, uint8_t id[8]) {
  char* p = reinterpret_cast<char*>(id);
  StoreBigEndian(LoadBigEndian(p) ^ span_xor, p);
}

}  // namespace strand::loadgen
