#include "cli/block_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "block/block_reader.h"
#include "block/block_test_util.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/coding.h"
#include "common/hex.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace strand::cli {
namespace {

using block::BlockMeta;
using block::BlockWriterOptions;
using ::testing::HasSubstr;
using ::testing::Not;

// Output of one command run.
struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

class BlockCommandTest : public ::testing::Test {
 protected:
  // Writes a block of `traces` realistic 10-span traces into <data>/<area>/<tenant>/.
  BlockMeta WriteBlock(const std::string& tenant, uint64_t seed, int traces,
                       BlockWriterOptions options = {}, const std::string& area = "blocks") {
    testdata::GeneratorOptions generator;
    generator.seed = seed;
    generator.traces_per_request = traces;
    testdata::TraceSet set;
    EXPECT_TRUE(set.AddRequest(testdata::RealisticRequest(generator, 0)).ok());
    options.clock = &clock_;
    absl::StatusOr<BlockMeta> meta = block::testing::WriteTraceSet(
        env_, JoinPath(JoinPath(dir_.path(), area), tenant), set, options, tenant);
    EXPECT_TRUE(meta.ok()) << meta.status();
    return meta.ok() ? *meta : BlockMeta{};
  }

  std::string BlockDir(const BlockMeta& meta, const std::string& area = "blocks") const {
    return dir_.path() + "/" + area + "/" + meta.tenant + "/" + meta.block_id.ToHex();
  }

  // Flips one byte of the block's data file in the middle of its first row group.
  void DamageRowGroup(const BlockMeta& meta) {
    const std::string path = BlockDir(meta) + "/data";
    absl::StatusOr<std::unique_ptr<block::BlockReader>> reader =
        block::BlockReader::Open(env_, BlockDir(meta));
    ASSERT_TRUE(reader.ok()) << reader.status();
    const block::RowGroupInfo rg = (*reader)->footer().row_groups[0];
    absl::StatusOr<std::string> data = env_.ReadFileToString(path);
    ASSERT_TRUE(data.ok());
    (*data)[rg.offset + rg.size / 2] ^= 0x10;
    Rewrite(path, *data);
  }

  void Rewrite(const std::string& path, const std::string& contents) {
    absl::StatusOr<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(contents).ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  Output Run(int (*command)(Env&, const BlockCommandOptions&, std::ostream&, std::ostream&),
             BlockCommandOptions options) {
    if (options.data_dir == BlockCommandOptions().data_dir) options.data_dir = dir_.path();
    std::ostringstream out, err;
    Output o;
    o.status = command(env_, options, out, err);
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  // Parses `command_line` as the strand binary does and runs it.
  Output RunCommandLine(const std::string& command_line) {
    CLI::App app;
    std::string server_data_dir = "./data";
    app.add_option("--data-dir", server_data_dir);
    BlockCommand command(app);
    app.parse(command_line, /*program_name_included=*/false);
    Output o;
    if (!command.selected()) return o;
    std::ostringstream out, err;
    o.status = command.Run(env_, server_data_dir, out, err);
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  // The line of `text` that contains `needle` (empty if none).
  static std::string LineWith(const std::string& text, const std::string& needle) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) != std::string::npos) return line;
    }
    return "";
  }

  Env& env_ = *Env::Default();
  FakeClock clock_;
  block::testing::TempDir dir_;
};

TEST_F(BlockCommandTest, LsListsEveryBlockWithCountsAndATotal) {
  const BlockMeta a1 = WriteBlock("acme", 1, 20);
  const BlockMeta a2 = WriteBlock("acme", 2, 30);
  const BlockMeta g = WriteBlock("globex", 3, 5);
  const Output o = Run(BlockLs, {});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_THAT(o.out, HasSubstr("TENANT"));
  for (const BlockMeta* m : {&a1, &a2, &g}) {
    const std::string row = LineWith(o.out, m->block_id.ToHex());
    EXPECT_THAT(row, HasSubstr(m->tenant));
    EXPECT_THAT(row, HasSubstr(" " + std::to_string(m->trace_count) + " "));
    EXPECT_THAT(row, HasSubstr(" " + std::to_string(m->span_count) + " "));
    // Time range and creation time in UTC ISO-8601 (the fake clock's 2023-11-14T22:13:20Z).
    EXPECT_THAT(row, HasSubstr("2023-11-14T22:13:20Z .. 2023-11-14T"));
  }
  EXPECT_THAT(o.out, HasSubstr("total: 3 blocks, 55 traces, 550 spans"));
  EXPECT_THAT(o.out, HasSubstr("bytes/span"));
  EXPECT_THAT(o.out, Not(HasSubstr("not published")));
}

TEST_F(BlockCommandTest, LsFiltersByTenant) {
  const BlockMeta a = WriteBlock("acme", 1, 4);
  const BlockMeta g = WriteBlock("globex", 2, 4);
  BlockCommandOptions options;
  options.tenant = "globex";
  const Output o = Run(BlockLs, options);
  ASSERT_EQ(o.status, 0);
  EXPECT_THAT(o.out, HasSubstr(g.block_id.ToHex()));
  EXPECT_THAT(o.out, Not(HasSubstr(a.block_id.ToHex())));
  EXPECT_THAT(o.out, HasSubstr("total: 1 block,"));
}

TEST_F(BlockCommandTest, LsShowsUnfinishedUnreadableAndQuarantinedApart) {
  const BlockMeta good = WriteBlock("acme", 1, 4);
  const BlockMeta unfinished = WriteBlock("acme", 2, 4);
  ASSERT_TRUE(env_.RemoveFile(BlockDir(unfinished) + "/meta.json").ok());
  const BlockMeta unreadable = WriteBlock("acme", 3, 4);
  Rewrite(BlockDir(unreadable) + "/meta.json", "{not json");
  const BlockMeta quarantined = WriteBlock("acme", 4, 4, {}, "quarantine");
  // Not block directories: ignored.
  ASSERT_TRUE(env_.CreateDirs(dir_.path() + "/blocks/acme/not-a-block").ok());

  const Output o = Run(BlockLs, {});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("total: 1 block, 4 traces, 40 spans"));
  EXPECT_THAT(LineWith(o.out, good.block_id.ToHex()), HasSubstr("2023-11-14T"));
  EXPECT_THAT(LineWith(o.out, unfinished.block_id.ToHex()), HasSubstr("unfinished"));
  EXPECT_THAT(LineWith(o.out, unfinished.block_id.ToHex()), HasSubstr("no meta.json"));
  EXPECT_THAT(LineWith(o.out, unreadable.block_id.ToHex()), HasSubstr("unreadable"));
  EXPECT_THAT(LineWith(o.out, unreadable.block_id.ToHex()), HasSubstr("not valid JSON"));
  EXPECT_THAT(LineWith(o.out, quarantined.block_id.ToHex()), HasSubstr("quarantined"));
  EXPECT_THAT(LineWith(o.out, quarantined.block_id.ToHex()), HasSubstr("40 spans"));
  EXPECT_THAT(o.out, Not(HasSubstr("not-a-block")));
}

TEST_F(BlockCommandTest, LsJsonIsMachineReadable) {
  const BlockMeta a = WriteBlock("acme", 1, 6);
  const BlockMeta unfinished = WriteBlock("acme", 2, 4);
  ASSERT_TRUE(env_.RemoveFile(BlockDir(unfinished) + "/meta.json").ok());
  BlockCommandOptions options;
  options.json = true;
  const Output o = Run(BlockLs, options);
  ASSERT_EQ(o.status, 0) << o.err;

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(o.out).get(doc), simdjson::SUCCESS) << o.out;
  simdjson::dom::array blocks = doc["blocks"].get_array();
  ASSERT_EQ(blocks.size(), 2u);
  simdjson::dom::element first = blocks.at(0);
  EXPECT_EQ(std::string(first["state"].get_string().value()), "published");
  EXPECT_EQ(std::string(first["block_id"].get_string().value()), a.block_id.ToHex());
  EXPECT_EQ(std::string(first["tenant"].get_string().value()), "acme");
  EXPECT_EQ(first["span_count"].get_uint64().value(), a.span_count);
  EXPECT_EQ(first["data_size"].get_uint64().value(), a.data_size);
  EXPECT_GT(first["size_bytes"].get_uint64().value(), a.data_size);  // and meta.json
  EXPECT_EQ(std::string(first["created"].get_string().value()), "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(std::string(blocks.at(1)["state"].get_string().value()), "unfinished");
  EXPECT_EQ(doc["total"]["blocks"].get_uint64().value(), 1u);
  EXPECT_EQ(doc["total"]["spans"].get_uint64().value(), a.span_count);
}

TEST_F(BlockCommandTest, LsOfAMissingDataDirectoryFails) {
  BlockCommandOptions options;
  options.data_dir = dir_.path() + "/nowhere";
  const Output o = Run(BlockLs, options);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("strand block ls: data directory"));
  EXPECT_THAT(o.err, HasSubstr("not found"));
}

TEST_F(BlockCommandTest, LsOfAnEmptyDataDirectoryIsEmpty) {
  const Output o = Run(BlockLs, {});
  ASSERT_EQ(o.status, 0);
  EXPECT_THAT(o.out, HasSubstr("no blocks under"));
  EXPECT_THAT(o.out, HasSubstr("total: 0 blocks,"));
}

TEST_F(BlockCommandTest, InspectByIdPrefixShowsFramingColumnsAndStatistics) {
  BlockWriterOptions options;
  options.spans_per_row_group = 60;
  const BlockMeta m = WriteBlock("acme", 7, 20, options);
  ASSERT_GT(m.row_group_count, 2u);
  BlockCommandOptions inspect;
  inspect.blocks = {m.block_id.ToHex().substr(0, 10)};
  const Output o = Run(BlockInspect, inspect);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr(m.block_id.ToHex()));
  EXPECT_THAT(LineWith(o.out, "format version"), HasSubstr("1"));
  EXPECT_THAT(LineWith(o.out, "tenant"), HasSubstr("acme"));
  EXPECT_THAT(LineWith(o.out, "reader memory"), HasSubstr("bytes"));
  EXPECT_THAT(o.out, HasSubstr("bloom filter: "));
  EXPECT_THAT(LineWith(o.out, "tables"), HasSubstr("zstd"));

  // Every row group, with its counts and trace-ID range.
  absl::StatusOr<std::unique_ptr<block::BlockReader>> reader =
      block::BlockReader::Open(env_, BlockDir(m));
  ASSERT_TRUE(reader.ok());
  for (const block::RowGroupInfo& rg : (*reader)->footer().row_groups) {
    const std::string first = HexEncode(otlp::IdBytes(rg.first_trace));
    const std::string row = LineWith(o.out, first + " .. ");
    EXPECT_THAT(row, HasSubstr(HexEncode(otlp::IdBytes(rg.last_trace))));
    EXPECT_THAT(row, HasSubstr(" " + std::to_string(rg.span_count) + " "));
  }

  // Columns sorted by stored size, largest first, adding up to the data file.
  std::istringstream in(o.out.substr(o.out.find("columns (")));
  std::string line;
  std::getline(in, line);
  std::getline(in, line);  // titles
  uint64_t previous = UINT64_MAX;
  size_t rows = 0;
  while (std::getline(in, line) && line.find("  total") != 0) {
    std::istringstream fields(line);
    std::string name, bytes;
    fields >> name >> bytes;
    bytes.erase(std::remove(bytes.begin(), bytes.end(), ','), bytes.end());
    const uint64_t value = std::stoull(bytes);
    EXPECT_LE(value, previous) << line;
    previous = value;
    ++rows;
  }
  EXPECT_EQ(rows, m.column_sizes.size());
  EXPECT_THAT(line, HasSubstr("100.0%"));

  EXPECT_THAT(LineWith(o.out, "services ("), HasSubstr("frontend"));
  EXPECT_THAT(LineWith(o.out, "span kinds"), HasSubstr("server"));
  EXPECT_THAT(o.out, HasSubstr("attribute columns"));
}

TEST_F(BlockCommandTest, InspectJsonHasRowGroupsColumnsAndStatistics) {
  BlockWriterOptions options;
  options.spans_per_row_group = 50;
  const BlockMeta m = WriteBlock("acme", 8, 12, options);
  BlockCommandOptions inspect;
  inspect.json = true;
  inspect.blocks = {BlockDir(m)};
  const Output o = Run(BlockInspect, inspect);
  ASSERT_EQ(o.status, 0) << o.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(o.out).get(doc), simdjson::SUCCESS) << o.out;
  EXPECT_EQ(doc["format_version"].get_uint64().value(), 1u);
  EXPECT_EQ(std::string(doc["meta"]["tenant"].get_string().value()), "acme");
  EXPECT_EQ(doc["row_groups"].get_array().size(), m.row_group_count);
  EXPECT_EQ(doc["columns"].get_array().size(), m.column_sizes.size());
  EXPECT_GT(doc["reader_memory_bytes"].get_uint64().value(), 0u);
  EXPECT_EQ(doc["footer"]["span_count"].get_uint64().value(), m.span_count);
  EXPECT_EQ(doc["bloom_filter"]["bytes"].get_uint64().value(), m.bloom_bytes);
  EXPECT_GT(doc["statistics"]["services"].get_array().size(), 0u);
  EXPECT_GT(doc["statistics"]["span_name_count"].get_uint64().value(), 0u);
}

TEST_F(BlockCommandTest, InspectReadsAnUnfinishedWriteThroughItsDataFile) {
  const BlockMeta m = WriteBlock("acme", 1, 4);
  ASSERT_TRUE(env_.RemoveFile(BlockDir(m) + "/meta.json").ok());
  BlockCommandOptions inspect;
  inspect.blocks = {m.block_id.ToHex()};
  const Output o = Run(BlockInspect, inspect);
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(LineWith(o.out, "meta.json"), HasSubstr("none"));
  EXPECT_THAT(o.out, HasSubstr("unknown without meta.json"));
  EXPECT_THAT(LineWith(o.out, "spans"), HasSubstr("40"));
}

TEST_F(BlockCommandTest, InspectOfUnknownOrAmbiguousIdFails) {
  BlockWriterOptions options;
  options.block_id = block::BlockId::FromHex("abcd0000000000000000000000000001");
  WriteBlock("acme", 1, 2, options);
  options.block_id = block::BlockId::FromHex("abcd0000000000000000000000000002");
  WriteBlock("acme", 2, 2, options);
  BlockCommandOptions inspect;
  inspect.blocks = {"abcd"};
  Output o = Run(BlockInspect, inspect);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("ambiguous"));
  inspect.blocks = {"ffff"};
  o = Run(BlockInspect, inspect);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("strand block inspect: no block ffff under"));
  inspect.blocks = {"/no/such/dir"};
  o = Run(BlockInspect, inspect);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("no such block directory"));
  inspect.blocks = {"ABCD0000000000000000000000000002"};  // either case
  o = Run(BlockInspect, inspect);
  EXPECT_EQ(o.status, 0) << o.err;
}

TEST_F(BlockCommandTest, InspectOfATruncatedBlockFailsWithAClearError) {
  const BlockMeta m = WriteBlock("acme", 1, 4);
  ASSERT_TRUE(env_.TruncateFile(BlockDir(m) + "/data", m.data_size / 2).ok());
  BlockCommandOptions inspect;
  inspect.blocks = {BlockDir(m)};
  const Output o = Run(BlockInspect, inspect);
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_THAT(o.err, HasSubstr("strand block inspect: "));
  EXPECT_THAT(o.err, HasSubstr("truncated"));
}

TEST_F(BlockCommandTest, VerifyOfIntactBlocksSucceeds) {
  const BlockMeta a = WriteBlock("acme", 1, 10);
  const BlockMeta g = WriteBlock("globex", 2, 10);
  const Output o = Run(BlockVerify, {});
  ASSERT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_THAT(LineWith(o.out, a.block_id.ToHex()), HasSubstr("OK      acme/"));
  EXPECT_THAT(LineWith(o.out, g.block_id.ToHex()), HasSubstr("OK      globex/"));
  EXPECT_THAT(o.out, HasSubstr("verified 2 blocks: 2 OK, 0 damaged"));
}

TEST_F(BlockCommandTest, VerifyReportsAFlippedByteAndFails) {
  const BlockMeta good = WriteBlock("acme", 1, 10);
  const BlockMeta bad = WriteBlock("acme", 2, 10);
  DamageRowGroup(bad);
  Output o = Run(BlockVerify, {});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(LineWith(o.out, good.block_id.ToHex()), HasSubstr("OK"));
  const std::string line = LineWith(o.out, bad.block_id.ToHex());
  EXPECT_THAT(line, HasSubstr("DAMAGED acme/" + bad.block_id.ToHex()));
  EXPECT_THAT(line, HasSubstr("checksum mismatch"));
  EXPECT_THAT(line, HasSubstr("offset"));
  EXPECT_THAT(o.out, HasSubstr("verified 2 blocks: 1 OK, 1 damaged"));

  // Naming blocks verifies only those.
  BlockCommandOptions named;
  named.blocks = {good.block_id.ToHex()};
  o = Run(BlockVerify, named);
  EXPECT_EQ(o.status, 0) << o.out;
  named.blocks = {good.block_id.ToHex(), BlockDir(bad)};
  named.json = true;
  o = Run(BlockVerify, named);
  EXPECT_EQ(o.status, 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(o.out).get(doc), simdjson::SUCCESS) << o.out;
  EXPECT_EQ(std::string(doc["blocks"].at(1)["result"].get_string().value()), "damaged");
  EXPECT_EQ(doc["summary"]["damaged"].get_uint64().value(), 1u);
  EXPECT_FALSE(doc["summary"]["intact"].get_bool().value());
}

TEST_F(BlockCommandTest, VerifyReportsMissingDataAndUnknownBlocksAsFailures) {
  const BlockMeta m = WriteBlock("acme", 1, 4);
  ASSERT_TRUE(env_.RemoveFile(BlockDir(m) + "/data").ok());
  Output o = Run(BlockVerify, {});
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(LineWith(o.out, m.block_id.ToHex()), HasSubstr("ERROR"));
  BlockCommandOptions named;
  named.blocks = {"0123456789"};
  o = Run(BlockVerify, named);
  EXPECT_EQ(o.status, 1);
  EXPECT_THAT(o.err, HasSubstr("no block 0123456789"));
}

TEST_F(BlockCommandTest, VerifySkipsBlocksOfANewerFormatWithoutFailing) {
  const BlockMeta m = WriteBlock("acme", 1, 4);
  // A well-formed version 2 data file: both version fields and both checksums updated.
  const std::string path = BlockDir(m) + "/data";
  std::string data = env_.ReadFileToString(path).value();
  EncodeFixed32(data.data() + 8, 2);
  EncodeFixed32(data.data() + 32, Checksum32(std::string_view(data).substr(0, 32)));
  const size_t trailer = data.size() - block::kTrailerSize;
  const uint32_t footer_size = DecodeFixed32(data.data() + trailer);
  const std::string_view footer = std::string_view(data).substr(trailer - footer_size, footer_size);
  EncodeFixed32(data.data() + trailer + 4, block::FooterChecksum(footer, 2, 0));
  EncodeFixed32(data.data() + trailer + 8, 2);
  Rewrite(path, data);
  const Output o = Run(BlockVerify, {});
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_THAT(LineWith(o.out, m.block_id.ToHex()), HasSubstr("SKIPPED"));
  EXPECT_THAT(o.out, HasSubstr("1 skipped (newer format)"));
}

TEST_F(BlockCommandTest, VerifyLeavesUnfinishedAndQuarantinedBlocksAlone) {
  WriteBlock("acme", 1, 4);
  const BlockMeta unfinished = WriteBlock("acme", 2, 4);
  ASSERT_TRUE(env_.RemoveFile(BlockDir(unfinished) + "/meta.json").ok());
  WriteBlock("acme", 3, 4, {}, "quarantine");
  const Output o = Run(BlockVerify, {});
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_THAT(o.out, HasSubstr("verified 1 block: 1 OK, 0 damaged (2 unfinished or quarantined"));
}

TEST_F(BlockCommandTest, CommandLineSelectsTheSubcommandAndDataDirectory) {
  const BlockMeta m = WriteBlock("acme", 1, 4);
  // The sub-command's --data-dir wins over the server's.
  Output o = RunCommandLine("block ls --data-dir " + dir_.path() + " --tenant acme");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr(m.block_id.ToHex()));
  // Without it, the server's --data-dir applies.
  o = RunCommandLine("--data-dir " + dir_.path() + " block verify " + m.block_id.ToHex());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("OK"));
  o = RunCommandLine("--data-dir " + dir_.path() + " block inspect --json " +
                     m.block_id.ToHex().substr(0, 6));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("\"row_groups\""));
  // No sub-command: the server runs.
  o = RunCommandLine("--data-dir " + dir_.path());
  EXPECT_EQ(o.status, -1);
}

}  // namespace
}  // namespace strand::cli
