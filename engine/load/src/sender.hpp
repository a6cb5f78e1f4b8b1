#pragma once
// One request sent as Vast's client sends it: /route/ until a worker is named (keeping the
// request's place with request_idx), then the worker with the signed auth_data and the payload,
// routing again after a transport error or a 408/429/5xx. Or straight to one worker, skipping the
// route, as the SDK's VAST_DEBUG_WORKER_URL does (that worker runs with UNSECURED=true).
#include "http_client.hpp"
#include "payloads.hpp"
#include "record.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <random>
#include <string>

namespace cppworker::load {

struct Target {
    Url url;                   // the engine, or the worker
    bool via_engine = true;
    std::string endpoint;      // the endpoint's name
    std::string endpoint_key;  // the endpoint's own key, which /route/ carries
};

struct SendRules {
    int max_retries = 3;
    std::chrono::milliseconds worker_timeout{600'000};  // the SDK's worker_timeout
    std::chrono::milliseconds route_timeout{60'000};    // then the request counts as unrouted
    double replay_timeout = 60;
};

class Sender {
public:
    Sender(HttpClient& client, Target target, SendRules rules, std::chrono::steady_clock::time_point start,
           uint64_t seed);

    // `intended`: seconds from the start when the request was due; the record's times are too.
    boost::asio::awaitable<Record> send(const Payload& payload, double intended);

private:
    struct Routed;
    boost::asio::awaitable<Routed> route(const Payload& payload, int64_t& request_idx, double intended);
    boost::asio::awaitable<void> sleep(double seconds);
    double now() const;
    double uniform() { return unit_(random_); }

    HttpClient& client_;
    Target target_;
    SendRules rules_;
    std::chrono::steady_clock::time_point start_;
    std::mt19937_64 random_;
    std::uniform_real_distribution<double> unit_{0.0, 1.0};
    int64_t direct_count_ = 0;
};

}  // namespace cppworker::load
