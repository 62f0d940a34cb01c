#include "webhook/admission.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "absl/strings/escaping.h"
#include "common/logging.h"

namespace strand::webhook {
namespace {

using rapidjson::Value;

std::string Str(const Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

std::string Serialize(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

}  // namespace

AdmissionAnswer HandleAdmissionReview(std::string_view body, const PodMutator& mutator) {
  rapidjson::Document review;
  review.Parse(body.data(), body.size());
  if (review.HasParseError() || !review.IsObject() || Str(review, "kind") != "AdmissionReview" ||
      !review.HasMember("request") || Str(review["request"], "uid").empty()) {
    return {400, "not an admission.k8s.io/v1 AdmissionReview with a request.uid\n"};
  }
  const Value& request = review["request"];
  Mutation mutation;
  const std::string kind = request.HasMember("kind") ? Str(request["kind"], "kind") : "";
  const std::string operation = Str(request, "operation");
  if (kind != "Pod" || operation != "CREATE" || !request.HasMember("object")) {
    mutation.warnings.push_back("strand webhook: only pods CREATE are instrumented");
  } else {
    mutation = mutator.Mutate(Serialize(request["object"]), Str(request, "namespace"));
  }
  const Value* object = request.HasMember("object") ? &request["object"] : nullptr;
  const std::string pod = object && object->HasMember("metadata")
                              ? Str((*object)["metadata"], "name").empty()
                                    ? Str((*object)["metadata"], "generateName") + "*"
                                    : Str((*object)["metadata"], "name")
                              : "?";
  for (const auto& w : mutation.warnings) {
    LOG_WARN("webhook: pod {}/{}: {}", Str(request, "namespace"), pod, w);
  }

  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("apiVersion", "admission.k8s.io/v1", a);
  out.AddMember("kind", "AdmissionReview", a);
  Value response(rapidjson::kObjectType);
  response.AddMember("uid", Value(Str(request, "uid").c_str(), a), a);
  response.AddMember("allowed", true, a);
  if (!mutation.patch.empty()) {
    response.AddMember("patchType", "JSONPatch", a);
    response.AddMember("patch", Value(absl::Base64Escape(mutation.patch).c_str(), a), a);
  }
  if (!mutation.warnings.empty()) {
    Value warnings(rapidjson::kArrayType);
    for (const auto& w : mutation.warnings) warnings.PushBack(Value(w.c_str(), a), a);
    response.AddMember("warnings", warnings, a);
  }
  out.AddMember("response", response, a);
  return {200, Serialize(out)};
}

}  // namespace strand::webhook
