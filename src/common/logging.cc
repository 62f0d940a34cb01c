#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace strand {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("strand");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto lvl = spdlog::level::from_str(std::string(level));
  spdlog::set_level(lvl == spdlog::level::off ? spdlog::level::info : lvl);
}

}  // namespace strand
