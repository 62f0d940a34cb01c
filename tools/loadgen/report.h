// Renderings of a RunReport: a table for people (stdout) and a JSON summary for the bench
// drivers (--json-out). Pure functions.
#pragma once

#include <string>

#include "loadgen/load_runner.h"

namespace strand::loadgen {

std::string FormatTable(const RunReport& report);
std::string FormatJson(const RunReport& report);

}  // namespace strand::loadgen
