// The `health_check` extension: GET `path` (default /) on `endpoint` (default
// localhost:13133) answers 200 {"status":"Server available",...} while the pipelines run,
// 503 otherwise.
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ExtensionFactory> NewHealthCheckFactory();

}  // namespace strand::pipeline
