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
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <stdexcept>

#include <sys/socket.h>
#include <unistd.h>

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

void ServerState::connection_accepted() {
    std::lock_guard lock(connections_mutex);
    ++accepted_unopened;
}

void ServerState::stop_if_drained_locked() {
    // Last one out: background work (key fetch, session expiry, callbacks) ends with the loop.
    if (stopping && connections.empty() && accepted_unopened == 0) loops.stop();
}

std::optional<uint64_t> ServerState::connection_opened(std::function<void()> close_if_idle) {
    std::lock_guard lock(connections_mutex);
    if (accepted_unopened > 0) --accepted_unopened;
    if (connections.size() >= config.max_connections) {
        stop_if_drained_locked();
        return std::nullopt;
    }
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
    stop_if_drained_locked();
}

namespace {

void accept_next(ServerState& s) {
    s.acceptor.async_accept(s.loops.at(s.loops.next_index()), [&s](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (!s.stopping) spdlog::error("accept failed: {}", ec.message());
            if (s.stopping || ec == asio::error::operation_aborted) return;
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            s.connection_accepted();
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
    // Released from the event loop, then closed: a listening socket shared with other processes
    // (core/src/supervisor) stays open after our close, and epoll would go on reporting its new
    // connections here unless the registration is removed first, which close() leaves to the kernel.
    const auto fd = s.acceptor.release(ec);
    if (ec) {
        s.acceptor.close(ec);
    } else {
        ::close(fd);
    }
    std::vector<std::function<void()>> idle_closers;
    {
        std::lock_guard lock(s.connections_mutex);
        spdlog::info("signal {}: no longer accepting; draining {} open connection(s), at most {} ms", signal,
                     s.connections.size(), s.config.drain_timeout.count());
        for (auto& [id, close_if_idle] : s.connections) idle_closers.push_back(close_if_idle);
    }
    // Checked after what is queued on this thread already: an accept that completed before the
    // acceptor was released still has its handler to run, and that connection is served too.
    asio::post(s.control, [&s] {
        std::lock_guard lock(s.connections_mutex);
        s.stop_if_drained_locked();
    });
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

uint16_t Server::adopt(int listening_fd) {
    auto& s = *state_;
    if (s.config.use_ssl) s.tls.emplace(make_tls_context(s.config.tls_cert, s.config.tls_key));
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("the listening socket handed down by the supervisor is not a socket");
    }
    s.acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
    return s.acceptor.local_endpoint().port();
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

namespace {

using namespace std::chrono_literals;

supervisor::Counters leftover(const accounting::LedgerSnapshot& l) {
    return {l.num_received_ever, l.received, l.served, l.cancelled, l.errored, l.rejected};
}

void take_carry(ServerState& s, supervisor::ChildLink& link) {
    if (const auto c = link.take_carry()) {
        accounting::LedgerSnapshot unreported;
        unreported.received = c->received;
        unreported.served = c->served;
        unreported.cancelled = c->cancelled;
        unreported.errored = c->errored;
        unreported.rejected = c->rejected;
        s.ledger.carry_over(c->received_ever, unreported);
    }
}

// A reload's worker takes traffic only once its plugin is loaded, so that clients never wait on a
// model that the running worker serves already. One that fails to load stops; the running one
// stays.
asio::awaitable<void> accept_when_loaded(ServerState& s, supervisor::ChildLink& link) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        const auto view = s.readiness.view();
        if (!view.error_msg.empty()) {
            spdlog::error("reload: the new worker has an error ({}); it stops, the running one keeps serving",
                          view.error_msg);
            begin_shutdown(s, 0);
            co_return;
        }
        if (view.loaded) break;
        if (s.stopping) co_return;
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
    }
    spdlog::info("reload: plugin loaded; accepting connections");
    accept_next(s);
    link.send({supervisor::Message::Kind::ready, {}});
}

}  // namespace

bool Server::run(std::optional<autoscaler::WorkerIdentity> worker_identity, supervisor::ChildLink* link) {
    using namespace std::chrono_literals;
    auto& s = *state_;
    s.signals.add(SIGTERM);
    s.signals.add(SIGINT);
    s.signals.async_wait([&s](boost::system::error_code ec, int signal) {
        if (!ec) begin_shutdown(s, signal);
    });
    if (!link || !link->reload()) accept_next(s);
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
    autoscaler::ReportOptions report_options;
    const auto start_reporting = [&s, worker_identity, &report_options] {
        if (!worker_identity) return;
        asio::co_spawn(s.loops.primary().get_executor(), autoscaler::report_status(s, *worker_identity, report_options),
                       asio::detached);
        asio::co_spawn(s.loops.primary().get_executor(), autoscaler::report_deletes(s, *worker_identity), asio::detached);
    };
    if (link) {
        report_options.previous_crash = link->previous_crash();
        report_options.accepted = [link](const accounting::LedgerSnapshot& reported) {
            link->send({supervisor::Message::Kind::counted, {reported.num_received_ever, 0, 0, 0, 0, 0}});
        };
        // The token arrives on the link's thread; the ledger and the reports belong to the loops.
        link->start(
            [&s, link, start_reporting] {
                asio::post(s.control, [&s, link, start_reporting] {
                    if (s.stopping) return;  // the end of run() hands the figures on
                    take_carry(s, *link);
                    start_reporting();
                });
            },
            [&s] {
                asio::post(s.control, [&s] {
                    spdlog::warn("supervisor: the master is gone; stopping");
                    begin_shutdown(s, 0);
                });
            });
        if (link->reload()) {
            asio::co_spawn(s.control, accept_when_loaded(s, *link), asio::detached);
        } else {
            link->send({supervisor::Message::Kind::ready, {}});
        }
    } else {
        start_reporting();
    }

    s.plugin.set_cancel_poster([&loops = s.loops](std::function<void()> deliver) {
        asio::post(loops.at(loops.here_or_next()), std::move(deliver));
    });
    s.loops.run();
    s.plugin.set_cancel_poster(nullptr);
    if (link) link->drop_callbacks();
    // Requests still open are abandoned: the plugin's later calls for them become no-ops, and its
    // forwards end now, while it is still there to hear it; so do its cancel hooks.
    s.forwarder.abandon_all();
    s.registry.cancel_all();
    s.plugin.deliver_cancels();
    // A blocking route's handle may still run, for a request given up just now: it has heard the
    // cancel, and is given as long again as the drain to return.
    const bool plugin_idle = s.blocking_calls.wait_idle(s.config.drain_timeout);
    if (!plugin_idle) {
        spdlog::error("{} handle call(s) of the plugin still running {:.1f} s after the drain", s.blocking_calls.running(),
                      std::chrono::duration<double>(s.config.drain_timeout).count());
    }
    if (!link) return plugin_idle;
    // The autoscaler hears from one worker at a time: one that served requests waits for its turn
    // (the worker before it is still draining) before it sends its last reports.
    if (!link->has_token() && s.ledger.generation() > 0 && worker_identity) {
        spdlog::info("waiting for the reporting token to send the last reports");
        link->wait_for_token(s.config.drain_timeout + 60s);
    }
    if (!link->has_token()) return plugin_idle;
    take_carry(s, *link);
    if (worker_identity) autoscaler::final_reports(s, *worker_identity, report_options, 10s);
    link->send({supervisor::Message::Kind::final_counters, leftover(s.ledger.snapshot())});
    return plugin_idle;
}

}  // namespace cppworker::server
