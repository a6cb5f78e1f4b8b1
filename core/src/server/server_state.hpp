#pragma once

#include "accounting/concurrency_gate.hpp"
#include "async/call_count.hpp"
#include "async/event_loops.hpp"
#include "accounting/request_ledger.hpp"
#include "auth/authenticator.hpp"
#include "config/config.hpp"
#include "logging/repeated_failure.hpp"
#include "metrics/route_metrics.hpp"
#include "readiness/readiness_state.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/request_registry.hpp"
#include "server/router.hpp"
#include "sessions/session_table.hpp"
#include "upstream/forwarder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <mutex>

namespace cppworker::server {

// What every connection shares. Lives as long as the Server.
struct ServerState {
    ServerState(const config::Config& c, plugin::LoadedPlugin& p, requests::RequestRegistry& r,
                accounting::RequestLedger& l, auth::Authenticator& a, std::chrono::steady_clock::time_point started);

    const config::Config& config;
    plugin::LoadedPlugin& plugin;
    requests::RequestRegistry& registry;
    accounting::RequestLedger& ledger;
    auth::Authenticator& authenticator;
    Router router;
    // Signatures are checked unless UNSECURED, or standalone with no key to check them with.
    bool require_auth;
    sessions::SessionTable sessions;
    // FIFO routes share the first gate; a limit-N route has its own; parallel routes have none.
    accounting::ConcurrencyGate fifo_gate{1};
    std::vector<std::unique_ptr<accounting::ConcurrencyGate>> route_gates;
    // Loaded, load time, benchmarked throughput (max_perf) and the sticky error.
    readiness::ReadinessState readiness;
    metrics::RouteMetrics route_metrics;

    accounting::ConcurrencyGate* gate_for(uint32_t route_index);

    async::EventLoops loops;
    boost::asio::thread_pool blocking_pool;
    // handle calls queued on or running in the blocking pool.
    async::CallCount blocking_calls;
    // Accepting, signals and the drain timer share the primary loop's one thread, so shutdown never
    // races an accept.
    boost::asio::io_context::executor_type control;
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::signal_set signals;
    boost::asio::steady_timer drain_timer;
    boost::asio::steady_timer session_gc_timer;
    // The model-server client; after `loops`, so its sockets go before the loops they belong to.
    upstream::Forwarder forwarder;
    // USE_SSL: every connection speaks TLS with this.
    std::optional<boost::asio::ssl::context> tls;
    std::atomic<bool> stopping{false};

    // Open connections, each with a way to close it if it sits idle between requests; used to
    // drain on shutdown.
    std::mutex connections_mutex;
    std::map<uint64_t, std::function<void()>> connections;
    uint64_t next_connection = 0;
    // Accepted, but not yet in `connections` (its coroutine has not started): the drain waits
    // for these too, since their clients' requests are on the way.
    std::size_t accepted_unopened = 0;
    // Connections turned away over --max-connections, and how often that is logged.
    std::atomic<uint64_t> refused_connections{0};
    std::mutex refused_log_mutex;
    logging::RepeatedFailure refused_log{std::chrono::seconds(10)};

    // A new connection's id, or nothing when --max-connections are open already.
    std::optional<uint64_t> connection_opened(std::function<void()> close_if_idle);
    void connection_closed(uint64_t id);
    // Called by the acceptor before a new connection's coroutine is started.
    void connection_accepted();
    // With connections_mutex held: once stopping and nothing is open or about to be, the loops end.
    void stop_if_drained_locked();
    std::size_t open_connections();
};

}  // namespace cppworker::server
