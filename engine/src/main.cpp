#include "app/engine.hpp"
#include "auth/random_token.hpp"
#include "logging/error_text.hpp"
#include "logging/logging.hpp"
#include "os/files.hpp"
#include "provider/local_processes.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

int main(int argc, char** argv) {
    using namespace cppworker;
    auto parsed = engine::parse_engine_config(argc, argv, os::executable_dir(argv[0]));
    if (!parsed.config) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
        return parsed.exit_code;
    }
    auto& config = *parsed.config;
    logging::setup(config.log_level);
    try {
        std::filesystem::create_directories(config.run_dir);
        const auto pid_file = config.run_dir / "workers.pids";
        if (const int left = engine::LocalProcesses::cleanup_leftovers(pid_file); left > 0) {
            spdlog::warn("stopped {} worker process group(s) a previous engine left running", left);
        }
        const bool key_made = config.api_key.empty();
        if (key_made) {
            config.api_key = auth::random_token();
            spdlog::info("no ENGINE_API_KEY given; the account key of this run is {}", config.api_key);
        }
        engine::Engine engine(config, std::make_unique<engine::LocalProcesses>(pid_file));
        const auto port = engine.listen();
        spdlog::info("cppworker-engine listening on {}:{} (client, web and worker APIs); run folder {}",
                     config.listen_address, port, config.run_dir.string());
        // A key given is not written to the log; one made for this run was, just above.
        spdlog::info("dashboard: http://{}:{}/#key={}", config.listen_address, port,
                     key_made ? config.api_key : "<ENGINE_API_KEY>");
        if (config.port_file) os::write_atomically(*config.port_file, std::to_string(port));
        engine.create_configured_endpoints();
        engine.run();
        spdlog::info("bye");
        return 0;
    } catch (const std::exception& e) {
        spdlog::critical("cannot run: {}", logging::error_text(e));
        return 1;
    }
}
