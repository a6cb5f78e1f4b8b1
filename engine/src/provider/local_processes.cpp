#include "provider/local_processes.hpp"

#include "logging/error_text.hpp"
#include "os/exit_description.hpp"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/start_dir.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace cppworker::engine {
namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

namespace {

// Run in the child between fork and exec, so only async-signal-safe calls: its own process
// group, SIGTERM when the engine dies, and its output appended to its log.
struct ChildSetup : bp::extend::handler {
    const char* log;
    template <class Executor>
    void on_exec_setup(Executor&) const {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
        }
    }
};

// The start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat): a pid
// read back later names the same process only if this matches.
std::optional<unsigned long long> start_time(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return std::nullopt;
    // The command, in parentheses, may hold spaces: count fields after its closing one.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i < 22 && fields >> field; ++i) {
    }
    unsigned long long ticks = 0;
    if (!(fields >> ticks)) return std::nullopt;
    return ticks;
}

}  // namespace

struct LocalProcesses::Process {
    bp::child child;
    pid_t group = 0;
    unsigned long long started = 0;
    std::filesystem::path folder;
    bool remove_folder = false;
    std::optional<Clock::time_point> kill_at;
};

LocalProcesses::LocalProcesses(std::filesystem::path pid_file) : pid_file_(std::move(pid_file)) {}

LocalProcesses::~LocalProcesses() { stop_all(std::chrono::seconds(10)); }

void LocalProcesses::start(const WorkerLaunch& launch) {
    if (launch.command.empty()) throw std::invalid_argument("a worker's template has no command");
    std::filesystem::create_directories(launch.folder);
    bp::environment env = boost::this_process::environment();
    for (const auto& [name, value] : launch.env) env[name] = value;
    const std::string log = launch.log.string();
    std::error_code ec;
    bp::child child(bp::exe = launch.command.front(),
                    bp::args = std::vector<std::string>(launch.command.begin() + 1, launch.command.end()), env,
                    bp::start_dir = launch.folder.string(), ChildSetup{{}, log.c_str()}, ec);
    if (ec) throw std::runtime_error("cannot start " + launch.command.front() + ": " + ec.message());
    auto p = std::make_unique<Process>();
    p->group = child.id();
    p->started = start_time(p->group).value_or(0);
    p->child = std::move(child);
    p->folder = launch.folder;
    processes_[launch.worker_id] = std::move(p);
    folders_[launch.worker_id] = launch.folder;
    record_groups();
}

void LocalProcesses::stop(int64_t worker_id) {
    const auto it = processes_.find(worker_id);
    if (it != processes_.end()) ::kill(-it->second->group, SIGTERM);
}

void LocalProcesses::reload(int64_t worker_id) {
    const auto it = processes_.find(worker_id);
    if (it != processes_.end()) ::kill(it->second->group, SIGHUP);
}

void LocalProcesses::destroy(int64_t worker_id, std::chrono::milliseconds grace) {
    const auto folder = folders_.find(worker_id);
    if (folder == folders_.end()) return;
    const auto it = processes_.find(worker_id);
    if (it == processes_.end()) {
        std::error_code ec;
        std::filesystem::remove_all(folder->second, ec);
    } else {
        ::kill(-it->second->group, SIGTERM);
        it->second->remove_folder = true;
        it->second->kill_at = Clock::now() + grace;
    }
    folders_.erase(folder);
}

std::vector<std::pair<int64_t, std::string>> LocalProcesses::reap() {
    std::vector<std::pair<int64_t, std::string>> ended;
    for (auto it = processes_.begin(); it != processes_.end();) {
        auto& p = *it->second;
        std::error_code ec;
        if (p.child.running(ec)) {
            if (p.kill_at && Clock::now() >= *p.kill_at) ::kill(-p.group, SIGKILL);
            ++it;
            continue;
        }
        // What its launcher left behind (a model server it started) goes with it.
        ::kill(-p.group, SIGKILL);
        ended.emplace_back(it->first, os::describe_exit(p.child.native_exit_code()));
        if (p.remove_folder) {
            std::error_code rm;
            std::filesystem::remove_all(p.folder, rm);
        }
        it = processes_.erase(it);
    }
    if (!ended.empty()) record_groups();
    return ended;
}

bool LocalProcesses::running(int64_t worker_id) const { return processes_.contains(worker_id); }

bool LocalProcesses::any_running() const { return !processes_.empty(); }

void LocalProcesses::stop_all(std::chrono::milliseconds grace) {
    if (processes_.empty()) return;
    for (auto& [id, p] : processes_) ::kill(-p->group, SIGTERM);
    const auto deadline = Clock::now() + grace;
    while (!processes_.empty() && Clock::now() < deadline) {
        for (auto& [id, how] : reap()) spdlog::info("worker {} {}", id, how);
        if (!processes_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& [id, p] : processes_) {
        spdlog::warn("worker {} still running at the end of its stop grace; killed", id);
        ::kill(-p->group, SIGKILL);
        std::error_code ec;
        p->child.wait(ec);
    }
    processes_.clear();
    std::error_code ec;
    std::filesystem::remove(pid_file_, ec);
}

// One line per group, "<pgid> <start time>", so that a pid reused since is not taken for ours.
void LocalProcesses::record_groups() const {
    const auto tmp = pid_file_.string() + ".tmp";
    {
        std::ofstream out(tmp);
        for (const auto& [id, p] : processes_) out << p->group << ' ' << p->started << '\n';
    }
    std::error_code ec;
    std::filesystem::rename(tmp, pid_file_, ec);
    if (ec) spdlog::warn("cannot write {}: {}", pid_file_.string(), ec.message());
}

int LocalProcesses::cleanup_leftovers(const std::filesystem::path& pid_file) {
    std::ifstream in(pid_file);
    if (!in) return 0;
    std::vector<pid_t> groups;
    pid_t group = 0;
    unsigned long long started = 0;
    while (in >> group >> started) {
        if (group <= 1) continue;
        // Ours if its leader is the process we started, or if the leader is gone and the group
        // still has members: a pid is not handed out again while a group of that id exists.
        const auto leader = start_time(group);
        if (leader == started || (!leader && ::kill(-group, 0) == 0)) groups.push_back(group);
    }
    for (const auto g : groups) ::kill(-g, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (const auto g : groups) {
        while (::kill(-g, 0) == 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ::kill(-g, SIGKILL);
    }
    std::error_code ec;
    std::filesystem::remove(pid_file, ec);
    return static_cast<int>(groups.size());
}

}  // namespace cppworker::engine
