#pragma once

#include <string>
#include <vector>

namespace cppworker::test {

// A process as ps shows it: its name (comm) and its argv[0], which a supervised worker sets to
// its title ("cppworker: worker (generation N)").
struct ProcessInfo {
    int pid = 0;
    std::string name;
    std::string argv0;
};

// The live children of `parent`, read from /proc. A child that has exited but is not yet reaped
// (a zombie) has no command line, and is left out.
std::vector<ProcessInfo> children_of(int parent);

// The supervised workers among them, with the generation their title gives.
struct WorkerInfo {
    int pid = 0;
    std::string name;
    int generation = 0;
};
std::vector<WorkerInfo> workers_of(int master);

// Runs a program found on PATH (pgrep, ps) and returns what it wrote to stdout.
std::string command_output(const std::vector<std::string>& argv);

}  // namespace cppworker::test
