#pragma once

#include "metrics/figures.hpp"
#include "plugin/timer_service.hpp"
#include "requests/request_registry.hpp"
#include "upstream/forwarder.hpp"

#include <cppworker/plugin.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::plugin {

// The host side of the services table: what a `cppw_host*` points at.
class Host {
public:
    Host(std::string plugin_name, std::map<std::string, std::string, std::less<>> options,
         requests::RequestRegistry& registry);

    const cppw_host_services* services() const { return &services_; }
    requests::RequestRegistry& registry() { return registry_; }
    const std::string& plugin_name() const { return plugin_name_; }

    // Options first, then the environment; the stored string outlives every lookup.
    const std::string* config(std::string_view key);

    // Fields added in later minors are read only from a plugin built against them.
    void set_plugin_abi_minor(uint32_t minor) { plugin_abi_minor_ = minor; }
    uint32_t plugin_abi_minor() const { return plugin_abi_minor_; }

    // While set (the server is up), `forward` reaches the model server; otherwise it is refused.
    void set_forwarder(upstream::Forwarder* forwarder) { forwarder_.store(forwarder); }
    upstream::Forwarder* forwarder() const { return forwarder_.load(); }
    // Likewise for `timer_start` (ABI 1.4).
    void set_timers(TimerService* timers) { timers_.store(timers); }
    TimerService* timers() const { return timers_.load(); }

private:
    std::string plugin_name_;
    requests::RequestRegistry& registry_;
    std::mutex config_mutex_;
    std::map<std::string, std::string, std::less<>> config_;
    uint32_t plugin_abi_minor_ = 0;
    std::atomic<upstream::Forwarder*> forwarder_{nullptr};
    std::atomic<TimerService*> timers_{nullptr};
    cppw_host_services services_;
};

// Collects what a `benchmark` hook hands over.
struct PayloadSink {
    std::optional<std::string> json;
};

// Collects what a `metrics` hook reports.
struct MetricsSink {
    std::vector<metrics::PluginSample> samples;
};

}  // namespace cppworker::plugin
