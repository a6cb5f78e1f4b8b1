// cppworker-load end to end: the real binary against a real worker, a fake server and the real
// engine; what it counts is checked against what the servers counted.
#include "engine_process.hpp"
#include "fake_http_server.hpp"
#include "fake_model_server.hpp"
#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

using namespace cppworker::test;
using namespace std::chrono_literals;
namespace bp = boost::process;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Ran {
    int exit_code = -1;
    std::string out, err;
    json::value results;  // --json's file, when it was written
};

// Runs cppworker-load with `args` plus --json into `dir`, to its end.
Ran run_load(const TempDir& dir, std::vector<std::string> args) {
    const auto json_path = dir.path() / "results.json";
    fs::remove(json_path);
    args.insert(args.end(), {"--json", json_path.string(), "--no-progress"});
    bp::child child(bp::exe = CPPWORKER_LOAD_BINARY, bp::args = args, bp::std_in < bp::null,
                    bp::std_out > (dir.path() / "out.txt").string(), bp::std_err > (dir.path() / "err.txt").string());
    child.wait();
    Ran r{child.exit_code(), slurp(dir.path() / "out.txt"), slurp(dir.path() / "err.txt"), {}};
    if (fs::exists(json_path)) r.results = json::parse(slurp(json_path));
    return r;
}

int64_t count_of(const json::value& results, std::string_view pointer) {
    return results.at_pointer(pointer).to_number<int64_t>();
}

json::object worker_template(const char* plugin) {
    return json::object{{"command", json::array{CPPWORKER_BINARY, "--plugin", plugin}},
                        {"env", json::object{{"WORKER_SUPERVISE", "false"}, {"BENCHMARK_CACHE", "{folder}/has_benchmark"}}}};
}

}  // namespace

TEST_CASE("load: an open-loop run at a fixed rate sends that rate, as the server sees it", "[load]") {
    FakeHttpServer server([](const ReceivedRequest&) { return CannedAnswer{200, R"({"ok": true})"}; });
    TempDir dir;
    const auto ran = run_load(dir, {"--worker", server.url(), "--rate", "20", "--duration", "2s"});
    INFO(ran.out << ran.err);
    REQUIRE(ran.exit_code == 0);
    const auto got = server.received();
    REQUIRE(got.size() == 40);
    CHECK(count_of(ran.results, "/requests") == 40);
    CHECK(count_of(ran.results, "/outcomes/ok_2xx") == 40);
    // Due at 0.025 s, 0.075 s, ... 1.975 s: the first and the last arrive 1.95 s apart (a loaded machine
    // may delay one of them, hence the tolerance).
    const double spread = std::chrono::duration<double>(got.back().arrived - got.front().arrived).count();
    CHECK(spread == Approx(1.95).margin(0.25));
    // What a worker gets: the envelope Vast's client sends, with the payload and its cost.
    const auto body = json::parse(got.front().body).as_object();
    CHECK(got.front().target == "/generate");
    CHECK(body.at("payload").as_object().contains("prompt"));
    CHECK(body.at("auth_data").at("cost").to_number<double>() ==
          static_cast<double>(body.at("payload").at("prompt").as_string().size()));
}

TEST_CASE("load: a worker that stalls shows up as latency, not as a lower send rate, and counts match its /metrics",
          "[load]") {
    // paced serves one request at a time, 100 ms each: 10 a second. 20 a second for 2 s queue up.
    WorkerProcess worker(artifact(PACED_PLUGIN), {}, {{"UNSECURED", "true"}});
    REQUIRE(wait_ready(worker.port(), 200, 30s));
    TempDir dir;
    std::ofstream(dir.path() / "work.jsonl") << R"({"payload": {"ms": 100}, "path": "/work", "cost": 1})" << "\n";
    const auto ran = run_load(dir, {"--worker", "http://127.0.0.1:" + std::to_string(worker.port()), "--rate", "20",
                                    "--duration", "2s", "--backend", "other", "--payloads",
                                    (dir.path() / "work.jsonl").string()});
    INFO(ran.out << ran.err << worker.log());
    REQUIRE(ran.exit_code == 0);
    CHECK(count_of(ran.results, "/outcomes/ok_2xx") == 40);
    CHECK(metric(worker.port(), R"(cppworker_requests_total{outcome="success"})") == 40);
    // Sent on schedule: 20 in each of the first two seconds, though answers took ever longer.
    const auto& seconds = ran.results.at_pointer("/per_second").as_array();
    REQUIRE(seconds.size() >= 4);
    CHECK(seconds[0].at("sent").to_number<double>() == Approx(20).margin(2));
    CHECK(seconds[1].at("sent").to_number<double>() == Approx(20).margin(2));
    // The last request, due at 2 s, waits behind 39 others of 100 ms: about 2 s late.
    CHECK(ran.results.at_pointer("/latency/max_ms").to_number<double>() > 1500);
    CHECK(ran.results.at_pointer("/latency/p50_ms").to_number<double>() > 500);
    CHECK(ran.results.at_pointer("/seconds").to_number<double>() > 3.5);
}

TEST_CASE("load: streams give time to first token, inter-token latency and tokens, as the worker counts them",
          "[load]") {
    FakeModelServer fake("tgi", {"--token-delay", "0.05"});
    CachedBenchmark cache;
    REQUIRE(fake.wait_loaded());
    WorkerProcess worker(artifact(TGI_PLUGIN), {}, env_for(fake, cache));
    TempDir dir;
    const auto ran = run_load(dir, {"--worker", "http://127.0.0.1:" + std::to_string(worker.port()), "--backend", "tgi",
                                    "--stream", "--max-tokens", "10", "--rate", "4", "--duration", "1s",
                                    "--slo-ttft-ms", "5000", "--slo-itl-ms", "1000"});
    INFO(ran.out << ran.err << worker.log());
    REQUIRE(ran.exit_code == 0);
    CHECK(count_of(ran.results, "/streams/count") == 4);
    CHECK(count_of(ran.results, "/streams/tokens") == 40);
    CHECK(metric(worker.port(), "cppworker_plugin_tgi_streamed_tokens_total") == 40);
    // The cost sent is the plugin's workload: max_new_tokens.
    CHECK(metric(worker.port(), R"(cppworker_workload_total{outcome="served"})") == 40);
    // Tokens 50 ms apart; the first after one gap.
    const double itl = ran.results.at_pointer("/streams/itl/p50_ms").to_number<double>();
    CHECK(itl > 30);
    CHECK(itl < 250);
    CHECK(count_of(ran.results, "/streams/itl/count") == 36);
    CHECK(ran.results.at_pointer("/streams/ttft/p50_ms").to_number<double>() > 30);
    CHECK(ran.results.at_pointer("/slo/good") == 4);
}

TEST_CASE("load: errors count by kind, and a missed error budget or SLO fails the run", "[load]") {
    std::atomic<int> n{0};
    FakeHttpServer server([&n](const ReceivedRequest&) {
        const int i = ++n;
        return i % 4 == 0 ? CannedAnswer{503, "{}"} : i % 4 == 1 ? CannedAnswer{404, "{}"} : CannedAnswer{200, "{}"};
    });
    TempDir dir;
    auto ran = run_load(dir, {"--worker", server.url(), "--concurrency", "1", "--duration", "1s", "--max-retries", "0",
                              "--max-error-rate", "0.1"});
    INFO(ran.out << ran.err);
    CHECK(ran.exit_code == 1);
    const auto total = count_of(ran.results, "/requests");
    CHECK(total == static_cast<int64_t>(server.received().size()));
    CHECK(count_of(ran.results, "/outcomes/client_errors_4xx/404") == (total + 3) / 4);
    CHECK(count_of(ran.results, "/outcomes/server_errors_5xx") == total / 4);
    CHECK(ran.out.find("MISSED     error rate") != std::string::npos);
    CHECK(ran.results.at_pointer("/passed") == false);

    // A server that closes every connection unanswered: transport errors, said in words.
    server.set_refusing(true);
    ran = run_load(dir, {"--worker", server.url(), "--rate", "2", "--duration", "1s", "--max-retries", "0"});
    CHECK(count_of(ran.results, "/outcomes/transport_errors") == 2);
    CHECK(ran.out.find("2 x connection to " + server.url() + " closed before an answer") != std::string::npos);

    // Retried as the client retries: a 503 is routed again (here: sent again) after its backoff.
    std::atomic<int> calls{0};
    FakeHttpServer flaky([&calls](const ReceivedRequest&) {
        return ++calls == 1 ? CannedAnswer{503, "{}"} : CannedAnswer{200, "{}"};
    });
    ran = run_load(dir, {"--worker", flaky.url(), "--rate", "1", "--duration", "1s", "--max-retries", "1",
                         "--slo-latency-ms", "100"});
    CHECK(calls == 2);
    CHECK(count_of(ran.results, "/retries") == 1);
    CHECK(count_of(ran.results, "/outcomes/ok_2xx") == 1);
    CHECK(ran.exit_code == 1);  // the retry's backoff (>= 1 s) broke the latency SLO
    CHECK(ran.out.find("--slo-attainment") != std::string::npos);
}

TEST_CASE("load: through the engine, every request is routed, signed and served, and the plot shows the workers",
          "[load]") {
    TempDir run;
    const json::object config{
        {"templates", json::object{{"hello_world", worker_template(HELLO_WORLD_PLUGIN)}}},
        {"endpoints", json::array{json::object{{"endpoint_name", "hello"}, {"api_key", "hello-key"},
                                               {"cold_workers", 1}, {"max_workers", 1},
                                               {"workergroups", json::array{json::object{{"template_hash", "hello_world"}}}}}}}};
    EngineProcess engine(run.path(), config);
    const std::string url = "http://127.0.0.1:" + std::to_string(engine.port());
    TempDir dir;
    // Sent before any worker is ready: the first requests wait for one, as the client does.
    const auto svg = dir.path() / "run.svg", html = dir.path() / "run.html";
    const auto ran = run_load(dir, {"--engine", url, "--endpoint", "hello", "--api-key", EngineProcess::account_key,
                                    "--rate", "10", "--duration", "3s", "--svg", svg.string(), "--html", html.string(),
                                    "--max-error-rate", "0"});
    INFO(ran.out << ran.err << engine.log());
    REQUIRE(ran.exit_code == 0);
    CHECK(count_of(ran.results, "/requests") == 30);
    CHECK(count_of(ran.results, "/outcomes/ok_2xx") == 30);
    const auto workers = engine.workers(1).as_array();
    REQUIRE(workers.size() == 1);
    const std::string worker_url(workers[0].at("url").as_string());
    const auto worker_port = static_cast<uint16_t>(std::stoi(worker_url.substr(worker_url.rfind(':') + 1)));
    CHECK(metric(worker_port, R"(cppworker_requests_total{outcome="success"})") == 30);
    CHECK(metric(worker_port, R"(cppworker_requests_total{outcome="rejected"})") == 0);
    // The engine's own counts: every request routed once (the waits are answers of their own), and
    // each reported done as it succeeded, once the worker's /delete_requests/ arrived.
    json::object counted;
    const auto engine_counts = [&] {
        const auto answer = http(engine.port(), "GET", std::string("/api/dashboard/?api_key=") + EngineProcess::account_key);
        const auto samples = json::parse(answer.body).at_pointer("/endpoints/0/samples").as_array();
        counted = samples.back().at("requests").as_object();
        return counted.at("succeeded").to_number<int64_t>() >= 30;
    };
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!engine_counts() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(200ms);
    INFO(json::serialize(counted));
    CHECK(counted.at("routed").to_number<int64_t>() == 30);
    CHECK(counted.at("succeeded").to_number<int64_t>() == 30);
    CHECK(counted.at("failed").to_number<int64_t>() == 0);
    CHECK_FALSE(ran.results.at_pointer("/workers").as_array().empty());
    const auto picture = slurp(svg);
    CHECK(picture.find(">workers (count)<") != std::string::npos);
    CHECK(picture.find(">ready<") != std::string::npos);
    CHECK(slurp(html).find("<th>--endpoint</th><td>hello</td>") != std::string::npos);

    // A wrong name says which endpoints there are, and loads nothing.
    const auto wrong = run_load(dir, {"--engine", url, "--endpoint", "nope", "--api-key", EngineProcess::account_key,
                                      "--rate", "1", "--duration", "1s"});
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.err.find("no endpoint named nope") != std::string::npos);
    CHECK(wrong.err.find("hello") != std::string::npos);
}
