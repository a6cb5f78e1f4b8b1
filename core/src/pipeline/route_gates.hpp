#pragma once

#include "accounting/concurrency_gate.hpp"
#include "plugin/descriptor_check.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace cppworker::pipeline {

// The concurrency gate each plugin route goes through (core/protocol.md §9): FIFO routes share
// one gate that lets one request run at a time, a limit-N route has a gate of its own, a parallel
// route has none.
class RouteGates {
public:
    explicit RouteGates(const std::vector<plugin::RouteSpec>& routes);

    // Null for a parallel route.
    accounting::ConcurrencyGate* gate_for(uint32_t route_index);
    // Requests waiting in every gate.
    std::size_t queued() const;

private:
    accounting::ConcurrencyGate fifo_{1};
    std::vector<cppw_concurrency> kinds_;
    std::vector<std::unique_ptr<accounting::ConcurrencyGate>> limited_;  // by route; null unless limit-N
};

}  // namespace cppworker::pipeline
