// pipeline::parse_envelope against a model of PyWorker's rules written here: which bodies are
// refused and why, and what an accepted one hands on. A refusal body must be JSON that
// pyjson::dumps prints back byte for byte.
#include "fuzz_support.hpp"
#include "json_compare.hpp"

#include "pyjson/dumps.hpp"
#include "pyjson/parse.hpp"
#include "pipeline/envelope.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <optional>
#include <set>
#include <variant>

namespace cppworker_fuzz {
namespace {
namespace json = boost::json;

std::optional<int64_t> integer_of(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return std::nullopt;
        return static_cast<int64_t>(d);
    }
    return std::nullopt;
}

std::set<std::string> keys_of(const json::object& o) {
    std::set<std::string> out;
    for (const auto& m : o) out.emplace(m.key());
    return out;
}

// The payload text reads back as the value. A number beyond double range (1e400) was read as an
// infinity, which Boost.JSON writes as Infinity, as Python's json.dumps does: not JSON, so only
// checked to be refused.
bool payload_matches(const std::string& text, const json::value& expected) {
    json::error_code ec;
    const json::value back = cppworker::pyjson::parse(text, ec);
    if (!all_finite(expected)) return static_cast<bool>(ec);
    return !ec && same_json(back, expected);
}

}  // namespace

int run_envelope(const uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const bool require_auth = in.flag();
    const std::string body(in.rest());  // its own allocation, so ASan sees reads past the end

    std::variant<cppworker::pipeline::Envelope, cppworker::pipeline::EnvelopeError> result;
    try {
        result = cppworker::pipeline::parse_envelope(body, require_auth);
    } catch (const std::bad_alloc&) {
        return 0;
    }
    const auto* error = std::get_if<cppworker::pipeline::EnvelopeError>(&result);
    const auto* env = std::get_if<cppworker::pipeline::Envelope>(&result);

    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        if (require_auth) {
            FUZZ_CHECK(error && error->body == R"({"auth_data": "field missing", "payload": "field missing"})");
        } else {
            FUZZ_CHECK(env && env->payload.empty() && !env->auth_data && !env->who && env->session_id.empty());
        }
        return 0;
    }

    // Numbers read as Python (and parse_envelope) read them: Boost.JSON 1.81's parser may land an
    // ulp off, which near 2^63 decides whether a reqnum is an integer at all.
    json::error_code ec;
    const json::value doc = cppworker::pyjson::parse(body, ec);
    if (ec || !doc.is_object()) {
        FUZZ_CHECK(error && error->body == R"({"error": "invalid JSON"})");
        return 0;
    }
    const auto& obj = doc.get_object();

    if (!require_auth && !obj.contains("payload") && !obj.contains("auth_data")) {
        FUZZ_CHECK(env != nullptr);
        FUZZ_CHECK(payload_matches(env->payload, doc));
        FUZZ_CHECK(!env->auth_data && !env->who);
        return 0;
    }

    // What PyWorker would refuse.
    std::set<std::string> problems;
    std::set<std::string> auth_problems;
    const json::object* auth = nullptr;
    std::optional<int64_t> reqnum, request_idx;
    if (const auto* a = obj.if_contains("auth_data"); a && !a->is_null()) {
        if (!a->is_object()) {
            problems.insert("auth_data");
        } else {
            auth = &a->get_object();
            if (require_auth) {
                for (auto f : cppworker::pipeline::required_auth_fields)
                    if (!auth->contains(f)) auth_problems.emplace(f);
            }
            if (const auto* r = auth->if_contains("reqnum")) {
                reqnum = integer_of(*r);
                if (!reqnum) auth_problems.emplace("reqnum");
            }
            if (const auto* r = auth->if_contains("request_idx")) {
                request_idx = integer_of(*r);
                if (!request_idx) auth_problems.emplace("request_idx");
            }
            if (!auth_problems.empty()) problems.insert("auth_data");
        }
    } else if (require_auth) {
        problems.insert("auth_data");
    }
    const auto* payload = obj.if_contains("payload");
    if (!payload || !payload->is_object()) problems.insert("payload");
    const auto* session = obj.if_contains("session_id");
    if (session && !session->is_null() && !session->is_string()) problems.insert("session_id");

    if (!problems.empty()) {
        FUZZ_CHECK(error != nullptr);
        const json::value answer = json::parse(error->body);
        FUZZ_CHECK(answer.is_object());
        FUZZ_CHECK(keys_of(answer.get_object()) == problems);
        FUZZ_CHECK(cppworker::pyjson::dumps(answer) == error->body);  // Python's layout, exactly
        if (const auto* a = answer.get_object().if_contains("auth_data"); a && a->is_object()) {
            FUZZ_CHECK(keys_of(a->get_object()) == auth_problems);
        }
        return 0;
    }

    FUZZ_CHECK(env != nullptr);
    FUZZ_CHECK(payload_matches(env->payload, *payload));
    FUZZ_CHECK(env->auth_data.has_value() == (auth != nullptr));
    if (auth) FUZZ_CHECK(same_json(json::value(*env->auth_data), json::value(*auth)));
    if (require_auth) FUZZ_CHECK(env->auth_data.has_value());
    FUZZ_CHECK(env->who.has_value() == (reqnum && request_idx));
    if (env->who) FUZZ_CHECK(env->who->reqnum == *reqnum && env->who->request_idx == *request_idx);
    FUZZ_CHECK(env->session_id == (session && session->is_string() ? std::string(session->get_string()) : ""));
    return 0;
}

}  // namespace cppworker_fuzz
