#pragma once

#include "requests/pending_request.hpp"

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cppworker::sessions {

struct Session {
    std::string id;
    boost::json::value auth_data;
    double lifetime = 60;
    // The lifetime as the client's JSON had it, an integer or a float, since answers show it as
    // PyWorker does: 30 stays 30 and 30.0 stays 30.0.
    boost::json::value lifetime_as_sent = 60.0;
    double created_at = 0;  // epoch seconds
    double expiration = 0;  // epoch seconds
    boost::json::value on_close_route;  // string or null
    boost::json::value on_close_payload;
    uint64_t ledger_handle = 0;
    // Requests running inside the session, aborted when it closes.
    std::vector<std::weak_ptr<requests::PendingRequest>> requests;
};

// Open sessions (core/protocol.md §4.5). Thread-safe; time is passed in, so tests control it.
class SessionTable {
public:
    // `max_sessions` <= 0: PyWorker's Backend default, which refuses every session.
    explicit SessionTable(int max_sessions) : max_sessions_(max_sessions) {}

    // Empty when the table is full. `lifetime` is a JSON number (checked by the caller). The id is
    // auth::random_token(): PyWorker draws 13 characters of [A-Za-z0-9] from Python's Mersenne
    // Twister, which can be predicted from outputs seen; Vast's client treats the id as an opaque
    // string and only sends it back in JSON bodies, so any length and alphabet that survives JSON
    // and URLs unchanged is compatible.
    std::optional<Session> create(boost::json::value auth_data, boost::json::value lifetime,
                                  boost::json::value on_close_route,
                                  boost::json::value on_close_payload, double now);
    void set_ledger_handle(const std::string& id, uint64_t handle);
    std::optional<Session> get(const std::string& id) const;
    // A request arrives in the session: its life is extended by one lifetime, and the request is
    // remembered so that closing the session can abort it. False when there is no such session.
    bool join(const std::string& id, std::weak_ptr<requests::PendingRequest> request);
    // Removes and returns the session.
    std::optional<Session> end(const std::string& id);
    // Removes and returns every session whose expiration has come.
    std::vector<Session> expire(double now);
    std::size_t size() const;

private:
    const int max_sessions_;
    mutable std::mutex mutex_;
    std::map<std::string, Session> open_;
};

// The JSON the on-close callback POSTs (core/protocol.md §4.5): a copy of the payload if it is an object, {} for
// null, {"payload": x} otherwise; "session_id" added unless present.
boost::json::object on_close_body(const Session& s);

}  // namespace cppworker::sessions
