#pragma once

#include "config/config.hpp"
#include "supervisor/child_link.hpp"

#include <chrono>
#include <memory>

namespace cppworker::app {

// A worker process's life: loads, checks and initialises the plugin, serves (Worker), finalizes
// the plugin. Returns the exit code: 0 after a clean shutdown, 3 when the plugin is refused, 1
// for any other start-up failure. `link` is the supervisor's, when the master started this process.
int run_worker(config::Config& config, std::chrono::steady_clock::time_point started,
               std::unique_ptr<supervisor::ChildLink> link);

}  // namespace cppworker::app
