#pragma once

#include <string>

namespace cppworker::os {

// How a child process ended, from waitpid's status, in words for the log and the autoscaler's
// error_msg: "killed by signal 11 (SIGSEGV)", "exited with code 3".
std::string describe_exit(int wait_status);

// True when the process ended cleanly: exit code 0.
bool exited_cleanly(int wait_status);

}  // namespace cppworker::os
