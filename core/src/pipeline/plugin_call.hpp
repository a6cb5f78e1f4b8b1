#pragma once

#include "async/blocking_pool.hpp"
#include "pipeline/envelope.hpp"
#include "plugin/loaded_plugin.hpp"
#include "requests/pending_request.hpp"

#include <cppworker/plugin.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace cppworker::pipeline {

// What `workload` and `handle` read, owned for as long as the call may run: on the blocking pool
// it can outlive the connection.
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

// Calls `handle` inline, or on the blocking pool when the route says it blocks. A refusal becomes
// the request's answer (500 with the plugin's message, or a stream cut short).
void start_handle(plugin::LoadedPlugin& plugin, async::BlockingPool& blocking, bool blocking_route,
                  const std::shared_ptr<HandleCall>& call, const std::shared_ptr<requests::PendingRequest>& pending);

}  // namespace cppworker::pipeline
