#include "app/run.hpp"

#include "app/worker.hpp"
#include "autoscaler/startup_beacon.hpp"
#include "logging/error_text.hpp"
#include "plugin/host.hpp"
#include "os/files.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace cppworker::app {
namespace {

void log_auth_mode(const config::Config& cfg) {
    if (cfg.unsecured) {
        spdlog::warn("UNSECURED: signatures are not checked and bare payloads are accepted");
    } else if (cfg.pubkey_file) {
        spdlog::info("checking signatures ({} scheme) with the key in {}", cfg.auth_scheme, cfg.pubkey_file->string());
    } else if (!cfg.report_addr.empty()) {
        spdlog::info("checking signatures ({} scheme) with the key from {}/pubkey/", cfg.auth_scheme, cfg.report_addr);
    } else {
        spdlog::warn("no REPORT_ADDR and no --pubkey-file: no key to check signatures with, so requests are "
                     "accepted unsigned, as with UNSECURED");
    }
}

// Serves with the plugin initialised; finalizes it once nothing of it runs any more.
void serve(config::Config& cfg, plugin::LoadedPlugin& plugin, plugin::Host& host, requests::RequestRegistry& registry,
           std::chrono::steady_clock::time_point started, supervisor::ChildLink* link) {
    Worker worker(cfg, plugin, registry, started);
    // The plugin may forward and start timers while the worker exists, and never after, however
    // this scope ends.
    struct ServiceLease {
        plugin::Host& host;
        ~ServiceLease() {
            host.set_forwarder(nullptr);
            host.set_timers(nullptr);
        }
    } lease{host};
    host.set_forwarder(&worker.forwarder());
    host.set_timers(&worker.timers());
    const uint16_t port = link ? worker.adopt(link->listen_fd()) : worker.listen();
    spdlog::info("listening on {}:{} with {} I/O and {} blocking thread(s)", cfg.listen_address, port, cfg.io_threads,
                 cfg.blocking_threads);
    log_auth_mode(cfg);
    std::optional<autoscaler::WorkerIdentity> identity;
    if (cfg.report_addr.empty()) {
        spdlog::info("no REPORT_ADDR configured: running standalone, reporting to no autoscaler");
    } else {
        identity = autoscaler::identity_of(cfg);
        spdlog::info("reporting to {} as worker {} at {}", cfg.report_addr, identity->id, identity->url);
    }
    // The master writes the port file of a supervised worker.
    if (cfg.port_file && !link) os::write_atomically(*cfg.port_file, std::to_string(port));
    if (!worker.run(identity, link)) {
        // finalize would free what that call still uses, and ~Worker would wait for it forever;
        // the process ends here instead, its reports sent.
        spdlog::critical("exiting without finalizing plugin {}: a handle call of its own did not return",
                         plugin.shape().name);
        spdlog::shutdown();
        std::_Exit(1);
    }
    host.set_forwarder(nullptr);
    host.set_timers(nullptr);
    spdlog::info("server stopped; finalizing plugin {}", plugin.shape().name);
    plugin.finalize();
}

}  // namespace

int run_worker(config::Config& cfg, std::chrono::steady_clock::time_point started,
               std::unique_ptr<supervisor::ChildLink> link) {
    // A reload's worker that cannot start leaves the running one serving: that is no start-up
    // failure of the instance, so the autoscaler is not told.
    const auto startup_error = [&](const std::string& message) {
        if (!link || !link->reload()) autoscaler::report_startup_error(cfg, message);
    };
    try {
        auto plugin = plugin::LoadedPlugin::load(cfg.plugin_path);
        const auto& shape = plugin->shape();
        spdlog::info("plugin {} {} (ABI {}.{}) from {}: {} route(s)", shape.name, shape.version, CPPW_ABI_MAJOR,
                     shape.abi_minor, plugin->path().string(), shape.routes.size());
        if (cfg.model_server_url.empty()) cfg.model_server_url = shape.model_server_url;
        if (!cfg.model_server_url.empty()) spdlog::info("model server at {}", cfg.model_server_url);

        requests::RequestRegistry registry(cfg.stream_high_water);
        plugin::Host host(shape.name, cfg.plugin_options, registry);
        plugin->init(host);
        // However this is left from here on, finalize runs while the host it was given still exists.
        struct FinalizeOnExit {
            plugin::LoadedPlugin& plugin;
            ~FinalizeOnExit() { plugin.finalize(); }
        } finalize_on_exit{*plugin};
        serve(cfg, *plugin, host, registry, started, link.get());
        spdlog::info("bye ({} request(s) left unanswered by the plugin)", registry.size());
        return 0;
    } catch (const plugin::PluginError& e) {
        spdlog::critical("{}", e.what());
        startup_error(std::string("Worker Server failed to launch: ") + e.what());
        return 3;
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", logging::error_text(e));
        startup_error("Worker Server failed to launch: " + logging::error_text(e));
        return 1;
    }
}

}  // namespace cppworker::app
