#include "sessions/session_table.hpp"

#include "auth/random_token.hpp"

namespace cppworker::sessions {

std::optional<Session> SessionTable::create(boost::json::value auth_data, boost::json::value lifetime,
                                            boost::json::value on_close_route, boost::json::value on_close_payload,
                                            double now) {
    std::lock_guard lock(mutex_);
    if (max_sessions_ <= 0 || open_.size() >= static_cast<std::size_t>(max_sessions_)) return std::nullopt;
    Session s;
    do {
        s.id = auth::random_token();
    } while (open_.count(s.id));
    s.auth_data = std::move(auth_data);
    s.lifetime = lifetime.to_number<double>();
    s.lifetime_as_sent = std::move(lifetime);
    s.created_at = now;
    s.expiration = now + s.lifetime;
    s.on_close_route = std::move(on_close_route);
    s.on_close_payload = std::move(on_close_payload);
    open_.emplace(s.id, s);
    return s;
}

void SessionTable::set_ledger_handle(const std::string& id, uint64_t handle) {
    std::lock_guard lock(mutex_);
    if (const auto it = open_.find(id); it != open_.end()) it->second.ledger_handle = handle;
}

std::optional<Session> SessionTable::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(id);
    if (it == open_.end()) return std::nullopt;
    return it->second;
}

bool SessionTable::join(const std::string& id, std::weak_ptr<requests::PendingRequest> request) {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(id);
    if (it == open_.end()) return false;
    auto& s = it->second;
    s.expiration += s.lifetime;
    std::erase_if(s.requests, [](const auto& r) { return r.expired(); });
    s.requests.push_back(std::move(request));
    return true;
}

std::optional<Session> SessionTable::end(const std::string& id) {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(id);
    if (it == open_.end()) return std::nullopt;
    Session s = std::move(it->second);
    open_.erase(it);
    return s;
}

std::vector<Session> SessionTable::expire(double now) {
    std::lock_guard lock(mutex_);
    std::vector<Session> out;
    for (auto it = open_.begin(); it != open_.end();) {
        if (it->second.expiration <= now) {
            out.push_back(std::move(it->second));
            it = open_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

std::size_t SessionTable::size() const {
    std::lock_guard lock(mutex_);
    return open_.size();
}

boost::json::object on_close_body(const Session& s) {
    boost::json::object body;
    if (s.on_close_payload.is_object()) {
        body = s.on_close_payload.get_object();
    } else if (!s.on_close_payload.is_null()) {
        body["payload"] = s.on_close_payload;
    }
    if (!body.contains("session_id")) body["session_id"] = s.id;
    return body;
}

}  // namespace cppworker::sessions
