// The TraceQL conformance runner: executes the data-driven case files in tests/traceql/
// (format in tests/traceql/README.md) against a real Store, three times per file: with the
// fixtures in live traces, cut into blocks, and cut into blocks of 3-span row groups so
// that traces continue across row groups (which exercises the planner's statistics, the
// column filter and the joining of trace parts). Every case must give its answer in all.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/env.h"
#include "common/hex.h"
#include "gtest/gtest.h"
#include "otlp/json_decoder.h"
#include "query/local_storage.h"
#include "store/store.h"
#include "traceql/parser.h"
#include "traceql/searcher.h"

#ifndef STRAND_SOURCE_DIR
#error "STRAND_SOURCE_DIR must name the source tree"
#endif

namespace strand::query {
namespace {

using traceql::Evaluator;
using traceql::Parse;
using traceql::Searcher;
using traceql::SearchRequest;
using traceql::SearchSpan;
using traceql::SearchSpanSet;
using traceql::SearchTrace;

namespace fs = std::filesystem;

const fs::path kCaseDir = fs::path(STRAND_SOURCE_DIR) / "tests" / "traceql";

struct Case {
  std::string kind;  // load, query, error, unsupported, cut, restart
  std::string text;  // the query, or the fixture name
  std::vector<std::string> expected;
  int line = 0;
};

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Parses a case file. Blocks are separated by blank lines; see tests/traceql/README.md.
std::vector<Case> ReadCases(const fs::path& file, std::string* error) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<Case> cases;
  size_t i = 0;
  auto blank = [&](size_t k) { return Trim(lines[k]).empty(); };
  while (i < lines.size()) {
    const std::string l = Trim(lines[i]);
    if (l.empty() || absl::StartsWith(l, "#")) {
      ++i;
      continue;
    }
    Case c;
    c.line = static_cast<int>(i + 1);
    if (absl::StartsWith(l, "load ")) {
      c.kind = "load";
      c.text = Trim(l.substr(5));
      cases.push_back(std::move(c));
      ++i;
      continue;
    }
    if (l == "cut" || l == "restart") {
      c.kind = l;
      cases.push_back(std::move(c));
      ++i;
      continue;
    }
    if (l != "query" && l != "error" && l != "unsupported") {
      *error = absl::StrCat(file.string(), ":", i + 1, ": unknown directive \"", l, "\"");
      return {};
    }
    c.kind = l;
    if (i + 1 >= lines.size() || blank(i + 1)) {
      *error = absl::StrCat(file.string(), ":", i + 1, ": the query must follow on one line");
      return {};
    }
    c.text = lines[i + 1];
    i += 2;
    if (i < lines.size() && Trim(lines[i]) == "----") {
      ++i;
      while (i < lines.size() && !blank(i)) {
        if (!absl::StartsWith(Trim(lines[i]), "#")) c.expected.push_back(Trim(lines[i]));
        ++i;
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string ShortHex(std::string_view bytes) {
  std::string h = HexEncode(bytes);
  size_t z = h.find_first_not_of('0');
  return z == std::string::npos ? "0" : h.substr(z);
}

class Runner {
 public:
  // `spans_per_row_group` > 0 cuts every load into blocks with row groups that small, so
  // traces continue across row groups.
  Runner(uint32_t spans_per_row_group, std::string dir)
      : cut_(spans_per_row_group > 0),
        row_group_spans_(spans_per_row_group),
        dir_(std::move(dir)) {}
  ~Runner() {
    store_.reset();
    fs::remove_all(dir_);
  }

  absl::Status Open() {
    store::StoreOptions o;
    o.data_dir = dir_;
    o.background = false;
    o.retention_nanos = 0;
    if (row_group_spans_ > 0) o.cut_spans_per_row_group = row_group_spans_;
    auto s = store::Store::Open(*Env::Default(), *Clock::Real(), nullptr, o);
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    return absl::OkStatus();
  }

  absl::Status Load(const std::string& name) {
    std::ifstream in(kCaseDir / "fixtures" / name);
    if (!in) return absl::NotFoundError(absl::StrCat("no fixture ", name));
    std::stringstream ss;
    ss << in.rdbuf();
    auto decoded = otlp::DecodeJsonRequest(ss.str());
    if (!decoded.ok()) return decoded.status();
    if (decoded->rejected_spans != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("fixture ", name, " has rejected spans: ", decoded->rejection_message));
    }
    absl::Notification done;
    absl::Status result;
    store_->Ingest("single-tenant", std::move(decoded->batch), [&](absl::Status s) {
      result = s;
      done.Notify();
    });
    done.WaitForNotification();
    if (!result.ok()) return result;
    if (cut_) return store_->CutBlocks(true);
    return absl::OkStatus();
  }

  absl::Status Cut() { return store_->CutBlocks(true); }
  absl::Status Restart() {
    store_->Close();
    store_.reset();
    return Open();
  }

  // The answer in the case file's form, or the error.
  absl::StatusOr<std::vector<std::string>> Run(const std::string& text) {
    auto q = Parse(text);
    if (!q.ok()) return q.status();
    auto ev = Evaluator::Compile(std::move(*q));
    if (!ev.ok()) return ev.status();
    SearchRequest req;
    req.tenant = "single-tenant";
    req.evaluator = ev->get();
    req.limit = 0;
    req.spans_per_spanset = UINT32_MAX;
    LocalStorage storage(*store_);
    auto r = Searcher(storage).Search(req);
    if (!r.ok()) return r.status();
    std::vector<std::string> out;
    for (const SearchTrace& t : r->traces) {
      for (const SearchSpanSet& set : t.spansets) {
        std::vector<otlp::SpanId> ids;
        for (const SearchSpan& s : set.spans) ids.push_back(s.id);
        std::sort(ids.begin(), ids.end());
        std::vector<std::string> hex;
        for (const auto& id : ids) hex.push_back(ShortHex(otlp::IdBytes(id)));
        out.push_back(absl::StrCat(ShortHex(otlp::IdBytes(t.id)), ": ", absl::StrJoin(hex, " ")));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  const bool cut_;
  const uint32_t row_group_spans_;
  const std::string dir_;
  std::unique_ptr<store::Store> store_;
};

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  if (fs::exists(kCaseDir)) {
    for (const auto& e : fs::directory_iterator(kCaseDir)) {
      if (e.path().extension() == ".test") files.push_back(e.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, EveryCaseGivesItsExpectedAnswerLiveAndInBlocks) {
  std::string error;
  const std::vector<Case> cases = ReadCases(kCaseDir / GetParam(), &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(cases.empty());
  // Live traces; blocks; blocks of 3-span row groups (traces continue across them).
  for (uint32_t row_group_spans : {0u, 2500u, 3u}) {
    SCOPED_TRACE(row_group_spans == 0 ? "fixtures in live traces"
                                      : absl::StrCat("fixtures cut into blocks of ",
                                                     row_group_spans, "-span row groups"));
    Runner runner(row_group_spans, ::testing::TempDir() + "/traceql_conformance_" +
                                       std::to_string(std::random_device{}()));
    ASSERT_TRUE(runner.Open().ok());
    int checked = 0;
    for (const Case& c : cases) {
      const std::string where = absl::StrCat(GetParam(), ":", c.line);
      if (c.kind == "load") {
        auto s = runner.Load(c.text);
        ASSERT_TRUE(s.ok()) << where << ": " << s;
        continue;
      }
      if (c.kind == "cut" || c.kind == "restart") {
        auto s = c.kind == "cut" ? runner.Cut() : runner.Restart();
        ASSERT_TRUE(s.ok()) << where << ": " << s;
        continue;
      }
      ++checked;
      auto got = runner.Run(c.text);
      if (c.kind == "query") {
        if (!got.ok()) {
          ADD_FAILURE() << where << ": " << c.text << "\n  failed: " << got.status();
          continue;
        }
        EXPECT_EQ(absl::StrJoin(*got, "\n"), absl::StrJoin(c.expected, "\n"))
            << where << ": " << c.text;
      } else if (c.kind == "error") {
        if (got.ok()) {
          ADD_FAILURE() << where << ": " << c.text << "\n  parsed, but an error was expected";
          continue;
        }
        EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << where;
        EXPECT_FALSE(absl::StrContains(got.status().message(), "not supported"))
            << where << ": " << c.text << "\n  " << got.status();
        for (const std::string& want : c.expected) {
          EXPECT_TRUE(absl::StrContains(got.status().message(), want))
              << where << ": " << c.text << "\n  error: " << got.status().message()
              << "\n  want it to contain: " << want;
        }
      } else {  // unsupported
        EXPECT_TRUE(Parse(c.text).ok()) << where << ": " << c.text << " should parse";
        EXPECT_TRUE(!got.ok() && absl::StrContains(got.status().message(), "not supported"))
            << where << ": " << c.text << "\n  got: "
            << (got.ok() ? std::string("results") : std::string(got.status().message()));
      }
    }
    EXPECT_GT(checked, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, ConformanceTest, ::testing::ValuesIn(CaseFiles()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           std::replace_if(
                               n.begin(), n.end(), [](char c) { return !isalnum(c); }, '_');
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);

}  // namespace
}  // namespace strand::query
