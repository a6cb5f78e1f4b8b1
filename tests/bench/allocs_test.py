"""launch/bench/heaptrack_report.py: the allocation figures' arithmetic and its reading of
heaptrack_print, on real output trimmed to its first sites (captured from a worker built in /work/main, hence ROOT):
  heaptrack_print_diff.txt        --diff of 2,200 against 200 POST /generate (-m 0, 14 sites kept 3)
  heaptrack_print_event_diff.txt  --diff of 10 streams × 110 events against 10 × 10 (sites kept 3)
  heaptrack_print_run.txt         one run on its own, 250 POST /generate (sites kept 1)"""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent.parent / "launch" / "bench"))

import heaptrack_report  # noqa: E402

ROOT = "/work/main"


def fixture(name):
    return (HERE / f"heaptrack_print_{name}.txt").read_text()


class Totals(unittest.TestCase):
    def test_a_diff_total_is_the_difference_of_the_runs(self):
        self.assertEqual(heaptrack_report.parse_total(fixture("diff")), 144000)
        self.assertEqual(heaptrack_report.parse_total(fixture("event_diff")), 4921)  # printed with a negative rate

    def test_a_single_run(self):
        self.assertEqual(heaptrack_report.parse_total(fixture("run")), 20646)

    def test_no_summary_is_an_error_not_zero(self):
        with self.assertRaises(ValueError):
            heaptrack_report.parse_total("reading file ...\nfinished reading file, now analyzing data:\n")


class Sites(unittest.TestCase):
    def test_sites_in_order_with_their_counts(self):
        sites = heaptrack_report.parse_sites(fixture("diff"))
        self.assertEqual([s["calls"] for s in sites], [12000, 10000, 8000])

    def test_frames_carry_file_and_module(self):
        first = heaptrack_report.parse_sites(fixture("diff"))[0]["frames"][0]
        self.assertEqual(first["function"], "boost::json::key_value_pair::key_value_pair("
                                            "boost::json::key_value_pair const&, boost::json::storage_ptr)")
        self.assertIsNone(first["at"])
        self.assertEqual(first["in"], "/lib/x86_64-linux-gnu/libboost_json.so.1.81.0")
        take_auth = next(f for f in heaptrack_report.parse_sites(fixture("diff"))[0]["frames"] if f["function"] == "take_auth")
        self.assertEqual(take_auth["at"], f"{ROOT}/core/src/pipeline/envelope.cpp:59")

    def test_limit(self):
        self.assertEqual(len(heaptrack_report.parse_sites(fixture("diff"), limit=2)), 2)

    def test_the_summary_ends_the_last_site(self):
        last = heaptrack_report.parse_sites(fixture("diff"))[-1]["frames"][-1]
        self.assertEqual(last["function"], "clone3")

    def test_no_section_is_an_error(self):
        with self.assertRaises(ValueError):
            heaptrack_report.parse_sites("calls to allocation functions: 3 (1/s)\n")

    def test_described_by_what_allocates_and_where_in_our_code(self):
        got = [heaptrack_report.describe(s, ROOT) for s in heaptrack_report.parse_sites(fixture("diff"))]
        self.assertEqual(got, [
            "boost::json::key_value_pair::key_value_pair ← boost::json::object::object … "
            "take_auth (core/src/pipeline/envelope.cpp:59)",
            # Beast's parser, called by a completion handler: no frame of ours until the event loop's.
            "boost::beast::http::basic_fields<>::new_element ← boost::beast::http::basic_fields<>::insert ← "
            "boost::beast::http::parser<>::on_field_impl … Asio's event loop",
            # The same frames reached by another path (deeper, through beast::basic_stream).
            "boost::beast::http::basic_fields<>::new_element ← boost::beast::http::basic_fields<>::insert ← "
            "boost::beast::http::parser<>::on_field_impl … Asio's event loop",
        ])
        event = heaptrack_report.describe(heaptrack_report.parse_sites(fixture("event_diff"))[0], ROOT)
        self.assertEqual(event, "std::__cxx11::basic_string<>::_M_create ← std::__cxx11::basic_string<>::_M_mutate"
                                " … append_chunk (core/src/http/connection.cpp:65)")

    def test_a_direct_caller_in_our_code(self):
        site = {"calls": 1, "frames": [
            {"function": "std::__new_allocator<>::allocate(unsigned long, void const*)", "at": "/usr/x.h:1",
             "in": None},
            {"function": "boost::asio::detail::awaitable_frame_base<>::operator new(unsigned long)", "at": None,
             "in": None},
            {"function": "cppworker::f(int)", "at": "/src/core/f.cpp:3", "in": None},
            {"function": "cppworker::g()", "at": "/src/core/g.cpp:9", "in": None}]}
        self.assertEqual(heaptrack_report.describe(site, "/src"),
                         "boost::asio::detail::awaitable_frame_base<>::operator new ← cppworker::f (core/f.cpp:3)")
        site["frames"] = site["frames"][2:]
        self.assertEqual(heaptrack_report.describe(site, "/src"), "cppworker::f (core/f.cpp:3)")
        self.assertEqual(heaptrack_report.describe(site, "/elsewhere"), "cppworker::f ← cppworker::g")

    def test_function_names(self):
        self.assertEqual(
            heaptrack_report.function_name("void std::_Function_base::_Base_manager<>::_M_create<>(std::_Any_data&)"),
            "std::_Function_base::_Base_manager<>::_M_create<>")
        self.assertEqual(heaptrack_report.function_name("operator()"), "operator()")
        self.assertEqual(heaptrack_report.function_name("std::enable_if<>::type std::optional<>::emplace<>(a, b)"),
                         "std::optional<>::emplace<>")
        self.assertEqual(heaptrack_report.function_name("x::operator new(unsigned long)"), "x::operator new")
        self.assertEqual(heaptrack_report.function_name("take_auth"), "take_auth")


class Arithmetic(unittest.TestCase):
    def test_per_unit_is_what_the_extra_units_cost(self):
        self.assertEqual(heaptrack_report.per_unit(20648, 164648, 200, 2200), 72.0)
        self.assertEqual(heaptrack_report.per_unit(0, 144000, 0, 2000), 72.0)
        self.assertAlmostEqual(heaptrack_report.per_unit(7159, 12080, 0, 1000), 4.921)

    def test_the_high_run_must_have_more_units(self):
        with self.assertRaises(ValueError):
            heaptrack_report.per_unit(10, 20, 5, 5)

    def test_summary_median_spread_and_targets(self):
        s = heaptrack_report.summarise([{"request": 72.0, "event": 4.92}, {"request": 72.0, "event": 5.0},
                              {"request": 19.5, "event": 1.0}])
        self.assertEqual(s["request"]["median"], 72.0)
        self.assertEqual((s["request"]["min"], s["request"]["max"]), (19.5, 72.0))
        self.assertFalse(s["request"]["ok"])
        self.assertEqual(s["event"]["median"], 4.92)
        self.assertEqual(heaptrack_report.summarise([{"request": 20.0, "event": 2.0}])["event"]["ok"], True)
        self.assertIsNone(heaptrack_report.summarise([])["request"]["ok"])

    def test_backtraces_that_read_the_same_are_one_site(self):
        text = fixture("diff")
        g = heaptrack_report.group_sites(heaptrack_report.parse_sites(text), ROOT, 2000, heaptrack_report.parse_total(text))
        self.assertEqual(g["per_unit"], 72.0)
        self.assertEqual([(s["per_unit"], s["backtraces"]) for s in g["shown"]], [(9.0, 2), (6.0, 1)])
        self.assertTrue(g["shown"][0]["where"].endswith("parser<>::on_field_impl … Asio's event loop"))
        self.assertEqual(g["other_per_unit"], 57.0)
        one = heaptrack_report.group_sites(heaptrack_report.parse_sites(text), ROOT, 2000, 144000, top=1)
        self.assertEqual(len(one["shown"]), 1)
        self.assertEqual([(r["per_unit"], r["where"]) for r in one["rest"]], [(6.0, g["shown"][1]["where"])])
        self.assertEqual(one["other_per_unit"], 63.0)

    def test_sites_under_a_twentieth_per_unit_are_left_out(self):
        site = {"calls": 99, "frames": [{"function": "f()", "at": None, "in": None}]}
        g = heaptrack_report.group_sites([site], ROOT, 2000, 99)
        self.assertEqual((g["shown"], g["other_per_unit"]), ([], 99 / 2000))

    def test_table(self):
        result = {"summary": heaptrack_report.summarise([{"request": 72.0, "event": 4.92}]),
                  "sites": {"request": {"per_unit": 72.0, "other_per_unit": 57.0, "shown": [
                      {"per_unit": 9.0, "backtraces": 2, "where": "new_element … operator() (x.cpp:1)"},
                      {"per_unit": 6.0, "backtraces": 1, "where": "take_auth (core/src/pipeline/envelope.cpp:59)"}]}},
                  "settings": {"requests": (200, 2200), "streams": 10, "events": (10, 110), "event_gap_ms": 1.0,
                               "repeats": 1}}
        text = heaptrack_report.table(result)
        self.assertIn("| allocations per forwarded request | 72.00 | 72.00 | ≤ 20 | MISSED |", text)
        self.assertIn("| allocations per relayed SSE event | 4.92 | 4.92 | ≤ 2 | MISSED |", text)
        self.assertIn("- 9.00 (× 2): new_element … operator() (x.cpp:1)\n"
                      "- 6.00: take_auth (core/src/pipeline/envelope.cpp:59)\n- 57.00: elsewhere", text)
        self.assertIn("Where the 72.00 allocations per forwarded request are made", text)
        self.assertIn("2,000 extra POST /generate", text)


if __name__ == "__main__":
    unittest.main()
