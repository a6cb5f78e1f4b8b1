#include "auth/signature_message.hpp"

#include "pyjson/dumps.hpp"

#include <array>

namespace cppworker::auth {

std::string url_message(std::string_view url) {
    return "{\n    \"url\": " + pyjson::json_string(url) + "\n}";
}

std::string all_fields_message(const boost::json::object& auth_data) {
    static constexpr std::array<std::string_view, 5> signed_fields = {"cost", "endpoint", "reqnum", "request_idx", "url"};
    boost::json::object message;
    for (const auto field : signed_fields) {
        if (const auto* value = auth_data.if_contains(field)) message.emplace(field, *value);
    }
    return pyjson::dumps_indent4(message, true);
}

}  // namespace cppworker::auth
