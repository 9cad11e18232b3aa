"""Every sample kernel, at small size and two seeds: the simulator matches CPython bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

import helixrc
from equality import run_both
from helixrc.resolve import import_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def sample_kernels() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(SAMPLES.glob("*.py")):
        module = import_file(str(path))
        if not hasattr(module, "make_inputs"):
            continue
        for name in getattr(module, "KERNELS", (path.stem,)):
            found.append((path, name))
    return found


KERNELS = sample_kernels()


@pytest.mark.parametrize("path,name", KERNELS, ids=[n for _, n in KERNELS])
@pytest.mark.parametrize("seed", [1, 2])
def test_sample_matches_cpython(path: Path, name: str, seed: int) -> None:
    module = import_file(str(path))
    args = module.make_inputs("small", seed)
    kernel = getattr(module, name)
    run_both(kernel, args, lambda a: helixrc.simulate(f"{path}::{name}", a).value)


def test_all_nineteen_samples_present() -> None:
    names = {p.stem for p, _ in KERNELS}
    assert len(names) >= 19, sorted(names)


def test_latency_critical_suite_is_registered() -> None:
    """The benchmark script's suite names sample kernels, and samples/README.md lists the same."""
    bench = import_file(str(SAMPLES.parent / "benchmarks" / "simulate_samples.py"))
    suite = bench.LATENCY_CRITICAL
    assert len(suite) == len(set(suite)) == 10
    assert set(suite) <= {name for _, name in KERNELS}
    readme = (SAMPLES / "README.md").read_text()
    listed = readme.split("## The latency-critical suite")[1].split("\n\n")[2]
    assert {w.strip("`,.\n ") for w in listed.split()} == set(suite)
