#include "app/run.hpp"
#include "autoscaler/startup_beacon.hpp"
#include "config/config.hpp"
#include "logging/logging.hpp"
#include "os/files.hpp"
#include "supervisor/child_link.hpp"
#include "supervisor/master.hpp"
#include "supervisor/process_title.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

int main(int argc, char** argv) {
    using namespace cppworker;
    // PyWorker measures loadtime from (about) process start, so in-process model loading in the
    // plugin's init counts.
    const auto started = std::chrono::steady_clock::now();
    auto parsed = config::parse(argc, argv, os::executable_dir(argv[0]));
    if (!parsed.config) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
        return parsed.exit_code;
    }
    config::Config& cfg = *parsed.config;
    logging::setup(cfg.log_level);
    if (const auto missing = config::missing_autoscaler_settings(cfg); !missing.empty()) {
        std::string names;
        for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
        const std::string message = "REPORT_ADDR is set, but " + names + " is not: cannot report to the autoscaler";
        spdlog::critical("{}", message);
        autoscaler::report_startup_error(cfg, message);
        return 1;
    }
    // A worker the supervisor started has its socket and its link; otherwise --supervise makes
    // this process the master, which never loads the plugin itself.
    auto link = supervisor::ChildLink::from_environment();
    if (!link && cfg.supervise) return supervisor::run_master(cfg, argc, argv);
    // Started through /proc/self/exe, a worker is called "exe" until it takes its master's name.
    if (const auto title = link ? supervisor::parse_worker_title(argv[0]) : std::nullopt) {
        supervisor::set_process_name(title->name);
    }
    return app::run_worker(cfg, started, std::move(link));
}
