#pragma once

#include "accounting/request_ledger.hpp"
#include "async/blocking_pool.hpp"
#include "async/event_loops.hpp"
#include "auth/authenticator.hpp"
#include "autoscaler/reporter.hpp"
#include "config/config.hpp"
#include "endpoints/builtin.hpp"
#include "endpoints/sessions.hpp"
#include "http/connection.hpp"
#include "http/connection_tracker.hpp"
#include "http/listener.hpp"
#include "metrics/route_metrics.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/loaded_plugin.hpp"
#include "readiness/readiness_state.hpp"
#include "requests/request_registry.hpp"
#include "sessions/session_table.hpp"
#include "supervisor/child_link.hpp"
#include "upstream/forwarder.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cppworker::app {

// The composition root: builds every part of a worker process, wires each to the few others it
// uses, and runs them: accept, serve, report, get ready, drain on SIGTERM / SIGINT (or when the
// supervisor says so), then the last reports.
class Worker {
public:
    Worker(const config::Config& config, plugin::LoadedPlugin& plugin, requests::RequestRegistry& registry,
           std::chrono::steady_clock::time_point started);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Binds the listening socket; returns the port (the chosen one when configured as 0).
    uint16_t listen();
    // Instead of listen(): serves on a socket the supervisor bound and handed down; returns its port.
    uint16_t adopt(int listening_fd);

    // Serves until a signal arrives and in-flight requests finished (or the drain deadline
    // passed, which ends those left as cancelled). Reports to the autoscaler as `identity` when
    // given. Returns with no I/O thread running, and true when no hook runs either: the plugin may
    // then be finalized. False when a blocking handle call did not return within the drain timeout
    // after the drain. Supervised (`link` given): a reload's worker accepts only once loaded;
    // reporting waits for the master's token, and at the end the figures go back to the master for
    // the next worker (core/src/supervisor).
    bool run(std::optional<autoscaler::WorkerIdentity> identity, supervisor::ChildLink* link);

    // The model-server client, for the plugin host's forward service.
    upstream::Forwarder& forwarder() { return forwarder_; }
    // The plugin host's timer_start service.
    plugin::TimerService& timers() { return timers_; }

private:
    std::string metrics_text();
    autoscaler::BackendState backend_state() const;
    void start_background(supervisor::ChildLink* link);
    void start_reporting(autoscaler::ReportOptions options);
    // After the loops stopped: what is still open is abandoned, and the last reports go out.
    bool finish(supervisor::ChildLink* link);

    // drain.cpp
    void watch_signals();
    void begin_shutdown(int signal);
    void stop_after_reports();
    void drain_deadline();

    // supervised.cpp
    autoscaler::ReportOptions supervised_options(supervisor::ChildLink& link);
    void start_supervised(supervisor::ChildLink& link);
    void take_carry(supervisor::ChildLink& link);
    boost::asio::awaitable<void> accept_when_loaded(supervisor::ChildLink& link);
    void finish_supervised(supervisor::ChildLink& link);

    const config::Config& config_;
    plugin::LoadedPlugin& plugin_;
    requests::RequestRegistry& registry_;
    // What a request's scope or a connection's guard touches when it ends, which may be as late as
    // the event loops' destruction: declared before the loops, so it outlives them.
    accounting::RequestLedger ledger_;
    auth::Authenticator authenticator_;
    readiness::ReadinessState readiness_;
    metrics::RouteMetrics route_metrics_;
    sessions::SessionTable sessions_;
    http::ConnectionTracker tracker_;
    async::EventLoops loops_;
    async::BlockingPool blocking_;
    // Its sockets go before the loops they belong to; so do the timers' clocks.
    upstream::Forwarder forwarder_;
    plugin::TimerService timers_;
    std::optional<boost::asio::ssl::context> tls_;
    pipeline::Pipeline pipeline_;
    endpoints::SessionEndpoints session_endpoints_;
    endpoints::BuiltinEndpoints builtins_;
    http::ConnectionParts connection_parts_;
    http::Listener listener_;
    std::optional<autoscaler::WorkerIdentity> identity_;  // empty: standalone, no reports
    std::optional<autoscaler::Reporter> reporter_;
    // Accepting, signals and the drain share the primary loop's one thread, so shutdown never
    // races an accept.
    boost::asio::io_context::executor_type control_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_timer_;
    std::atomic<bool> stopping_{false};
};

}  // namespace cppworker::app
