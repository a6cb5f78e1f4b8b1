#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "report/axis.hpp"
#include "report/run.hpp"

namespace cppworker::report {

namespace {

constexpr double width = 960;
constexpr double left = 70;      // room for the y tick labels
constexpr double right = 210;    // room for the legend
constexpr double title_h = 40;
constexpr double panel_h = 170;
constexpr double panel_gap = 60;  // x tick labels below a panel, the next panel's title above it
constexpr double bottom = 30;
constexpr double plot_w = width - left - right;

// Colour-blind-safe (Okabe and Ito), then repeated: a panel seldom has more than four series.
constexpr const char* palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#000000", "#F0E442"};

struct Scale {
    Axis axis;
    double pixel_lo;  // where axis.lo lands
    double pixel_hi;  // where axis.hi lands
    double operator()(double v) const {
        return pixel_lo + (v - axis.lo) / (axis.hi - axis.lo) * (pixel_hi - pixel_lo);
    }
};

double value_at(const Series& s, std::size_t i) {
    return i < s.values.size() ? s.values[i] : std::numeric_limits<double>::quiet_NaN();
}

Axis time_axis(const std::vector<double>& t) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (double v : t) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    return lo > hi ? nice_axis(0, 1, 11) : nice_axis(lo, hi, 11);
}

// Zero stays on the axis: every quantity drawn here (rates, latencies, counts) is read against it.
Axis value_axis(const Run& run, const Panel& panel) {
    double lo = 0, hi = 0;
    for (const auto& s : panel.series) {
        for (std::size_t i = 0; i < run.t.size(); ++i) {
            double v = value_at(s, i);
            if (std::isfinite(v) && std::isfinite(run.t[i])) lo = std::min(lo, v), hi = std::max(hi, v);
        }
    }
    return nice_axis(lo, hi, 6);
}

// One polyline per run of consecutive points with data; a lone point is a dot.
void draw_series(std::string& out, const Run& run, const Series& s, const Scale& x, const Scale& y,
                 const char* colour, double stroke) {
    std::vector<std::pair<double, double>> segment;
    auto flush = [&] {
        if (segment.size() == 1) {
            out += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)"
                               "\n", segment[0].first, segment[0].second, colour);
        } else if (segment.size() > 1) {
            out += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="{:.1f}" points=")", colour, stroke);
            for (const auto& [px, py] : segment) out += fmt::format("{:.1f},{:.1f} ", px, py);
            out += "\"/>\n";
        }
        segment.clear();
    };
    for (std::size_t i = 0; i < run.t.size(); ++i) {
        double v = value_at(s, i);
        if (std::isfinite(v) && std::isfinite(run.t[i])) {
            segment.emplace_back(x(run.t[i]), y(v));
        } else {
            flush();
        }
    }
    flush();
}

void draw_axes(std::string& out, const Scale& x, const Scale& y, double top) {
    double bottom_y = top + panel_h;
    for (double tick : y.axis.ticks) {
        double py = y(tick);
        out += fmt::format(R"(<line class="grid" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"/>)"
                           "\n", left, py, left + plot_w, py);
        out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{}</text>)" "\n",
                           left - 6, py + 4, tick_label(tick, y.axis.step));
    }
    for (double tick : x.axis.ticks) {
        double px = x(tick);
        out += fmt::format(R"(<line class="grid" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"/>)"
                           "\n", px, top, px, bottom_y);
        out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)" "\n",
                           px, bottom_y + 16, tick_label(tick, x.axis.step));
    }
    out += fmt::format(R"(<rect class="frame" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"/>)"
                       "\n", left, top, plot_w, panel_h);
}

void draw_panel(std::string& out, const Run& run, const Panel& panel, const Axis& t_axis, double top) {
    Scale x{t_axis, left, left + plot_w};
    Scale y{value_axis(run, panel), top + panel_h, top};
    std::string heading = panel.unit.empty() ? panel.title : panel.title + " (" + panel.unit + ")";
    out += fmt::format(R"(<g class="panel"><text class="panel-title" x="{:.1f}" y="{:.1f}">{}</text>)"
                       "\n", left, top - 8, escape_xml(heading));
    draw_axes(out, x, y, top);
    for (std::size_t i = 0; i < panel.series.size(); ++i) {
        const char* colour = palette[i % std::size(palette)];
        // Each series a little thinner than the one drawn before it: where two coincide (offered
        // and sent, when the sender keeps up), both stay visible.
        const double stroke = std::max(1.4, 3.6 - 0.7 * static_cast<double>(i));
        draw_series(out, run, panel.series[i], x, y, colour, stroke);
        double ly = top + 14 + 18 * static_cast<double>(i);
        out += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="14" height="4" fill="{}"/>)"
                           R"(<text class="legend" x="{:.1f}" y="{:.1f}">{}</text>)" "\n",
                           left + plot_w + 12, ly - 4, colour, left + plot_w + 32, ly,
                           escape_xml(panel.series[i].name));
    }
    out += "</g>\n";
}

}  // namespace

std::string svg(const Run& run) {
    double panels = static_cast<double>(run.panels.size());
    // The time axis' label sits under the last panel's tick labels.
    double height = title_h + 20 + panels * (panel_h + panel_gap) - (panels > 0 ? panel_gap : 0) + bottom + 20;
    std::string out = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}")"
        R"( font-family="sans-serif" font-size="12">)" "\n"
        "<style>.grid{{stroke:#ddd;stroke-width:1}} .frame{{fill:none;stroke:#444}}"
        " .panel-title{{font-weight:bold}} .title{{font-size:16px;font-weight:bold}}</style>\n"
        R"(<rect width="100%" height="100%" fill="white"/>)" "\n"
        R"(<text class="title" x="{2:.1f}" y="24">{3}</text>)" "\n",
        width, height, left, escape_xml(run.title));
    Axis t_axis = time_axis(run.t);
    for (std::size_t i = 0; i < run.panels.size(); ++i) {
        double top = title_h + 20 + static_cast<double>(i) * (panel_h + panel_gap);
        draw_panel(out, run, run.panels[i], t_axis, top);
    }
    if (!run.panels.empty()) {
        out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">time (s)</text>)" "\n",
                           left + plot_w / 2, height - 8);
    }
    out += "</svg>\n";
    return out;
}

}  // namespace cppworker::report
