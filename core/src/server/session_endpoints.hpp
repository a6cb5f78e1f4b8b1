#pragma once

#include "server/core_reply.hpp"
#include "server/server_state.hpp"

#include <string>
#include <string_view>

namespace cppworker::server {

// POST paths the core answers itself: the session API (core/protocol.md §4.5) and the self-update hook (§4.6).
bool is_core_post_path(std::string_view path);
CoreReply answer_core_post(ServerState& s, std::string_view path, std::string_view body,
                           std::string_view authorization);

// A session ends (asked, or expired): its requests are aborted, it is metered as served, and the
// on-close callback is posted in the background.
void close_session(ServerState& s, sessions::Session session);

// Closes expired sessions every 5 s until the worker stops.
void expire_sessions(ServerState& s);

double now_epoch_seconds();

}  // namespace cppworker::server
