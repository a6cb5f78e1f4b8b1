#pragma once

#include "http1/reply.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace cppworker::endpoints {

// POST /pyworker/update (core/protocol.md §4.6): with `master_token` in `authorization`, creates
// `force_update_file` (Vast's entrypoint reinstalls the worker when it sees it) and answers
// {"ok": true}; 401 otherwise, also when no MASTER_TOKEN is configured.
http1::Reply pyworker_update(const std::string& master_token, const std::filesystem::path& force_update_file,
                             std::string_view authorization);

}  // namespace cppworker::endpoints
