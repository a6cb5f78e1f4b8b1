#include "fleet/fleet.hpp"

#include "auth/random_token.hpp"

namespace cppworker::engine {

EndpointEntry& Fleet::add_endpoint(Endpoint e) {
    e.id = next_endpoint_++;
    const auto id = e.id;
    return endpoints_.try_emplace(id, std::move(e), meter_window_).first->second;
}

Workergroup& Fleet::add_group(Workergroup g) {
    g.id = next_group_++;
    return groups_.emplace(g.id, std::move(g)).first->second;
}

Worker& Fleet::add_worker(int64_t workergroup_id, double now) {
    Worker w;
    w.id = next_worker_++;
    w.workergroup_id = workergroup_id;
    w.endpoint_id = groups_.at(workergroup_id).endpoint_id;
    w.mtoken = auth::random_token();
    w.created_at = now;
    w.state_since = now;
    return workers_.emplace(w.id, std::move(w)).first->second;
}

EndpointEntry* Fleet::endpoint(int64_t id) {
    const auto it = endpoints_.find(id);
    return it == endpoints_.end() ? nullptr : &it->second;
}

EndpointEntry* Fleet::endpoint_named(std::string_view name) {
    for (auto& [id, e] : endpoints_) {
        if (e.endpoint.name == name) return &e;
    }
    return nullptr;
}

Workergroup* Fleet::group(int64_t id) {
    const auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : &it->second;
}

Worker* Fleet::worker(int64_t id) {
    const auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : &it->second;
}

std::vector<int64_t> Fleet::remove_endpoint(int64_t id) {
    std::vector<int64_t> workers;
    std::vector<int64_t> groups;
    for (const auto& [gid, g] : groups_) {
        if (g.endpoint_id == id) groups.push_back(gid);
    }
    for (const auto gid : groups) {
        const auto of_group = remove_group(gid);
        workers.insert(workers.end(), of_group.begin(), of_group.end());
    }
    endpoints_.erase(id);
    return workers;
}

std::vector<int64_t> Fleet::remove_group(int64_t id) {
    std::vector<int64_t> workers;
    for (const auto& [wid, w] : workers_) {
        if (w.workergroup_id == id) workers.push_back(wid);
    }
    groups_.erase(id);
    return workers;
}

void Fleet::remove_worker(int64_t id) { workers_.erase(id); }

std::vector<Worker*> Fleet::workers_of_group(int64_t group_id) {
    std::vector<Worker*> out;
    for (auto& [id, w] : workers_) {
        if (w.workergroup_id == group_id) out.push_back(&w);
    }
    return out;
}

std::vector<Worker*> Fleet::workers_of_endpoint(int64_t endpoint_id) {
    std::vector<Worker*> out;
    for (auto& [id, w] : workers_) {
        if (w.endpoint_id == endpoint_id) out.push_back(&w);
    }
    return out;
}

}  // namespace cppworker::engine
