#pragma once

#include "fleet/worker.hpp"
#include "model/endpoint.hpp"
#include "routing/load_meter.hpp"
#include "routing/route_queue.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::engine {

// An endpoint with what the engine keeps of its traffic.
struct EndpointEntry {
    EndpointEntry(Endpoint e, double meter_window)
        : endpoint(std::move(e)), meter(meter_window), served_meter(meter_window) {}

    Endpoint endpoint;
    LoadMeter meter;
    LoadMeter served_meter;  // the load its workers report they served (cur_perf), as it arrives
    RouteQueue queue;
    // Routed and not yet named by a worker's /delete_requests/: request_idx → worker.
    std::map<int64_t, int64_t> assigned;
    uint64_t routed = 0, waited = 0, served = 0, failed = 0;
};

// Endpoints, their workergroups and their workers: everything the engine knows, on its one
// event loop (no lock). Ids are handed out in increasing order and never reused.
class Fleet {
public:
    // `meter_window`: s of arrivals each endpoint's meter keeps, the longest window the policy
    // reads (longest_window() of its tuning): a shorter one would understate the demand over it.
    explicit Fleet(double meter_window) : meter_window_(meter_window) {}

    EndpointEntry& add_endpoint(Endpoint e);
    Workergroup& add_group(Workergroup g);
    Worker& add_worker(int64_t workergroup_id, double now);

    EndpointEntry* endpoint(int64_t id);
    EndpointEntry* endpoint_named(std::string_view name);
    Workergroup* group(int64_t id);
    Worker* worker(int64_t id);

    // Removes the endpoint; returns its groups' workers, which the caller destroys.
    std::vector<int64_t> remove_endpoint(int64_t id);
    std::vector<int64_t> remove_group(int64_t id);
    void remove_worker(int64_t id);

    std::map<int64_t, EndpointEntry>& endpoints() { return endpoints_; }
    std::map<int64_t, Workergroup>& groups() { return groups_; }
    std::map<int64_t, Worker>& workers() { return workers_; }
    std::vector<Worker*> workers_of_group(int64_t group_id);
    std::vector<Worker*> workers_of_endpoint(int64_t endpoint_id);

private:
    std::map<int64_t, EndpointEntry> endpoints_;
    std::map<int64_t, Workergroup> groups_;
    std::map<int64_t, Worker> workers_;
    double meter_window_;
    int64_t next_endpoint_ = 1, next_group_ = 1, next_worker_ = 1;
};

}  // namespace cppworker::engine
