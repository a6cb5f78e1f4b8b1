#include "pipeline/router.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::pipeline;
using cppworker::plugin::RouteSpec;

TEST_CASE("router: exact paths, per method", "[unit][router]") {
    Router r({RouteSpec{CPPW_METHOD_POST, "/generate", CPPW_CONCURRENCY_PARALLEL, 0, false, -1},
              RouteSpec{CPPW_METHOD_GET, "/value", CPPW_CONCURRENCY_PARALLEL, 0, false, -1},
              RouteSpec{CPPW_METHOD_PUT, "/value", CPPW_CONCURRENCY_PARALLEL, 0, false, -1}});

    auto found = r.match("GET", "/value");
    REQUIRE(std::holds_alternative<RouteFound>(found));
    CHECK(std::get<RouteFound>(found).index == 1);
    CHECK(std::get<RouteFound>(r.match("PUT", "/value")).index == 2);
    CHECK(std::get<RouteFound>(r.match("POST", "/generate")).index == 0);

    CHECK(std::holds_alternative<PathNotFound>(r.match("POST", "/generate/")));
    CHECK(std::holds_alternative<PathNotFound>(r.match("POST", "/gen")));

    auto wrong = r.match("DELETE", "/value");
    REQUIRE(std::holds_alternative<MethodNotAllowed>(wrong));
    CHECK(std::get<MethodNotAllowed>(wrong).allow == "GET, PUT");
}
