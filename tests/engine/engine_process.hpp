#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cppworker::test {

// The real cppworker-engine on 127.0.0.1 with an ephemeral port, a run folder of its own (kept
// across restarts, so a second engine can find what the first left) and its log in that folder.
class EngineProcess {
public:
    // Starts the engine with `config` as its config file and waits until it listens; throws with
    // the log if it does not.
    EngineProcess(const std::filesystem::path& run_dir, const boost::json::value& config,
                  std::vector<std::string> args = {});
    ~EngineProcess();
    EngineProcess(const EngineProcess&) = delete;
    EngineProcess& operator=(const EngineProcess&) = delete;

    uint16_t port() const { return port_; }
    int pid() const;
    std::string log() const;
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout) const;
    void signal(int sig);
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    // The web API's calls, with the account key the test gave.
    boost::json::value workers(int64_t endpoint_id) const;

    static constexpr const char* account_key = "engine-test-account-key";

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
};

// A fresh folder under the system's temporary folder, removed with the object.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// True when process `pid` no longer exists (or is a zombie nobody reaped yet).
bool process_gone(int pid);

}  // namespace cppworker::test
