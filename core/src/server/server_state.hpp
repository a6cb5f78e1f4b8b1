#pragma once

#include "config/config.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/request_registry.hpp"
#include "server/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace cppworker::server {

// What every connection shares. Lives as long as the Server.
struct ServerState {
    ServerState(const config::Config& c, plugin::LoadedPlugin& p, requests::RequestRegistry& r)
        : config(c), plugin(p), registry(r), router(p.shape().routes), blocking_pool(c.blocking_threads),
          control(boost::asio::make_strand(io)), acceptor(control), signals(control), drain_timer(control) {}

    const config::Config& config;
    plugin::LoadedPlugin& plugin;
    requests::RequestRegistry& registry;
    Router router;

    boost::asio::io_context io;
    boost::asio::thread_pool blocking_pool;
    // Accepting, signals and the drain timer share one strand, so shutdown never races an accept.
    boost::asio::strand<boost::asio::io_context::executor_type> control;
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::signal_set signals;
    boost::asio::steady_timer drain_timer;
    std::atomic<bool> stopping{false};

    // Open connections, each with a way to close it if it sits idle between requests; used to
    // drain on shutdown.
    std::mutex connections_mutex;
    std::map<uint64_t, std::function<void()>> connections;
    uint64_t next_connection = 0;

    void connection_opened(uint64_t id, std::function<void()> close_if_idle);
    void connection_closed(uint64_t id);
};

}  // namespace cppworker::server
