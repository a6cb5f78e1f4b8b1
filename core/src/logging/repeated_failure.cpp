#include "logging/repeated_failure.hpp"

namespace cppworker::logging {

std::optional<RepeatedFailure::Line> RepeatedFailure::failed(const std::string& key, Clock::time_point now) {
    const auto [it, fresh] = outages_.try_emplace(key, Outage{now, now, 1, 0});
    if (fresh) return Line{Line::Kind::first, 1, Clock::duration::zero()};
    auto& outage = it->second;
    ++outage.total;
    ++outage.since_line;
    if (now - outage.last_line < interval_) return std::nullopt;
    const Line line{Line::Kind::summary, outage.since_line, now - outage.last_line};
    outage.since_line = 0;
    outage.last_line = now;
    return line;
}

std::optional<RepeatedFailure::Line> RepeatedFailure::succeeded(const std::string& key, Clock::time_point now) {
    const auto it = outages_.find(key);
    if (it == outages_.end()) return std::nullopt;
    const Line line{Line::Kind::recovered, it->second.total, now - it->second.first};
    outages_.erase(it);
    return line;
}

}  // namespace cppworker::logging
