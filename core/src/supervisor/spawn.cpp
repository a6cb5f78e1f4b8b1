#include "supervisor/spawn.hpp"

#include "supervisor/child_link.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace cppworker::supervisor {

std::vector<std::string> worker_environment(const char* const* inherited, int link_fd, int listen_fd, bool reload,
                                            const std::string& previous_crash) {
    std::vector<std::string> env;
    for (const char* const* e = inherited; *e != nullptr; ++e) {
        const std::string entry = *e;
        const auto name = entry.substr(0, entry.find('='));
        if (name != link_fd_variable && name != listen_fd_variable && name != reload_variable &&
            name != previous_crash_variable) {
            env.push_back(entry);
        }
    }
    env.push_back(std::string(link_fd_variable) + "=" + std::to_string(link_fd));
    env.push_back(std::string(listen_fd_variable) + "=" + std::to_string(listen_fd));
    if (reload) env.push_back(std::string(reload_variable) + "=1");
    if (!previous_crash.empty()) env.push_back(std::string(previous_crash_variable) + "=" + previous_crash);
    return env;
}

pid_t spawn_self(const std::vector<std::string>& args, const std::vector<std::string>& env,
                 const std::vector<int>& keep_fds) {
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const pid_t master = ::getpid();

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid > 0) return pid;

    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != master) ::_exit(1);  // the master died before the line above
    for (const int fd : keep_fds) ::fcntl(fd, F_SETFD, 0);
    // The master ignores SIGPIPE and handles some signals; the worker starts with the defaults.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (const int sig : {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve("/proc/self/exe", argv.data(), envp.data());
    ::_exit(127);
}

}  // namespace cppworker::supervisor
