// Writes the seed corpus of block_reader_fuzzer: small real block data files, made by
// BlockWriter from OTLP requests (the protobuf seeds of otlp_proto_fuzzer) and from a few
// generated realistic traces. Run by make_seeds.sh; not a test.
//
//   make_block_seeds OUT_DIR REQUEST.binpb...
//
// For each request: `<name>.blk`, uncompressed with row groups of 2 spans (mutations hit
// the structure directly and traces span row groups); for the first request also
// `<name>-zstd.blk`, compressed. Plus `mixed.blk`: 4 small traces in row groups of 3
// spans, so row groups hold several trace segments and FindTrace decodes from the
// middle of one; and `realistic.blk`: a generated trace of 3 spans.
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "block/block_test_util.h"
#include "common/clock.h"
#include "common/env.h"
#include "testdata/trace_generator.h"
#include "testdata/trace_set.h"

namespace {

namespace block = strand::block;
namespace testdata = strand::testdata;
using strand::Env;

// Writes `set` as a block in a scratch directory and copies its data file to `out`.
absl::Status WriteSeed(const testdata::TraceSet& set, block::BlockWriterOptions options,
                       const std::string& out) {
  block::testing::TempDir scratch;
  absl::StatusOr<block::BlockMeta> meta =
      block::testing::WriteTraceSet(*Env::Default(), scratch.path(), set, std::move(options));
  if (!meta.ok()) return meta.status();
  absl::StatusOr<std::string> data =
      Env::Default()->ReadFileToString(scratch.path() + "/" + meta->block_id.ToHex() + "/data");
  if (!data.ok()) return data.status();
  std::printf("%s: %zu bytes, %llu spans, %llu row groups\n", out.c_str(), data->size(),
              static_cast<unsigned long long>(meta->span_count),
              static_cast<unsigned long long>(meta->row_group_count));
  return strand::WriteFileAtomically(*Env::Default(), out, *data);
}

block::BlockWriterOptions Options(bool compress) {
  block::BlockWriterOptions options;
  options.compress = compress;
  options.spans_per_row_group = 2;
  // Fixed, so regenerating gives the same bytes.
  options.block_id = block::BlockId::FromHex("5eed0000000000000000000000000001");
  static strand::FakeClock clock;
  options.clock = &clock;
  return options;
}

// Four traces of two spans (parents, events, links, every attribute value type, two
// resources and scopes): row groups of three spans hold parts of two traces.
opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest MixedRequest() {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest request;
  for (int r = 0; r < 2; ++r) {
    auto* rs = request.add_resource_spans();
    auto* service = rs->mutable_resource()->add_attributes();
    service->set_key("service.name");
    service->mutable_value()->set_string_value(r == 0 ? "front" : "back");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name(r == 0 ? "http" : "db");
    for (int t = r; t < 4; t += 2) {
      for (int i = 0; i < 2; ++i) {
        auto* span = ss->add_spans();
        span->set_trace_id(std::string(15, '\x10') + static_cast<char>(t));
        span->set_span_id(std::string(7, '\x20') + static_cast<char>(1 + i));
        if (i == 1) span->set_parent_span_id(std::string(7, '\x20') + '\x01');
        span->set_name(i == 0 ? "GET /" : "query");
        span->set_kind(static_cast<opentelemetry::proto::trace::v1::Span::SpanKind>(1 + i));
        span->set_start_time_unix_nano(1000 + 10 * t + i);
        span->set_end_time_unix_nano(1005 + 10 * t + i);
        auto* attr = span->add_attributes();
        attr->set_key(t % 2 == 0 ? "n" : "s");
        if (t % 2 == 0) {
          attr->mutable_value()->set_int_value(t - 2);
        } else {
          attr->mutable_value()->set_string_value("v");
        }
        if (t == 1) {
          auto* array = span->add_attributes();
          array->set_key("a");
          auto* values = array->mutable_value()->mutable_array_value();
          values->add_values()->set_double_value(0.5);
          values->add_values()->set_bool_value(true);
          auto* kv = values->add_values()->mutable_kvlist_value()->add_values();
          kv->set_key("k");
          kv->mutable_value()->set_bytes_value("\x01");
        }
        if (i == 1) {
          auto* event = span->add_events();
          event->set_name("e");
          event->set_time_unix_nano(1003 + 10 * t);
          event->add_attributes()->set_key("empty");
        }
        if (t == 2 && i == 0) {
          auto* link = span->add_links();
          link->set_trace_id(std::string(16, '\x30'));
          link->set_span_id(std::string(8, '\x31'));
        }
        if (t == 3)
          span->mutable_status()->set_code(
              opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
      }
    }
  }
  return request;
}

std::string Stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  return name.substr(0, name.find('.'));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_block_seeds OUT_DIR REQUEST.binpb...\n");
    return 2;
  }
  const std::string out_dir = argv[1];
  auto check = [](const absl::Status& status, const std::string& what) {
    if (status.ok()) return true;
    std::fprintf(stderr, "make_block_seeds: %s: %s\n", what.c_str(),
                 std::string(status.message()).c_str());
    return false;
  };
  if (!check(Env::Default()->CreateDirs(out_dir), out_dir)) return 1;
  for (int i = 2; i < argc; ++i) {
    absl::StatusOr<std::string> request = Env::Default()->ReadFileToString(argv[i]);
    if (!check(request.status(), argv[i])) return 1;
    testdata::TraceSet set;
    // Requests the decoder refuses, or without spans, make no block.
    if (!set.AddRequest(*request).ok() || set.traces.empty()) continue;
    const std::string stem = out_dir + "/" + Stem(argv[i]);
    if (!check(WriteSeed(set, Options(false), stem + ".blk"), argv[i])) return 1;
    if (i == 2 && !check(WriteSeed(set, Options(true), stem + "-zstd.blk"), argv[i])) return 1;
  }
  testdata::TraceSet mixed;
  block::BlockWriterOptions mixed_options = Options(false);
  mixed_options.spans_per_row_group = 3;
  if (!check(mixed.AddRequest(MixedRequest()), "mixed") ||
      !check(WriteSeed(mixed, mixed_options, out_dir + "/mixed.blk"), "mixed")) {
    return 1;
  }
  testdata::GeneratorOptions generator;
  generator.traces_per_request = 1;
  generator.spans_per_trace = 3;
  testdata::TraceSet realistic;
  if (!check(realistic.AddRequest(testdata::RealisticRequest(generator, 0)), "realistic") ||
      !check(WriteSeed(realistic, Options(false), out_dir + "/realistic.blk"), "realistic")) {
    return 1;
  }
  return 0;
}
