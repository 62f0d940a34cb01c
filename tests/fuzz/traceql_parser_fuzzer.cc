// libFuzzer target for the TraceQL parser. Any input must either fail with InvalidArgument
// in the parser's error form, or parse into a tree whose canonical text (ToString) parses
// again into a tree with the same text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "traceql/ast.h"
#include "traceql/parser.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "traceql_parser_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace traceql = strand::traceql;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<traceql::Query> query = traceql::Parse(text);
  if (!query.ok()) {
    const absl::Status& status = query.status();
    if (status.code() != absl::StatusCode::kInvalidArgument) {
      Fail("error is not InvalidArgument", status.ToString());
    }
    if (!absl::StartsWith(status.message(), "parse error at line ") &&
        !absl::StartsWith(status.message(), "query too long")) {
      Fail("error is not in the parse error form", status.ToString());
    }
    return 0;
  }
  const std::string canonical = traceql::ToString(*query);
  if (canonical.size() > traceql::kMaxQueryBytes) return 0;
  absl::StatusOr<traceql::Query> again = traceql::Parse(canonical);
  if (!again.ok()) {
    Fail("canonical text does not parse", std::string(text) + "\n---- canonical ----\n" +
                                              canonical + "\n" + again.status().ToString());
  }
  if (std::string after = traceql::ToString(*again); after != canonical) {
    Fail("canonical text is not a fixed point", canonical + "\n---- became ----\n" + after);
  }
  return 0;
}
