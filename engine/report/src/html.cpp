#include <fmt/format.h>

#include "report/axis.hpp"
#include "report/run.hpp"

namespace cppworker::report {

namespace {

void table(std::string& out, const char* heading,
           const std::vector<std::pair<std::string, std::string>>& rows) {
    if (rows.empty()) return;
    out += fmt::format("<h2>{}</h2>\n<table>\n", heading);
    for (const auto& [name, value] : rows) {
        out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_xml(name), escape_xml(value));
    }
    out += "</table>\n";
}

}  // namespace

std::string html(const Run& run) {
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n"
        "<style>body{{font-family:sans-serif;margin:2em;color:#222}} svg{{max-width:100%;height:auto}}"
        " table{{border-collapse:collapse;margin-bottom:1.5em}}"
        " th,td{{border:1px solid #ccc;padding:3px 10px;text-align:left;font-variant-numeric:tabular-nums}}"
        " th{{background:#f4f4f4;font-weight:normal}}</style>\n</head>\n<body>\n",
        escape_xml(run.title));
    out += svg(run);
    table(out, "Figures", run.figures);
    table(out, "Settings", run.settings);
    out += "</body>\n</html>\n";
    return out;
}

}  // namespace cppworker::report
