#include <cmath>
#include <limits>
#include <regex>
#include <string>

#include <catch2/catch.hpp>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "report/run.hpp"

using namespace cppworker::report;

namespace {

constexpr double gap = std::numeric_limits<double>::quiet_NaN();  // no data

// The document parsed strictly (no recovery): null when it is not well-formed XML.
struct Parsed {
    xmlDocPtr doc;
    explicit Parsed(const std::string& text)
        : doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "run.svg", nullptr,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {}
    ~Parsed() { xmlFreeDoc(doc); }
    Parsed(const Parsed&) = delete;
    Parsed& operator=(const Parsed&) = delete;
};

int count_elements(xmlNodePtr node, const char* name) {
    int n = 0;
    for (; node != nullptr; node = node->next) {
        if (node->type != XML_ELEMENT_NODE) continue;
        if (xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0) ++n;
        n += count_elements(node->children, name);
    }
    return n;
}

int count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

Run sample() {
    Run run;
    run.title = "load <step> & \"ramp\"";
    run.t = {0, 1, 2, 3, 4, 5};
    run.panels.push_back({"load", "req/s", {{"offered", {10, 10, 200, 200, 5, 5}},
                                            {"served", {9, gap, 150, 190, gap, 5}}}});
    run.panels.push_back({"latency p99", "ms", {{"p99 <all>", {12, 15, 900, 1200, 30, 20}}}});
    run.figures = {{"requests", "1234"}, {"p99 <ms>", "1.5 & more"}};
    run.settings = {{"--rate", "10"}};
    return run;
}

}  // namespace

TEST_CASE("the SVG of a run is well-formed XML with one frame per panel") {
    std::string text = svg(sample());
    Parsed parsed(text);
    REQUIRE(parsed.doc != nullptr);
    xmlNodePtr root = xmlDocGetRootElement(parsed.doc);
    CHECK(xmlStrcmp(root->name, reinterpret_cast<const xmlChar*>("svg")) == 0);
    CHECK(count(text, R"(class="frame")") == 2);
    CHECK(count(text, R"(<g class="panel")") == 2);
}

TEST_CASE("names and titles are escaped, never markup") {
    std::string text = svg(sample());
    CHECK(text.find("load &lt;step&gt; &amp; &quot;ramp&quot;") != std::string::npos);
    CHECK(text.find("p99 &lt;all&gt;") != std::string::npos);
    CHECK(text.find("<all>") == std::string::npos);
}

TEST_CASE("a gap of NaN breaks a series' line") {
    std::string text = svg(sample());
    // offered: one line; served: 9 | 150 190 | 5 -> a dot, a line, a dot; p99: one line.
    CHECK(count(text, "<polyline") == 3);
    CHECK(count(text, "<circle") == 2);
}

TEST_CASE("the value axis covers the data: the largest value is under the top tick") {
    std::string text = svg(sample());
    // The latency panel's ticks reach 1200 ms or more; the load panel's reach 200.
    std::regex label(R"(text-anchor="end">([0-9.]+)</text>)");
    double highest = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), label); it != std::sregex_iterator(); ++it) {
        highest = std::max(highest, std::stod((*it)[1]));
    }
    CHECK(highest >= 1200);
    CHECK(highest < 2500);
    CHECK(text.find(">200<") != std::string::npos);
}

TEST_CASE("empty series, panels and runs still draw a valid picture") {
    Run run;
    run.title = "nothing";
    Parsed none(svg(run));
    CHECK(none.doc != nullptr);
    run.t = {0, 1, 2};
    run.panels.push_back({"empty", "", {{"no values", {}}, {"all NaN", {gap, gap, gap}}}});
    run.panels.push_back({"no series", "", {}});
    std::string text = svg(run);
    Parsed parsed(text);
    REQUIRE(parsed.doc != nullptr);
    CHECK(count(text, "<polyline") == 0);
    CHECK(count(text, R"(class="frame")") == 2);
}

TEST_CASE("the HTML page holds the SVG inline and the figures and settings as tables") {
    std::string page = html(sample());
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    // Well-formed as XML too once the doctype is off: every tag closed, every name escaped.
    Parsed parsed(page.substr(page.find('\n') + 1));
    REQUIRE(parsed.doc != nullptr);
    xmlNodePtr root = xmlDocGetRootElement(parsed.doc);
    CHECK(count_elements(root, "svg") == 1);
    CHECK(count_elements(root, "table") == 2);
    CHECK(count_elements(root, "tr") == 3);
    CHECK(page.find("<th>p99 &lt;ms&gt;</th><td>1.5 &amp; more</td>") != std::string::npos);
    CHECK(page.find("<th>--rate</th><td>10</td>") != std::string::npos);
}
