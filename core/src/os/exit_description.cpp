#include "os/exit_description.hpp"

#include <string.h>
#include <sys/wait.h>

namespace cppworker::os {

std::string describe_exit(int wait_status) {
    if (WIFSIGNALED(wait_status)) {
        const int sig = WTERMSIG(wait_status);
        const char* abbrev = ::sigabbrev_np(sig);
        std::string text = "killed by signal " + std::to_string(sig);
        if (abbrev != nullptr) text += std::string(" (SIG") + abbrev + ")";
        if (WCOREDUMP(wait_status)) text += ", core dumped";
        return text;
    }
    if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
    return "ended with wait status " + std::to_string(wait_status);
}

bool exited_cleanly(int wait_status) { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

}  // namespace cppworker::os
