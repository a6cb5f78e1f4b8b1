#pragma once

#include "server/envelope.hpp"
#include "server/server_state.hpp"

#include <cppworker/plugin.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace cppworker::server {

// What `handle` reads, owned for as long as the call may run: on the blocking pool it can outlive
// the connection.
struct HandleCall {
    HandleCall(Envelope e, std::string_view p, std::string_view q, uint32_t route_index)
        : envelope(std::move(e)), path(p), query(q),
          info{sizeof(cppw_request_info), route_index, 0, cppworker::view(path), cppworker::view(query),
               cppworker::view(envelope.payload), cppworker::view(envelope.session_id), nullptr} {}
    Envelope envelope;
    std::string path;
    std::string query;
    cppw_request_info info;
};

// Calls `handle`, inline or on the blocking pool as the route says. A refusal becomes the
// request's answer (500 with the plugin's message).
void start_handle(ServerState& s, const std::shared_ptr<HandleCall>& call,
                  const std::shared_ptr<requests::PendingRequest>& pending);

// A request made by the worker itself (the benchmark): the plugin's path without a client, its
// metrics or admission. `status` is 0 when the plugin refused it or did not answer in time.
struct InternalOutcome {
    unsigned status = 0;
    double workload = 0;
};
boost::asio::awaitable<InternalOutcome> run_internal_request(ServerState& s, uint32_t route_index, std::string payload);

}  // namespace cppworker::server
