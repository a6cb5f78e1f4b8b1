"""launch/bench/against.py: the table that judges a change by its ratios to the build before it."""

import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE.parent.parent / "launch" / "bench"))

import against  # noqa: E402

BINARIES = {"new": "/new/cppworker", "old": "/old/cppworker"}


def run(r, figure, binary, rate, cpu, errors=0):
    return {"round": r, "figure": figure, "binary": binary, "req_per_s": rate, "cpu_us_per_request": cpu,
            "errors": errors}


def runs_for(figure, new_rates, old_rates, new_cpu, old_cpu, errors=0):
    out = []
    for r, (nr, orate, nc, oc) in enumerate(zip(new_rates, old_rates, new_cpu, old_cpu)):
        out += [run(r, figure, "new", nr, nc, errors), run(r, figure, "old", orate, oc)]
    return out


def row(text, figure):
    return next(line for line in text.splitlines() if line.startswith(f"| {figure} |"))


class Table(unittest.TestCase):
    def setUp(self):
        figures = [f for f, _, _ in against.FIGURES]
        self.runs = (runs_for(figures[0], [110, 90, 100], [100, 100, 100], [9, 11, 10], [10, 10, 10])
                     + runs_for(figures[1], [100, 200, 300], [100, 50, 300], [5, 5, 5], [10, 10, 10])
                     + runs_for(figures[2], [50, 50, 50], [100, 100, 100], [20, 20, 20], [10, 10, 10], errors=2))
        self.text = against.table(self.runs, BINARIES)
        self.figures = figures

    def test_names_both_builds(self):
        self.assertIn("new: /new/cppworker", self.text)
        self.assertIn("old: /old/cppworker", self.text)

    def test_the_ratio_is_the_median_of_each_rounds_ratio_with_every_round_listed_in_order(self):
        self.assertEqual(row(self.text, self.figures[0]),
                         f"| {self.figures[0]} | 100 | 100 | 1.000 (1.100, 0.900, 1.000) | 10.0 | 10.0 | 1.000 | 0 |")
        # Each round's builds ran side by side: the median of their ratios (1), not the ratio of
        # the medians (200 / 100), which pairs runs of different rounds.
        self.assertIn("| 200 | 100 | 1.000 (1.000, 4.000, 1.000) |", row(self.text, self.figures[1]))
        self.assertIn("| 5.0 | 10.0 | 0.500 |", row(self.text, self.figures[1]))

    def test_errors_are_summed_and_marked(self):
        self.assertTrue(row(self.text, self.figures[2]).endswith("| 6 ⚠ |"))
        self.assertIn("| 0.500 (0.500, 0.500, 0.500) |", row(self.text, self.figures[2]))


if __name__ == "__main__":
    unittest.main()
