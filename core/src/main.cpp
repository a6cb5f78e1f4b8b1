#include "accounting/request_ledger.hpp"
#include "auth/authenticator.hpp"
#include "autoscaler/client.hpp"
#include "config/config.hpp"
#include "logging/error_text.hpp"
#include "logging/logging.hpp"
#include "plugin/host.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/request_registry.hpp"
#include "server/server.hpp"
#include "supervisor/child_link.hpp"
#include "supervisor/master.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

namespace {

std::filesystem::path executable_dir(const char* argv0) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) self = std::filesystem::absolute(argv0);
    return self.parent_path();
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void log_auth_mode(const cppworker::config::Config& cfg) {
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

void write_port_file(const std::filesystem::path& file, uint16_t port) {
    // Written under a temporary name and renamed, so a reader never sees half a number.
    const auto tmp = file.string() + ".tmp";
    std::ofstream(tmp) << port << '\n';
    std::filesystem::rename(tmp, file);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace cppworker;
    // PyWorker measures loadtime from (about) process start, so in-process model loading in the
    // plugin's init counts.
    const auto started = std::chrono::steady_clock::now();
    auto parsed = config::parse(argc, argv, executable_dir(argv[0]));
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
        // Delete entries are kept only for an autoscaler to take them.
        accounting::RequestLedger ledger(cfg.report_addr.empty() ? 0 : cfg.max_undelivered);
        auth::Authenticator authenticator(cfg.auth_scheme == "url"      ? auth::Scheme::url
                                          : cfg.auth_scheme == "fields" ? auth::Scheme::fields
                                                                        : auth::Scheme::any);
        if (cfg.pubkey_file) authenticator.set_key(auth::SignatureVerifier::from_pem(read_file(*cfg.pubkey_file)));
        plugin::Host host(shape.name, cfg.plugin_options, registry);
        plugin->init(host);
        // However main is left from here on, finalize runs while the host it was given still exists.
        struct FinalizeOnExit {
            plugin::LoadedPlugin& plugin;
            ~FinalizeOnExit() { plugin.finalize(); }
        } finalize_on_exit{*plugin};

        {
            server::Server server(cfg, *plugin, registry, ledger, authenticator, started);
            // The plugin may forward while the server exists, and never after, however this scope ends.
            struct ForwarderLease {
                plugin::Host& host;
                ~ForwarderLease() { host.set_forwarder(nullptr); }
            } lease{host};
            host.set_forwarder(&server.forwarder());
            const uint16_t port = link ? server.adopt(link->listen_fd()) : server.listen();
            spdlog::info("listening on {}:{} with {} I/O and {} blocking thread(s)", cfg.listen_address, port,
                         cfg.io_threads, cfg.blocking_threads);
            log_auth_mode(cfg);
            std::optional<autoscaler::WorkerIdentity> identity;
            if (cfg.report_addr.empty()) {
                spdlog::info("no REPORT_ADDR configured: running standalone, reporting to no autoscaler");
            } else {
                identity = autoscaler::identity_of(cfg);
                spdlog::info("reporting to {} as worker {} at {}", cfg.report_addr, identity->id, identity->url);
            }
            // The master writes the port file of a supervised worker.
            if (cfg.port_file && !link) write_port_file(*cfg.port_file, port);
            if (!server.run(identity, link.get())) {
                // finalize would free what that call still uses, and ~Server would wait for it
                // forever; the process ends here instead, its reports sent.
                spdlog::critical("exiting without finalizing plugin {}: a handle call of its own did not return",
                                 shape.name);
                spdlog::shutdown();
                std::_Exit(1);
            }
            host.set_forwarder(nullptr);
            spdlog::info("server stopped; finalizing plugin {}", shape.name);
            plugin->finalize();
        }
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
