#pragma once

#include "api/api.hpp"
#include "api/http_server.hpp"
#include "auth/signing_key.hpp"
#include "config/engine_config.hpp"
#include "fleet/fleet.hpp"
#include "history/history.hpp"
#include "policy/policy.hpp"
#include "provider/provider.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::engine {

// The composition root of cppworker-engine: the API on one event loop, and every `tick` the
// workers' processes are checked, the policy run for each workergroup and its actions carried out
// through the provider. Everything runs on that one loop: no lock anywhere.
class Engine {
public:
    Engine(EngineConfig config, std::unique_ptr<Provider> provider);
    ~Engine();

    // Binds the API; returns the port.
    uint16_t listen();
    // The config file's endpoints; throws std::invalid_argument naming what is wrong.
    void create_configured_endpoints();
    // Serves until SIGTERM or SIGINT; then every worker it started stops (drained, within the
    // stop grace, its last reports still taken) before this returns.
    void run();

private:
    void tick();
    void reap_processes(double now);
    std::optional<GroupSample> scale_group(const Workergroup& g, double now);
    void record_samples(std::map<int64_t, std::vector<GroupSample>> decisions, double now);
    void carry_out(const Workergroup& g, const Action& a, const std::string& why, double now);
    int64_t create_worker(const Workergroup& g, double now);
    void retire_workers(const std::vector<int64_t>& ids, const std::string& why);
    void start_worker(Worker& w, const Template& t, double now);
    void destroy_workers(const std::vector<int64_t>& ids);
    void reload_workers(const std::vector<int64_t>& ids);
    double worker_perf(const Workergroup& g, const Template& t);
    void shutdown(int signal);
    void await_workers();

    EngineConfig config_;
    boost::asio::io_context io_;
    auth::SigningKey key_;
    Fleet fleet_;
    std::unique_ptr<Provider> provider_;
    History history_;  // what the dashboard shows
    Api api_;
    HttpServer server_;
    std::map<int64_t, PolicyMemory> memory_;  // by workergroup
    boost::asio::steady_timer ticker_;
    boost::asio::steady_timer drain_timer_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point stop_deadline_;
    boost::asio::signal_set signals_;
    uint16_t port_ = 0;
};

// Epoch seconds, the engine's clock for reports, policy and the API.
double epoch_now();

}  // namespace cppworker::engine
