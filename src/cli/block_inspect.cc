// `strand block inspect` (declared in block_command.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "block/block_format.h"
#include "block/block_meta.h"
#include "block/block_reader.h"
#include "block/block_stats.h"
#include "cli/block_command.h"
#include "cli/block_command_util.h"
#include "cli/text_table.h"
#include "common/coding.h"
#include "common/json_writer.h"
#include "common/status_macros.h"

namespace strand::cli {
namespace {

using block::BlockMeta;
using block::BlockReader;
using Align = TextTable::Align;

const char* KindName(int32_t kind) {
  static constexpr const char* kNames[] = {"unspecified", "internal", "server",
                                           "client",      "producer", "consumer"};
  return kind >= 0 && kind < 6 ? kNames[kind] : nullptr;
}

const char* StatusCodeName(int32_t code) {
  static constexpr const char* kNames[] = {"unset", "ok", "error"};
  return code >= 0 && code < 3 ? kNames[code] : nullptr;
}

std::string EnumName(const char* (*name)(int32_t), int32_t v) {
  const char* n = name(v);
  return n != nullptr ? n : std::to_string(v);
}

// Distinct strings over all row groups; incomplete when any row group's list was.
struct StringUnion {
  std::set<std::string> values;
  bool complete = true;
  void Add(const block::DistinctStrings& d) {
    values.insert(d.values.begin(), d.values.end());
    complete = complete && d.complete;
  }
  // "12" or "at least 1,000"
  std::string CountText() const {
    return (complete ? "" : "at least ") + FormatCount(values.size());
  }
};

// The block's statistics section, folded over its row groups.
struct StatsSummary {
  StringUnion services, span_names, resource_keys;
  std::set<int32_t> kinds, status_codes;
  std::map<block::Owner, std::set<std::pair<std::string, otlp::ValueType>>> columns;
  uint64_t min_duration = std::numeric_limits<uint64_t>::max();
  uint64_t max_duration = 0;

  explicit StatsSummary(const block::BlockStats& stats) {
    for (const block::RowGroupStats& rg : stats.row_groups) {
      services.Add(rg.service_names);
      span_names.Add(rg.span_names);
      resource_keys.Add(rg.resource_keys);
      kinds.insert(rg.kinds.begin(), rg.kinds.end());
      status_codes.insert(rg.status_codes.begin(), rg.status_codes.end());
      for (const block::AttributeColumnStats& c : rg.columns) {
        columns[c.owner].emplace(c.key, c.type);
      }
      min_duration = std::min(min_duration, rg.min_duration);
      max_duration = std::max(max_duration, rg.max_duration);
    }
    if (stats.row_groups.empty()) min_duration = 0;
  }
};

// Everything `inspect` reports about one block.
struct Inspection {
  std::string path;  // as resolved from the command line
  OpenedBlock block;
  uint32_t format_version = 0;
  uint64_t data_bytes = 0;
  uint64_t footer_bytes = 0;                              // footer and trailer
  std::vector<std::pair<std::string, uint64_t>> columns;  // largest first
  absl::StatusOr<block::BlockStats> stats = absl::UnknownError("not read");
};

absl::StatusOr<Inspection> Inspect(Env& env, const std::string& path) {
  Inspection in;
  in.path = path;
  ASSIGN_OR_RETURN(in.block, OpenBlock(env, path));
  const BlockReader& reader = *in.block.reader;
  ASSIGN_OR_RETURN(in.data_bytes, env.GetFileSize(in.block.data_path));
  // The reader checked that header and trailer agree on the version.
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                   env.NewRandomAccessFile(in.block.data_path));
  char version[4];
  ASSIGN_OR_RETURN(std::string_view got, file->Read(8, std::span<char>(version)));
  if (got.size() != 4) return block::Corruption(in.block.data_path, 8, "unexpected end of file");
  in.format_version = DecodeFixed32(got.data());
  const block::PageRef& bloom = reader.footer().bloom;
  in.footer_bytes = in.data_bytes - std::min(in.data_bytes, bloom.offset + bloom.stored_size);
  if (reader.meta().has_value()) {
    in.columns = reader.meta()->column_sizes;
    std::stable_sort(in.columns.begin(), in.columns.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  in.stats = reader.ReadStats();
  return in;
}

// Expected false-positive rate of a bloom filter of `bits` bits, `k` probes, `n` entries.
double BloomFalsePositiveRate(uint64_t bits, uint32_t k, uint64_t n) {
  if (bits == 0) return 1;
  const double kd = k;
  return std::pow(1 - std::exp(-kd * static_cast<double>(n) / static_cast<double>(bits)), kd);
}

const char* CodecName(block::Codec codec) { return codec == block::Codec::kZstd ? "zstd" : "none"; }

void WriteSection(JsonWriter& w, std::string_view name, const block::PageRef& ref) {
  w.Key(name).BeginObject().Field("offset", ref.offset).Field("stored_size", ref.stored_size);
  w.Field("raw_size", ref.raw_size).Field("codec", CodecName(ref.codec)).EndObject();
}

void PrintInspectJson(const Inspection& in, std::ostream& out) {
  const BlockReader& reader = *in.block.reader;
  const block::BlockFooter& f = reader.footer();
  JsonWriter w;
  w.BeginObject().Field("path", in.path).Field("data_path", in.block.data_path);
  w.Field("block_id", f.block_id.ToHex()).Field("format_version", in.format_version);
  w.Field("data_bytes", in.data_bytes).Field("reader_memory_bytes", uint64_t{reader.MemoryUsage()});
  w.Key("meta");
  if (const std::optional<BlockMeta>& m = reader.meta(); m.has_value()) {
    w.BeginObject().Field("tenant", m->tenant);
    WriteMetaJsonFields(w, *m);
    w.Field("header_checksum", m->header_checksum).Field("footer_checksum", m->footer_checksum);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("footer").BeginObject();
  w.Field("span_count", f.span_count).Field("trace_count", f.trace_count);
  w.Field("min_start_unix_nano", f.min_start).Field("max_start_unix_nano", f.max_start);
  w.Field("min_end_unix_nano", f.min_end).Field("max_end_unix_nano", f.max_end);
  w.Field("footer_bytes", in.footer_bytes);
  WriteSection(w, "tables", f.tables);
  WriteSection(w, "stats", f.stats);
  WriteSection(w, "bloom", f.bloom);
  w.EndObject();
  w.Key("bloom_filter").BeginObject().Field("bytes", f.bloom.stored_size);
  w.Field("bits", f.bloom.stored_size * 8).Field("hashes", f.bloom_hashes);
  w.Field("expected_false_positive_rate",
          BloomFalsePositiveRate(f.bloom.stored_size * 8, f.bloom_hashes, f.trace_count));
  w.EndObject();
  w.Key("row_groups").BeginArray();
  for (size_t i = 0; i < f.row_groups.size(); ++i) {
    const block::RowGroupInfo& rg = f.row_groups[i];
    w.BeginObject().Field("index", uint64_t{i}).Field("offset", rg.offset).Field("size", rg.size);
    w.Field("directory_bytes", rg.directory.stored_size);
    w.Field("span_count", rg.span_count).Field("trace_count", rg.trace_count);
    w.Field("first_trace", TraceIdHex(rg.first_trace));
    w.Field("last_trace", TraceIdHex(rg.last_trace)).EndObject();
  }
  w.EndArray();
  w.Key("columns").BeginArray();
  for (const auto& [name, bytes] : in.columns) {
    w.BeginObject().Field("name", name).Field("bytes", bytes);
    w.Field("share", in.data_bytes == 0 ? 0.0 : static_cast<double>(bytes) / in.data_bytes);
    w.EndObject();
  }
  w.EndArray();
  if (in.stats.ok()) {
    const StatsSummary s(*in.stats);
    w.Key("statistics").BeginObject();
    w.Key("services").BeginArray();
    for (const std::string& v : s.services.values) w.String(v);
    w.EndArray().Field("services_complete", s.services.complete);
    w.Field("span_name_count", uint64_t{s.span_names.values.size()});
    w.Field("span_names_complete", s.span_names.complete);
    w.Key("resource_keys").BeginArray();
    for (const std::string& v : s.resource_keys.values) w.String(v);
    w.EndArray().Field("resource_keys_complete", s.resource_keys.complete);
    w.Key("span_kinds").BeginArray();
    for (int32_t k : s.kinds) w.String(EnumName(KindName, k));
    w.EndArray().Key("status_codes").BeginArray();
    for (int32_t c : s.status_codes) w.String(EnumName(StatusCodeName, c));
    w.EndArray().Key("attribute_columns").BeginObject();
    for (const auto& [owner, cols] : s.columns) {
      w.Field(block::OwnerName(owner), uint64_t{cols.size()});
    }
    w.EndObject();
    w.Field("min_duration_nano", s.min_duration).Field("max_duration_nano", s.max_duration);
    w.EndObject();
  } else {
    w.Field("statistics_error", std::string(in.stats.status().message()));
  }
  w.EndObject();
  out << std::move(w).Finish();
}

void PrintInspectText(const Inspection& in, std::ostream& out) {
  const BlockReader& reader = *in.block.reader;
  const block::BlockFooter& f = reader.footer();
  const std::optional<BlockMeta>& meta = reader.meta();

  TextTable facts({{}, {}});
  facts.AddRow({"path", in.path});
  facts.AddRow({"block ID", f.block_id.ToHex()});
  if (meta.has_value()) {
    facts.AddRow({"tenant", meta->tenant});
    facts.AddRow({"compaction level", std::to_string(meta->compaction_level)});
    facts.AddRow({"created", FormatUtcTime(meta->created_unix_nano, true)});
  } else {
    facts.AddRow({"meta.json", "none (an unfinished write, or a bare data file)"});
  }
  facts.AddRow({"format version", std::to_string(in.format_version)});
  facts.AddRow({"traces", FormatCount(f.trace_count)});
  facts.AddRow({"spans", FormatCount(f.span_count)});
  facts.AddRow({"row groups", FormatCount(f.row_groups.size())});
  facts.AddRow({"start times", FormatTimeRange(f.min_start, f.max_start)});
  facts.AddRow({"end times", FormatTimeRange(f.min_end, f.max_end)});
  facts.AddRow({"data file", FormatCount(in.data_bytes) + " bytes (" + FormatBytes(in.data_bytes) +
                                 "), " + FormatFixed(Average(in.data_bytes, f.span_count), 1) +
                                 " bytes/span"});
  if (meta.has_value()) {
    char checksums[64];
    std::snprintf(checksums, sizeof(checksums), "header %08x, footer %08x", meta->header_checksum,
                  meta->footer_checksum);
    facts.AddRow({"checksums", checksums});
  }
  facts.AddRow({"reader memory", FormatCount(reader.MemoryUsage()) +
                                     " bytes (footer and bloom filter, held while open)"});
  facts.Print(out);

  out << "\nsections\n";
  TextTable sections({{"PART"},
                      {"OFFSET", Align::kRight},
                      {"STORED", Align::kRight},
                      {"RAW", Align::kRight},
                      {"CODEC"}});
  uint64_t row_group_bytes = 0;
  for (const block::RowGroupInfo& rg : f.row_groups) row_group_bytes += rg.size;
  sections.AddRow({"header", "0", FormatCount(block::kHeaderSize)});
  if (!f.row_groups.empty()) {
    sections.AddRow(
        {"row groups", FormatCount(f.row_groups.front().offset), FormatCount(row_group_bytes)});
  }
  for (const auto& [name, ref] : {std::pair{"tables", f.tables}, std::pair{"statistics", f.stats},
                                  std::pair{"bloom filter", f.bloom}}) {
    sections.AddRow({name, FormatCount(ref.offset), FormatCount(ref.stored_size),
                     FormatCount(ref.raw_size), CodecName(ref.codec)});
  }
  sections.AddRow({"footer+trailer", FormatCount(in.data_bytes - in.footer_bytes),
                   FormatCount(in.footer_bytes)});
  sections.Print(out, "  ");

  const uint64_t bits = f.bloom.stored_size * 8;
  out << "\nbloom filter: " << FormatBytes(f.bloom.stored_size) << ", " << FormatCount(bits)
      << " bits, " << f.bloom_hashes << " hashes, " << FormatFixed(Average(bits, f.trace_count), 1)
      << " bits/trace, ~"
      << FormatFixed(100 * BloomFalsePositiveRate(bits, f.bloom_hashes, f.trace_count), 2)
      << "% false positives\n";

  out << "\nrow groups\n";
  TextTable groups({{"#", Align::kRight},
                    {"OFFSET", Align::kRight},
                    {"SIZE", Align::kRight},
                    {"DIRECTORY", Align::kRight},
                    {"SPANS", Align::kRight},
                    {"TRACES", Align::kRight},
                    {"TRACE IDS"}});
  for (size_t i = 0; i < f.row_groups.size(); ++i) {
    const block::RowGroupInfo& rg = f.row_groups[i];
    groups.AddRow({std::to_string(i), FormatCount(rg.offset), FormatCount(rg.size),
                   FormatCount(rg.directory.stored_size), FormatCount(rg.span_count),
                   FormatCount(rg.trace_count),
                   TraceIdHex(rg.first_trace) + " .. " + TraceIdHex(rg.last_trace)});
  }
  groups.Print(out, "  ");

  out << "\ncolumns (stored bytes, from meta.json)\n";
  if (in.columns.empty()) {
    out << "  unknown without meta.json\n";
  } else {
    TextTable columns({{"COLUMN"}, {"BYTES", Align::kRight}, {"SHARE", Align::kRight}});
    uint64_t total = 0;
    for (const auto& [name, bytes] : in.columns) {
      columns.AddRow({name, FormatCount(bytes), FormatPercent(bytes, in.data_bytes)});
      total += bytes;
    }
    columns.AddRow({"total", FormatCount(total), FormatPercent(total, in.data_bytes)});
    columns.Print(out, "  ");
  }

  out << "\nstatistics\n";
  if (!in.stats.ok()) {
    out << "  unreadable: " << in.stats.status().message() << '\n';
    return;
  }
  const StatsSummary s(*in.stats);
  TextTable stats({{}, {}});
  std::string services;
  for (const std::string& v : s.services.values) services += (services.empty() ? "" : ", ") + v;
  stats.AddRow({"services (" + s.services.CountText() + ")", services});
  stats.AddRow({"span names", s.span_names.CountText() + " distinct"});
  stats.AddRow({"resource attribute keys", s.resource_keys.CountText() + " distinct"});
  std::string kinds, codes, columns;
  for (int32_t k : s.kinds) kinds += (kinds.empty() ? "" : ", ") + EnumName(KindName, k);
  for (int32_t c : s.status_codes) {
    codes += (codes.empty() ? "" : ", ") + EnumName(StatusCodeName, c);
  }
  size_t column_count = 0;
  for (const auto& [owner, cols] : s.columns) {
    columns += std::string(columns.empty() ? "" : ", ") + block::OwnerName(owner) + " " +
               FormatCount(cols.size());
    column_count += cols.size();
  }
  stats.AddRow({"span kinds", kinds});
  stats.AddRow({"status codes", codes});
  stats.AddRow({"attribute columns",
                FormatCount(column_count) + (columns.empty() ? "" : " (" + columns + ")")});
  stats.AddRow(
      {"span durations", FormatDuration(s.min_duration) + " .. " + FormatDuration(s.max_duration)});
  stats.Print(out, "  ");
}

}  // namespace

int BlockInspect(Env& env, const BlockCommandOptions& options, std::ostream& out,
                 std::ostream& err) {
  if (options.blocks.size() != 1) {
    return CommandFailed(err, "inspect", absl::InvalidArgumentError("name exactly one block"));
  }
  absl::StatusOr<std::string> path = ResolveBlock(env, options.data_dir, options.blocks[0]);
  if (!path.ok()) return CommandFailed(err, "inspect", path.status());
  absl::StatusOr<Inspection> in = Inspect(env, *path);
  if (!in.ok()) return CommandFailed(err, "inspect", in.status());
  if (options.json) {
    PrintInspectJson(*in, out);
  } else {
    PrintInspectText(*in, out);
  }
  // A damaged statistics section is damage too, though the rest could be shown.
  return in->stats.ok() ? kExitOk : CommandFailed(err, "inspect", in->stats.status());
}

}  // namespace strand::cli
