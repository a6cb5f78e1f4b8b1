#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cppworker::metrics {

// Per plugin route: answers by status code and a latency histogram, in Prometheus text.
// Thread-safe; one short lock per finished request.
class RouteMetrics {
public:
    // Status recorded for a request that ended without an answer (its client left), as PyWorker
    // logs it.
    static constexpr unsigned client_closed = 499;

    explicit RouteMetrics(std::vector<std::string> route_labels);

    void observe(uint32_t route, unsigned status, double seconds);
    std::string format() const;

private:
    static constexpr std::array<double, 14> bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                   1,     2.5,  5,     10,   30,  60,   300};
    struct Route {
        std::string label;
        std::map<unsigned, uint64_t> by_status;
        std::array<uint64_t, bounds.size()> buckets{};  // not cumulative; summed when printed
        uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::vector<Route> routes_;
};

}  // namespace cppworker::metrics
