// Logging: spdlog to stderr, one process-wide logger. Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace strand {

// Sets the level by name: debug, info, warn, error. Unknown names keep "info".
void InitLogging(std::string_view level);

}  // namespace strand

#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
