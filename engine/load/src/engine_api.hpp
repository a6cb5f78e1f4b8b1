#pragma once
// The engine's web API as Vast's client uses it (../shared/protocol.md §13.4): find an endpoint by
// its name (its id and its own key, which /route/ carries), and list its workers' states.
#include "http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>
#include <variant>

namespace cppworker::load {

struct EndpointRef {
    int64_t id = 0;
    std::string key;
};

// The endpoint named `name`, or what went wrong (a wrong account key, no such endpoint, ...).
boost::asio::awaitable<std::variant<EndpointRef, std::string>> find_endpoint(HttpClient& client, const Url& engine,
                                                                               const std::string& name,
                                                                               const std::string& account_key);

// How many of the endpoint's workers are in each state ("READY", "STOPPED", ...); empty on error.
boost::asio::awaitable<std::map<std::string, int>> worker_states(HttpClient& client, const Url& engine, int64_t id,
                                                                 const std::string& account_key);

}  // namespace cppworker::load
