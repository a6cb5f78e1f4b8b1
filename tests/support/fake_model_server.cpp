#include "fake_model_server.hpp"

#include "http_client.hpp"
#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <signal.h>
#include <unistd.h>
#include <stdlib.h>

#ifndef CPPWORKER_FAKES_DIR
#error "CPPWORKER_FAKES_DIR must name tests/fakes (a compile definition of cppworker_test_support)"
#endif

namespace cppworker::test {
namespace bp = boost::process;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kStartTimeout = 10s;

fs::path make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "cppworker-fake-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path python() {
    const fs::path system_python = "/usr/bin/python3";
    if (fs::exists(system_python)) return system_python;
    const auto found = bp::search_path("python3");
    if (found.empty()) throw std::runtime_error("no python3 to run the fake model servers");
    return found;
}

json::object parse_object(const HttpResponse& r, std::string_view what) {
    if (r.status != 200) {
        throw std::runtime_error(std::string(what) + " answered " + std::to_string(r.status) + ": " + r.body);
    }
    json::value v = json::parse(r.body);
    if (!v.is_object()) throw std::runtime_error(std::string(what) + " did not answer a JSON object: " + r.body);
    return std::move(v.as_object());
}

}  // namespace

struct FakeModelServer::Impl {
    std::string kind;
    fs::path script_path;  // before dir: an unknown kind throws before the folder exists
    fs::path dir;
    fs::path log_path;
    fs::path port_path;
    fs::path output_path;
    bp::child child;
    std::optional<int> exit_code;

    Impl(std::string k, const std::vector<std::string>& extra)
        : kind(std::move(k)),
          script_path(script(kind)),
          dir(make_temp_dir()),
          log_path(dir / "model.log"),
          port_path(dir / "port"),
          output_path(dir / "output.log") {
        std::vector<std::string> args = {script_path.string(), "--port", "0", "--port-file", port_path.string(),
                                         "--log", log_path.string(), "--exit-with-parent"};
        args.insert(args.end(), extra.begin(), extra.end());

        // A copy: this_process::environment() itself would change the test process's own environment.
        bp::environment env = boost::this_process::environment();
        env["PYTHONDONTWRITEBYTECODE"] = "1";  // no __pycache__ in the source tree
        env["PYTHONUNBUFFERED"] = "1";
        child = bp::child(bp::exe = python().string(), bp::args = args, env, bp::std_in < bp::null,
                          (bp::std_out & bp::std_err) > output_path.string());
    }

    ~Impl() {
        std::error_code ec;
        if (!exit_code && child.running(ec)) {
            child.terminate(ec);
            child.wait(ec);
        }
        fs::remove_all(dir, ec);
    }

    // Non-blocking check whether the child has ended.
    bool reap() {
        if (exit_code) return true;
        std::error_code ec;
        if (child.running(ec)) return false;
        exit_code = child.exit_code();
        return true;
    }
};

FakeModelServer::FakeModelServer(std::string kind, std::vector<std::string> extra_args)
    : impl_(std::make_unique<Impl>(std::move(kind), extra_args)) {
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        // The fake writes the file under another name and renames it: present means complete.
        if (fs::exists(impl_->port_path)) {
            port_ = static_cast<uint16_t>(std::stoi(read_file(impl_->port_path)));
            return;
        }
        if (impl_->reap()) {
            throw std::runtime_error("fake_" + impl_->kind + " exited with " + std::to_string(*impl_->exit_code) +
                                     " before listening:\n" + output());
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("fake_" + impl_->kind + " did not start listening within 10 s:\n" + output());
}

FakeModelServer::~FakeModelServer() {
    try {
        stop();
    } catch (...) {
        // Impl's destructor kills whatever is left.
    }
}

const std::string& FakeModelServer::kind() const { return impl_->kind; }

std::string FakeModelServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

fs::path FakeModelServer::log_path() const { return impl_->log_path; }

std::string FakeModelServer::log() const { return read_file(impl_->log_path); }

std::string FakeModelServer::output() const { return read_file(impl_->output_path); }

bool FakeModelServer::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

json::object FakeModelServer::stats() const {
    return parse_object(http(port_, "GET", "/_fake/stats"), "GET /_fake/stats");
}

bool FakeModelServer::wait_for(const std::function<bool(const json::object&)>& pred,
                               std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (pred(stats())) return true;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

bool FakeModelServer::wait_loaded(std::chrono::milliseconds timeout) const {
    return wait_for(
        [](const json::object& s) {
            const auto* loaded = s.if_contains("loaded");
            return loaded != nullptr && loaded->is_bool() && loaded->get_bool();
        },
        timeout);
}

json::object FakeModelServer::configure(const json::object& changes) const {
    return parse_object(http(port_, "POST", "/_fake/config", json::serialize(changes)), "POST /_fake/config");
}

void FakeModelServer::reset_stats() const {
    parse_object(http(port_, "POST", "/_fake/reset", "{}"), "POST /_fake/reset");
}

void FakeModelServer::finish_loading() const {
    parse_object(http(port_, "POST", "/_fake/load", "{}"), "POST /_fake/load");
}

void FakeModelServer::append_log(std::string_view line) const {
    json::object body;
    body["line"] = line;
    parse_object(http(port_, "POST", "/_fake/log", json::serialize(body)), "POST /_fake/log");
}

void FakeModelServer::signal(int sig) {
    if (!impl_->reap()) ::kill(impl_->child.id(), sig);
}

std::optional<int> FakeModelServer::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (impl_->reap()) return impl_->exit_code;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

int FakeModelServer::stop(std::chrono::milliseconds timeout) {
    if (impl_->reap()) return *impl_->exit_code;
    signal(SIGTERM);
    if (const auto code = wait_exit(timeout)) return *code;
    std::error_code ec;
    impl_->child.terminate(ec);  // SIGKILL
    impl_->child.wait(ec);
    impl_->exit_code = impl_->child.exit_code();
    return *impl_->exit_code;
}

fs::path FakeModelServer::script(std::string_view kind) {
    if (kind != "tgi" && kind != "openai" && kind != "comfyui" && kind != "sdauto") {
        throw std::invalid_argument("unknown fake model server kind: " + std::string(kind));
    }
    fs::path p = fs::path(CPPWORKER_FAKES_DIR) / ("fake_" + std::string(kind) + ".py");
    if (!fs::exists(p)) throw std::runtime_error("missing fake model server script " + p.string());
    return p;
}

void check_error_outlives_loading(const WorkerProcess& worker, const FakeModelServer& fake) {
    fake.finish_loading();
    REQUIRE(worker.wait_for_log("backend loaded"));
    CHECK_THAT(worker.log(), Catch::Contains(", but with error: "));
    CHECK(http(worker.port(), "GET", "/readyz").status == 503);
}

namespace {

std::int64_t counter(const json::value& v, std::string_view what) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double()) return static_cast<std::int64_t>(v.get_double());
    throw std::runtime_error("the fake's " + std::string(what) + " is not a number: " + json::serialize(v));
}

}  // namespace

std::int64_t stat(const json::object& stats, std::string_view key) {
    const auto* v = stats.if_contains(key);
    if (v == nullptr) {
        std::string keys;
        for (const auto& kv : stats) keys += (keys.empty() ? "" : ", ") + std::string(kv.key());
        throw std::runtime_error("the fake's stats have no counter \"" + std::string(key) + "\" (they have: " + keys +
                                 ")");
    }
    return counter(*v, "counter \"" + std::string(key) + "\"");
}

std::int64_t path_count(const json::object& stats, std::string_view path) {
    const auto* paths = stats.if_contains("paths");
    if (paths == nullptr || !paths->is_object()) {
        throw std::runtime_error("the fake's stats have no \"paths\" object");
    }
    const auto* n = paths->get_object().if_contains(path);
    return n == nullptr ? 0 : counter(*n, "count of requests for " + std::string(path));
}

CachedBenchmark::CachedBenchmark() {
    static std::atomic<int> next{0};
    file = std::filesystem::temp_directory_path() /
           ("cppworker-cached-benchmark-" + std::to_string(::getpid()) + "-" + std::to_string(next++));
    std::ofstream(file) << "1000.0";
}

CachedBenchmark::~CachedBenchmark() {
    std::error_code ec;
    std::filesystem::remove(file, ec);
}

std::map<std::string, std::string> env_for(const FakeModelServer& fake, const CachedBenchmark& cache) {
    return {{"UNSECURED", "true"}, {"MODEL_SERVER_URL", fake.url()}, {"BENCHMARK_CACHE", cache.file.string()}};
}

}  // namespace cppworker::test
