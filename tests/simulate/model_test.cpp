// The simulator's pieces: distributions and config (errors name the field), the histogram of
// waits, the CSV of arrivals, and the fluid pool against the engine's own routing rule.
#include "distribution.hpp"
#include "pool.hpp"
#include "sim_config.hpp"
#include "trace.hpp"
#include "waits.hpp"

#include "routing/route_queue.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

using namespace cppworker::simulate;
namespace json = boost::json;

namespace {

std::string config_error(const char* text) {
    auto read = read_sim_config(json::parse(text).as_object());
    auto* e = std::get_if<std::string>(&read);
    return e ? *e : std::string("(no error)");
}

struct Placed : WaitSink {
    std::vector<std::pair<double, double>> parts;  // (seconds, requests)
    void placed(double seconds, double requests) override { parts.emplace_back(seconds, requests); }
    double requests() const {
        double n = 0;
        for (const auto& p : parts) n += p.second;
        return n;
    }
    double mean() const {
        double sum = 0;
        for (const auto& p : parts) sum += p.first * p.second;
        return sum / requests();
    }
};

}  // namespace

TEST_CASE("simulate: distributions are read with their fields and drawn within them", "[simulate]") {
    std::mt19937_64 rng(7);
    const auto u = std::get<Distribution>(read_distribution(json::parse(R"({"dist": "uniform", "min": 2, "max": 4})")));
    for (int i = 0; i < 100; ++i) {
        const double x = u.draw(rng);
        CHECK(x >= 2);
        CHECK(x <= 4);
    }
    CHECK(std::get<Distribution>(read_distribution(json::value(5))).draw(rng) == 5);
    const auto ln = std::get<Distribution>(read_distribution(json::parse(R"({"dist": "lognormal", "median": 60, "sigma": 0.5})")));
    CHECK(ln.mean() == Approx(60 * std::exp(0.125)));
    const auto n = std::get<Distribution>(read_distribution(json::parse(R"({"dist": "normal", "mean": 0, "sd": 5})")));
    for (int i = 0; i < 100; ++i) CHECK(n.draw(rng) >= 0);  // cut at 0
}

TEST_CASE("simulate: a bad config names the field and what it must be", "[simulate]") {
    CHECK(config_error(R"({"workers": {"perf": {"dist": "normal", "mean": 10}}})") == "workers.perf: normal needs \"sd\"");
    CHECK(config_error(R"({"workers": {"start_s": {"dist": "gamma"}}})") ==
          "workers.start_s: dist \"gamma\" is not one of constant, uniform, normal, lognormal, exponential");
    CHECK(config_error(R"({"workers": {"load_s": {"dist": "uniform", "min": 5, "max": 1}}})") ==
          "workers.load_s: max must not be below min");
    CHECK(config_error(R"({"workers": {"perf": 0}})") == "workers.perf: must be > 0");
    CHECK(config_error(R"({"workers": {"speed": 3}})") == "workers: unknown field \"speed\"");
    CHECK(config_error(R"({"params": {"target_util": 1.5}})") == "params.target_util must be a number in (0, 1]");
    CHECK(config_error(R"({"params": {"target_utl": 0.5}})") == "params: unknown field \"target_utl\"");
    CHECK(config_error(R"({"tuning": {"tolerance": -1}})") == "tuning.tolerance must be a number >= 0");
    CHECK(config_error(R"({"tick": 1.5})") == "tick: must be a whole number of steps");
    CHECK(config_error(R"({"arrivals": "bursty"})") == "arrivals: must be \"poisson\" or \"fluid\"");
    CHECK(config_error(R"({"seeds": 3})") == "unknown field \"seeds\"");
    CHECK(config_error(R"({"params": {"max_workers": 2}, "tuning": [1]})") == "tuning: must be an object");
    const auto good = std::get<SimConfig>(read_sim_config(json::parse(
        R"({"workers": {"mttf_s": {"dist": "exponential", "mean": 3600}}, "params": {"cold_workers": 2},
            "tuning": {"scale_down_delay": 30}, "seed": 9, "arrivals": "fluid"})").as_object()));
    CHECK(good.params.cold_workers == 2);
    CHECK(good.tuning.scale_down_delay == 30);
    CHECK(good.seed == 9);
    CHECK_FALSE(good.poisson);
    REQUIRE(good.workers.mttf_s);
    CHECK(good.workers.mttf_s->mean() == 3600);
}

TEST_CASE("simulate: waits' percentiles to 1 %, weighted by requests", "[simulate]") {
    WaitHistogram h;
    CHECK(std::isnan(h.quantile(0.5)));
    h.add(0, 90);    // 90 requests placed at once
    h.add(2.0, 9);   // 9 waited 2 s
    h.add(30.0, 1);  // one waited 30 s
    CHECK(h.quantile(0.5) == 0);
    CHECK(h.quantile(0.95) == Approx(2.0).epsilon(0.01));
    CHECK(h.quantile(0.999) == Approx(30.0).epsilon(0.01));
    CHECK(h.mean() == Approx((9 * 2.0 + 30) / 100));
    h.clear();
    CHECK(h.requests() == 0);
}

TEST_CASE("simulate: a CSV of arrivals, with errors naming the line", "[simulate]") {
    const auto read = read_arrivals_csv("time,cost\n2.5,10\n0.5, 3\n\n# a comment\n1,1\n");
    const auto& a = std::get<std::vector<Arrival>>(read);
    REQUIRE(a.size() == 3);
    CHECK(a[0].t == 0.5);  // sorted by time
    CHECK(a[2].cost == 10);
    CHECK(arrivals_trace(a).duration == 3);
    CHECK(std::get<std::string>(read_arrivals_csv("0,1\n1,x\n")) == "line 2: expected \"time,cost\" (two numbers), got \"1,x\"");
    CHECK(std::get<std::string>(read_arrivals_csv("0,0\n")) == "line 1: cost must be > 0");
    CHECK(std::get<std::string>(read_arrivals_csv("time,cost\n")) == "no arrivals: the file has no \"time,cost\" line");
}

TEST_CASE("simulate: the pool places arrivals at its level, waits past max_queue_time", "[simulate]") {
    // Rate 10 units/s, 50 units in flight: a level of 5 s. 20 units arrive over 1 s: the level
    // moves at 20/10 - 1 = +1 s per s, from 5 to 6: the mean wait is 5.5 s; all is placed;
    // 10 units are served.
    Pool pool{10, 50, 50};
    std::deque<Cohort> waiting;
    Placed sink;
    CHECK(route_and_serve(waiting, {0, 20, 20}, pool, 30, 0, 1, sink) == Approx(10));
    CHECK(sink.requests() == Approx(20));
    CHECK(sink.mean() == Approx(5.5));
    CHECK(pool.load == Approx(60));
    CHECK(waiting.empty());
    // At max_queue_time 5.5 the level is full half-way: 10 units arrive before (mean 5.75 s),
    // then the pool takes what it serves, 5 units at 6 s... of the 20 that came, 5 wait.
    Pool full{10, 50, 50};
    Placed sink2;
    route_and_serve(waiting, {0, 20, 20}, full, 5.5, 0, 1, sink2);
    CHECK(sink2.requests() == Approx(15));
    CHECK(sink2.mean() == Approx((10 * 5.25 + 5 * 5.5) / 15));
    REQUIRE(waiting.size() == 1);
    CHECK(waiting.front().load == Approx(5));
    CHECK(waiting.front().t == Approx(0.75));  // they came in the step's second half
    // Full at the step's end (5.5 s), the pool has no room at the next step's start: it serves
    // 10 units meanwhile and the 5 wait on. The step after places them first, at 4.5 s, and their
    // wait counts from when they came: 2 - 0.75 + (45 + 5 / 2) / 10 = 6 s.
    Placed sink3;
    CHECK(route_and_serve(waiting, {1, 0, 0}, full, 5.5, 1, 1, sink3) == Approx(10));
    CHECK(sink3.parts.empty());
    CHECK(waiting.size() == 1);
    route_and_serve(waiting, {2, 0, 0}, full, 5.5, 2, 1, sink3);
    REQUIRE(sink3.parts.size() == 1);
    CHECK(sink3.parts.front().first == Approx(6.0));
    CHECK(waiting.empty());
}

TEST_CASE("simulate: the fluid pool loads workers as the engine's pick_worker does, level", "[simulate]") {
    // The engine's rule, one request at a time, on three workers of perf 10, 20 and 30 with
    // different loads: afterwards their queue times are level within one request's, as the
    // pool assumes (its one level is what they all reach).
    std::vector<cppworker::engine::Candidate> workers{{1, 30, 10}, {2, 0, 20}, {3, 60, 30}};
    for (int i = 0; i < 300; ++i) {
        const auto id = cppworker::engine::pick_worker(workers, {}, 30);
        REQUIRE(id);
        workers[static_cast<std::size_t>(*id - 1)].load += 1;
    }
    const double level = (30 + 0 + 60 + 300.0) / (10 + 20 + 30);
    for (const auto& w : workers) CHECK(w.load / w.perf == Approx(level).margin(1.0 / w.perf));
}
