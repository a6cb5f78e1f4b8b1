#include "sender.hpp"

#include "client_rules.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

namespace cppworker::load {
namespace json = boost::json;
using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {

std::string query_escape(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

// The route's verdict: auth_data for the worker, or how the request ended without one.
struct Sender::Routed {
    json::object auth_data;
    std::optional<Outcome> failed;
    int status = 0;
    std::string error;
};

Sender::Sender(HttpClient& client, Target target, SendRules rules, std::chrono::steady_clock::time_point start,
               uint64_t seed)
    : client_(client), target_(std::move(target)), rules_(rules), start_(start), random_(seed) {}

double Sender::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

awaitable<void> Sender::sleep(double seconds) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(millis(seconds));
    co_await timer.async_wait(use_awaitable);
}

awaitable<Sender::Routed> Sender::route(const Payload& payload, int64_t& request_idx, double intended) {
    if (!target_.via_engine) {
        // What a debug worker URL stands for: every field the worker requires, unsigned.
        ++direct_count_;
        co_return Routed{json::object{{"cost", payload.cost}, {"endpoint", "direct"}, {"reqnum", direct_count_},
                                      {"request_idx", direct_count_}, {"signature", ""},
                                      {"url", target_.url.origin()}},
                         std::nullopt, 0, {}};
    }
    const std::string target = "/route/?api_key=" + query_escape(target_.endpoint_key);
    for (int poll = 0;; ++poll) {
        const json::object call{{"endpoint", target_.endpoint}, {"api_key", target_.endpoint_key},
                                {"cost", payload.cost}, {"request_idx", request_idx},
                                {"replay_timeout", rules_.replay_timeout}};
        auto body = json::serialize(call);
        const auto answer =
            co_await client_.request(target_.url, "POST", target, std::move(body), target_.endpoint_key,
                                     std::chrono::seconds(10));
        if (answer.status == 0) co_return Routed{{}, Outcome::transport, 0, "/route/: " + answer.error};
        json::error_code ec;
        auto doc = json::parse(answer.body, ec);
        if (answer.status != 200 || ec || !doc.is_object()) {
            co_return Routed{{}, Outcome::route_error, answer.status,
                             fmt::format("/route/ answered {}: {}", answer.status, answer.body.substr(0, 200))};
        }
        auto& reply = doc.get_object();
        if (reply.contains("url")) co_return Routed{std::move(reply), std::nullopt, 0, {}};
        if (const auto* idx = reply.if_contains("request_idx"); idx != nullptr && idx->is_number()) {
            request_idx = idx->to_number<int64_t>();
        }
        const double delay = route_poll_delay(poll, uniform(), uniform());
        if (now() + delay - intended > std::chrono::duration<double>(rules_.route_timeout).count()) {
            co_return Routed{{}, Outcome::unrouted, 0, "no worker within the route timeout"};
        }
        co_await sleep(delay);
    }
}

awaitable<Record> Sender::send(const Payload& payload, double intended) {
    Record r;
    r.intended = intended;
    r.sent = now();
    r.cost = payload.cost;
    int64_t request_idx = 0;
    for (int retry = 0;; ++retry) {
        auto routed = co_await route(payload, request_idx, intended);
        if (routed.failed) {
            r.outcome = *routed.failed;
            r.status = routed.status;
            r.error = std::move(routed.error);
            break;
        }
        if (const auto* idx = routed.auth_data.if_contains("request_idx"); idx != nullptr && idx->is_number()) {
            request_idx = idx->to_number<int64_t>();
        }
        const auto* url = routed.auth_data.if_contains("url");
        const auto worker = url != nullptr && url->is_string() ? parse_url(url->get_string()) : std::nullopt;
        const auto body = fmt::format(R"({{"auth_data":{},"session_id":null,"payload":{}}})",
                                      json::serialize(routed.auth_data), payload.body);
        ++r.attempts;
        const auto start = std::chrono::steady_clock::now();
        // Not a conditional expression: GCC 12 destroys the result of a co_await inside one twice.
        Answer answer{0, "the route named a worker URL that is not http://host:port", {}, false, {}};
        if (worker) {
            const auto timeout = payload.stream ? std::chrono::milliseconds(std::chrono::hours(24)) : rules_.worker_timeout;
            answer = co_await client_.request(*worker, "POST", payload.path, body, target_.endpoint_key, timeout);
        }
        r.status = answer.status;
        r.error = answer.error;
        const bool again = answer.status == 0 || retryable(answer.status);
        if (again && retry < rules_.max_retries) {
            co_await sleep(answer.status == 0 ? 0 : retry_delay(retry, uniform()));
            continue;
        }
        r.outcome = answer.status == 0     ? Outcome::transport
                    : answer.status < 300 && answer.status >= 200 ? Outcome::ok
                    : answer.status < 500  ? Outcome::client_error
                                           : Outcome::server_error;
        const double base = std::chrono::duration<double>(start - start_).count();
        auto previous = start;
        for (const auto& at : answer.events) {
            if (!r.first_token) {
                r.first_token = base + std::chrono::duration<double>(at - start).count() - intended;
            } else {
                r.token_gaps.push_back(std::chrono::duration<double>(at - previous).count());
            }
            previous = at;
        }
        r.tokens = answer.events.size();
        break;
    }
    r.done = now();
    co_return r;
}

}  // namespace cppworker::load
