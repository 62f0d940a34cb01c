#include "cli/block_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "block/block_format.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "cli/block_command_util.h"
#include "cli/text_table.h"
#include "common/json_writer.h"
#include "common/status_macros.h"

namespace strand::cli {
namespace {

using block::BlockMeta;
using Align = TextTable::Align;

// ---- ls ----

enum class EntryState { kPublished, kUnfinished, kUnreadable, kQuarantined };

const char* StateName(EntryState s) {
  switch (s) {
    case EntryState::kPublished:
      return "published";
    case EntryState::kUnfinished:
      return "unfinished";
    case EntryState::kUnreadable:
      return "unreadable";
    case EntryState::kQuarantined:
      return "quarantined";
  }
  return "?";
}

struct LsEntry {
  BlockDir dir;
  EntryState state = EntryState::kPublished;
  std::optional<BlockMeta> meta;
  std::string error;   // why meta.json could not be read
  uint64_t bytes = 0;  // files in the block directory
};

LsEntry ReadEntry(Env& env, BlockDir dir) {
  LsEntry e;
  e.bytes = DirBytes(env, dir.path);
  const std::string meta_path = JoinPath(dir.path, block::kMetaFileName);
  if (!env.FileExists(meta_path)) {
    e.state = dir.quarantined ? EntryState::kQuarantined : EntryState::kUnfinished;
  } else {
    absl::StatusOr<BlockMeta> meta = [&]() -> absl::StatusOr<BlockMeta> {
      ASSIGN_OR_RETURN(std::string json, env.ReadFileToString(meta_path));
      return BlockMeta::FromJson(json, meta_path);
    }();
    if (meta.ok()) {
      e.meta = std::move(*meta);
    } else {
      e.error = std::string(meta.status().message());
    }
    e.state = dir.quarantined ? EntryState::kQuarantined
              : meta.ok()     ? EntryState::kPublished
                              : EntryState::kUnreadable;
  }
  e.dir = std::move(dir);
  return e;
}

void PrintLsJson(const std::vector<LsEntry>& entries, const std::string& data_dir,
                 std::ostream& out) {
  JsonWriter w;
  w.BeginObject().Field("data_dir", data_dir).Key("blocks").BeginArray();
  uint64_t blocks = 0, traces = 0, spans = 0, bytes = 0, data_bytes = 0;
  for (const LsEntry& e : entries) {
    w.BeginObject()
        .Field("tenant", e.dir.tenant)
        .Field("block_id", e.dir.id)
        .Field("state", StateName(e.state))
        .Field("path", e.dir.path)
        .Field("size_bytes", e.bytes);
    if (e.meta.has_value()) WriteMetaJsonFields(w, *e.meta);
    if (!e.error.empty()) w.Field("error", e.error);
    w.EndObject();
    if (e.state == EntryState::kPublished) {
      ++blocks;
      traces += e.meta->trace_count;
      spans += e.meta->span_count;
      bytes += e.bytes;
      data_bytes += e.meta->data_size;
    }
  }
  w.EndArray().Key("total").BeginObject();
  w.Field("blocks", blocks).Field("traces", traces).Field("spans", spans);
  w.Field("size_bytes", bytes).Field("bytes_per_span", Average(data_bytes, spans));
  w.EndObject().EndObject();
  out << std::move(w).Finish();
}

void PrintLsText(const std::vector<LsEntry>& entries, const std::string& data_dir,
                 std::ostream& out) {
  TextTable published({{"TENANT"},
                       {"BLOCK ID"},
                       {"LEVEL", Align::kRight},
                       {"TRACES", Align::kRight},
                       {"SPANS", Align::kRight},
                       {"ROW GROUPS", Align::kRight},
                       {"SIZE", Align::kRight},
                       {"BYTES/SPAN", Align::kRight},
                       {"TIME RANGE (UTC)"},
                       {"CREATED (UTC)"}});
  TextTable others({{}, {}, {}, {}});
  uint64_t traces = 0, spans = 0, bytes = 0, data_bytes = 0;
  for (const LsEntry& e : entries) {
    const std::string name = e.dir.tenant + "/" + e.dir.id;
    if (e.state != EntryState::kPublished) {
      std::string what = e.error;
      if (e.state == EntryState::kUnfinished) what = "no meta.json: an unfinished write";
      if (e.state == EntryState::kQuarantined && e.meta.has_value()) {
        what = FormatPlural(e.meta->span_count, "span") + ", " +
               FormatTimeRange(e.meta->min_start_unix_nano, e.meta->max_end_unix_nano);
      }
      others.AddRow({StateName(e.state), name, FormatBytes(e.bytes), what});
      continue;
    }
    const BlockMeta& m = *e.meta;
    published.AddRow({e.dir.tenant, e.dir.id, std::to_string(m.compaction_level),
                      FormatCount(m.trace_count), FormatCount(m.span_count),
                      FormatCount(m.row_group_count), FormatBytes(e.bytes),
                      FormatFixed(Average(m.data_size, m.span_count), 1),
                      FormatTimeRange(m.min_start_unix_nano, m.max_end_unix_nano),
                      FormatUtcTime(m.created_unix_nano)});
    traces += m.trace_count;
    spans += m.span_count;
    bytes += e.bytes;
    data_bytes += m.data_size;
  }
  if (published.num_rows() == 0) {
    out << "no blocks under " << JoinPath(data_dir, kBlocksDir) << '\n';
  } else {
    published.Print(out);
  }
  out << "total: " << FormatPlural(published.num_rows(), "block") << ", "
      << FormatPlural(traces, "trace") << ", " << FormatPlural(spans, "span") << ", "
      << FormatBytes(bytes) << ", " << FormatFixed(Average(data_bytes, spans), 1)
      << " bytes/span\n";
  if (others.num_rows() > 0) {
    out << "\nnot published (unfinished: safe to delete; unreadable: damaged meta.json; "
           "quarantined: found damaged):\n";
    others.Print(out, "  ");
  }
}

// ---- verify ----

enum class Verdict { kOk, kDamaged, kNewer, kError };

struct VerifyResult {
  std::string name;
  std::string path;
  Verdict verdict = Verdict::kOk;
  std::string detail;
};

VerifyResult VerifyBlock(Env& env, const std::string& path) {
  VerifyResult r;
  r.path = path;
  r.name = DisplayName(env, path);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<OpenedBlock> opened = OpenBlock(env, path);
  absl::Status status = opened.ok() ? opened->reader->Verify() : opened.status();
  if (status.ok()) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const block::BlockFooter& f = opened->reader->footer();
    r.detail = FormatPlural(f.span_count, "span") + " in " +
               FormatPlural(f.row_groups.size(), "row group") + " (" + FormatFixed(seconds, 2) +
               " s)";
    if (!opened->reader->meta().has_value()) r.detail += "; no meta.json: not published";
    return r;
  }
  r.detail = std::string(status.message());
  r.verdict = absl::IsDataLoss(status)             ? Verdict::kDamaged
              : absl::IsFailedPrecondition(status) ? Verdict::kNewer
                                                   : Verdict::kError;
  return r;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kDamaged:
      return "DAMAGED";
    case Verdict::kNewer:
      return "SKIPPED";
    case Verdict::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

int BlockLs(Env& env, const BlockCommandOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<BlockDir>> dirs = FindBlockDirs(env, options.data_dir, options.tenant);
  if (!dirs.ok()) return CommandFailed(err, "ls", dirs.status());
  std::vector<LsEntry> entries;
  for (BlockDir& d : *dirs) entries.push_back(ReadEntry(env, std::move(d)));
  // Published blocks by tenant and time, then the rest by state.
  std::stable_sort(entries.begin(), entries.end(), [](const LsEntry& a, const LsEntry& b) {
    if (a.state != b.state) return a.state < b.state;
    if (a.dir.tenant != b.dir.tenant) return a.dir.tenant < b.dir.tenant;
    const uint64_t ta = a.meta.has_value() ? a.meta->min_start_unix_nano : 0;
    const uint64_t tb = b.meta.has_value() ? b.meta->min_start_unix_nano : 0;
    return ta != tb ? ta < tb : a.dir.id < b.dir.id;
  });
  if (options.json) {
    PrintLsJson(entries, options.data_dir, out);
  } else {
    PrintLsText(entries, options.data_dir, out);
  }
  return kExitOk;
}

int BlockVerify(Env& env, const BlockCommandOptions& options, std::ostream& out,
                std::ostream& err) {
  std::vector<std::string> paths;
  size_t not_verified = 0;  // unfinished writes and quarantined blocks, when verifying all
  bool failed = false;
  if (options.blocks.empty()) {
    absl::StatusOr<std::vector<BlockDir>> dirs =
        FindBlockDirs(env, options.data_dir, options.tenant);
    if (!dirs.ok()) return CommandFailed(err, "verify", dirs.status());
    for (const BlockDir& d : *dirs) {
      if (d.quarantined || !env.FileExists(JoinPath(d.path, block::kMetaFileName))) {
        ++not_verified;
      } else {
        paths.push_back(d.path);
      }
    }
  } else {
    for (const std::string& arg : options.blocks) {
      absl::StatusOr<std::string> path = ResolveBlock(env, options.data_dir, arg);
      if (path.ok()) {
        paths.push_back(*path);
      } else {
        CommandFailed(err, "verify", path.status());
        failed = true;
      }
    }
  }

  std::map<Verdict, size_t> counts;
  JsonWriter w;
  if (options.json) w.BeginObject().Key("blocks").BeginArray();
  for (const std::string& path : paths) {
    const VerifyResult r = VerifyBlock(env, path);
    ++counts[r.verdict];
    if (options.json) {
      std::string verdict = ToLower(VerdictName(r.verdict));
      w.BeginObject().Field("block", r.name).Field("path", r.path).Field("result", verdict);
      w.Field(r.verdict == Verdict::kOk ? "detail" : "error", r.detail).EndObject();
    } else {
      std::string verdict = VerdictName(r.verdict);
      verdict.resize(8, ' ');
      out << verdict << r.name << "  " << r.detail << '\n' << std::flush;
    }
  }
  failed = failed || counts[Verdict::kDamaged] > 0 || counts[Verdict::kError] > 0;
  if (options.json) {
    w.EndArray().Key("summary").BeginObject();
    w.Field("ok", uint64_t{counts[Verdict::kOk]})
        .Field("damaged", uint64_t{counts[Verdict::kDamaged]});
    w.Field("skipped_newer_format", uint64_t{counts[Verdict::kNewer]});
    w.Field("errors", uint64_t{counts[Verdict::kError]});
    w.Field("not_verified", uint64_t{not_verified}).Field("intact", !failed);
    w.EndObject().EndObject();
    out << std::move(w).Finish();
  } else {
    out << "verified " << FormatPlural(paths.size(), "block") << ": "
        << FormatCount(counts[Verdict::kOk]) << " OK, " << FormatCount(counts[Verdict::kDamaged])
        << " damaged";
    if (counts[Verdict::kNewer] > 0) {
      out << ", " << FormatCount(counts[Verdict::kNewer]) << " skipped (newer format)";
    }
    if (counts[Verdict::kError] > 0)
      out << ", " << FormatCount(counts[Verdict::kError]) << " errors";
    if (not_verified > 0) {
      out << " (" << FormatCount(not_verified) << " unfinished or quarantined not verified)";
    }
    out << '\n';
  }
  return failed ? kExitFailure : kExitOk;
}

BlockCommand::BlockCommand(CLI::App& app) {
  block_ = app.add_subcommand("block", "Operator tools for stored blocks (read-only)");
  block_->require_subcommand(1);
  const std::string data_dir_help = "Data directory (default: the server's --data-dir)";

  ls_ = block_->add_subcommand("ls", "List the blocks of a data directory");
  ls_->add_option("--data-dir", options_.data_dir, data_dir_help);
  ls_->add_option("--tenant", options_.tenant, "Only this tenant's blocks");
  ls_->add_flag("--json", options_.json, "Machine-readable JSON output");

  inspect_ = block_->add_subcommand("inspect", "Show one block in depth");
  inspect_
      ->add_option("BLOCK", inspect_target_,
                   "Block directory, data file, or block ID (a unique prefix is enough)")
      ->required();
  inspect_->add_option("--data-dir", options_.data_dir, data_dir_help);
  inspect_->add_flag("--json", options_.json, "Machine-readable JSON output");

  verify_ = block_->add_subcommand(
      "verify", "Check every checksum and decode every row group; exit 1 if any is damaged");
  verify_->add_option("BLOCK", options_.blocks,
                      "Block directories, data files or block IDs (default: every block)");
  verify_->add_option("--data-dir", options_.data_dir, data_dir_help);
  verify_->add_option("--tenant", options_.tenant,
                      "Only this tenant's blocks (with no blocks named)");
  verify_->add_flag("--json", options_.json, "Machine-readable JSON output");
}

bool BlockCommand::selected() const { return block_->parsed(); }

int BlockCommand::Run(Env& env, const std::string& default_data_dir, std::ostream& out,
                      std::ostream& err) const {
  BlockCommandOptions options = options_;
  for (const CLI::App* sub : {ls_, inspect_, verify_}) {
    if (sub->parsed() && sub->count("--data-dir") == 0) options.data_dir = default_data_dir;
  }
  if (ls_->parsed()) return BlockLs(env, options, out, err);
  if (inspect_->parsed()) {
    options.blocks = {inspect_target_};
    return BlockInspect(env, options, out, err);
  }
  return BlockVerify(env, options, out, err);
}

}  // namespace strand::cli
