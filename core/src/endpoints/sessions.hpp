#pragma once

#include "accounting/request_ledger.hpp"
#include "auth/authenticator.hpp"
#include "http1/reply.hpp"
#include "sessions/session_table.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

namespace cppworker::endpoints {

// The session API (core/protocol.md §4.5): /session/create, /session/get, /session/health and
// /session/end, and the end of a session however it comes (asked, or expired).
class SessionEndpoints {
public:
    struct Parts {
        sessions::SessionTable& table;
        accounting::RequestLedger& ledger;
        auth::Authenticator* authenticator;  // null: signatures are not checked
    };
    // On-close callbacks are posted in the background on `background`; a relative on-close route
    // is resolved against `model_server_url`.
    SessionEndpoints(Parts parts, std::string model_server_url, boost::asio::any_io_executor background);

    static bool is_session_path(std::string_view path);
    http1::Reply answer(std::string_view path, std::string_view body);

    // Closes the sessions that expired, every 5 s, until the worker stops.
    boost::asio::awaitable<void> expire_sessions();

private:
    http1::Reply create(std::string_view body);
    http1::Reply get_or_health(std::string_view body, bool health);
    http1::Reply end(std::string_view body);
    // A session ends: its requests are aborted, it is metered as served, and the on-close
    // callback is posted in the background.
    void close(sessions::Session session);

    Parts parts_;
    const std::string model_server_url_;
    boost::asio::any_io_executor background_;
};

double now_epoch_seconds();

}  // namespace cppworker::endpoints
