#include "server/server.hpp"

#include "autoscaler/client.hpp"
#include "autoscaler/pubkey_fetch.hpp"
#include "readiness/readiness_driver.hpp"
#include "server/connection.hpp"
#include "server/session_endpoints.hpp"
#include "server/server_state.hpp"
#include "server/tls_context.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <spdlog/spdlog.h>

#include <csignal>

namespace cppworker::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::vector<std::string> route_labels(const std::vector<plugin::RouteSpec>& routes) {
    std::vector<std::string> labels;
    for (const auto& r : routes) labels.push_back(std::string(plugin::method_name(r.method)) + " " + r.path);
    return labels;
}

}  // namespace

ServerState::ServerState(const config::Config& c, plugin::LoadedPlugin& p, requests::RequestRegistry& r,
                         accounting::RequestLedger& l, auth::Authenticator& a,
                         std::chrono::steady_clock::time_point started)
    : config(c), plugin(p), registry(r), ledger(l), authenticator(a), router(p.shape().routes),
      require_auth(!c.unsecured && (!c.report_addr.empty() || c.pubkey_file)), sessions(c.max_sessions),
      readiness(started), route_metrics(route_labels(p.shape().routes)),
      loops(c.io_threads), blocking_pool(c.blocking_threads), control(loops.primary().get_executor()), acceptor(control), signals(control),
      drain_timer(control), session_gc_timer(control),
      forwarder(loops, upstream::ForwarderSettings{c.model_server_url, c.upstream_connect_timeout, c.upstream_timeout}) {
    for (const auto& route : p.shape().routes) {
        route_gates.push_back(route.concurrency == CPPW_CONCURRENCY_LIMIT
                                  ? std::make_unique<accounting::ConcurrencyGate>(route.limit)
                                  : nullptr);
    }
}

accounting::ConcurrencyGate* ServerState::gate_for(uint32_t route_index) {
    switch (router.route(route_index).concurrency) {
    case CPPW_CONCURRENCY_FIFO: return &fifo_gate;
    case CPPW_CONCURRENCY_LIMIT: return route_gates[route_index].get();
    default: return nullptr;
    }
}

std::optional<uint64_t> ServerState::connection_opened(std::function<void()> close_if_idle) {
    std::lock_guard lock(connections_mutex);
    if (connections.size() >= config.max_connections) return std::nullopt;
    const auto id = next_connection++;
    connections.emplace(id, std::move(close_if_idle));
    return id;
}

std::size_t ServerState::open_connections() {
    std::lock_guard lock(connections_mutex);
    return connections.size();
}

void ServerState::connection_closed(uint64_t id) {
    std::lock_guard lock(connections_mutex);
    connections.erase(id);
    if (stopping && connections.empty()) {
        // Last one out: background work (key fetch, session expiry, callbacks) ends with the loop.
        loops.stop();
    }
}

namespace {

void accept_next(ServerState& s) {
    s.acceptor.async_accept(s.loops.at(s.loops.next_index()), [&s](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (!s.stopping) spdlog::error("accept failed: {}", ec.message());
            if (s.stopping || ec == asio::error::operation_aborted) return;
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            const auto executor = socket.get_executor();
            if (s.tls) {
                asio::co_spawn(executor, serve_tls_connection(s, std::move(socket), *s.tls), asio::detached);
            } else {
                asio::co_spawn(executor, serve_connection(s, std::move(socket)), asio::detached);
            }
        }
        accept_next(s);
    });
}

void begin_shutdown(ServerState& s, int signal) {
    if (s.stopping.exchange(true)) return;
    boost::system::error_code ec;
    s.acceptor.close(ec);
    std::vector<std::function<void()>> idle_closers;
    {
        std::lock_guard lock(s.connections_mutex);
        spdlog::info("signal {}: no longer accepting; draining {} open connection(s), at most {} ms", signal,
                     s.connections.size(), s.config.drain_timeout.count());
        for (auto& [id, close_if_idle] : s.connections) idle_closers.push_back(close_if_idle);
        if (s.connections.empty()) {
            s.loops.stop();
            return;
        }
    }
    for (auto& close : idle_closers) close();
    s.drain_timer.expires_after(s.config.drain_timeout);
    s.drain_timer.async_wait([&s](boost::system::error_code ec) {
        if (ec) return;  // drained in time
        std::lock_guard lock(s.connections_mutex);
        spdlog::warn("drain timeout: closing {} connection(s) with requests still in flight", s.connections.size());
        s.loops.stop();
    });
}

}  // namespace

Server::Server(const config::Config& config, plugin::LoadedPlugin& plugin, requests::RequestRegistry& registry,
               accounting::RequestLedger& ledger, auth::Authenticator& authenticator,
               std::chrono::steady_clock::time_point started)
    : state_(std::make_unique<ServerState>(config, plugin, registry, ledger, authenticator, started)) {}

upstream::Forwarder& Server::forwarder() { return state_->forwarder; }

Server::~Server() {
    state_->blocking_pool.join();
}

uint16_t Server::listen() {
    auto& s = *state_;
    const tcp::endpoint endpoint(asio::ip::make_address(s.config.listen_address), s.config.port);
    if (s.config.use_ssl) s.tls.emplace(make_tls_context(s.config.tls_cert, s.config.tls_key));
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(tcp::acceptor::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(asio::socket_base::max_listen_connections);
    return s.acceptor.local_endpoint().port();
}

void Server::run(std::optional<autoscaler::WorkerIdentity> worker_identity) {
    auto& s = *state_;
    s.signals.add(SIGTERM);
    s.signals.add(SIGINT);
    s.signals.async_wait([&s](boost::system::error_code ec, int signal) {
        if (!ec) begin_shutdown(s, signal);
    });
    accept_next(s);
    expire_sessions(s);
    if (s.require_auth && !s.authenticator.has_key()) {
        // PyWorker fetches from the whole REPORT_ADDR string, which fails for a list; the first
        // address is what it means.
        const auto addresses = autoscaler::split_report_addrs(s.config.report_addr);
        asio::co_spawn(s.loops.primary().get_executor(),
                       autoscaler::fetch_pubkey(addresses.empty() ? "" : addresses.front(), s.authenticator),
                       asio::detached);
    }
    asio::co_spawn(s.loops.primary().get_executor(), readiness::drive_readiness(s), asio::detached);
    if (worker_identity) {
        asio::co_spawn(s.loops.primary().get_executor(), autoscaler::report_status(s, *worker_identity), asio::detached);
        asio::co_spawn(s.loops.primary().get_executor(), autoscaler::report_deletes(s, *worker_identity), asio::detached);
    }

    s.plugin.set_cancel_poster([&loops = s.loops](std::function<void()> deliver) {
        asio::post(loops.at(loops.here_or_next()), std::move(deliver));
    });
    s.loops.run();
    s.plugin.set_cancel_poster(nullptr);
    // Requests still open are abandoned: the plugin's later calls for them become no-ops, and its
    // forwards end now, while it is still there to hear it; so do its cancel hooks.
    s.forwarder.abandon_all();
    s.registry.cancel_all();
    s.plugin.deliver_cancels();
}

}  // namespace cppworker::server
