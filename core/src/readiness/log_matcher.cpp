#include "readiness/log_matcher.hpp"

#include <utility>

namespace cppworker::readiness {

LogMatcher::LogMatcher(std::vector<std::string> on_load, std::vector<std::string> on_error,
                       std::vector<std::string> on_info) {
    add(LogAction::loaded, std::move(on_load));
    add(LogAction::error, std::move(on_error));
    add(LogAction::info, std::move(on_info));
}

void LogMatcher::add(LogAction action, std::vector<std::string> patterns) {
    for (auto& pattern : patterns)
        if (!pattern.empty()) rules_.push_back({action, std::move(pattern)});
}

LogMatcher::Match LogMatcher::match(std::string_view line) const {
    for (const auto& rule : rules_)
        if (line.find(rule.pattern) != std::string_view::npos) return rule;
    return {};
}

}  // namespace cppworker::readiness
