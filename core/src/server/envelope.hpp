#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cppworker::server {

// A request body taken apart: the payload the plugin sees and what the core keeps for itself.
struct Envelope {
    std::string payload;                    // JSON text; empty when the request had no body
    std::optional<std::string> auth_data;   // JSON text of "auth_data", when present
    std::string session_id;                 // empty when absent or null
};

// Why a body was refused: the JSON text of a 422 answer naming each problem.
struct EnvelopeError {
    std::string body;
};

// Parses {"auth_data": {...}, "session_id": null | "...", "payload": {...}} the way PyWorker does:
// not JSON -> {"error": "invalid JSON"}; a missing or malformed field -> {"<field>": "<what>"}, all
// problems in one body. An empty body (a GET) has an empty payload.
std::variant<Envelope, EnvelopeError> parse_envelope(std::string_view body);

}  // namespace cppworker::server
