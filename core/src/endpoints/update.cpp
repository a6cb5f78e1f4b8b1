#include "endpoints/update.hpp"

#include "auth/master_token.hpp"
#include "pyjson/dumps.hpp"

#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <fstream>

namespace cppworker::endpoints {

http1::Reply pyworker_update(const std::string& master_token, const std::filesystem::path& force_update_file,
                             std::string_view authorization) {
    if (!auth::master_token_matches(master_token, authorization)) return http1::error_reply(401, "unauthorized");
    std::ofstream marker(force_update_file);
    if (!marker) return http1::error_reply(500, "failed to write file: cannot create " + force_update_file.string());
    spdlog::info("update requested: created {}", force_update_file.string());
    return http1::json_reply(200, pyjson::dumps(boost::json::object{{"ok", true}}));
}

}  // namespace cppworker::endpoints
