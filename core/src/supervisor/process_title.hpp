#pragma once

#include <optional>
#include <string>
#include <string_view>

// How ps, top and pgrep tell the processes of a supervised worker apart, as nginx's "master
// process" and "worker process" titles do. The master keeps the name and the command line it was
// started with (`cppworker --supervise ...`). Each worker is started with a command line that says
// what it is, `cppworker: worker (generation 2) --supervise ...` (the master's arguments follow),
// and takes the master's name, so `pgrep cppworker` finds the master and its workers and
// `pgrep -f 'cppworker: worker'` the workers alone. The generation counts reloads: 0 for the
// workers before the first, N for the one reload N started; a worker started after a crash
// keeps the generation of the one that crashed.
namespace cppworker::supervisor {

// A worker's argv[0]: `<name>: worker (generation <generation>)`.
std::string worker_title(std::string_view name, int generation);

// What worker_title() was given, read back from a worker's argv[0]; nothing for any other text.
struct TitleParts {
    std::string name;
    int generation = 0;
};
std::optional<TitleParts> parse_worker_title(std::string_view title);

// This process's name as ps and pgrep see it (Linux keeps 15 bytes of it), and a way to change it
// (prctl PR_SET_NAME): a worker started through /proc/self/exe would otherwise be called "exe".
std::string process_name();
void set_process_name(const std::string& name);

}  // namespace cppworker::supervisor
