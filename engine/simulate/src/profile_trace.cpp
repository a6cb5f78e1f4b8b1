#include "profile_trace.hpp"

#include "profile/profile.hpp"

namespace cppworker::simulate {

std::variant<Trace, std::string> profile_trace(std::string_view text, std::string_view name) {
    auto read = profile::parse_profile(text);
    if (auto* e = std::get_if<profile::ParseError>(&read)) return profile::describe(*e, name);
    Trace trace;
    trace.duration = profile::total_seconds(std::get<profile::Profile>(read));
    trace.expected_by = [p = std::get<profile::Profile>(std::move(read))](double t) { return profile::expected_by(p, t); };
    return trace;
}

}  // namespace cppworker::simulate
