#include "metrics/route_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cppworker::metrics {

RouteMetrics::RouteMetrics(std::vector<std::string> route_labels) {
    for (auto& label : route_labels) routes_.push_back(Route{std::move(label), {}, {}, 0, 0});
}

void RouteMetrics::observe(uint32_t route, unsigned status, double seconds) {
    std::lock_guard lock(mutex_);
    if (route >= routes_.size()) return;
    auto& r = routes_[route];
    ++r.by_status[status];
    ++r.count;
    r.sum += seconds;
    const auto at = std::lower_bound(bounds.begin(), bounds.end(), seconds);
    if (at != bounds.end()) ++r.buckets[static_cast<std::size_t>(at - bounds.begin())];
}

std::string RouteMetrics::format() const {
    std::lock_guard lock(mutex_);
    std::string out = "# HELP cppworker_route_requests_total Answered requests per plugin route and status.\n"
                      "# TYPE cppworker_route_requests_total counter\n";
    for (const auto& r : routes_) {
        for (const auto& [status, n] : r.by_status) {
            out += fmt::format("cppworker_route_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", r.label, status, n);
        }
    }
    out += "# HELP cppworker_request_duration_seconds Time from a request's arrival to the end of its answer.\n"
           "# TYPE cppworker_request_duration_seconds histogram\n";
    for (const auto& r : routes_) {
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bounds.size(); ++i) {
            cumulative += r.buckets[i];
            out += fmt::format("cppworker_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", r.label,
                               bounds[i], cumulative);
        }
        out += fmt::format("cppworker_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", r.label, r.count);
        out += fmt::format("cppworker_request_duration_seconds_sum{{route=\"{}\"}} {}\n", r.label, r.sum);
        out += fmt::format("cppworker_request_duration_seconds_count{{route=\"{}\"}} {}\n", r.label, r.count);
    }
    return out;
}

}  // namespace cppworker::metrics
