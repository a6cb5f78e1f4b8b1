#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::engine {

// One worker process to start: a template resolved for one worker (app/templates.hpp).
struct WorkerLaunch {
    int64_t worker_id = 0;
    std::vector<std::string> command;          // the program first
    std::map<std::string, std::string> env;    // added to the engine's own environment
    std::filesystem::path folder;              // its working directory, kept while it is stopped
    std::filesystem::path log;                 // its stdout and stderr, appended
};

// Where workers run, behind the actions the policy takes (create, start, stop, destroy). Local
// processes today (provider/local_processes.hpp); a cloud or Kubernetes provider can follow. Called
// on the engine's event loop only.
class Provider {
public:
    virtual ~Provider() = default;

    // Starts the worker's process: a new worker, or a stopped one again (its folder kept).
    virtual void start(const WorkerLaunch& launch) = 0;
    // SIGTERM: the worker drains its requests and exits; `reap` then reports it.
    virtual void stop(int64_t worker_id) = 0;
    // SIGHUP to the worker's process: a supervised worker loads its plugin afresh in a new
    // process, failing no request (README "Supervision and reload").
    virtual void reload(int64_t worker_id) = 0;
    // Stops it if it runs and removes its folder once its process has ended (killed if it has
    // not after `grace`).
    virtual void destroy(int64_t worker_id, std::chrono::milliseconds grace) = 0;
    // The processes that ended since the last call: worker id and how it ended, in words.
    virtual std::vector<std::pair<int64_t, std::string>> reap() = 0;
    virtual bool running(int64_t worker_id) const = 0;
    // Whether any process it started has not ended yet (destroyed workers' included).
    virtual bool any_running() const = 0;
    // At the engine's exit: every process stops, and is killed if it has not after `grace`.
    virtual void stop_all(std::chrono::milliseconds grace) = 0;
};

}  // namespace cppworker::engine
