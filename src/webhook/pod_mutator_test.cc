// Data-driven tests of the webhook: each tests/k8s/fixtures/*.json holds the cluster's
// objects (namespaces, Instrumentations, owners), an AdmissionReview, and what must come
// back: the pod after applying the returned JSON Patch (`expected_pod`, or null for no
// patch) and substrings of the expected warnings. The patch is applied by the small
// RFC 6902 applier below, so the test checks the patch as the API server would use it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "webhook/admission.h"
#include "webhook/static_cluster_source.h"

namespace strand::webhook {
namespace {

using rapidjson::Document;
using rapidjson::Value;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Json(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  v.Accept(w);
  return buf.GetString();
}

// Applies the `add` and `replace` operations of an RFC 6902 patch to `doc`.
::testing::AssertionResult ApplyPatch(Document& doc, const Value& patch) {
  if (!patch.IsArray()) return ::testing::AssertionFailure() << "patch is not an array";
  for (const auto& op : patch.GetArray()) {
    const std::string kind = op["op"].GetString();
    const std::string path = op["path"].GetString();
    const auto slash = path.rfind('/');
    rapidjson::Pointer parent_ptr(path.substr(0, slash).c_str());
    const std::string last = path.substr(slash + 1);
    Value* parent = parent_ptr.Get(doc);
    if (parent == nullptr) return ::testing::AssertionFailure() << "no parent for " << path;
    Value value(op["value"], doc.GetAllocator());
    if (kind == "replace" && rapidjson::Pointer(path.c_str()).Get(doc) == nullptr) {
      return ::testing::AssertionFailure() << "replace of a missing value at " << path;
    }
    if (kind != "add" && kind != "replace") {
      return ::testing::AssertionFailure() << "unexpected op " << kind;
    }
    if (parent->IsArray()) {
      if (last == "-") {
        parent->PushBack(value, doc.GetAllocator());
      } else {
        size_t i = std::stoul(last);
        if (i > parent->Size()) return ::testing::AssertionFailure() << "index past end " << path;
        if (kind == "replace") {
          (*parent)[i] = value;
        } else {
          parent->PushBack(Value(), doc.GetAllocator());
          for (size_t j = parent->Size() - 1; j > i; --j) (*parent)[j] = (*parent)[j - 1];
          (*parent)[i] = value;
        }
      }
    } else if (parent->IsObject()) {
      auto it = parent->FindMember(last.c_str());
      if (it != parent->MemberEnd()) {
        it->value = value;
      } else {
        parent->AddMember(Value(last.c_str(), doc.GetAllocator()), value, doc.GetAllocator());
      }
    } else {
      return ::testing::AssertionFailure() << "parent of " << path << " is a scalar";
    }
  }
  return ::testing::AssertionSuccess();
}

class AdmissionFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AdmissionFixtureTest, PatchedPodMatchesExpected) {
  const std::filesystem::path file =
      std::filesystem::path(STRAND_WEBHOOK_FIXTURES) / (GetParam() + ".json");
  Document fixture;
  fixture.Parse(ReadFile(file).c_str());
  ASSERT_FALSE(fixture.HasParseError()) << file;
  StaticClusterSource cluster;
  for (const auto& o : fixture["cluster"].GetArray()) ASSERT_TRUE(cluster.Add(Json(o)).ok());
  PodMutator mutator(cluster);
  AdmissionAnswer answer = HandleAdmissionReview(Json(fixture["review"]), mutator);
  ASSERT_EQ(answer.status, 200) << answer.body;
  Document review;
  review.Parse(answer.body.c_str());
  ASSERT_FALSE(review.HasParseError()) << answer.body;
  EXPECT_STREQ(review["apiVersion"].GetString(), "admission.k8s.io/v1");
  EXPECT_STREQ(review["kind"].GetString(), "AdmissionReview");
  const Value& response = review["response"];
  EXPECT_STREQ(response["uid"].GetString(), fixture["review"]["request"]["uid"].GetString());
  EXPECT_TRUE(response["allowed"].GetBool());

  Document pod;
  pod.CopyFrom(fixture["review"]["request"]["object"], pod.GetAllocator());
  if (fixture["expected_pod"].IsNull()) {
    EXPECT_FALSE(response.HasMember("patch")) << answer.body;
  } else {
    ASSERT_TRUE(response.HasMember("patch")) << answer.body;
    EXPECT_STREQ(response["patchType"].GetString(), "JSONPatch");
    std::string patch_json;
    ASSERT_TRUE(absl::Base64Unescape(response["patch"].GetString(), &patch_json));
    Document patch;
    patch.Parse(patch_json.c_str());
    ASSERT_TRUE(ApplyPatch(pod, patch));
    if (std::getenv("STRAND_UPDATE_FIXTURES") != nullptr) {
      // Regenerates expected_pod for review (a golden file): never set in `make test`.
      fixture["expected_pod"].CopyFrom(pod, fixture.GetAllocator());
      std::ofstream(file) << Json(fixture) << "\n";
    }
    EXPECT_EQ(Json(pod), Json(fixture["expected_pod"]));

    // Idempotent: the patched pod, reviewed again, is left alone.
    Document again;
    again.CopyFrom(fixture["review"], again.GetAllocator());
    again["request"]["object"].CopyFrom(pod, again.GetAllocator());
    AdmissionAnswer second = HandleAdmissionReview(Json(again), mutator);
    EXPECT_EQ(second.body.find("\"patch\""), std::string::npos) << second.body;
  }
  std::string warnings;
  if (response.HasMember("warnings")) {
    for (const auto& w : response["warnings"].GetArray())
      warnings += std::string(w.GetString()) + "\n";
  }
  if (fixture.HasMember("warnings")) {
    for (const auto& w : fixture["warnings"].GetArray()) {
      EXPECT_NE(warnings.find(w.GetString()), std::string::npos)
          << "missing warning '" << w.GetString() << "' in:\n"
          << warnings;
    }
  } else {
    EXPECT_EQ(warnings, "");
  }
}

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(STRAND_WEBHOOK_FIXTURES)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AdmissionFixtureTest, ::testing::ValuesIn(FixtureNames()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(AdmissionTest, BodyThatIsNotAnAdmissionReviewIs400) {
  StaticClusterSource cluster;
  PodMutator mutator(cluster);
  EXPECT_EQ(HandleAdmissionReview("not json", mutator).status, 400);
  EXPECT_EQ(HandleAdmissionReview(R"({"kind":"Pod"})", mutator).status, 400);
  EXPECT_EQ(HandleAdmissionReview(R"({"kind":"AdmissionReview","request":{}})", mutator).status,
            400);
}

TEST(AdmissionTest, ObjectThatIsNotAPodIsAllowedWithAWarningAndNoPatch) {
  StaticClusterSource cluster;
  PodMutator mutator(cluster);
  AdmissionAnswer a = HandleAdmissionReview(
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
          "kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"x",
          "object":{"metadata":{"name":"p"},"spec":{"containers":"oops"}}}})",
      mutator);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("\"allowed\":true"), std::string::npos);
  EXPECT_EQ(a.body.find("\"patch\""), std::string::npos);
  EXPECT_NE(a.body.find("not a pod with containers"), std::string::npos) << a.body;
}

TEST(StaticClusterSourceTest, ServesObjectsAndInstrumentationLists) {
  StaticClusterSource s;
  ASSERT_TRUE(s.Add(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}})").ok());
  ASSERT_TRUE(s.Add(R"({"apiVersion":"opentelemetry.io/v1alpha1","kind":"Instrumentation",
                        "metadata":{"name":"i","namespace":"shop"}})")
                  .ok());
  EXPECT_TRUE(s.Get("/api/v1/namespaces/shop").ok());
  EXPECT_TRUE(s.Get("/apis/opentelemetry.io/v1alpha1/namespaces/shop/instrumentations/i").ok());
  auto list = s.Get("/apis/opentelemetry.io/v1alpha1/namespaces/shop/instrumentations");
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->find("\"i\""), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(s.Get("/api/v1/namespaces/other").status()));
  EXPECT_FALSE(s.Add(R"({"kind":"Pod"})").ok());
}

}  // namespace
}  // namespace strand::webhook
