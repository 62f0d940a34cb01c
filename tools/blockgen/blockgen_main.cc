// strand-blockgen: writes strand-loadgen's data straight into published blocks of a data
// directory, for benchmarks over many stored spans. See tools/README.md for usage.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "blockgen/block_generator.h"
#include "common/hex.h"
#include "common/json_writer.h"
#include "common/tenant.h"

namespace {

using strand::blockgen::BlockGenerator;
using strand::blockgen::BlockGenOptions;

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Peak resident memory of this process, in bytes.
uint64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // kilobytes on Linux
}

// The command line: the generator's options and what the tool does around it.
struct Args {
  BlockGenOptions options;
  std::string time_span = "1h";
  int64_t end_unix_seconds = 0;
  std::string ids_out;
  std::string json_out;
};

// What the blocks written add up to.
struct Totals {
  uint64_t spans = 0, blocks = 0, data_bytes = 0, disk_bytes = 0;
  double generate_s = 0, write_s = 0;
  double elapsed_s = 0;  // generator created to last block published
};

// Declares the flags, their defaults in `args`.
void AddFlags(CLI::App& app, Args& args) {
  BlockGenOptions& options = args.options;
  app.add_option("--data-dir", options.data_dir, "data directory; blocks go to blocks/<tenant>/")
      ->required();
  app.add_option("--spans", options.spans, "spans to write (rounded up to whole requests)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--spans-per-block", options.spans_per_block,
                 "spans per block (rounded to whole requests)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--tenant", options.tenant,
                 "tenant; single-tenant is the server's without "
                 "multitenancy")
      ->capture_default_str();
  app.add_option("--time-span", args.time_span,
                 "the data covers this much time, ending at --end-time (e.g. 1h, 30m, 24h)")
      ->capture_default_str();
  app.add_option("--end-time", args.end_unix_seconds,
                 "unix seconds of the newest data; default now");
  app.add_option("--traces-per-request", options.pool.generator.traces_per_request,
                 "as strand-loadgen")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--spans-per-trace", options.pool.generator.spans_per_trace, "as strand-loadgen")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--services", options.pool.generator.services, "as strand-loadgen")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--error-rate", options.pool.generator.error_rate, "as strand-loadgen")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--seed", options.pool.generator.seed, "seed of the generated data")
      ->capture_default_str();
  app.add_option("--pool-size", options.pool.size, "distinct requests cycled through")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--id-salt", options.pool.id_salt,
                 "makes the trace IDs; default: from the clock, so runs never collide");
  app.add_option("--zstd-level", options.writer.zstd_level, "block compression level")
      ->check(CLI::Range(1, 22))
      ->capture_default_str();
  app.add_option("--spans-per-row-group", options.writer.spans_per_row_group, "spans per row group")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--compaction-level", options.writer.compaction_level,
                 "compaction level recorded in meta.json")
      ->capture_default_str();
  app.add_option("--id-sample", options.id_sample, "how many stored trace IDs to sample")
      ->capture_default_str();
  app.add_option("--ids-out", args.ids_out, "write the sampled trace IDs here, hex, one per line");
  app.add_option("--json-out", args.json_out, "write a JSON summary here");
}

// Turns the parsed flags into the generator's time range and ID salt. False (with a
// message on stderr) when --time-span does not parse.
bool ResolveTimes(Args& args) {
  BlockGenOptions& options = args.options;
  absl::Duration span;
  if (!absl::ParseDuration(args.time_span, &span) || span <= absl::ZeroDuration()) {
    std::fprintf(stderr, "--time-span: cannot parse \"%s\" as a positive duration (like 1h)\n",
                 args.time_span.c_str());
    return false;
  }
  options.time_span_nanos = static_cast<uint64_t>(absl::ToInt64Nanoseconds(span));
  if (args.end_unix_seconds > 0) {
    options.end_unix_nano = static_cast<uint64_t>(args.end_unix_seconds) * 1'000'000'000ULL;
  }
  if (options.pool.id_salt == 0) {
    options.pool.id_salt =
        static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }
  return true;
}

// Writes every block, with a progress line per block on stderr.
absl::StatusOr<Totals> WriteBlocks(BlockGenerator& gen, uint64_t total_spans) {
  Totals t;
  for (;;) {
    auto progress = gen.WriteNextBlock();
    if (!progress.ok()) return progress.status();
    if (!progress->has_value()) break;
    const auto& p = **progress;
    ++t.blocks;
    t.spans += p.meta.span_count;
    t.data_bytes += p.meta.data_size;
    t.disk_bytes += p.disk_bytes;
    t.generate_s += p.generate_seconds;
    t.write_s += p.write_seconds;
    std::fprintf(stderr,
                 "  block %llu/%llu %s: %llu spans, %.1f MiB, %.1f bytes/span, generate %.1f s, "
                 "write %.1f s (%.0f spans/s); %.1f%% done\n",
                 static_cast<unsigned long long>(t.blocks),
                 static_cast<unsigned long long>(gen.total_blocks()),
                 p.meta.block_id.ToHex().c_str(),
                 static_cast<unsigned long long>(p.meta.span_count), MiB(p.meta.data_size),
                 static_cast<double>(p.meta.data_size) / static_cast<double>(p.meta.span_count),
                 p.generate_seconds, p.write_seconds,
                 static_cast<double>(p.meta.span_count) / (p.generate_seconds + p.write_seconds),
                 100.0 * static_cast<double>(t.spans) / static_cast<double>(total_spans));
  }
  return t;
}

// The sampled trace IDs, hex, one per line.
bool WriteIds(const BlockGenerator& gen, const std::string& path) {
  std::ofstream out(path);
  for (const auto& id : gen.sampled_ids()) {
    out << strand::HexEncode(strand::otlp::IdBytes(id)) << '\n';
  }
  if (!out) {
    std::fprintf(stderr, "strand-blockgen: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

// The summary table on stdout.
void PrintSummary(const BlockGenerator& gen, const Args& args, const Totals& t, uint64_t peak_rss) {
  const BlockGenOptions& options = args.options;
  std::printf("spans            %llu (%llu traces)\n", static_cast<unsigned long long>(t.spans),
              static_cast<unsigned long long>(gen.traces_written()));
  std::printf("blocks           %llu in %s\n", static_cast<unsigned long long>(t.blocks),
              gen.blocks_dir().c_str());
  std::printf("bytes on disk    %llu (%.1f MiB; data files %llu)\n",
              static_cast<unsigned long long>(t.disk_bytes), MiB(t.disk_bytes),
              static_cast<unsigned long long>(t.data_bytes));
  std::printf("bytes/span       %.2f (data files, zstd level %d, %u spans per row group)\n",
              static_cast<double>(t.data_bytes) / static_cast<double>(t.spans),
              options.writer.zstd_level, options.writer.spans_per_row_group);
  std::printf("time             %.1f s: generate %.1f s, write %.1f s\n", t.elapsed_s, t.generate_s,
              t.write_s);
  std::printf("spans/s          %.0f (write alone: %.0f)\n",
              static_cast<double>(t.spans) / t.elapsed_s, static_cast<double>(t.spans) / t.write_s);
  std::printf("peak RSS         %.1f MiB\n", MiB(peak_rss));
  if (!args.ids_out.empty()) {
    std::printf("sampled IDs      %zu in %s\n", gen.sampled_ids().size(), args.ids_out.c_str());
  }
}

// The JSON summary for the bench/ drivers.
bool WriteJson(const BlockGenerator& gen, const Args& args, const Totals& t, uint64_t peak_rss) {
  const BlockGenOptions& options = args.options;
  strand::JsonWriter w;
  w.BeginObject()
      .Field("spans", t.spans)
      .Field("traces", gen.traces_written())
      .Field("blocks", t.blocks)
      .Field("data_bytes", t.data_bytes)
      .Field("disk_bytes", t.disk_bytes)
      .Field("bytes_per_span", static_cast<double>(t.data_bytes) / static_cast<double>(t.spans))
      .Field("zstd_level", static_cast<int64_t>(options.writer.zstd_level))
      .Field("spans_per_row_group", options.writer.spans_per_row_group)
      .Field("seconds", t.elapsed_s)
      .Field("generate_seconds", t.generate_s)
      .Field("write_seconds", t.write_s)
      .Field("spans_per_second", static_cast<double>(t.spans) / t.elapsed_s)
      .Field("peak_rss_bytes", peak_rss)
      .Field("id_salt", options.pool.id_salt)
      .Field("seed", options.pool.generator.seed)
      .EndObject();
  std::ofstream out(args.json_out);
  out << std::move(w).Finish();
  if (!out) {
    std::fprintf(stderr, "strand-blockgen: cannot write %s\n", args.json_out.c_str());
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  Args args;
  args.options.tenant = std::string(strand::kSingleTenant);
  args.options.pool.size = 32;
  args.options.writer.zstd_level = 9;
  args.options.writer.spans_per_row_group = 10000;
  args.options.writer.compaction_level = 1;
  CLI::App app{
      "strand-blockgen: writes strand-loadgen's realistic trace data as published blocks "
      "into a data directory (no server needed), and a sample of the stored trace IDs."};
  AddFlags(app, args);
  CLI11_PARSE(app, argc, argv);
  if (!ResolveTimes(args)) return 1;

  const auto start = std::chrono::steady_clock::now();
  auto gen = BlockGenerator::Create(*strand::Env::Default(), args.options);
  if (!gen.ok()) {
    std::fprintf(stderr, "strand-blockgen: %s\n", std::string(gen.status().message()).c_str());
    return 1;
  }
  const uint64_t total_spans = (*gen)->total_requests() * (*gen)->spans_per_request();
  std::fprintf(stderr,
               "writing %llu spans (%llu requests of %llu spans, %.1f bytes/span in OTLP "
               "protobuf) as %llu blocks into %s (id salt %llu)\n",
               static_cast<unsigned long long>(total_spans),
               static_cast<unsigned long long>((*gen)->total_requests()),
               static_cast<unsigned long long>((*gen)->spans_per_request()),
               (*gen)->mean_request_bytes() / static_cast<double>((*gen)->spans_per_request()),
               static_cast<unsigned long long>((*gen)->total_blocks()),
               (*gen)->blocks_dir().c_str(),
               static_cast<unsigned long long>(args.options.pool.id_salt));
  absl::StatusOr<Totals> totals = WriteBlocks(**gen, total_spans);
  if (!totals.ok()) {
    std::fprintf(stderr, "strand-blockgen: %s\n", std::string(totals.status().message()).c_str());
    return 1;
  }
  totals->elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!args.ids_out.empty() && !WriteIds(**gen, args.ids_out)) return 1;
  const uint64_t peak_rss = PeakRssBytes();
  PrintSummary(**gen, args, *totals, peak_rss);
  if (!args.json_out.empty() && !WriteJson(**gen, args, *totals, peak_rss)) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
