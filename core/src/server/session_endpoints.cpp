#include "server/session_endpoints.hpp"

#include "logging/error_text.hpp"
#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"
#include "server/envelope.hpp"
#include "server/update_hook.hpp"
#include "upstream/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

namespace cppworker::server {
namespace json = boost::json;

namespace {

CoreReply json_reply(unsigned status, const json::value& v) { return CoreReply{status, pyjson::dumps(v)}; }
CoreReply error_reply(unsigned status, std::string_view message) { return CoreReply{status, pyjson::error_body(message)}; }

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

// auth_data is parsed as Python parses it: its floats are compared with (and signed as) their digits.
CoreReply create(ServerState& s, std::string_view body) {
    json::error_code ec;
    const json::value doc = pyjson::parse(body, ec);
    if (ec || !doc.is_object()) return error_reply(422, "invalid JSON");
    // A session is a request the autoscaler routed here, so its auth_data passes the same checks as a
    // plugin route's: PyWorker checks none, which lets anyone open sessions and hold capacity.
    if (s.require_auth) {
        auto envelope = parse_envelope(body, true);
        if (auto* err = std::get_if<EnvelopeError>(&envelope)) return CoreReply{422, std::move(err->body)};
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
    if (s.require_auth) {
        if (const auto verdict = s.authenticator.check(a); verdict != auth::Verdict::accepted) {
            s.ledger.reject(who, *cost);
            spdlog::info("session refused: {}", auth::to_string(verdict));
            return CoreReply{401, {}};
        }
    }
    const auto* route = p.if_contains("on_close_route");
    const auto* close_payload = p.if_contains("on_close_payload");
    auto session = s.sessions.create(*auth, lifetime, route ? *route : json::value(nullptr),
                                     close_payload ? *close_payload : json::value(nullptr), now_epoch_seconds());
    if (!session) {
        s.ledger.reject(who, *cost);
        spdlog::info("session refused: {} open, the limit", s.sessions.size());
        return CoreReply{429, {}};
    }
    s.sessions.set_ledger_handle(session->id, s.ledger.open_session(who, *cost));
    spdlog::info("session {} opened for {} s", session->id, session->lifetime);
    return json_reply(201, json::object{{"session_id", session->id}, {"expiration", session->expiration}});
}

// get, health and end share their checks: a session_id, and session_auth equal to the stored auth.
struct SessionQuery {
    std::string id;
    json::value session_auth;
};

std::variant<SessionQuery, CoreReply> read_query(std::string_view body) {
    json::error_code ec;
    // As create() parsed it: session_auth is compared with the stored auth_data.
    const json::value doc = pyjson::parse(body, ec);
    if (ec || !doc.is_object()) return error_reply(422, "invalid JSON");
    const auto* id = doc.as_object().if_contains("session_id");
    if (id == nullptr || !id->is_string()) return error_reply(422, "missing session_id");
    const auto* auth = doc.as_object().if_contains("session_auth");
    return SessionQuery{std::string(id->get_string()), auth ? *auth : json::value(nullptr)};
}

CoreReply get_or_health(ServerState& s, std::string_view body, bool health) {
    auto parsed = read_query(body);
    if (auto* reply = std::get_if<CoreReply>(&parsed)) return std::move(*reply);
    const auto& q = std::get<SessionQuery>(parsed);
    const auto session = s.sessions.get(q.id);
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

CoreReply end(ServerState& s, std::string_view body) {
    auto parsed = read_query(body);
    if (auto* reply = std::get_if<CoreReply>(&parsed)) return std::move(*reply);
    const auto& q = std::get<SessionQuery>(parsed);
    const auto session = s.sessions.get(q.id);
    if (!session) return error_reply(400, "session with id " + q.id + " not found");
    if (q.session_auth != session->auth_data) return error_reply(401, "session_auth is not valid");
    auto removed = s.sessions.end(q.id);
    if (!removed) return error_reply(410, "session already closed");
    close_session(s, std::move(*removed));
    return json_reply(200, json::object{{"ended", true}, {"removed_session", q.id}});
}

boost::asio::awaitable<void> post_on_close(std::string session_id, upstream::Url url, std::string body) {
    try {
        const auto r = co_await upstream::http_call(boost::beast::http::verb::post, url, std::move(body),
                                                    "application/json", std::chrono::seconds(10));
        spdlog::info("session {}: on-close callback answered {}", session_id, r.status);
    } catch (const std::exception& e) {
        spdlog::warn("session {}: on-close callback failed: {}", session_id, logging::error_text(e));
    }
}

}  // namespace

double now_epoch_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool is_core_post_path(std::string_view path) {
    return path == "/session/create" || path == "/session/get" || path == "/session/health" ||
           path == "/session/end" || path == "/pyworker/update";
}

CoreReply answer_core_post(ServerState& s, std::string_view path, std::string_view body,
                           std::string_view authorization) {
    if (path == "/session/create") return create(s, body);
    if (path == "/session/get") return get_or_health(s, body, false);
    if (path == "/session/health") return get_or_health(s, body, true);
    if (path == "/session/end") return end(s, body);
    return pyworker_update(s, authorization);
}

void close_session(ServerState& s, sessions::Session session) {
    for (auto& weak : session.requests) {
        if (auto request = weak.lock()) request->cancel();
    }
    s.ledger.close_session(session.ledger_handle);
    spdlog::info("session {} closed", session.id);
    if (!session.on_close_route.is_string()) return;
    const std::string_view route = session.on_close_route.get_string();
    const auto url = upstream::resolve(s.config.model_server_url, route);
    if (!url) {
        spdlog::warn("session {}: on-close route '{}' is not a URL and no model server URL is set to resolve it",
                     session.id, route);
        return;
    }
    boost::asio::co_spawn(s.loops.primary().get_executor(),
                          post_on_close(session.id, *url, pyjson::dumps(sessions::on_close_body(session))),
                          boost::asio::detached);
}

void expire_sessions(ServerState& s) {
    s.session_gc_timer.expires_after(std::chrono::seconds(5));
    s.session_gc_timer.async_wait([&s](boost::system::error_code ec) {
        if (ec || s.stopping) return;
        for (auto& session : s.sessions.expire(now_epoch_seconds())) {
            spdlog::info("session {} expired", session.id);
            close_session(s, std::move(session));
        }
        expire_sessions(s);
    });
}

}  // namespace cppworker::server
