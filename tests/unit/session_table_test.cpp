#include "auth/random_token.hpp"
#include "sessions/session_table.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <set>

using namespace cppworker::sessions;
namespace json = boost::json;

TEST_CASE("random tokens (session ids, keys) are 32 lowercase hex digits, and differ", "[unit][auth]") {
    std::set<std::string> seen;
    // Each of the 32 positions takes every hex digit within a few hundred ids if the 128 bits are
    // random; a generator with fewer bits of output, or a fixed pattern, leaves some out.
    std::set<std::pair<std::size_t, char>> digits_at;
    for (int i = 0; i < 400; ++i) {
        const auto id = cppworker::auth::random_token();
        CHECK(id.size() == 32);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(id);
        for (std::size_t at = 0; at < id.size(); ++at) digits_at.emplace(at, id[at]);
    }
    CHECK(seen.size() == 400);
    CHECK(digits_at.size() == 32 * 16);
}

TEST_CASE("sessions: the lifetime keeps the JSON number the client sent", "[unit][sessions]") {
    SessionTable t(2);
    const auto as_int = t.create(json::object{}, 30, nullptr, nullptr, 1000);
    const auto as_float = t.create(json::object{}, 30.0, nullptr, nullptr, 1000);
    REQUIRE(as_int);
    REQUIRE(as_float);
    CHECK(as_int->lifetime_as_sent.is_int64());
    CHECK(as_float->lifetime_as_sent.is_double());
    CHECK(as_int->lifetime == 30);
    CHECK(as_int->expiration == 1030);
}

TEST_CASE("sessions: the limit, lookups, joins and expiry", "[unit][sessions]") {
    SessionTable t(2);
    auto a = t.create(json::object{{"cost", 5}}, 60, nullptr, nullptr, 1000);
    auto b = t.create(json::object{}, 10, nullptr, nullptr, 1000);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->expiration == 1060);
    CHECK_FALSE(t.create(json::object{}, 10, nullptr, nullptr, 1000));
    CHECK(t.get(a->id)->auth_data == json::value(json::object{{"cost", 5}}));

    auto request = std::make_shared<cppworker::requests::PendingRequest>(1, 100);
    CHECK(t.join(b->id, request));
    CHECK(t.get(b->id)->expiration == 1020);  // one more lifetime per request
    CHECK_FALSE(t.join("nope", request));

    const auto expired = t.expire(1019);
    REQUIRE(expired.size() == 0);
    const auto later = t.expire(1020);
    REQUIRE(later.size() == 1);
    CHECK(later[0].id == b->id);
    CHECK(later[0].requests.size() == 1);
    CHECK(t.end(a->id));
    CHECK_FALSE(t.end(a->id));
    CHECK(t.size() == 0);
}

TEST_CASE("sessions: no sessions at all with a limit of 0", "[unit][sessions]") {
    SessionTable t(0);
    CHECK_FALSE(t.create(json::object{}, 60, nullptr, nullptr, 0));
}

TEST_CASE("sessions: the on-close body", "[unit][sessions]") {
    Session s;
    s.id = "abc";
    s.on_close_payload = nullptr;
    CHECK(on_close_body(s) == json::object{{"session_id", "abc"}});
    s.on_close_payload = json::object{{"x", 1}};
    CHECK(on_close_body(s) == json::object{{"x", 1}, {"session_id", "abc"}});
    s.on_close_payload = json::object{{"session_id", "mine"}};
    CHECK(on_close_body(s) == json::object{{"session_id", "mine"}});
    s.on_close_payload = json::array{1, 2};
    CHECK(on_close_body(s) == json::object{{"payload", json::array{1, 2}}, {"session_id", "abc"}});
}
