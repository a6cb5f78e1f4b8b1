#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::test {

// One of the fake model servers in tests/fakes (fake_<kind>.py), run by /usr/bin/python3 on
// 127.0.0.1 and an ephemeral port, its model log in a temporary folder. kind: "tgi", "openai",
// "comfyui" or "sdauto"; extra_args go after the standard ones (e.g. {"--token-delay", "0.05"},
// {"--hang"}, {"--fail-start"}, {"--status-override", "429"}, {"--load-delay", "1"}). See
// tests/fakes/README.md for what each fake speaks. Stopped with SIGTERM (then SIGKILL) on
// destruction; the fake also exits by itself if the test process dies.
class FakeModelServer {
public:
    // Starts the fake and waits (at most 10 s) until it listens; throws with its output if it does
    // not. Listening is not "loaded": the fake writes its loaded line after --load-delay (0.2 s).
    explicit FakeModelServer(std::string kind, std::vector<std::string> extra_args = {});
    ~FakeModelServer();
    FakeModelServer(const FakeModelServer&) = delete;
    FakeModelServer& operator=(const FakeModelServer&) = delete;

    const std::string& kind() const;
    uint16_t port() const { return port_; }
    std::string url() const;  // http://127.0.0.1:<port>
    std::filesystem::path log_path() const;
    std::string log() const;     // the model log so far
    std::string output() const;  // the fake's own stdout + stderr (tracebacks land here)
    // Waits until the model log holds `text`; false on timeout.
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    // GET /_fake/stats: {"requests", "disconnects", "completed", "in_flight", "connections",
    // "connections_total", "other_requests", "paths", "last_body", "last_path", "last_headers",
    // "loaded", "start_failed", "config"} and more (tests/fakes/README.md has them all); read
    // counters with stat() and path_count(). Throws if the fake does not answer 200 with an object.
    boost::json::object stats() const;
    // Polls stats() every 20 ms until `pred` holds; false on timeout.
    bool wait_for(const std::function<bool(const boost::json::object&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
    // Waits until stats()["loaded"] is true (the fake answers its health check with 200).
    bool wait_loaded(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

    // POST /_fake/config: changes any of "token_delay" (seconds), "hang" (bool),
    // "status_override" (int, or null to clear) and "loaded" (bool) at run time; returns the
    // resulting configuration.
    boost::json::object configure(const boost::json::object& changes) const;
    // POST /_fake/reset: sets every counter back to zero and forgets last_*.
    void reset_stats() const;
    // POST /_fake/load: the fake loads now (health 200, its loaded lines logged), even after
    // --fail-start.
    void finish_loading() const;
    // POST /_fake/log: appends a line to the model log (e.g. an error line the worker must notice).
    void append_log(std::string_view line) const;

    // Signals the fake, and waits for its exit code (nullopt on timeout).
    void signal(int sig);
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    // SIGTERM and wait; SIGKILL after `timeout`. Returns the exit code (0 when the fake exited
    // cleanly). The destructor does this too.
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Path of tests/fakes/fake_<kind>.py (checked to exist).
    static std::filesystem::path script(std::string_view kind);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
};

// A cached benchmark result (core/protocol.md §8.3), so that a worker not under test for readiness sends
// the fake nothing of its own. Removed on destruction.
struct CachedBenchmark {
    CachedBenchmark();
    ~CachedBenchmark();
    CachedBenchmark(const CachedBenchmark&) = delete;
    CachedBenchmark& operator=(const CachedBenchmark&) = delete;
    std::filesystem::path file;
};

// A worker's environment in front of `fake`: unsecured, its MODEL_SERVER_URL, and `cache`.
std::map<std::string, std::string> env_for(const FakeModelServer& fake, const CachedBenchmark& cache);

class WorkerProcess;

// For a worker in front of `fake` that already logged the fake's start-up error: the fake then
// loads after all, the worker runs its loaded sequence, and it must stay unready with the error
// kept. (Checked with Catch2 assertions.)
void check_error_outlives_loading(const WorkerProcess& worker, const FakeModelServer& fake);

// Integer member of a stats object. Throws, naming the counter, if it is absent or not a number:
// read as 0, a counter the fake does not keep (misspelt, renamed) would pass every "nothing
// happened" check.
std::int64_t stat(const boost::json::object& stats, std::string_view key);
// How often the fake was asked for `path`: 0 when stats["paths"], which lists only the paths it
// was asked for, does not name it. Throws if the stats have no "paths" object.
std::int64_t path_count(const boost::json::object& stats, std::string_view path);

}  // namespace cppworker::test
