#pragma once

#include "provider/provider.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

namespace cppworker::engine {

// Workers as processes on this machine (Boost.Process). Each runs in a process group of its own,
// so that a stop reaches what its launcher started too (a model server, a supervised worker), and
// gets SIGTERM if the engine dies (PR_SET_PDEATHSIG). The groups are recorded in `pid_file`; an
// engine started after one that was killed ends the groups it left (cleanup_leftovers).
class LocalProcesses final : public Provider {
public:
    explicit LocalProcesses(std::filesystem::path pid_file);
    ~LocalProcesses() override;

    // Ends the process groups a previous engine recorded and did not stop; returns how many.
    static int cleanup_leftovers(const std::filesystem::path& pid_file);

    void start(const WorkerLaunch& launch) override;
    void stop(int64_t worker_id) override;
    void reload(int64_t worker_id) override;
    void destroy(int64_t worker_id, std::chrono::milliseconds grace) override;
    std::vector<std::pair<int64_t, std::string>> reap() override;
    bool running(int64_t worker_id) const override;
    bool any_running() const override;
    void stop_all(std::chrono::milliseconds grace) override;

private:
    struct Process;
    void record_groups() const;

    std::filesystem::path pid_file_;
    std::map<int64_t, std::unique_ptr<Process>> processes_;
    std::map<int64_t, std::filesystem::path> folders_;  // of every worker started and not destroyed
};

}  // namespace cppworker::engine
