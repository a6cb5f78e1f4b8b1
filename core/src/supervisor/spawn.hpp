#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace cppworker::supervisor {

// fork + exec of this very executable (/proc/self/exe: the file that was started, even if it has
// been replaced on disk since) with `args` (argv[0] first) and `env` ("NAME=value"). `keep_fds`
// are inherited; every other descriptor of the master is close-on-exec. The child gets SIGTERM
// when the master dies, so no worker outlives its supervisor. Throws when fork fails.
pid_t spawn_self(const std::vector<std::string>& args, const std::vector<std::string>& env,
                 const std::vector<int>& keep_fds);

}  // namespace cppworker::supervisor
