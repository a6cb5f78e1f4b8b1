#include "client_rules.hpp"
#include "results.hpp"
#include "stats.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <cmath>

using namespace cppworker::load;

namespace {

Record ok(double intended, double done) {
    Record r;
    r.intended = r.sent = intended;
    r.done = done;
    r.outcome = Outcome::ok;
    r.status = 200;
    r.attempts = 1;
    return r;
}

Record failed(Outcome o, int status, double at) {
    Record r = ok(at, at);
    r.outcome = o;
    r.status = status;
    return r;
}

}  // namespace

TEST_CASE("percentiles are nearest-rank over the exact sample") {
    std::vector<double> v;
    for (int i = 1; i <= 1000; ++i) v.push_back(i);
    CHECK(percentile(v, 50) == 500);
    CHECK(percentile(v, 90) == 900);
    CHECK(percentile(v, 99) == 990);
    CHECK(percentile(v, 99.9) == 999);
    CHECK(percentile(v, 100) == 1000);
    CHECK(percentile({7}, 99.9) == 7);
    CHECK(percentile({1, 2}, 50) == 1);
    CHECK(std::isnan(percentile({}, 50)));
    const auto d = distribution({3, 1, 2, 4});
    CHECK(d.count == 4);
    CHECK(d.mean == 2.5);
    CHECK(d.p50 == 2);
    CHECK(d.max == 4);
}

TEST_CASE("a summary counts every outcome, and latency is measured from when a request was due") {
    std::vector<Record> records{ok(0, 0.1), ok(1, 1.3), failed(Outcome::client_error, 429, 2),
                                failed(Outcome::client_error, 404, 2), failed(Outcome::client_error, 429, 3),
                                failed(Outcome::server_error, 500, 3), failed(Outcome::transport, 0, 3),
                                failed(Outcome::unrouted, 0, 4), failed(Outcome::route_error, 401, 4)};
    records[1].sent = 1.2;  // sent late: the 0.2 s it waited counts
    records[1].attempts = 3;
    records[6].error = "connect to http://127.0.0.1:1: Connection refused";
    records[7].error = "no worker within the route timeout";
    const auto s = summarize(records, 10, Slo{});
    CHECK(s.requests == 9);
    CHECK(s.ok == 2);
    CHECK(s.client_errors == std::map<int, std::size_t>{{404, 1}, {429, 2}});
    CHECK(s.server_errors == 1);
    CHECK(s.transport == 1);
    CHECK(s.unrouted == 1);
    CHECK(s.route_errors == std::map<int, std::size_t>{{401, 1}});
    CHECK(s.retries == 2);
    CHECK(s.errors.size() == 2);
    CHECK(s.errors.at("no worker within the route timeout") == 1);
    CHECK(text_report(s, {}).find("1 x connect to http://127.0.0.1:1: Connection refused") != std::string::npos);
    CHECK(s.latency.max == Approx(0.3));
    CHECK(s.served_per_second == Approx(0.2));
    CHECK(s.error_rate == Approx(7.0 / 9));
}

TEST_CASE("goodput counts the 2xx requests within every SLO given") {
    Record fast = ok(0, 0.5), slow_first = ok(0, 0.5), slow_gaps = ok(0, 0.5), no_token = ok(0, 0.2), late = ok(0, 3);
    fast.first_token = 0.1;
    fast.token_gaps = {0.02, 0.04};
    fast.tokens = 3;
    slow_first.first_token = 0.4;
    slow_first.token_gaps = {0.01};
    slow_gaps.first_token = 0.1;
    slow_gaps.token_gaps = {0.01, 0.09};  // a mean of 50 ms
    late.first_token = 0.1;
    const Slo slo{0.2, 0.04, 2.0};
    CHECK(meets(fast, slo));
    CHECK_FALSE(meets(slow_first, slo));
    CHECK_FALSE(meets(slow_gaps, slo));
    CHECK_FALSE(meets(no_token, slo));
    CHECK_FALSE(meets(late, slo));
    CHECK(meets(no_token, Slo{std::nullopt, 0.04, 2.0}));
    CHECK_FALSE(meets(failed(Outcome::server_error, 503, 0), Slo{}));
    const auto s = summarize({fast, slow_first, slow_gaps, no_token, late}, 2, slo);
    CHECK(s.good == 1);
    CHECK(s.goodput == Approx(0.5));
    CHECK(s.slo_attainment == Approx(0.2));
    CHECK(s.streams == 4);
    CHECK(s.itl.count == 5);
    CHECK(s.ttft.p50 == Approx(0.1));

    Gates gates{slo, 0.9, 0.1};
    const auto missed_gates = missed(s, gates);
    REQUIRE(missed_gates.size() == 1);
    CHECK(missed_gates[0].find("--slo-attainment") != std::string::npos);
    gates.slo_attainment = 0.2;
    CHECK(missed(s, gates).empty());
    CHECK(missed(summarize({fast, failed(Outcome::transport, 0, 1)}, 2, Slo{}), Gates{Slo{}, 0.99, 0.1}).size() == 1);
}

TEST_CASE("per second: offered by due time, sent by send time, served and errors by end time") {
    std::vector<Record> records{ok(0.2, 0.4), ok(0.5, 2.5), failed(Outcome::server_error, 500, 1.5)};
    records[1].sent = 1.1;
    const auto seconds = per_second(records, 3);
    REQUIRE(seconds.size() == 3);
    CHECK(seconds[0].offered == 2);
    CHECK(seconds[0].sent == 1);
    CHECK(seconds[1].sent == 2);
    CHECK(seconds[0].served == 1);
    CHECK(seconds[2].served == 1);
    CHECK(seconds[1].errors == 1);
    CHECK(seconds[2].p99 == Approx(2.0));
    CHECK(std::isnan(seconds[1].p99));
}

TEST_CASE("the client's waits: 1 s then jittered backoff capped at 5 s, and 408, 429 and 5xx are retried") {
    CHECK(route_poll_delay(0, 0.9, 0.9) == 1.0);
    CHECK(route_poll_delay(1, 0.5, 1.0) == Approx(2.5));
    CHECK(route_poll_delay(1, 0.5, 0.0) == Approx(0.1));
    CHECK(route_poll_delay(5, 0.5, 1.0) == Approx(5.0));
    CHECK(retry_delay(0, 0.25) == Approx(1.25));
    CHECK(retry_delay(2, 0.5) == Approx(4.5));
    CHECK(retry_delay(3, 0.0) == Approx(5.0));
    CHECK(retryable(408));
    CHECK(retryable(429));
    CHECK(retryable(503));
    CHECK_FALSE(retryable(404));
    CHECK_FALSE(retryable(422));
}

TEST_CASE("the results JSON holds every figure, the settings and the per-second series") {
    RunResult run;
    run.records = {ok(0, 0.1), failed(Outcome::client_error, 429, 0.5)};
    run.seconds = 2;
    run.workers = {{0.1, {{"READY", 1}}}, {1.2, {{"READY", 2}, {"STOPPED", 1}}}};
    const auto s = summarize(run.records, run.seconds, Slo{});
    const auto j = results_json(s, run, {{"--rate", "1"}}, {"missed it"});
    CHECK(j.at("requests") == 2);
    CHECK(j.at("outcomes").at("client_errors_4xx").at("429") == 1);
    CHECK(j.at("latency").at("p99_ms").as_double() == Approx(100));
    CHECK(j.at("settings").at("--rate") == "1");
    CHECK(j.at("passed") == false);
    CHECK(j.at("per_second").as_array().size() == 2);
    CHECK(j.at("workers").as_array()[1].at("states").at("STOPPED") == 1);
    const auto picture = report_of(s, run, {}, "t");
    REQUIRE(picture.panels.size() == 3);
    CHECK(picture.panels[2].series[0].values[1] == 2);  // ready workers in second 1
}
