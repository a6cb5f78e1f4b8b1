#include "logging/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cppworker::logging {

void setup(const std::string& level) {
    auto logger = spdlog::stderr_logger_mt("cppworker");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%-5l] %v");
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::flush_on(spdlog::level::debug);
}

}  // namespace cppworker::logging
