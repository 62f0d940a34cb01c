// libFuzzer target for the WAL reader and replay. The input is one WAL segment file.
//
// 1. WalReader reads it as segment 1 (from memory). Whatever the bytes, it must not crash,
//    allocate more than the file's size, or return an error (only I/O errors are errors);
//    the records it returns lie inside the file, in order, each exactly the bytes at its
//    offset; when the header is valid, the header, the records and the damage it reports
//    cover the file exactly, without overlap.
// 2. The same bytes with the header checksum and seq and every record checksum along the
//    length chain made valid (so that mutations reach the parsing behind the checksums):
//    the reader returns only records of that chain, and all of them when the chain covers
//    the file and has no record of type 0.
// 3. ReplayWal with repair on and a quarantine directory, over the segment alone (the
//    newest: a torn tail is a crash) and followed by an empty segment 2 (damage is data
//    loss, quarantined): it replays exactly the records the reader returns (or refuses a
//    newer version), and a second replay of the repaired log replays the same records.
//    The files live in a scratch directory under $TMPDIR, else /dev/shm (tmpfs: the
//    replay's fsyncs cost nothing), else /tmp.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/env.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal/wal_replay.h"

namespace {

using strand::WalReader;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wal_reader_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

struct Record {
  uint64_t offset = 0;
  uint8_t type = 0;
  std::string payload;
  bool operator==(const Record&) const = default;
};

struct ReadResult {
  strand::WalHeaderStatus header = strand::WalHeaderStatus::kIncomplete;
  std::vector<Record> records;
};

// Reads `bytes` as segment 1 and checks what the reader says against the bytes.
ReadResult ReadAndCheck(const std::string& bytes, const char* variant) {
  auto opened =
      WalReader::FromFile(strand::NewStringRandomAccessFile(bytes, "fuzz/0000000000000001.wal"), 1);
  if (!opened.ok())
    Fail(variant, "FromFile failed on bytes in memory: " + opened.status().ToString());
  WalReader& reader = **opened;
  ReadResult out;
  out.header = reader.header_status();
  uint64_t covered = out.header == strand::WalHeaderStatus::kOk ? strand::kWalSegmentHeaderSize : 0;
  uint64_t record_bytes = 0;
  // Every record is at least a record header, so this bounds the loop.
  for (size_t i = 0; i <= bytes.size() / strand::kWalRecordHeaderSize + 1; ++i) {
    auto next = reader.Next();
    if (!next.ok()) Fail(variant, "Next failed on bytes in memory: " + next.status().ToString());
    if (!next->has_value()) break;
    const strand::WalRecordView& r = **next;
    const uint64_t end = r.offset + strand::kWalRecordHeaderSize + r.payload.size();
    if (r.offset < covered || end > bytes.size() || r.type == 0 ||
        r.payload.size() > strand::kWalMaxPayloadSize) {
      Fail(variant, "record out of place at offset " + std::to_string(r.offset));
    }
    if (bytes.compare(r.offset + strand::kWalRecordHeaderSize, r.payload.size(), r.payload) != 0 ||
        static_cast<uint8_t>(bytes[r.offset + 8]) != r.type) {
      Fail(variant, "record differs from the file's bytes at " + std::to_string(r.offset));
    }
    out.records.push_back({r.offset, r.type, std::string(r.payload)});
    covered = end;
    record_bytes += end - r.offset;
  }
  if (auto again = reader.Next(); !again.ok() || again->has_value()) {
    Fail(variant, "Next returned more after the end");
  }
  if (reader.valid_end() > bytes.size()) Fail(variant, "valid_end past the file");
  uint64_t damaged = 0;
  for (const strand::WalDamage& d : reader.damage()) {
    if (d.offset > bytes.size() || d.length > bytes.size() - d.offset ||
        (d.length == 0 && !bytes.empty())) {
      Fail(variant, "damage out of the file: " + d.reason);
    }
    damaged += d.length;
  }
  if (out.header == strand::WalHeaderStatus::kOk &&
      strand::kWalSegmentHeaderSize + record_bytes + damaged != bytes.size()) {
    Fail(variant, "header + records + damage != file size: " +
                      std::to_string(strand::kWalSegmentHeaderSize + record_bytes) + " + " +
                      std::to_string(damaged) + " != " + std::to_string(bytes.size()));
  }
  if (out.header != strand::WalHeaderStatus::kOk && !out.records.empty()) {
    Fail(variant, "records from a segment without a valid header");
  }
  return out;
}

// Makes the header (seq 1) and every record along the length chain valid. Returns the
// chain's record offsets; `whole` says whether the chain ends exactly at the end of the
// file with no record of type 0.
std::vector<uint64_t> FixChecksums(std::string& bytes, bool& whole) {
  std::vector<uint64_t> chain;
  whole = false;
  if (bytes.size() < strand::kWalSegmentHeaderSize) return chain;
  char seq[8];
  strand::EncodeFixed64(seq, 1);
  bytes.replace(16, 8, seq, 8);
  char sum[4];
  strand::EncodeFixed32(sum, strand::Checksum32(std::string_view(bytes).substr(0, 32)));
  bytes.replace(32, 4, sum, 4);
  const uint64_t mask = strand::WalSegmentMask(1);
  uint64_t offset = strand::kWalSegmentHeaderSize;
  bool type_zero = false;
  while (bytes.size() - offset >= strand::kWalRecordHeaderSize) {
    const uint32_t length = strand::DecodeFixed32(bytes.data() + offset + 4);
    if (length > strand::kWalMaxPayloadSize ||
        length > bytes.size() - offset - strand::kWalRecordHeaderSize) {
      break;
    }
    const auto type = static_cast<uint8_t>(bytes[offset + 8]);
    const std::string_view payload =
        std::string_view(bytes).substr(offset + strand::kWalRecordHeaderSize, length);
    strand::EncodeFixed32(
        sum, strand::WalRecordChecksum(strand::WalRecordHash(length, type, payload, {}), mask));
    bytes.replace(offset, 4, sum, 4);
    chain.push_back(offset);
    type_zero |= type == 0;
    offset += strand::kWalRecordHeaderSize + length;
  }
  whole = offset == bytes.size() && !type_zero;
  return chain;
}

// A scratch directory for replays, made once per process and removed at exit. The path is
// never destroyed, so the exit handler can still use it, and the handler does not throw: a
// failure at exit is reported by libFuzzer as a crash on the empty input, whatever ran.
const std::string& ScratchDir() {
  static const std::string& dir = *new std::string([] {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp != nullptr && *tmp != '\0'              ? tmp
                       : std::filesystem::is_directory("/dev/shm") ? "/dev/shm"
                                                                   : "/tmp";
    std::string tmpl = base + "/strand_wal_fuzz.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) Fail("setup", "mkdtemp in " + base + " failed");
    return tmpl;
  }());
  static const bool cleanup = std::atexit([] {
                                std::error_code ignored;
                                std::filesystem::remove_all(ScratchDir(), ignored);
                              }) == 0;
  (void)cleanup;
  return dir;
}

absl::Status WriteFile(const std::string& path, std::string_view data) {
  auto file = strand::Env::Default()->NewWritableFile(path);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(data); !s.ok()) return s;
  return (*file)->Close();
}

absl::StatusOr<std::vector<Record>> Replay(const std::string& wal_dir,
                                           const std::string& quarantine,
                                           strand::ReplayStats* stats) {
  std::vector<Record> records;
  strand::ReplayOptions options;
  options.quarantine_dir = quarantine;
  auto replayed = strand::ReplayWal(
      *strand::Env::Default(), wal_dir,
      [&records](uint8_t type, std::string_view payload) {
        records.push_back({0, type, std::string(payload)});
        return absl::OkStatus();
      },
      options);
  if (!replayed.ok()) return replayed.status();
  if (stats != nullptr) *stats = *std::move(replayed);
  return records;
}

// Replays the segment (and, with `followed`, an empty segment 2 after it) twice.
void ReplayAndCheck(const std::string& bytes, const ReadResult& read, bool followed) {
  const std::string& scratch = ScratchDir();
  const std::string wal_dir = scratch + "/wal";
  const std::string quarantine = scratch + "/quarantine";
  std::filesystem::remove_all(wal_dir);
  std::filesystem::remove_all(quarantine);
  std::filesystem::create_directories(wal_dir);
  if (absl::Status s = WriteFile(strand::WalSegmentPath(wal_dir, 1), bytes); !s.ok()) {
    Fail("setup", s.ToString());
  }
  if (followed) {
    strand::WalSegmentHeader header;
    header.seq = 2;
    if (absl::Status s =
            WriteFile(strand::WalSegmentPath(wal_dir, 2), strand::EncodeWalSegmentHeader(header));
        !s.ok()) {
      Fail("setup", s.ToString());
    }
  }
  const char* variant = followed ? "replay (followed by segment 2)" : "replay (newest)";
  strand::ReplayStats stats;
  auto first = Replay(wal_dir, quarantine, &stats);
  if (read.header == strand::WalHeaderStatus::kUnsupportedVersion) {
    if (!absl::IsFailedPrecondition(first.status())) {
      Fail(variant, "a newer version was not refused: " + first.status().ToString());
    }
    return;
  }
  if (!first.ok()) Fail(variant, "replay failed: " + first.status().ToString());
  std::vector<Record> expected = read.records;
  for (Record& r : expected) r.offset = 0;
  if (*first != expected) {
    Fail(variant, "replayed " + std::to_string(first->size()) + " records, the reader returned " +
                      std::to_string(expected.size()));
  }
  if (stats.records != expected.size()) Fail(variant, "stats.records differs");
  auto second = Replay(wal_dir, quarantine, nullptr);
  if (!second.ok()) Fail(variant, "second replay failed: " + second.status().ToString());
  if (*second != expected) Fail(variant, "a second replay of the repaired log differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const ReadResult read = ReadAndCheck(bytes, "as given");

  std::string fixed = bytes;
  bool whole = false;
  const std::vector<uint64_t> chain = FixChecksums(fixed, whole);
  const ReadResult fixed_read = ReadAndCheck(fixed, "checksums fixed");
  const std::set<uint64_t> in_chain(chain.begin(), chain.end());
  for (const Record& r : fixed_read.records) {
    if (!in_chain.contains(r.offset)) Fail("checksums fixed", "a record outside the chain");
  }
  if (fixed_read.header == strand::WalHeaderStatus::kOk && whole &&
      fixed_read.records.size() != chain.size()) {
    Fail("checksums fixed",
         "valid records were skipped: " + std::to_string(fixed_read.records.size()) + " of " +
             std::to_string(chain.size()));
  }

  ReplayAndCheck(bytes, read, /*followed=*/false);
  ReplayAndCheck(bytes, read, /*followed=*/true);
  return 0;
}
