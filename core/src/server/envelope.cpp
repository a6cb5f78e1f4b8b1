#include "server/envelope.hpp"

#include "pyjson/dumps.hpp"

#include <boost/json.hpp>

namespace cppworker::server {
namespace json = boost::json;

namespace {

std::optional<int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.get_uint64());
    if (v.is_double() && v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()))) {
        return static_cast<int64_t>(v.get_double());
    }
    return std::nullopt;
}

// Checks auth_data; records problems under "auth_data" and fills `out`.
void take_auth(const json::value& auth, bool require_fields, json::object& problems, Envelope& out) {
    if (!auth.is_object()) {
        problems["auth_data"] = "auth_data must be a dictionary";
        return;
    }
    const auto& a = auth.get_object();
    json::object missing;
    if (require_fields) {
        for (auto field : required_auth_fields) {
            if (!a.contains(field)) missing[field] = "missing parameter";
        }
    }
    const auto* reqnum = a.if_contains("reqnum");
    const auto* request_idx = a.if_contains("request_idx");
    const auto reqnum_value = reqnum ? as_integer(*reqnum) : std::nullopt;
    const auto idx_value = request_idx ? as_integer(*request_idx) : std::nullopt;
    if (reqnum && !reqnum_value) missing["reqnum"] = "must be an integer";
    if (request_idx && !idx_value) missing["request_idx"] = "must be an integer";
    if (!missing.empty()) {
        problems["auth_data"] = std::move(missing);
        return;
    }
    out.auth_data.emplace(a, json::storage_ptr());  // out of the parse's arena
    if (reqnum_value && idx_value) out.who = accounting::RequestIdentity{*reqnum_value, *idx_value};
}

}  // namespace

std::variant<Envelope, EnvelopeError> parse_envelope(std::string_view body, bool require_auth) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (require_auth) return EnvelopeError{R"({"auth_data": "field missing", "payload": "field missing"})"};
        return Envelope{};
    }

    // Parsed into a buffer on the stack: what the request keeps is copied out, so reading a
    // typical envelope costs no heap allocation.
    unsigned char scratch[4096];
    json::monotonic_resource arena(scratch, sizeof scratch);
    json::error_code ec;
    const json::value doc = json::parse(body, ec, &arena);
    if (ec || !doc.is_object()) return EnvelopeError{R"({"error": "invalid JSON"})"};
    const auto& obj = doc.get_object();

    Envelope out;
    if (!require_auth && !obj.contains("payload") && !obj.contains("auth_data")) {
        out.payload = json::serialize(obj);
        return out;
    }

    json::object problems;
    if (const auto* auth = obj.if_contains("auth_data"); auth && !auth->is_null()) {
        take_auth(*auth, require_auth, problems, out);
    } else if (require_auth) {
        problems["auth_data"] = "field missing";
    }
    if (const auto* payload = obj.if_contains("payload")) {
        if (payload->is_object()) {
            out.payload = json::serialize(*payload);
        } else {
            problems["payload"] = json::object{{"data", "payload must be a dictionary"}};
        }
    } else {
        problems["payload"] = "field missing";
    }
    if (const auto* session = obj.if_contains("session_id"); session && !session->is_null()) {
        if (session->is_string()) {
            out.session_id = std::string(session->get_string());
        } else {
            problems["session_id"] = "session_id must be a string or null";
        }
    }
    if (!problems.empty()) return EnvelopeError{pyjson::dumps(problems)};
    return out;
}

}  // namespace cppworker::server
