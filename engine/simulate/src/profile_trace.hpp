#pragma once
// A trace from a load profile (engine/profile, the file cppworker-load sends).
#include "trace.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace cppworker::simulate {

// `name` prefixes an error, which names the line ("day.profile:3: ...").
std::variant<Trace, std::string> profile_trace(std::string_view text, std::string_view name);

}  // namespace cppworker::simulate
