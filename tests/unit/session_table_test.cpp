#include "sessions/session_table.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <set>

using namespace cppworker::sessions;
namespace json = boost::json;

TEST_CASE("sessions: ids are 13 letters and digits, and differ", "[unit][sessions]") {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const auto id = new_session_id();
        CHECK(id.size() == 13);
        CHECK(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
              std::string::npos);
        seen.insert(id);
    }
    CHECK(seen.size() == 200);
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
