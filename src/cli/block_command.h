// `strand block ls | inspect | verify`: operator commands that read the blocks of a data
// directory without a running server. The layout they read (docs/operations.md):
//
//   <data_dir>/blocks/<tenant>/<block id>/{data,meta.json}   published blocks; a directory
//                                                             without meta.json is an
//                                                             unfinished write
//   <data_dir>/quarantine/<tenant>/<block id>/               blocks found damaged
//
// The commands only read: nothing is moved, deleted or repaired. Each writes its report
// to `out` (text, or JSON with `json`), problems to `err`, and returns the process exit
// status: 0, or 1 when the command failed or (verify) found a damaged block. Damaged
// input never crashes them; it is reported.
//
// BlockCommand registers the commands on the strand binary's CLI11 app and dispatches.
// Thread-compatible; the Env must outlive every call.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/env.h"

namespace CLI {
class App;
}

namespace strand::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;

struct BlockCommandOptions {
  std::string data_dir = "./data";
  std::string tenant;  // ls, verify: only this tenant's blocks; empty means every tenant
  bool json = false;   // machine-readable output
  // inspect: exactly one; verify: none means every published block. Each is a block
  // directory, a data file, or a block ID (a unique prefix of one is enough).
  std::vector<std::string> blocks;
};

// Lists published blocks (one row each, and totals), then unfinished writes, blocks whose
// meta.json cannot be read, and quarantined blocks. Reads only meta.json files.
int BlockLs(Env& env, const BlockCommandOptions& options, std::ostream& out, std::ostream& err);

// Reports one block in depth: metadata, the data file's framing (format version,
// sections, row groups with their trace-ID ranges), stored bytes per column, the bloom
// filter, the reader's memory and a summary of the block's statistics.
int BlockInspect(Env& env, const BlockCommandOptions& options, std::ostream& out,
                 std::ostream& err);

// Runs BlockReader::Verify on the named blocks, or on every published block: one line per
// block (OK or the error) and a summary. Returns 1 if any block is damaged or could not
// be read; a block written by a newer Strand is reported as skipped, not as a failure.
int BlockVerify(Env& env, const BlockCommandOptions& options, std::ostream& out, std::ostream& err);

// The `block` command and its sub-commands on the strand binary's command line. Holds
// the parsed values, so it must outlive the parse and is neither copied nor moved.
class BlockCommand {
 public:
  // Adds `block ls|inspect|verify` with their options to `app`.
  explicit BlockCommand(CLI::App& app);
  BlockCommand(const BlockCommand&) = delete;
  BlockCommand& operator=(const BlockCommand&) = delete;

  // After parsing: whether the command line named `block ...`.
  bool selected() const;
  // Runs the sub-command that was named. `default_data_dir` (the server's --data-dir or
  // configuration) applies unless the sub-command was given its own --data-dir.
  int Run(Env& env, const std::string& default_data_dir, std::ostream& out,
          std::ostream& err) const;

 private:
  CLI::App* block_ = nullptr;
  CLI::App* ls_ = nullptr;
  CLI::App* inspect_ = nullptr;
  CLI::App* verify_ = nullptr;
  BlockCommandOptions options_;
  std::string inspect_target_;
};

}  // namespace strand::cli
