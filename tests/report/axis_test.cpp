#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "report/axis.hpp"

using namespace cppworker::report;

TEST_CASE("a nice axis covers its range with steps of 1, 2 or 5 times a power of ten") {
    auto check = [](double lo, double hi, int max_ticks) {
        Axis a = nice_axis(lo, hi, max_ticks);
        CHECK(a.lo <= lo);
        CHECK(a.hi >= hi);
        CHECK(static_cast<int>(a.ticks.size()) <= max_ticks + 1);
        CHECK(a.ticks.front() == Approx(a.lo));
        CHECK(a.ticks.back() == Approx(a.hi));
        double mantissa = a.step / std::pow(10.0, std::floor(std::log10(a.step)));
        CHECK((mantissa == Approx(1) || mantissa == Approx(2) || mantissa == Approx(5)));
        return a;
    };
    Axis a = check(0, 97, 6);
    CHECK(a.step == 20);
    CHECK(a.hi == 100);
    CHECK(check(0, 1, 6).step == Approx(0.2));
    CHECK(check(3.2, 3.27, 6).step == Approx(0.02));
    CHECK(check(-40, 130, 6).step == 50);
    CHECK(check(0, 12345, 11).step == 2000);
}

TEST_CASE("an empty or one-point range still makes an axis with a length") {
    Axis zero = nice_axis(0, 0, 6);
    CHECK(zero.lo == 0);
    CHECK(zero.hi == 1);
    Axis one = nice_axis(50, 50, 6);
    CHECK(one.lo < 50);
    CHECK(one.hi > 50);
    Axis bad = nice_axis(std::numeric_limits<double>::quiet_NaN(), 3, 6);
    CHECK(bad.hi > bad.lo);
}

TEST_CASE("tick labels carry the decimals their step needs and no residue of sums") {
    Axis a = nice_axis(0, 1, 6);
    CHECK(tick_label(a.ticks[3], a.step) == "0.6");
    CHECK(tick_label(40, 20) == "40");
    CHECK(tick_label(1e-18, 0.5) == "0.0");
    CHECK(tick_label(0.05, 0.05) == "0.05");
}

TEST_CASE("escaping leaves no markup in names") {
    CHECK(escape_xml(R"(a<b>&"c"'d')") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
    CHECK(escape_xml(std::string("x\x01y")) == "x y");
}
