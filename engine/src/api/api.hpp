#pragma once

#include "api/http_server.hpp"
#include "auth/signing_key.hpp"
#include "config/engine_config.hpp"
#include "fleet/fleet.hpp"
#include "history/history.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::engine {

// The engine's HTTP API (../shared/protocol.md §3, §13.4, §2): what Vast's client calls (/route/
// and the web API that finds and manages endpoints), and what workers call (/pubkey/,
// /worker_status/, /delete_requests/). Plain functions of the request and the fleet: no I/O here
// but through `Parts`.
class Api {
public:
    struct Parts {
        Fleet& fleet;
        const auth::SigningKey& key;
        const EngineConfig& config;
        const History& history;                                       // for the dashboard
        std::function<double()> now;                                  // epoch seconds
        std::function<void(const std::vector<int64_t>&)> retire;      // destroy these workers
        std::function<void(const std::vector<int64_t>&)> reload;      // a rolling update of these
    };

    explicit Api(Parts parts);

    http1::Reply handle(const ApiRequest& request);

    // Creates an endpoint and its workergroups from fields as POST /api/v0/endptjobs/ and
    // /api/v0/workergroups/ take them (and the config file's "endpoints" gives them); an error
    // names the field.
    std::variant<int64_t, std::string> create_endpoint(const boost::json::object& fields);

private:
    // client_api.cpp
    http1::Reply route(const ApiRequest& r);
    // web_api.cpp
    http1::Reply web(const ApiRequest& r);
    http1::Reply endpoints(const ApiRequest& r, std::string_view rest);
    http1::Reply workergroups(const ApiRequest& r, std::string_view rest);
    http1::Reply endpoint_workers(const ApiRequest& r);
    http1::Reply update_workers(const ApiRequest& r);
    std::variant<int64_t, std::string> create_group(const boost::json::object& fields);
    // dashboard_api.cpp: the page's files and its data; nullopt for another path
    std::optional<http1::Reply> dashboard(const ApiRequest& r);
    http1::Reply dashboard_data(const ApiRequest& r);
    // worker_api.cpp
    http1::Reply worker_status(const ApiRequest& r);
    http1::Reply delete_requests(const ApiRequest& r);

    // The account key, as Vast's client sends it: the query's api_key or the Bearer token (or the
    // body's api_key, for the calls that carry one).
    bool account_key_given(const ApiRequest& r, const boost::json::object* body = nullptr) const;

    Parts parts_;
    int64_t next_request_idx_ = 1;
};

// The key a request carries: the body's "api_key", else the query's, else the Bearer token.
std::string key_of(const ApiRequest& r, const boost::json::object* body);
// Compared in constant time; an empty key matches nothing.
bool key_matches(std::string_view given, std::string_view expected);

// A JSON answer as Python's json.dumps writes it.
http1::Reply json_answer(unsigned status, const boost::json::value& value);

}  // namespace cppworker::engine
