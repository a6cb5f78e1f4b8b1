// A worker's state from its reports alone (engine/src/fleet), and what a template starts.
#include "fleet/worker.hpp"
#include "provider/launch_spec.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace cppworker::engine;
namespace json = boost::json;

namespace {

StatusReport report(double loadtime, double max_perf, std::string error = "") {
    StatusReport r;
    r.loadtime = loadtime;
    r.max_perf = max_perf;
    r.error_msg = std::move(error);
    r.url = "http://127.0.0.1:4000";
    return r;
}

}  // namespace

TEST_CASE("worker state: loading, model loading, ready, errored, from the reports", "[engine][fleet]") {
    Worker w;
    w.started_at = 100;
    CHECK(w.state == WorkerState::loading);
    apply_report(w, report(0, 0), 101);
    CHECK(w.state == WorkerState::model_loading);
    CHECK(w.url == "http://127.0.0.1:4000");
    // Loaded, but no benchmark yet (max_perf 0): not ready; routes would find no capacity.
    apply_report(w, report(3.5, 0), 102);
    CHECK(w.state == WorkerState::model_loading);
    apply_report(w, report(3.5, 120), 103);
    CHECK(w.state == WorkerState::ready);
    CHECK(w.loaded_at == 103);
    CHECK(w.has_model);
    apply_report(w, report(3.5, 120, "CUDA out of memory"), 104);
    CHECK(w.state == WorkerState::errored);
    CHECK(w.error == "CUDA out of memory");
}

TEST_CASE("worker state: a stopping worker stays stopping whatever it reports", "[engine][fleet]") {
    Worker w;
    w.state = WorkerState::stopping;
    apply_report(w, report(3, 100), 10);
    CHECK(w.state == WorkerState::stopping);
}

TEST_CASE("worker state: silent too long is lost, not ready in time is errored", "[engine][fleet]") {
    const Lifetimes limits{30, 600};
    Worker w;
    w.started_at = 1000;
    apply_report(w, report(0, 0), 1010);
    CHECK_FALSE(check_time(w, limits, 1039));
    CHECK(check_time(w, limits, 1041));
    CHECK(w.state == WorkerState::lost);
    CHECK_THAT(w.error, Catch::Contains("no report for 31 s"));

    Worker slow;
    slow.started_at = 1000;
    for (double t = 1010; t <= 1600; t += 10) apply_report(slow, report(0, 0), t);
    CHECK_FALSE(check_time(slow, limits, 1600));
    CHECK(check_time(slow, limits, 1601));
    CHECK(slow.state == WorkerState::errored);
    CHECK_THAT(slow.error, Catch::Contains("not ready within 600 s"));
}

TEST_CASE("worker state: a report missing a field is refused, naming it", "[engine][fleet]") {
    json::object body{{"loadtime", 1.0}, {"cur_load", 0.0}, {"new_load", 0.0}, {"rej_load", 0.0},
                      {"cur_perf", 0.0}, {"max_perf", 10.0}, {"num_requests_working", 0},
                      {"error_msg", ""}, {"working_request_idxs", json::array{3, 4}}, {"url", "http://x:1"}};
    StatusReport r;
    REQUIRE_FALSE(read_report(body, r));
    CHECK(r.working_request_idxs == std::vector<int64_t>{3, 4});
    body.erase("max_perf");
    CHECK(read_report(body, r) == std::optional<std::string>("max_perf must be a number"));
}

TEST_CASE("launch: a template resolved for a worker, with what Vast tells its instances", "[engine][provider]") {
    Template t;
    t.command = {"{bin}/cppworker", "--model-log", "{folder}/model.log", "--tls-cert", "{config_dir}/cert.pem"};
    t.env = {{"BACKEND", "tgi"}, {"MODEL_SERVER_URL", "http://127.0.0.1:{TGI_PORT}"}, {"WORKER_PORT", "1"}};
    t.ports = {"TGI_PORT"};
    Worker w;
    w.id = 7;
    w.mtoken = "tok";
    const auto launch = resolve_launch(t, w, {"/opt/bin", "/etc/engine", "/run/workers/7", 4100, {{"TGI_PORT", 4101}}, "http://127.0.0.1:8080"});
    CHECK(launch.command == std::vector<std::string>{"/opt/bin/cppworker", "--model-log", "/run/workers/7/model.log",
                                                     "--tls-cert", "/etc/engine/cert.pem"});
    CHECK(launch.env.at("MODEL_SERVER_URL") == "http://127.0.0.1:4101");
    CHECK(launch.env.at("TGI_PORT") == "4101");
    CHECK(launch.env.at("WORKER_PORT") == "4100");  // the engine's, not the template's
    CHECK(launch.env.at("VAST_TCP_PORT_4100") == "4100");
    CHECK(launch.env.at("CONTAINER_ID") == "7");
    CHECK(launch.env.at("MASTER_TOKEN") == "tok");
    CHECK(launch.env.at("REPORT_ADDR") == "http://127.0.0.1:8080");
    CHECK(launch.env.at("WORKER_LISTEN_ADDR") == "127.0.0.1");
    CHECK(launch.folder == "/run/workers/7");
}
