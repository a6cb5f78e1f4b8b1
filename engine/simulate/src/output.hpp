#pragma once
// A simulation's figures for people (text), for programs (JSON) and as pictures (engine/report).
#include "simulation.hpp"

#include "report/run.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <utility>
#include <vector>

namespace cppworker::simulate {

// The simulator's own cost: to print beside the figures.
struct Timing {
    double wall_s = 0;
    double cpu_s = 0;
};

using Settings = std::vector<std::pair<std::string, std::string>>;

std::string text_report(const SimResult& r, const Timing& timing);
boost::json::object json_report(const SimResult& r, const Timing& timing, const Settings& settings);
// Offered and served load, p50 and p99 queue time, the load waiting for a route, the workers by
// state with the serving count the policy wants, and the cost per hour.
report::Run plot_run(const SimResult& r, const Settings& settings, std::string title);

}  // namespace cppworker::simulate
