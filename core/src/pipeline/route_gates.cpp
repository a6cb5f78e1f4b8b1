#include "pipeline/route_gates.hpp"

namespace cppworker::pipeline {

RouteGates::RouteGates(const std::vector<plugin::RouteSpec>& routes) {
    for (const auto& route : routes) {
        kinds_.push_back(route.concurrency);
        limited_.push_back(route.concurrency == CPPW_CONCURRENCY_LIMIT
                               ? std::make_unique<accounting::ConcurrencyGate>(route.limit)
                               : nullptr);
    }
}

accounting::ConcurrencyGate* RouteGates::gate_for(uint32_t route_index) {
    switch (kinds_.at(route_index)) {
    case CPPW_CONCURRENCY_FIFO: return &fifo_;
    case CPPW_CONCURRENCY_LIMIT: return limited_[route_index].get();
    default: return nullptr;
    }
}

std::size_t RouteGates::queued() const {
    std::size_t queued = fifo_.queued();
    for (const auto& gate : limited_) queued += gate ? gate->queued() : 0;
    return queued;
}

}  // namespace cppworker::pipeline
