#include "endpoints/sessions.hpp"

#include "async/sleep.hpp"
#include "http1/client.hpp"
#include "logging/error_text.hpp"
#include "pipeline/envelope.hpp"
#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

namespace cppworker::endpoints {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

http1::Reply json_reply(unsigned status, const json::value& v) { return http1::json_reply(status, pyjson::dumps(v)); }
using http1::error_reply;

std::optional<double> as_number(const json::value* v) {
    if (v == nullptr || !v->is_number()) return std::nullopt;
    return v->to_number<double>();
}

// A whole number an int64 holds; a double beyond it would make the cast undefined.
std::optional<int64_t> as_int64(const json::value* v) {
    const auto d = as_number(v);
    if (!d || !(*d >= -0x1p63 && *d < 0x1p63) || std::trunc(*d) != *d) return std::nullopt;
    return static_cast<int64_t>(*d);
}

// get, health and end share their checks: a session_id, and session_auth equal to the stored auth.
struct SessionQuery {
    std::string id;
    json::value session_auth;
};

std::variant<SessionQuery, http1::Reply> read_query(std::string_view body) {
    json::error_code ec;
    // As create() parsed it: session_auth is compared with the stored auth_data.
    const json::value doc = pyjson::parse(body, ec);
    if (ec || !doc.is_object()) return error_reply(422, "invalid JSON");
    const auto* id = doc.as_object().if_contains("session_id");
    if (id == nullptr || !id->is_string()) return error_reply(422, "missing session_id");
    const auto* auth = doc.as_object().if_contains("session_auth");
    return SessionQuery{std::string(id->get_string()), auth ? *auth : json::value(nullptr)};
}

asio::awaitable<void> post_on_close(std::string session_id, http1::Url url, std::string body) {
    try {
        const auto r = co_await http1::http_call(boost::beast::http::verb::post, url, std::move(body),
                                                 "application/json", std::chrono::seconds(10));
        spdlog::info("session {}: on-close callback answered {}", session_id, r.status);
    } catch (const std::exception& e) {
        spdlog::warn("session {}: on-close callback failed: {}", session_id, logging::error_text(e));
    }
}

}  // namespace

SessionEndpoints::SessionEndpoints(Parts parts, std::string model_server_url, asio::any_io_executor background)
    : parts_(parts), model_server_url_(std::move(model_server_url)), background_(std::move(background)) {}

bool SessionEndpoints::is_session_path(std::string_view path) {
    return path == "/session/create" || path == "/session/get" || path == "/session/health" || path == "/session/end";
}

http1::Reply SessionEndpoints::answer(std::string_view path, std::string_view body) {
    if (path == "/session/create") return create(body);
    if (path == "/session/end") return end(body);
    return get_or_health(body, path == "/session/health");
}

// auth_data is parsed as Python parses it: its floats are compared with (and signed as) their digits.
http1::Reply SessionEndpoints::create(std::string_view body) {
    const bool require_auth = parts_.authenticator != nullptr;
    json::error_code ec;
    const json::value doc = pyjson::parse(body, ec);
    if (ec || !doc.is_object()) return error_reply(422, "invalid JSON");
    // A session is a request the autoscaler routed here, so its auth_data passes the same checks as a
    // plugin route's: PyWorker checks none, which lets anyone open sessions and hold capacity.
    if (require_auth) {
        auto envelope = pipeline::parse_envelope(body, true);
        if (auto* err = std::get_if<pipeline::EnvelopeError>(&envelope)) return http1::json_reply(422, std::move(err->body));
    }
    const auto& obj = doc.as_object();
    const auto* auth = obj.if_contains("auth_data");
    const auto* payload = obj.if_contains("payload");
    json::object problems;
    if (auth == nullptr || !auth->is_object()) problems["auth_data"] = "field missing";
    if (payload == nullptr || !payload->is_object()) problems["payload"] = "field missing";
    if (!problems.empty()) return json_reply(422, problems);

    const auto& a = auth->as_object();
    const auto& p = payload->as_object();
    const auto cost = as_number(a.if_contains("cost"));
    if (!cost) return json_reply(422, json::object{{"auth_data", json::object{{"cost", "must be a number"}}}});
    std::optional<accounting::RequestIdentity> who;
    const auto reqnum = as_int64(a.if_contains("reqnum"));
    const auto request_idx = as_int64(a.if_contains("request_idx"));
    if (reqnum && request_idx) who = accounting::RequestIdentity{*reqnum, *request_idx};

    // PyWorker's default is the float 60.0; a given lifetime is kept as the client wrote it.
    json::value lifetime = 60.0;
    if (const auto* l = p.if_contains("lifetime"); l && !l->is_null()) {
        const auto n = as_number(l);
        if (!n || *n <= 0) return json_reply(422, json::object{{"payload", json::object{{"lifetime", "must be a positive number"}}}});
        lifetime = *l;
    }
    if (require_auth) {
        if (const auto verdict = parts_.authenticator->check(a); verdict != auth::Verdict::accepted) {
            parts_.ledger.reject(who, *cost);
            spdlog::info("session refused: {}", auth::to_string(verdict));
            return http1::empty_reply(401);
        }
    }
    const auto* route = p.if_contains("on_close_route");
    const auto* close_payload = p.if_contains("on_close_payload");
    auto session = parts_.table.create(*auth, lifetime, route ? *route : json::value(nullptr),
                                     close_payload ? *close_payload : json::value(nullptr), now_epoch_seconds());
    if (!session) {
        parts_.ledger.reject(who, *cost);
        spdlog::info("session refused: {} open, the limit", parts_.table.size());
        return http1::empty_reply(429);
    }
    parts_.table.set_ledger_handle(session->id, parts_.ledger.open_session(who, *cost));
    spdlog::info("session {} opened for {} s", session->id, session->lifetime);
    return json_reply(201, json::object{{"session_id", session->id}, {"expiration", session->expiration}});
}

http1::Reply SessionEndpoints::get_or_health(std::string_view body, bool health) {
    auto parsed = read_query(body);
    if (auto* reply = std::get_if<http1::Reply>(&parsed)) return std::move(*reply);
    const auto& q = std::get<SessionQuery>(parsed);
    const auto session = parts_.table.get(q.id);
    if (!session) return health ? json_reply(200, json::object{{"ok", false}}) : error_reply(400, "session does not exist");
    if (q.session_auth != session->auth_data) return error_reply(401, "session_auth is not valid");
    if (health) return json_reply(200, json::object{{"ok", true}});
    return json_reply(200, json::object{{"session_id", session->id},
                                        {"auth_data", session->auth_data},
                                        {"lifetime", session->lifetime_as_sent},
                                        {"expiration", session->expiration},
                                        {"created_at", session->created_at},
                                        {"on_close_route", session->on_close_route},
                                        {"on_close_payload", session->on_close_payload}});
}

http1::Reply SessionEndpoints::end(std::string_view body) {
    auto parsed = read_query(body);
    if (auto* reply = std::get_if<http1::Reply>(&parsed)) return std::move(*reply);
    const auto& q = std::get<SessionQuery>(parsed);
    const auto session = parts_.table.get(q.id);
    if (!session) return error_reply(400, "session with id " + q.id + " not found");
    if (q.session_auth != session->auth_data) return error_reply(401, "session_auth is not valid");
    auto removed = parts_.table.end(q.id);
    if (!removed) return error_reply(410, "session already closed");
    close(std::move(*removed));
    return json_reply(200, json::object{{"ended", true}, {"removed_session", q.id}});
}

double now_epoch_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void SessionEndpoints::close(sessions::Session session) {
    for (auto& weak : session.requests) {
        if (auto request = weak.lock()) request->cancel();
    }
    parts_.ledger.close_session(session.ledger_handle);
    spdlog::info("session {} closed", session.id);
    if (!session.on_close_route.is_string()) return;
    const std::string_view route = session.on_close_route.get_string();
    const auto url = http1::resolve(model_server_url_, route);
    if (!url) {
        spdlog::warn("session {}: on-close route '{}' is not a URL and no model server URL is set to resolve it",
                     session.id, route);
        return;
    }
    asio::co_spawn(background_, post_on_close(session.id, *url, pyjson::dumps(sessions::on_close_body(session))),
                   asio::detached);
}

asio::awaitable<void> SessionEndpoints::expire_sessions() {
    for (;;) {
        co_await async::sleep_for(std::chrono::seconds(5));
        for (auto& session : parts_.table.expire(now_epoch_seconds())) {
            spdlog::info("session {} expired", session.id);
            close(std::move(session));
        }
    }
}

}  // namespace cppworker::endpoints
