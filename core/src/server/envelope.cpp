#include "server/envelope.hpp"

#include <boost/json.hpp>

namespace cppworker::server {
namespace json = boost::json;

std::variant<Envelope, EnvelopeError> parse_envelope(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Envelope{};

    json::error_code ec;
    json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object()) return EnvelopeError{R"({"error": "invalid JSON"})"};
    const auto& obj = doc.get_object();

    json::object problems;
    Envelope out;
    if (const auto* payload = obj.if_contains("payload")) {
        if (payload->is_object()) {
            out.payload = json::serialize(*payload);
        } else {
            problems["payload"] = json::object{{"data", "payload must be a dictionary"}};
        }
    } else {
        problems["payload"] = "field missing";
    }
    if (const auto* auth = obj.if_contains("auth_data"); auth && !auth->is_null()) {
        if (auth->is_object()) {
            out.auth_data = json::serialize(*auth);
        } else {
            problems["auth_data"] = "auth_data must be a dictionary";
        }
    }
    if (const auto* session = obj.if_contains("session_id"); session && !session->is_null()) {
        if (session->is_string()) {
            out.session_id = std::string(session->get_string());
        } else {
            problems["session_id"] = "session_id must be a string or null";
        }
    }
    if (!problems.empty()) return EnvelopeError{json::serialize(problems)};
    return out;
}

}  // namespace cppworker::server
