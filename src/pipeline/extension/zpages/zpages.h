// The `zpages` extension: on `endpoint` (default localhost:55679), /debug/pipelinez shows
// each pipeline's components and their counters, /debug/servicez the process, and
// /debug/extensionz the extensions.
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ExtensionFactory> NewZpagesFactory();

}  // namespace strand::pipeline
