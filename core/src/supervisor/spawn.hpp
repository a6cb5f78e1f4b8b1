#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace cppworker::supervisor {

// fork + exec of this very executable (/proc/self/exe: the file that was started, even if it has
// been replaced on disk since) with `args` (argv[0] first) and `env` ("NAME=value"). `keep_fds`
// are inherited; every other descriptor of the master is close-on-exec. The child gets SIGTERM
// when the master dies, so no worker outlives its supervisor. Throws when fork fails.
// The environment of a worker: the master's own (`inherited`, environ's entries), less the
// variables by which the master tells a worker it is supervised (child_link.hpp), plus those
// variables for this worker.
std::vector<std::string> worker_environment(const char* const* inherited, int link_fd, int listen_fd, bool reload,
                                            const std::string& previous_crash);

pid_t spawn_self(const std::vector<std::string>& args, const std::vector<std::string>& env,
                 const std::vector<int>& keep_fds);

}  // namespace cppworker::supervisor
