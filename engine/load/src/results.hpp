#pragma once
// A run's figures as JSON, as text, as the pictures of engine/report, and the gates a CI job
// checks (the SLO, the error budget). Pure: values in, values out.
#include "runner.hpp"
#include "stats.hpp"

#include "report/run.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cppworker::load {

using Settings = std::vector<std::pair<std::string, std::string>>;

struct Gates {
    Slo slo;
    double slo_attainment = 0.99;  // the share of requests that must meet the SLO
    std::optional<double> max_error_rate;
};

// What the run missed, one sentence each; empty when it passed.
std::vector<std::string> missed(const Summary& s, const Gates& gates);

boost::json::object results_json(const Summary& s, const RunResult& run, const Settings& settings,
                                  const std::vector<std::string>& missed_gates);
std::string text_report(const Summary& s, const std::vector<std::string>& missed_gates);
report::Run report_of(const Summary& s, const RunResult& run, const Settings& settings, std::string title);

}  // namespace cppworker::load
