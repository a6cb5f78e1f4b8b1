#include "worker_process.hpp"

#include <catch2/catch.hpp>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <signal.h>

namespace cppworker::test {
namespace bp = boost::process;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "cppworker-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

// Variables the worker reads that do not carry one of the prefixes above.
bool reads_config(const std::string& name) {
    for (const char* known : {"BACKEND", "PLUGIN_PATH", "REPORT_ADDR", "LOG_LEVEL", "UNSECURED", "PUBKEY_FILE",
                              "AUTH_SCHEME", "MASTER_TOKEN", "FORCE_UPDATE_FILE", "MAX_SESSIONS", "MODEL_SERVER_URL",
                              "CONTAINER_ID", "PUBLIC_IPADDR", "USE_SSL", "MODEL_LOG"}) {
        if (name == known) return true;
    }
    return false;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

struct WorkerProcess::Impl {
    fs::path dir;
    fs::path log_path;
    fs::path port_path;
    bp::child child;
    std::optional<int> exit_code;

    explicit Impl(const WorkerOptions& o) : dir(make_temp_dir()), log_path(dir / "worker.log"), port_path(dir / "port") {
        std::vector<std::string> args = {"--listen", "127.0.0.1", "--port-file", port_path.string()};
        // An ephemeral port unless the test chose one: a flag would override WORKER_PORT, and
        // the worker refuses --port twice.
        const bool port_chosen =
            o.env.contains("WORKER_PORT") || std::find(o.args.begin(), o.args.end(), "--port") != o.args.end();
        if (!port_chosen) args.insert(args.end(), {"--port", "0"});
        if (!o.plugin.empty()) args.insert(args.begin(), {"--plugin", o.plugin});
        args.insert(args.end(), o.args.begin(), o.args.end());

        // A copy: this_process::environment() itself would change the test process's own environment.
        bp::environment env = boost::this_process::environment();
        // The tests decide the whole configuration; nothing leaks in from the caller's shell.
        std::vector<std::string> inherited;
        for (const auto& entry : env) {
            const std::string name = entry.get_name();
            if (name.starts_with("WORKER_") || name.starts_with("CPPWORKER_") || name.starts_with("VAST_TCP_PORT_") ||
                reads_config(name)) {
                inherited.push_back(name);
            }
        }
        for (const auto& name : inherited) env.erase(name);
        // Each worker benchmarks afresh unless a test says otherwise.
        env["BENCHMARK_CACHE"] = (dir / "has_benchmark").string();
        for (const auto& [k, v] : o.env) env[k] = v;
        std::string exe = CPPWORKER_BINARY;
        if (!o.launcher.empty()) {
            args.insert(args.begin(), exe);
            args.insert(args.begin(), o.launcher.begin() + 1, o.launcher.end());
            exe = o.launcher.front();
        }
        child = bp::child(bp::exe = exe, bp::args = args, env, bp::std_in < bp::null,
                          (bp::std_out & bp::std_err) > log_path.string());
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

WorkerProcess::WorkerProcess(std::string plugin, std::vector<std::string> args, std::map<std::string, std::string> env,
                             std::vector<std::string> launcher)
    : impl_(std::make_unique<Impl>([&] {
          WorkerOptions o(std::move(plugin), std::move(args), std::move(env));
          o.launcher = std::move(launcher);
          return o;
      }())) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(impl_->port_path)) {
            port_ = static_cast<uint16_t>(std::stoi(read_file(impl_->port_path)));
            return;
        }
        if (impl_->reap()) {
            throw std::runtime_error("worker exited with " + std::to_string(*impl_->exit_code) +
                                     " before listening:\n" + log());
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("worker did not start listening within 20 s:\n" + log());
}

// Every test ends with a graceful stop, so each one also checks that the worker drains, finalizes
// and exits 0 (under the sanitizers: with no leak and no error report).
WorkerProcess::~WorkerProcess() {
    if (impl_->reap()) return;
    signal(SIGTERM);
    const auto code = wait_exit(20s);
    INFO("worker log:\n" << log());
    CHECK(code == 0);
}

int WorkerProcess::pid() const { return impl_->child.id(); }

std::string WorkerProcess::log() const { return read_file(impl_->log_path); }

std::optional<std::chrono::system_clock::time_point> WorkerProcess::log_time(std::string_view text) const {
    const auto all = log();
    const auto at = all.find(text);
    if (at == std::string::npos) return std::nullopt;
    const auto line_start = all.rfind('\n', at);
    std::istringstream line(all.substr(line_start == std::string::npos ? 0 : line_start + 1, 23));
    std::tm tm{};
    char dot = 0;
    int ms = -1;
    line >> std::get_time(&tm, "%Y-%m-%d %H:%M:%S") >> dot >> ms;
    if (line.fail() || dot != '.' || ms < 0) throw std::runtime_error("log line without a timestamp: " + line.str());
    tm.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&tm)) + std::chrono::milliseconds(ms);
}

bool WorkerProcess::wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

void WorkerProcess::signal(int sig) { ::kill(impl_->child.id(), sig); }

std::optional<int> WorkerProcess::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        if (impl_->reap()) return impl_->exit_code;
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

std::pair<int, std::string> WorkerProcess::run_to_exit(std::string plugin, std::vector<std::string> args,
                                                       std::map<std::string, std::string> env) {
    Impl impl(WorkerOptions(std::move(plugin), std::move(args), std::move(env)));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!impl.reap()) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("worker did not exit in time");
        std::this_thread::sleep_for(10ms);
    }
    return {*impl.exit_code, read_file(impl.log_path)};
}

std::string artifact(const char* path) {
    if (!fs::exists(path)) throw std::runtime_error(std::string("missing build artifact ") + path);
    return path;
}

}  // namespace cppworker::test
