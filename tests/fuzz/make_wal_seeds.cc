// Writes the seed corpus of wal_reader_fuzzer: small WAL segments (seq 1) built with the
// format's own encoders. Run by make_seeds.sh; not a test.
//
//   make_wal_seeds OUT_DIR [REQUEST.binpb...]
//
// empty.wal (a header only), hello.wal (the worked example of docs/format/wal.md),
// three.wal (records of several types and sizes), torn.wal (three.wal cut inside its last
// record), corrupt.wal (three.wal with its middle record's payload damaged), and per
// request a segment holding it as the store's span record (tenant header + request).
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "common/env.h"
#include "wal/wal_format.h"

namespace {

using strand::Env;

absl::Status Write(const std::string& path, std::string_view data) {
  return strand::WriteFileAtomically(*Env::Default(), path, data);
}

std::string Segment(const std::vector<std::pair<uint8_t, std::string>>& records) {
  strand::WalSegmentHeader header;
  header.seq = 1;
  header.created_unix_nanos = 1'700'000'000'000'000'000;
  std::string out = strand::EncodeWalSegmentHeader(header);
  const uint64_t mask = strand::WalSegmentMask(1);
  for (const auto& [type, payload] : records) out += strand::EncodeWalRecord(mask, type, payload);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_wal_seeds OUT_DIR [REQUEST.binpb...]\n");
    return 2;
  }
  const std::string out = argv[1];
  const std::string three = Segment({{1, "first"}, {7, std::string(300, 'x')}, {255, "last!"}});
  std::string corrupt = three;
  corrupt[strand::kWalSegmentHeaderSize + strand::kWalRecordHeaderSize + 5 +
          strand::kWalRecordHeaderSize + 10] ^= 0x40;
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"empty.wal", Segment({})}, {"hello.wal", Segment({{1, "hello"}})},
      {"three.wal", three},       {"torn.wal", three.substr(0, three.size() - 3)},
      {"corrupt.wal", corrupt},
  };
  for (int i = 2; i < argc; ++i) {
    auto request = Env::Default()->ReadFileToString(argv[i]);
    if (!request.ok()) {
      std::fprintf(stderr, "%s\n", request.status().ToString().c_str());
      return 1;
    }
    std::string payload;
    payload.push_back(static_cast<char>(6));  // varint tenant length
    payload += "tenant" + *request;
    std::string name(strand::BaseName(argv[i]));
    name = name.substr(0, name.rfind('.')) + ".wal";
    seeds.emplace_back(name, Segment({{1, payload}, {1, payload}}));
  }
  for (const auto& [name, bytes] : seeds) {
    if (absl::Status s = Write(out + "/" + name, bytes); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
