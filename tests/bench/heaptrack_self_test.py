"""heaptrack, run as launch/bench.sh --allocs runs it (libstdc++ preloaded after heaptrack's
library), counts every operator new and malloc of a program linked with mimalloc: allocs.self_test
compiles one with a known number of each, twice as many in its second build, and raises unless the
difference is exact. Exits 77 (skipped) where heaptrack is not installed."""

import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "launch" / "bench"))

import allocs  # noqa: E402

if not (Path(allocs.HEAPTRACK).exists() and Path(allocs.HEAPTRACK_PRINT).exists()):
    print("heaptrack is not installed (launch/install_deps.sh heaptrack): skipped")
    sys.exit(77)
with tempfile.TemporaryDirectory(prefix="cppworker-heaptrack-") as folder:
    print(allocs.self_test(folder))
