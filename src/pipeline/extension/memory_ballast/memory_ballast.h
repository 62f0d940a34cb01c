// The `memory_ballast` extension: removed from the collector; accepted with a deprecation
// warning and does nothing (Strand's memory is not managed by a garbage collector).
#pragma once

#include <memory>

#include "pipeline/config/component.h"

namespace strand::pipeline {

std::unique_ptr<ExtensionFactory> NewMemoryBallastFactory();

}  // namespace strand::pipeline
