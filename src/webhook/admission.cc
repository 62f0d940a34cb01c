#include "webhook/admission.h"

#include <rapidjson/document.h>

#include "absl/strings/escaping.h"
#include "common/logging.h"
#include "webhook/json_text.h"

namespace strand::webhook {
using rapidjson::Value;

AdmissionAnswer HandleAdmissionReview(std::string_view body, const PodMutator& mutator) {
  rapidjson::Document review;
  review.Parse(body.data(), body.size());
  if (review.HasParseError() || !review.IsObject() ||
      StringMember(review, "kind") != "AdmissionReview" || !review.HasMember("request") ||
      StringMember(review["request"], "uid").empty()) {
    return {400, "not an admission.k8s.io/v1 AdmissionReview with a request.uid\n"};
  }
  const Value& request = review["request"];
  Mutation mutation;
  const std::string kind = request.HasMember("kind") ? StringMember(request["kind"], "kind") : "";
  const std::string operation = StringMember(request, "operation");
  if (kind != "Pod" || operation != "CREATE" || !request.HasMember("object")) {
    mutation.warnings.push_back("strand webhook: only pods CREATE are instrumented");
  } else {
    mutation = mutator.Mutate(JsonText(request["object"]), StringMember(request, "namespace"));
  }
  const Value* object = request.HasMember("object") ? &request["object"] : nullptr;
  const std::string pod = object && object->HasMember("metadata")
                              ? StringMember((*object)["metadata"], "name").empty()
                                    ? StringMember((*object)["metadata"], "generateName") + "*"
                                    : StringMember((*object)["metadata"], "name")
                              : "?";
  for (const auto& w : mutation.warnings) {
    LOG_WARN("webhook: pod {}/{}: {}", StringMember(request, "namespace"), pod, w);
  }

  rapidjson::Document out(rapidjson::kObjectType);
  auto& a = out.GetAllocator();
  out.AddMember("apiVersion", "admission.k8s.io/v1", a);
  out.AddMember("kind", "AdmissionReview", a);
  Value response(rapidjson::kObjectType);
  response.AddMember("uid", Value(StringMember(request, "uid").c_str(), a), a);
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
  return {200, JsonText(out)};
}

}  // namespace strand::webhook
