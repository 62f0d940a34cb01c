// Extensions besides file_storage (file_storage.h):
// - `health_check`: GET `path` (default /) on `endpoint` (default localhost:13133) answers
//   200 {"status":"Server available",...} while the pipelines run, 503 otherwise.
// - `zpages`: on `endpoint` (default localhost:55679), /debug/pipelinez shows each
//   pipeline's components and their counters, /debug/servicez the process, and
//   /debug/extensionz the extensions.
// - `memory_ballast`: removed from the collector; accepted with a deprecation warning and
//   does nothing (Strand's memory is not managed by a garbage collector).
#pragma once

#include <memory>

#include "pipeline/component.h"

namespace strand::pipeline {

std::unique_ptr<ExtensionFactory> NewHealthCheckFactory();
std::unique_ptr<ExtensionFactory> NewZpagesFactory();
std::unique_ptr<ExtensionFactory> NewMemoryBallastFactory();

}  // namespace strand::pipeline
