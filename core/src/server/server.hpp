#pragma once

#include "accounting/request_ledger.hpp"
#include "auth/authenticator.hpp"
#include "autoscaler/report.hpp"
#include "config/config.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/request_registry.hpp"
#include "supervisor/child_link.hpp"
#include "upstream/forwarder.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <memory>

namespace cppworker::server {

struct ServerState;

// The worker's HTTP/1.1 front: listens, routes to the plugin, and drains on SIGTERM / SIGINT.
class Server {
public:
    Server(const config::Config& config, plugin::LoadedPlugin& plugin, requests::RequestRegistry& registry,
           accounting::RequestLedger& ledger, auth::Authenticator& authenticator,
           std::chrono::steady_clock::time_point started);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the listening socket; returns the port (the chosen one when configured as 0).
    uint16_t listen();
    // Instead of listen(): serves on a socket the supervisor bound and handed down; returns its port.
    uint16_t adopt(int listening_fd);
    // Serves until a signal arrives and in-flight requests finished (or the drain timeout passed).
    // Reports to the autoscaler as `worker_identity` when given. Returns with no I/O thread
    // running, and true when no hook runs either: the plugin may then be finalized. False when a
    // blocking handle call did not return within the drain timeout after the drain.
    // Supervised (`link` given): a reload's worker accepts only once loaded; reporting waits for
    // the master's token, and at the end the last reports go out and the figures go back to the
    // master for the next worker (core/src/supervisor).
    bool run(std::optional<autoscaler::WorkerIdentity> worker_identity, supervisor::ChildLink* link = nullptr);

    // The model-server client, for the plugin host's forward service.
    upstream::Forwarder& forwarder();

private:
    std::unique_ptr<ServerState> state_;
};

}  // namespace cppworker::server
