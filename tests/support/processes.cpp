#include "processes.hpp"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/search_path.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace cppworker::test {
namespace fs = std::filesystem;
namespace bp = boost::process;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::vector<ProcessInfo> children_of(int parent) {
    std::vector<ProcessInfo> out;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto stat = slurp(entry.path() / "stat");
        const auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 1));
        std::string state;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid != parent) continue;
        const auto cmdline = slurp(entry.path() / "cmdline");
        if (cmdline.empty()) continue;  // a zombie, or gone meanwhile
        out.push_back({std::stoi(name), stat.substr(open + 1, close - open - 1), cmdline.substr(0, cmdline.find('\0'))});
    }
    return out;
}

std::vector<WorkerInfo> workers_of(int master) {
    static const std::regex title(R"((.+): worker \(generation ([0-9]+)\))");
    std::vector<WorkerInfo> out;
    for (const auto& p : children_of(master)) {
        std::smatch m;
        if (std::regex_match(p.argv0, m, title)) out.push_back({p.pid, p.name, std::stoi(m[2].str())});
    }
    return out;
}

std::string command_output(const std::vector<std::string>& argv) {
    const auto exe = bp::search_path(argv.at(0));
    if (exe.empty()) throw std::runtime_error(argv[0] + " is not on PATH (Debian: apt-get install procps)");
    bp::ipstream out;
    bp::child c(exe, bp::args = std::vector<std::string>(argv.begin() + 1, argv.end()), bp::std_out > out,
                bp::std_err > bp::null);
    std::string text((std::istreambuf_iterator<char>(out)), {});
    c.wait();
    return text;
}

}  // namespace cppworker::test
