#include "cli/block_command_util.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "block/block_format.h"
#include "block/block_id.h"
#include "cli/block_command.h"
#include "common/hex.h"
#include "common/status_macros.h"

namespace strand::cli {
namespace {

bool IsDirectory(Env& env, const std::string& path) { return env.GetChildren(path).ok(); }

// The entries of `dir`, sorted; none if it does not exist (or is not a directory).
absl::StatusOr<std::vector<std::string>> ListDir(Env& env, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = env.GetChildren(dir);
  if (absl::IsNotFound(names.status())) return std::vector<std::string>{};
  if (!names.ok()) return names.status();
  std::sort(names->begin(), names->end());
  return names;
}

absl::Status CheckDataDir(Env& env, const std::string& data_dir) {
  if (IsDirectory(env, data_dir)) return absl::OkStatus();
  return absl::NotFoundError("data directory " + data_dir + " not found (set --data-dir)");
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int CommandFailed(std::ostream& err, const std::string& command, const absl::Status& status) {
  err << "strand block " << command << ": " << status.message() << '\n';
  return kExitFailure;
}

std::string FormatCount(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatPlural(uint64_t n, const std::string& thing) {
  return FormatCount(n) + " " + thing + (n == 1 ? "" : "s");
}

std::string FormatFixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string FormatBytes(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return FormatFixed(v, 1) + " " + kUnits[unit];
}

std::string FormatPercent(uint64_t part, uint64_t whole) {
  return whole == 0
             ? "-"
             : FormatFixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + "%";
}

double Average(uint64_t total, uint64_t count) {
  return count == 0 ? 0 : static_cast<double>(total) / static_cast<double>(count);
}

std::string FormatUtcTime(uint64_t unix_nano, bool nanos) {
  const auto seconds = static_cast<time_t>(unix_nano / 1'000'000'000);
  struct tm tm;
  char buf[64];
  if (gmtime_r(&seconds, &tm) == nullptr ||
      strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    return std::to_string(unix_nano);
  }
  std::string out = buf;
  if (nanos) {
    std::snprintf(buf, sizeof(buf), ".%09llu",
                  static_cast<unsigned long long>(unix_nano % 1'000'000'000));
    out += buf;
  }
  return out + "Z";
}

std::string FormatUtcTime(int64_t unix_nano, bool nanos) {
  return FormatUtcTime(static_cast<uint64_t>(std::max<int64_t>(unix_nano, 0)), nanos);
}

std::string FormatTimeRange(uint64_t from, uint64_t to) {
  if (from == 0 && to == 0) return "-";
  return FormatUtcTime(from) + " .. " + FormatUtcTime(to);
}

std::string FormatDuration(uint64_t nanos) {
  const auto v = static_cast<double>(nanos);
  if (nanos < 1'000) return std::to_string(nanos) + " ns";
  if (nanos < 1'000'000) return FormatFixed(v / 1e3, 1) + " us";
  if (nanos < 1'000'000'000) return FormatFixed(v / 1e6, 1) + " ms";
  return FormatFixed(v / 1e9, 1) + " s";
}

std::string TraceIdHex(const otlp::TraceId& id) { return HexEncode(otlp::IdBytes(id)); }

void WriteMetaJsonFields(JsonWriter& w, const block::BlockMeta& m) {
  w.Field("compaction_level", m.compaction_level)
      .Field("trace_count", m.trace_count)
      .Field("span_count", m.span_count)
      .Field("row_group_count", m.row_group_count)
      .Field("data_size", m.data_size)
      .Field("bytes_per_span", Average(m.data_size, m.span_count))
      .Field("min_start_unix_nano", m.min_start_unix_nano)
      .Field("max_start_unix_nano", m.max_start_unix_nano)
      .Field("min_end_unix_nano", m.min_end_unix_nano)
      .Field("max_end_unix_nano", m.max_end_unix_nano)
      .Field("min_start", FormatUtcTime(m.min_start_unix_nano, true))
      .Field("max_end", FormatUtcTime(m.max_end_unix_nano, true))
      .Field("created_unix_nano", m.created_unix_nano)
      .Field("created", FormatUtcTime(m.created_unix_nano, true));
}

uint64_t DirBytes(Env& env, const std::string& dir) {
  uint64_t total = 0;
  absl::StatusOr<std::vector<std::string>> names = env.GetChildren(dir);
  if (!names.ok()) return 0;
  for (const std::string& name : *names) {
    absl::StatusOr<uint64_t> size = env.GetFileSize(JoinPath(dir, name));
    if (size.ok()) total += *size;
  }
  return total;
}

absl::StatusOr<std::vector<BlockDir>> FindBlockDirs(Env& env, const std::string& data_dir,
                                                    const std::string& tenant) {
  RETURN_IF_ERROR(CheckDataDir(env, data_dir));
  std::vector<BlockDir> found;
  for (const bool quarantined : {false, true}) {
    const std::string root = JoinPath(data_dir, quarantined ? kQuarantineDir : kBlocksDir);
    ASSIGN_OR_RETURN(std::vector<std::string> tenants, ListDir(env, root));
    for (const std::string& t : tenants) {
      if (!tenant.empty() && t != tenant) continue;
      const std::string tenant_dir = JoinPath(root, t);
      ASSIGN_OR_RETURN(std::vector<std::string> ids, ListDir(env, tenant_dir));
      for (const std::string& id : ids) {
        const std::string path = JoinPath(tenant_dir, id);
        if (!block::BlockId::FromHex(id).has_value() || !IsDirectory(env, path)) continue;
        found.push_back({t, id, path, quarantined});
      }
    }
  }
  return found;
}

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

absl::StatusOr<std::string> ResolveBlock(Env& env, const std::string& data_dir, std::string arg) {
  while (arg.size() > 1 && arg.back() == '/') arg.pop_back();
  if (env.FileExists(arg)) return arg;
  const std::string prefix = ToLower(arg);
  const bool hex =
      !prefix.empty() && prefix.size() <= 32 &&
      std::all_of(prefix.begin(), prefix.end(), [](char c) { return HexDigitValue(c) >= 0; });
  if (!hex) return absl::NotFoundError(arg + ": no such block directory or data file");
  ASSIGN_OR_RETURN(std::vector<BlockDir> dirs, FindBlockDirs(env, data_dir, ""));
  std::vector<std::string> matches;
  for (const BlockDir& d : dirs) {
    if (ToLower(d.id).starts_with(prefix)) matches.push_back(d.path);
  }
  if (matches.empty()) {
    return absl::NotFoundError("no block " + arg + " under " + JoinPath(data_dir, kBlocksDir) +
                               " or " + JoinPath(data_dir, kQuarantineDir));
  }
  if (matches.size() > 1) {
    std::string list;
    for (const std::string& m : matches) list += "\n  " + m;
    return absl::InvalidArgumentError("block ID " + arg + " is ambiguous:" + list);
  }
  return matches.front();
}

absl::StatusOr<OpenedBlock> OpenBlock(Env& env, const std::string& path) {
  OpenedBlock opened;
  opened.data_path = path;
  if (IsDirectory(env, path)) {
    opened.data_path = JoinPath(path, block::kDataFileName);
    if (env.FileExists(JoinPath(path, block::kMetaFileName))) {
      ASSIGN_OR_RETURN(opened.reader, block::BlockReader::Open(env, path));
      return opened;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env.NewRandomAccessFile(opened.data_path));
  ASSIGN_OR_RETURN(opened.reader, block::BlockReader::OpenFile(std::move(file)));
  return opened;
}

std::string DisplayName(Env& env, const std::string& path) {
  if (!IsDirectory(env, path)) return path;
  return BaseName(DirName(path)) + "/" + BaseName(path);
}

}  // namespace strand::cli
