// Helpers shared by the `strand block` commands (block_command.cc, block_inspect.cc): the
// data directory's layout, finding and opening blocks, and formatting for people and for
// JSON. Stateless functions; thread-safe. Internal to src/cli.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "common/env.h"
#include "common/json_writer.h"
#include "otlp/span_batch.h"

namespace strand::cli {

// Folders of the data directory (the store's layout; see docs/operations.md).
inline constexpr std::string_view kBlocksDir = "blocks";
inline constexpr std::string_view kQuarantineDir = "quarantine";

// A directory named like a block under blocks/ or quarantine/.
struct BlockDir {
  std::string tenant;
  std::string id;
  std::string path;
  bool quarantined = false;
};

// Every block directory (published, unfinished or quarantined) of `tenant`, or of every
// tenant when it is empty; by tenant and ID, quarantined ones last. Entries whose names
// are not block IDs are not blocks and are skipped. NotFound if `data_dir` is missing.
absl::StatusOr<std::vector<BlockDir>> FindBlockDirs(Env& env, const std::string& data_dir,
                                                    const std::string& tenant);

// A command-line block argument: an existing path, or a block ID (or a unique prefix of
// one, either case) under the data directory's blocks/ or quarantine/.
absl::StatusOr<std::string> ResolveBlock(Env& env, const std::string& data_dir, std::string arg);

// An open block: through its directory (meta.json checked against the data file), or,
// for an unfinished write or a bare data file, through the data file alone.
struct OpenedBlock {
  std::string data_path;
  std::unique_ptr<block::BlockReader> reader;
};
absl::StatusOr<OpenedBlock> OpenBlock(Env& env, const std::string& path);

// How results name a block: "tenant/block id" for a block directory, else the path.
std::string DisplayName(Env& env, const std::string& path);
// Bytes of the files directly in `dir` (what a block occupies); 0 if unreadable.
uint64_t DirBytes(Env& env, const std::string& dir);
std::string ToLower(std::string s);

// Writes "strand block <command>: <message>" to `err`; returns kExitFailure.
int CommandFailed(std::ostream& err, const std::string& command, const absl::Status& status);

// "12,345".
std::string FormatCount(uint64_t n);
// "1 block", "2 blocks".
std::string FormatPlural(uint64_t n, const std::string& thing);
std::string FormatFixed(double v, int decimals);
// "532 B", "12.3 KiB", "1.5 MiB".
std::string FormatBytes(uint64_t n);
// "26.3%", or "-" when `whole` is 0.
std::string FormatPercent(uint64_t part, uint64_t whole);
// total / count, 0 when count is 0.
double Average(uint64_t total, uint64_t count);
// UTC ISO-8601: "2023-11-14T22:13:20Z", or with `nanos` "2023-11-14T22:13:20.000000123Z".
std::string FormatUtcTime(uint64_t unix_nano, bool nanos = false);
std::string FormatUtcTime(int64_t unix_nano, bool nanos = false);
// "<from> .. <to>", or "-" when both are 0.
std::string FormatTimeRange(uint64_t from, uint64_t to);
// "850 ns", "12.5 us", "3.2 ms", "1.5 s".
std::string FormatDuration(uint64_t nanos);
std::string TraceIdHex(const otlp::TraceId& id);

// The fields of meta.json an operator wants (counts, sizes, times as unix nanoseconds and
// ISO-8601), as members of the object being written.
void WriteMetaJsonFields(JsonWriter& w, const block::BlockMeta& m);

}  // namespace strand::cli
