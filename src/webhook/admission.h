// Answers an admission.k8s.io/v1 AdmissionReview for pods CREATE with the PodMutator's
// JSON Patch (base64, patchType JSONPatch). Pods are always allowed: problems with the
// pod or the Instrumentation become the response's `warnings`, and the pod is admitted
// unchanged. A body that is not an AdmissionReview with a request.uid gets 400.
//
// Thread-safe if the mutator is.
#pragma once

#include <string>
#include <string_view>

#include "webhook/pod_mutator.h"

namespace strand::webhook {

struct AdmissionAnswer {
  int status = 200;
  std::string body;  // the AdmissionReview JSON, or an error text for 400
};

AdmissionAnswer HandleAdmissionReview(std::string_view body, const PodMutator& mutator);

}  // namespace strand::webhook
