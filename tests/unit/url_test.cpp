#include "http1/url.hpp"

#include <catch2/catch.hpp>

using namespace cppworker::http1;

TEST_CASE("url: http and https, ports defaulted", "[unit][url]") {
    auto u = parse_url("https://run.vast.ai");
    REQUIRE(u);
    CHECK(u->scheme == "https");
    CHECK(u->host == "run.vast.ai");
    CHECK(u->port == "443");
    CHECK(u->target == "/");

    u = parse_url("http://127.0.0.1:5001/generate?x=1");
    REQUIRE(u);
    CHECK(u->port == "5001");
    CHECK(u->target == "/generate?x=1");

    u = parse_url("http://[::1]:8080/a");
    REQUIRE(u);
    CHECK(u->host == "::1");
    CHECK(u->port == "8080");

    CHECK_FALSE(parse_url("ftp://x"));
    CHECK_FALSE(parse_url("http://"));
    CHECK_FALSE(parse_url("http://user@host/"));
    CHECK_FALSE(parse_url("http://host:port/"));
}

TEST_CASE("url: relative paths join the base, absolute ones stand alone", "[unit][url]") {
    CHECK(resolve("http://127.0.0.1:18000", "/session/closed")->target == "/session/closed");
    CHECK(resolve("http://127.0.0.1:18000/api/", "/done")->target == "/api/done");
    CHECK(resolve("http://127.0.0.1:18000/api", "done")->target == "/api/done");
    auto abs = resolve("http://127.0.0.1:18000", "http://10.0.0.1:9/cb");
    REQUIRE(abs);
    CHECK(abs->host == "10.0.0.1");
    CHECK_FALSE(resolve("", "/relative"));
}
