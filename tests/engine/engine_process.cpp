#include "engine_process.hpp"

#include "http_client.hpp"

#include <boost/json.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <signal.h>
#include <stdlib.h>

namespace cppworker::test {
namespace bp = boost::process;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cppworker-engine-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

struct EngineProcess::Impl {
    fs::path log_path;
    fs::path port_path;
    bp::child child;
    std::optional<int> exit_code;

    Impl(const fs::path& run_dir, const json::value& config, std::vector<std::string> extra) {
        fs::create_directories(run_dir);
        const auto config_path = run_dir / "engine.json";
        std::ofstream(config_path) << json::serialize(config);
        log_path = run_dir / "engine.log";
        port_path = run_dir / "engine.port";
        fs::remove(port_path);
        std::vector<std::string> args{"--port",      "0", "--port-file", port_path.string(), "--run-dir",
                                      run_dir.string(), "--config",    config_path.string(), "--api-key",
                                      account_key,    "--tick",      "0.2"};
        args.insert(args.end(), extra.begin(), extra.end());
        bp::environment env = boost::this_process::environment();
        for (const char* name : {"ENGINE_PORT", "ENGINE_API_KEY", "ENGINE_RUN_DIR", "ENGINE_CONFIG", "LOG_LEVEL"}) {
            env.erase(name);
        }
        child = bp::child(bp::exe = CPPWORKER_ENGINE_BINARY, bp::args = args, env, bp::std_in < bp::null,
                          (bp::std_out & bp::std_err) > log_path.string());
    }

    bool reap() {
        if (exit_code) return true;
        std::error_code ec;
        if (child.running(ec)) return false;
        exit_code = child.exit_code();
        return true;
    }
};

EngineProcess::EngineProcess(const fs::path& run_dir, const json::value& config, std::vector<std::string> args)
    : impl_(std::make_unique<Impl>(run_dir, config, std::move(args))) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(impl_->port_path)) {
            port_ = static_cast<uint16_t>(std::stoi(read_file(impl_->port_path)));
            return;
        }
        if (impl_->reap()) {
            throw std::runtime_error("engine exited with " + std::to_string(*impl_->exit_code) +
                                     " before listening:\n" + log());
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("engine did not start listening within 20 s:\n" + log());
}

// Whatever a test did, no engine (and so no worker it started) outlives it.
EngineProcess::~EngineProcess() {
    if (impl_->reap()) return;
    signal(SIGTERM);
    if (!wait_exit(60s)) {
        signal(SIGKILL);
        wait_exit(10s);
    }
}

int EngineProcess::pid() const { return impl_->child.id(); }

std::string EngineProcess::log() const { return read_file(impl_->log_path); }

bool EngineProcess::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

void EngineProcess::signal(int sig) { ::kill(impl_->child.id(), sig); }

std::optional<int> EngineProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (impl_->reap()) return impl_->exit_code;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

json::value EngineProcess::workers(int64_t endpoint_id) const {
    const auto body = json::serialize(json::object{{"id", endpoint_id}, {"api_key", account_key}});
    const auto answer = http(port_, "POST", "/get_endpoint_workers/", body);
    if (answer.status != 200) throw std::runtime_error("get_endpoint_workers: " + answer.body);
    return json::parse(answer.body);
}

bool process_gone(int pid) {
    if (::kill(pid, 0) != 0) return true;
    // A zombie has ended: only its parent's wait is missing.
    const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

}  // namespace cppworker::test
