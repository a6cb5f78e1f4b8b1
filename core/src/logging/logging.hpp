#pragma once

#include <string>

namespace cppworker::logging {

// The worker logs to stderr; the launch scripts decide where that goes.
void setup(const std::string& level);

}  // namespace cppworker::logging
