#include "metrics/route_metrics.hpp"

#include <catch2/catch.hpp>

using cppworker::metrics::RouteMetrics;

TEST_CASE("route metrics: counts by status and a cumulative histogram", "[unit][metrics]") {
    RouteMetrics m({"POST /generate", "GET /value"});
    m.observe(0, 200, 0.003);
    m.observe(0, 200, 0.2);
    m.observe(0, 500, 400);
    m.observe(1, RouteMetrics::client_closed, 0.01);
    m.observe(7, 200, 1);  // no such route: ignored
    const auto text = m.format();
    CHECK_THAT(text, Catch::Contains("cppworker_route_requests_total{route=\"POST /generate\",code=\"200\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_route_requests_total{route=\"POST /generate\",code=\"500\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_route_requests_total{route=\"GET /value\",code=\"499\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_bucket{route=\"POST /generate\",le=\"0.005\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_bucket{route=\"POST /generate\",le=\"0.25\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_bucket{route=\"POST /generate\",le=\"300\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_bucket{route=\"POST /generate\",le=\"+Inf\"} 3\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_count{route=\"GET /value\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("cppworker_request_duration_seconds_sum{route=\"POST /generate\"} 400.203\n"));
}
