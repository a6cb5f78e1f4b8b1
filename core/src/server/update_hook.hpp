#pragma once

#include "server/core_reply.hpp"
#include "server/server_state.hpp"

#include <string_view>

namespace cppworker::server {

// POST /pyworker/update: with the master token in `authorization`, creates the force-update file
// (Vast's entrypoint reinstalls the worker when it sees it) and answers {"ok": true}; 401 otherwise,
// also when no MASTER_TOKEN is configured.
CoreReply pyworker_update(ServerState& s, std::string_view authorization);

}  // namespace cppworker::server
