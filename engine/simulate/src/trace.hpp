#pragma once
// The load offered to the simulated endpoint: a profile of rates (cppworker-load's file of steps
// and ramps, read by its parser), or the arrivals of a CSV file, one request a line.
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cppworker::simulate {

struct Arrival {
    double t;     // s from the start
    double cost;  // load units
};

struct Trace {
    double duration = 0;  // s
    // A profile: the requests expected from the start to t (its rate's integral); each costs the
    // config's request_cost.
    std::function<double(double)> expected_by;
    std::vector<Arrival> arrivals;  // a CSV's, by time; used when expected_by is empty
};

// "time,cost" lines (seconds from the start, load units > 0), a header line allowed, in any
// order; an error names the line.
std::variant<std::vector<Arrival>, std::string> read_arrivals_csv(std::string_view text);

// A trace of the CSV's arrivals, lasting until its last one.
Trace arrivals_trace(std::vector<Arrival> arrivals);

}  // namespace cppworker::simulate
