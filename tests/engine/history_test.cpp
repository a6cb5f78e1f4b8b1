// What the dashboard shows (engine/src/history): samples and actions kept per endpoint within their
// bounds and read incrementally, the sample of an endpoint from its traffic and workers, and the
// JSON the page polls.
#include "history/history.hpp"
#include "history/history_json.hpp"
#include "history/sampling.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace cppworker::engine;
namespace json = boost::json;

namespace {

Sample sample_of(int64_t endpoint, double time) {
    Sample s;
    s.endpoint_id = endpoint;
    s.time = time;
    return s;
}

ActionRecord action_of(int64_t endpoint, Action::Kind kind, int64_t worker, std::string why) {
    return ActionRecord{0, 10, endpoint, 1, kind, worker, std::move(why), {}};
}

Worker worker_with(int64_t id, WorkerState state, double cur_load, double max_perf) {
    Worker w;
    w.id = id;
    w.state = state;
    StatusReport r;
    r.cur_load = cur_load;
    r.max_perf = max_perf;
    r.num_requests_working = static_cast<int64_t>(cur_load);
    w.last = r;
    return w;
}

}  // namespace

TEST_CASE("history: an hour of samples at the tick's resolution, within bounds", "[engine][history]") {
    CHECK(HistoryLimits::for_tick(1).samples == 3600);
    CHECK(HistoryLimits::for_tick(0.5).samples == 7200);
    CHECK(HistoryLimits::for_tick(0.001).samples == 36'000);
    CHECK(HistoryLimits::for_tick(10'000).samples == 1);
    CHECK(HistoryLimits::for_tick(0).samples == 1);
}

TEST_CASE("history: each endpoint keeps its last samples and actions, and a reader gets what came after its last",
          "[engine][history]") {
    History h(HistoryLimits{3, 2});
    for (int i = 0; i < 5; ++i) h.add(sample_of(1, 100 + i));  // seq 1..5
    h.add(sample_of(2, 200));                                   // seq 6
    h.add(action_of(1, Action::Kind::create, 7, "more load"));  // seq 7
    h.add(action_of(1, Action::Kind::stop, 7, "less load"));    // seq 8
    h.add(action_of(1, Action::Kind::destroy, 7, "idle"));      // seq 9
    CHECK(h.sample_count(1) == 3);
    CHECK(h.action_count(1) == 2);
    CHECK(h.sample_count(2) == 1);

    const auto all = h.since(0);
    CHECK(all.last == 9);
    REQUIRE(all.samples.at(1).size() == 3);
    CHECK(all.samples.at(1).front()->seq == 3);  // the oldest two went
    CHECK(all.samples.at(1).front()->time == 102);
    CHECK(all.samples.at(1).back()->seq == 5);
    REQUIRE(all.actions.at(1).size() == 2);
    CHECK(all.actions.at(1).front()->kind == Action::Kind::stop);
    CHECK(all.actions.at(1).back()->reason == "idle");

    const auto later = h.since(4);
    REQUIRE(later.samples.at(1).size() == 1);
    CHECK(later.samples.at(1).front()->seq == 5);
    CHECK(later.samples.at(2).size() == 1);
    CHECK(later.actions.at(1).size() == 2);
    const auto nothing_new = h.since(all.last);
    CHECK(nothing_new.samples.at(1).empty());
    CHECK(nothing_new.actions.at(1).empty());
    CHECK(nothing_new.last == 9);

    h.keep_only({2});  // endpoint 1 was deleted
    CHECK(h.sample_count(1) == 0);
    CHECK(h.sample_count(2) == 1);
    CHECK_FALSE(h.since(0).samples.contains(1));
    h.add(sample_of(2, 201));
    CHECK(h.since(9).samples.at(2).front()->seq == 10);  // sequence numbers never go back
}

TEST_CASE("history: a worker's throughput is what its report says it served over the time since the last",
          "[engine][history]") {
    Worker w;
    w.started_at = 100;
    StatusReport r;
    r.cur_perf = 10;  // served since the last report: an interval sum
    apply_report(w, r, 102);
    CHECK(w.served_rate == Approx(5));
    r.cur_perf = 3;
    apply_report(w, r, 108);
    CHECK(w.served_rate == Approx(0.5));
}

TEST_CASE("history: an endpoint's sample: offered and served load, queue time, workers and decisions",
          "[engine][history]") {
    EndpointEntry entry(Endpoint{}, 60);
    entry.endpoint.id = 4;
    entry.routed = 7;
    entry.waited = 3;
    entry.served = 5;
    entry.failed = 1;
    entry.meter.arrived(100, 50);                                   // long before the window
    for (double t : {95.0, 97.0, 99.0}) entry.meter.arrived(2, t);  // 6 units within the last 6 s
    entry.served_meter.arrived(3, 98);
    entry.queue.wait(1, 5, 60, 99);
    auto ready = worker_with(1, WorkerState::ready, 4, 10);
    ready.assigned_since_report = 1;
    ready.served_rate = 2.5;
    const auto ready2 = worker_with(2, WorkerState::ready, 0, 10);
    auto cold = worker_with(3, WorkerState::stopped, 0, 10);
    cold.has_model = true;
    auto failed = worker_with(4, WorkerState::errored, 0, 0);
    failed.error = "CUDA out of memory";
    const auto starting = worker_with(5, WorkerState::model_loading, 0, 0);
    const std::vector<const Worker*> workers{&ready, &ready2, &cold, &failed, &starting};

    const auto s = sample_endpoint(entry, workers, {GroupSample{9, 6, 2, 3, "anticipated load"}}, 6, 100);
    CHECK(s.endpoint_id == 4);
    CHECK(s.time == 100);
    CHECK(s.offered == Approx(1));     // 6 units over 6 s
    CHECK(s.served == Approx(0.5));    // 3 over 6 s
    CHECK(s.waiting == 1);
    CHECK(s.waiting_load == 5);
    CHECK(s.requests.routed == 7);
    CHECK(s.requests.waited == 3);
    CHECK(s.requests.succeeded == 5);
    CHECK(s.requests.failed == 1);
    // (4 + 1 in flight at worker 1, 0 at worker 2, 5 waiting) over 10 + 10 units/s
    REQUIRE(s.queue_time);
    CHECK(*s.queue_time == Approx(0.5));
    REQUIRE(s.workers.size() == 5);
    CHECK(s.workers[0].throughput == 2.5);
    CHECK(s.workers[0].requests_working == 4);
    CHECK(s.workers[3].error == "CUDA out of memory");
    const auto counts = count_workers(s.workers);
    CHECK(counts.ready == 2);
    CHECK(counts.cold == 1);
    CHECK(counts.starting == 1);
    CHECK(counts.other == 1);

    // No ready worker with a benchmark: no estimate, rather than a wait of 0.
    CHECK_FALSE(estimated_queue_time({&cold, &starting}, 5));
}

TEST_CASE("history: the dashboard's JSON names each endpoint, and leaves deleted ones out", "[engine][history]") {
    History h(HistoryLimits{10, 10});
    auto s = sample_of(1, 100);
    s.offered = 3;
    s.groups = {GroupSample{1, 4, 1, 2, "anticipated load"}, GroupSample{2, 1, 1, 1, "min_load"}};
    WorkerSample w;
    w.id = 7;
    w.state = WorkerState::ready;
    s.workers = {w};
    h.add(std::move(s));
    h.add(action_of(1, Action::Kind::create, 7, "more load"));
    h.add(sample_of(2, 100));
    h.add(sample_of(1, 101));  // seq 4, without workers

    const auto answer = history_json(h.since(0), {{1, "hello"}}, h.limits(), 1, true);
    CHECK(answer.at("last") == 4);
    CHECK(answer.at("tick") == 1.0);
    CHECK(answer.at("limits").at("samples") == 10);
    const auto& endpoints = answer.at("endpoints").as_array();
    REQUIRE(endpoints.size() == 1);
    CHECK(endpoints[0].at("name") == "hello");
    const auto& sample = endpoints[0].at("samples").as_array().at(0);
    CHECK(sample.at("offered") == 3.0);
    CHECK(sample.at("queue_time").is_null());
    CHECK(sample.at("anticipated_load") == 5.0);  // the groups' sums
    CHECK(sample.at("active_wanted") == 2);
    CHECK(sample.at("total_wanted") == 3);
    CHECK(sample.at("ready") == 1);
    CHECK(sample.at("workers").as_array().at(0).at("state") == "READY");
    // By default only the newest sample of an answer carries its workers (here: none).
    const auto lean = history_json(h.since(0), {{1, "hello"}}, h.limits(), 1, false);
    const auto& lean_samples = lean.at("endpoints").as_array().at(0).at("samples").as_array();
    REQUIRE(lean_samples.size() == 2);
    CHECK_FALSE(lean_samples[0].as_object().contains("workers"));
    CHECK(lean_samples[0].at("ready") == 1);  // the counts stay
    CHECK(lean_samples[1].at("workers").as_array().empty());
    const auto& action = endpoints[0].at("actions").as_array().at(0);
    CHECK(action.at("action") == "create");
    CHECK(action.at("worker") == 7);
    CHECK(action.at("reason") == "more load");
}
