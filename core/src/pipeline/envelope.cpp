#include "pipeline/envelope.hpp"

#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>

namespace cppworker::pipeline {
namespace json = boost::json;

namespace {

// reqnum and request_idx as the int64 the ledger keeps and /delete_requests/ reports. A whole
// double (5.0, 1e3) is the integer it equals. A number outside int64 is refused as "must be an
// integer", as an integer literal beyond it already is (a uint64 above INT64_MAX; beyond 64 bits
// Boost.JSON reads a double). PyWorker would take it: Python's ints are unbounded and a float is
// compared as it is, so a reqnum of 1e300 would just become its highest reqnum seen (and push every
// later request out of the all-fields replay window). But the autoscaler's sequence numbers and
// queue positions are nowhere near 2^63, so such a value is no genuine route answer, and the ledger
// could not record it; refusing it is one more of cppworker's integer checks (protocol.md 4.2).
// The range is checked before the cast, since converting a double outside int64 (or NaN) is
// undefined behaviour: -0x1p63 is INT64_MIN exactly, 0x1p63 is INT64_MAX + 1.
std::optional<int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.get_uint64());
    if (v.is_double()) {
        const double d = v.get_double();
        if (d >= -0x1p63 && d < 0x1p63 && std::trunc(d) == d) return static_cast<int64_t>(d);
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
    // Out of the parse's arena, into one of its own: a block for the whole object instead of an
    // allocation per field and string.
    out.auth_data.emplace(a, json::make_shared_resource<json::monotonic_resource>());
    if (reqnum_value && idx_value) out.who = accounting::RequestIdentity{*reqnum_value, *idx_value};
}

}  // namespace

std::variant<Envelope, EnvelopeError> parse_envelope(std::string_view body, bool require_auth) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        if (require_auth) return EnvelopeError{R"({"auth_data": "field missing", "payload": "field missing"})"};
        return Envelope{};
    }

    // Parsed into a buffer on the stack: what the request keeps is copied out, so reading a
    // typical envelope costs no heap allocation. pyjson::parse reads each float as Python's float()
    // does (Boost.JSON 1.81's may land an ulp off), so the auth_data fields re-printed for the
    // signature carry the digits Vast signed.
    unsigned char scratch[4096];
    json::monotonic_resource arena(scratch, sizeof scratch);
    json::error_code ec;
    const json::value doc = pyjson::parse(body, ec, &arena);
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

}  // namespace cppworker::pipeline
