#include "server/update_hook.hpp"

#include "auth/master_token.hpp"
#include "pyjson/dumps.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <fstream>

namespace cppworker::server {

CoreReply pyworker_update(ServerState& s, std::string_view authorization) {
    if (!auth::master_token_matches(s.config.master_token, authorization)) {
        return CoreReply{401, pyjson::error_body("unauthorized")};
    }
    std::ofstream marker(s.config.force_update_file);
    if (!marker) {
        return CoreReply{500, pyjson::error_body("failed to write file: cannot create " +
                                                 s.config.force_update_file.string())};
    }
    spdlog::info("update requested: created {}", s.config.force_update_file.string());
    return CoreReply{200, pyjson::dumps(boost::json::object{{"ok", true}})};
}

}  // namespace cppworker::server
