#include "pipeline/config/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace strand::pipeline {
namespace {

class EnvExpandTest : public ::testing::Test {
 protected:
  EnvLookup Lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  absl::StatusOr<std::string> Expand(std::string_view text) const {
    return ExpandEnvRefs(text, Lookup());
  }
  // Expects `text` to be refused with InvalidArgument mentioning `part`.
  void ExpectError(std::string_view text, std::string_view part) const {
    auto r = Expand(text);
    ASSERT_FALSE(r.ok()) << text << " gave " << *r;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(std::string(r.status().message()).find(std::string(part)), std::string::npos)
        << text << ": " << r.status();
  }

  std::map<std::string, std::string> vars_ = {
      {"HOST", "10.0.0.7"}, {"EMPTY", ""}, {"PORT", "4317"}, {"_U1", "u"}};
};

TEST_F(EnvExpandTest, EnvSchemeAndBareBracesExpand) {
  EXPECT_EQ(*Expand("${env:HOST}"), "10.0.0.7");
  EXPECT_EQ(*Expand("${HOST}"), "10.0.0.7");
  EXPECT_EQ(*Expand("${_U1}"), "u");
}

TEST_F(EnvExpandTest, UnsetVariableBecomesEmpty) {
  EXPECT_EQ(*Expand("${env:NOPE}"), "");
  EXPECT_EQ(*Expand("a${NOPE}b"), "ab");
}

TEST_F(EnvExpandTest, DefaultIsUsedOnlyWhenUnset) {
  EXPECT_EQ(*Expand("${env:NOPE:-fallback}"), "fallback");
  EXPECT_EQ(*Expand("${env:HOST:-fallback}"), "10.0.0.7");
  // Set to the empty string: the empty value wins over the default.
  EXPECT_EQ(*Expand("${env:EMPTY:-fallback}"), "");
  EXPECT_EQ(*Expand("${env:NOPE:-}"), "");
  EXPECT_EQ(*Expand("${env:NOPE:-a:b-c}"), "a:b-c");
}

TEST_F(EnvExpandTest, DoubleDollarIsALiteralDollar) {
  EXPECT_EQ(*Expand("$$"), "$");
  EXPECT_EQ(*Expand("a$$b"), "a$b");
  EXPECT_EQ(*Expand("$${HOST}"), "${HOST}");
  EXPECT_EQ(*Expand("$$$${HOST}"), "$${HOST}");
}

TEST_F(EnvExpandTest, BareDollarNameIsNotExpanded) {
  EXPECT_EQ(*Expand("$HOST"), "$HOST");
  EXPECT_EQ(*Expand("cost: 5$"), "cost: 5$");
  EXPECT_EQ(*Expand("$"), "$");
}

TEST_F(EnvExpandTest, ReferencesInsideLongerStrings) {
  EXPECT_EQ(*Expand("${env:HOST}:${env:PORT}"), "10.0.0.7:4317");
  EXPECT_EQ(*Expand("http://${HOST}:${PORT}/v1/traces"), "http://10.0.0.7:4317/v1/traces");
  EXPECT_EQ(*Expand("no references"), "no references");
}

TEST_F(EnvExpandTest, UnterminatedReferenceIsAnError) {
  ExpectError("${env:HOST", "without a closing");
  ExpectError("x ${", "without a closing");
}

TEST_F(EnvExpandTest, BadNamesAreErrors) {
  ExpectError("${}", "invalid environment variable name");
  ExpectError("${env:}", "invalid environment variable name");
  ExpectError("${1ABC}", "invalid environment variable name");
  ExpectError("${A-B}", "invalid environment variable name");
  ExpectError("${env:A B}", "invalid environment variable name");
}

TEST_F(EnvExpandTest, OtherProvidersAreNotSupported) {
  ExpectError("${file:/etc/x}", "not supported");
  ExpectError("${http://example.com/x}", "not supported");
  ExpectError("${yaml:a: b}", "\"yaml\" config provider");
}

TEST_F(EnvExpandTest, TreeExpansionTouchesValuesNotKeys) {
  YAML::Node root = YAML::Load(R"(
${HOST}: key-stays
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${env:HOST}:4317
list: [a, "${PORT}", $$x]
plain: 12
)");
  ASSERT_TRUE(ExpandEnvRefsInTree(root, Lookup()).ok());
  EXPECT_EQ(root["${HOST}"].as<std::string>(), "key-stays");
  EXPECT_EQ(root["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].as<std::string>(),
            "10.0.0.7:4317");
  EXPECT_EQ(root["list"][1].as<std::string>(), "4317");
  EXPECT_EQ(root["list"][2].as<std::string>(), "$x");
  EXPECT_EQ(root["plain"].as<int>(), 12);
}

TEST_F(EnvExpandTest, TreeErrorNamesTheLine) {
  YAML::Node root = YAML::Load("a: 1\nb: ${file:x}\n");
  absl::Status s = ExpandEnvRefsInTree(root, Lookup());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string_view::npos) << s;
}

// A YAML alias shares its anchor's node: expanding it twice would turn `$${X}` into `${X}`
// and then into X's value.
TEST_F(EnvExpandTest, AliasedValuesAreExpandedOnce) {
  YAML::Node root = YAML::Load("a: &v $${HOST}\nb: *v\n");
  ASSERT_TRUE(ExpandEnvRefsInTree(root, Lookup()).ok());
  EXPECT_EQ(root["a"].as<std::string>(), "${HOST}");
  EXPECT_EQ(root["b"].as<std::string>(), "${HOST}");
}

}  // namespace
}  // namespace strand::pipeline
