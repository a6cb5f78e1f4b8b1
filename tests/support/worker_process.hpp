#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppworker::test {

struct WorkerOptions {
    WorkerOptions(std::string plugin_path, std::vector<std::string> extra_args = {},
                  std::map<std::string, std::string> extra_env = {})
        : plugin(std::move(plugin_path)), args(std::move(extra_args)), env(std::move(extra_env)) {}

    std::string plugin;                      // path of the .so; empty: BACKEND decides
    std::vector<std::string> args;           // extra command-line flags
    std::map<std::string, std::string> env;  // added to the inherited environment
    std::vector<std::string> launcher;       // a command the worker runs under (it execs its last argument on)
};

// The real cppworker binary, started on 127.0.0.1 with an ephemeral port (unless the arguments
// hold --port or the environment WORKER_PORT), its log in a temporary folder. Killed on
// destruction if still running.
class WorkerProcess {
public:
    // Starts the worker and waits until it listens; throws with the log if it does not.
    explicit WorkerProcess(std::string plugin, std::vector<std::string> args = {},
                           std::map<std::string, std::string> env = {}, std::vector<std::string> launcher = {});
    ~WorkerProcess();
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    uint16_t port() const { return port_; }
    // The process started: the worker, or with --supervise its master.
    int pid() const;
    std::string log() const;
    // When the first log line that holds `text` was written, by the line's own timestamp
    // ("2026-12-02 04:31:44.123", the worker's local time); nothing when no line holds it. Times
    // taken from the log are what the worker did, however late the test got to look.
    std::optional<std::chrono::system_clock::time_point> log_time(std::string_view text) const;
    // Waits until the log holds `text`; false on timeout.
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    void signal(int sig);
    // The exit code once the process ended within `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    // For workers expected not to start: runs to exit and returns (exit code, log).
    static std::pair<int, std::string> run_to_exit(std::string plugin, std::vector<std::string> args = {},
                                                   std::map<std::string, std::string> env = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
};

// Path of a built artifact named by a compile definition, checked to exist.
std::string artifact(const char* path);

}  // namespace cppworker::test
