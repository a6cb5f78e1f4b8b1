#pragma once

#include "accounting/request_ledger.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cppworker::pipeline {

// A request body taken apart: the payload the plugin sees and what the core keeps for itself.
struct Envelope {
    std::string payload;                                // JSON text; empty when the request had no body
    std::optional<boost::json::object> auth_data;       // when present
    std::optional<accounting::RequestIdentity> who;     // reqnum and request_idx from auth_data
    std::string session_id;                             // empty when absent or null
};

// Why a body was refused: the JSON text of a 422 answer naming each problem.
struct EnvelopeError {
    std::string body;
};

// The auth_data fields PyWorker Gen 3 requires; extra keys are ignored.
inline constexpr std::string_view required_auth_fields[] = {"cost", "endpoint", "reqnum", "request_idx", "signature",
                                                            "url"};

// Parses {"auth_data": {...}, "session_id": null | "...", "payload": {...}} the way PyWorker does:
// not JSON -> {"error": "invalid JSON"}; a missing or malformed part -> {"<field>": "<what>"}, with
// every problem in one body. With `require_auth`, auth_data and each required field must be there.
// Without it (UNSECURED), a JSON object with neither "payload" nor "auth_data" is itself the
// payload. An empty body (a GET) has an empty payload and no auth_data.
std::variant<Envelope, EnvelopeError> parse_envelope(std::string_view body, bool require_auth);

}  // namespace cppworker::pipeline
