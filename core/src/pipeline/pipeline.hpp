#pragma once

#include "accounting/request_ledger.hpp"
#include "async/blocking_pool.hpp"
#include "auth/authenticator.hpp"
#include "metrics/route_metrics.hpp"
#include "pipeline/answer_relay.hpp"
#include "pipeline/client_port.hpp"
#include "pipeline/plugin_call.hpp"
#include "pipeline/route_gates.hpp"
#include "pipeline/router.hpp"
#include "plugin/loaded_plugin.hpp"
#include "readiness/benchmark.hpp"
#include "readiness/readiness_state.hpp"
#include "requests/request_registry.hpp"
#include "sessions/session_table.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace cppworker::pipeline {

// A request to a plugin route, stage by stage (core/protocol.md §4.2): envelope → workload →
// session → signature → admission → queue → plugin → answer. Every stage but the last two is a
// plain check that answers or lets the request on; what the request holds belongs to its
// RequestScope throughout. The worker's own requests (the benchmark) take the same way from the
// workload on, without a client, the ledger or the route metrics.
class Pipeline {
public:
    struct Parts {
        plugin::LoadedPlugin& plugin;
        requests::RequestRegistry& registry;
        accounting::RequestLedger& ledger;
        metrics::RouteMetrics& route_metrics;
        sessions::SessionTable& sessions;
        auth::Authenticator* authenticator;  // null: signatures are not checked
        const readiness::ReadinessState& readiness;
        async::BlockingPool& blocking;
    };

    struct RouteRequest {
        uint32_t route_index;
        std::string_view path;
        std::string_view query;
        std::string_view body;
    };

    Pipeline(Parts parts, RelaySettings settings);

    const Router& router() const { return router_; }
    // Requests waiting for a FIFO or limited route.
    std::size_t queued() const { return gates_.queued(); }

    // True when the answer went out whole and the connection may carry another request.
    boost::asio::awaitable<bool> serve(ClientPort& client, RouteRequest request);
    // A request the worker makes itself (the benchmark). `status` is 0 when its answer did not
    // come whole.
    boost::asio::awaitable<readiness::InternalOutcome> run_internal(uint32_t route_index, std::string payload);

private:
    struct Admitted {
        std::shared_ptr<HandleCall> call;
        double workload;
    };
    // Envelope, workload, session, signature and admission: the request goes on, or this is its answer.
    std::variant<Admitted, http1::Reply> check(RequestScope& scope, const RouteRequest& request);
    // Queue, plugin and answer, for a request that was started.
    boost::asio::awaitable<bool> run_admitted(ClientPort& client, RequestScope& scope,
                                              const std::shared_ptr<HandleCall>& call,
                                              std::chrono::steady_clock::time_point deadline);

    Parts parts_;
    const RelaySettings settings_;
    Router router_;
    RouteGates gates_;
};

}  // namespace cppworker::pipeline
