#pragma once

#include "config/engine_config.hpp"
#include "fleet/worker.hpp"
#include "provider/provider.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace cppworker::engine {

// What a template is resolved with for one worker.
struct LaunchContext {
    std::filesystem::path bin_dir;       // {bin}
    std::filesystem::path config_dir;    // {config_dir}
    std::filesystem::path folder;        // {folder}
    uint16_t port = 0;                   // {port}: the worker's WORKER_PORT
    std::map<std::string, uint16_t> ports;  // {NAME}: a free port for each of the template's `ports`
    std::string report_addr;             // the engine's worker API, as REPORT_ADDR
};

// The template's command and environment for worker `w`, its placeholders filled in, with what
// the engine tells every worker as Vast tells its instances (../shared/protocol.md §7.1):
// REPORT_ADDR, CONTAINER_ID, MASTER_TOKEN, WORKER_PORT, PUBLIC_IPADDR and VAST_TCP_PORT_<port>,
// which win over the template's; and WORKER_LISTEN_ADDR 127.0.0.1 unless the template sets it. A
// placeholder it does not know is left as it is.
WorkerLaunch resolve_launch(const Template& t, const Worker& w, const LaunchContext& context);

// A port on 127.0.0.1 that is free now (the kernel's choice for port 0).
uint16_t free_port();

}  // namespace cppworker::engine
