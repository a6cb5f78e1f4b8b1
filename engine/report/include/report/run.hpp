#pragma once
// A run drawn for people: time series stacked in panels over one time axis, and tables of its
// figures and settings. svg() and html() are pure: the caller writes the text where it wants.
#include <string>
#include <utility>
#include <vector>

namespace cppworker::report {

// One value per time point of Run::t; NaN where there is no data (the line breaks there).
struct Series {
    std::string name;
    std::vector<double> values;
};

struct Panel {
    std::string title;
    std::string unit;
    std::vector<Series> series;
};

struct Run {
    std::string title;
    std::vector<double> t;  // seconds from the run's start
    std::vector<Panel> panels;
    std::vector<std::pair<std::string, std::string>> figures;   // name -> value
    std::vector<std::pair<std::string, std::string>> settings;  // name -> value
};

// A standalone SVG image: the panels stacked, each with its axes, ticks and legend.
std::string svg(const Run& run);
// A self-contained HTML page: the SVG inline, then the figures and the settings as tables.
std::string html(const Run& run);

}  // namespace cppworker::report
