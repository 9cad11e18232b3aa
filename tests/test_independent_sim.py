"""``independent(...)`` on the simulator (docs/multicore.md section 1): the inspector loop the
lowering generates answers as ``helixrc.parallel.independent`` does, and a kernel transformed with
``assume_independent`` gives CPython's results whether the check passes (the parallel loop runs)
or fails (the original loop runs sequentially)."""

from __future__ import annotations

import random
import textwrap
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc.csim.errors import KernelValueError
from helixrc.parallel import independent

HEADER = "from helixrc.parallel import independent\n"


def check_kernel(bounds: str, accesses: list[tuple[str | None, int, str]]) -> str:
    """A kernel that returns the check of h over range(bounds) with accesses."""
    terms = ", ".join(f'({index}, {offset}, "{mode}")' for index, offset, mode in accesses)
    return HEADER + textwrap.dedent(f"""
        def check(h, idx, jdx, start, stop, step):
            return independent(h, {bounds}, {terms})
        """)


def simulated(source: str, args: tuple[Any, ...]) -> Any:
    return helixrc.simulate(source, args, func="check").value


def random_case(rnd: random.Random) -> tuple[str, tuple[Any, ...], list[tuple[str | None, int, str]]]:
    n = rnd.randint(1, 12)
    m = rnd.randint(0, 14)
    spread = rnd.choice((n, 2 * n))                 # 2n: some subscripts out of range
    idx = np.array([rnd.randint(-spread, spread - 1) for _ in range(m)], dtype=np.int64)
    jdx = np.array(rnd.sample(range(-n, n), min(m, 2 * n)), dtype=np.int64)  # distinct
    accesses = [(rnd.choice((None, "idx", "jdx")), rnd.randint(-2, 2), rnd.choice("rw"))
                for _ in range(rnd.randint(1, 3))]
    start, step = rnd.randint(-3, 4), rnd.choice((1, 1, 2, 3, -1, -2))
    stop = start + step * rnd.randint(-1, 10)
    return "start, stop, step", (np.zeros(n), idx, jdx, start, stop, step), accesses


def test_the_inspector_answers_as_the_runtime_does() -> None:
    rnd = random.Random(20261204)
    answers = set()
    for _ in range(150):
        bounds, args, accesses = random_case(rnd)
        expected = independent(*args[:1], *args[3:], *(
            ({"idx": args[1], "jdx": args[2]}.get(index or ""), offset, mode) for index, offset, mode in accesses))
        got = simulated(check_kernel(bounds, accesses), args)
        assert got is expected, (args, accesses)
        answers.add(got)
    assert answers == {True, False}


def test_a_step_of_zero_raises_as_range_does() -> None:
    source = check_kernel("start, stop, step", [("idx", 0, "w")])
    args = (np.zeros(4), np.arange(4), np.arange(4), 0, 4, 0)
    with pytest.raises(ValueError, match="range\\(\\) arg 3 must not be zero"):
        independent(np.zeros(4), 0, 4, 0, (np.arange(4), 0, "w"))
    with pytest.raises(KernelValueError, match="range\\(\\) arg 3 must not be zero"):
        simulated(source, args)


REPEATED = HEADER + textwrap.dedent("""
    def repeated(h, idx, out):
        for t in range(out.shape[0]):
            out[t] = independent(h, t, idx.shape[0], 1, (idx, 0, "w"))
        return 0
    """)


def test_a_check_run_again_forgets_the_earlier_runs() -> None:
    """The tables are not cleared between runs of one check: its stamps tell old entries apart."""
    idx = np.array([5, 1, 5, 2, 3, 1, 4, 0], dtype=np.int64)
    h = np.zeros(6)
    expected = [independent(h, t, len(idx), 1, (idx, 0, "w")) for t in range(len(idx))]
    out = np.zeros(len(idx), dtype=bool)
    helixrc.simulate(REPEATED, (h, idx, out), func="repeated")
    assert out.tolist() == expected == [False, False, True, True, True, True, True, True]


def test_the_inspector_costs_one_pass_over_the_subscripts() -> None:
    source = check_kernel("start, stop, step", [("idx", 0, "w")])
    n = 4096
    args = (np.zeros(n), np.random.default_rng(1).permutation(n), np.arange(n), 0, n, 1)
    r = helixrc.simulate(source, args, func="check")
    assert r.value is True
    # one pass over the subscripts: about 30 instructions per access (bounds, table, stamps)
    assert 20 * n < r.stats["instructions"] < 35 * n


SCATTER = """
def scatter_add(idx, w, hist):
    for i in range(len(idx)):
        x = w[i] * w[i]
        hist[idx[i]] += x
    return hist[0]
"""
PLAN = {"loops": {"scatter_add/L1": {"technique": "doall", "assume_independent": ["hist"]}}}


@pytest.mark.parametrize("machine", ["atom1", "helixrc16", "conventional16"])
def test_a_transformed_kernel_gives_cpython_results_whether_the_check_passes_or_not(machine: str) -> None:
    signals = helixrc.resolve_machine(machine).signal_semantics or "uncoupled"
    t = helixrc.transform(SCATTER, plan={**PLAN, "signals": signals}, name="scatter_add")
    assert "if disjoint(hist, idx, w) and independent(hist, 0, len(idx), 1, (idx, 0, \"w\")):" in t.source
    namespace: dict[str, Any] = {}
    exec(SCATTER, namespace)
    rng = np.random.default_rng(3)
    for idx, passes in ((rng.permutation(64), True), (rng.integers(0, 64, 64), False)):
        args = (idx, rng.integers(0, 9, 64), np.zeros(64, dtype=np.int64))
        assert independent(args[2], 0, 64, 1, (idx, 0, "w")) is passes
        results: list[Any] = []

        def run(a: tuple[Any, ...]) -> Any:
            results.append(helixrc.simulate(t.function, a, machine, check=True))
            return results[-1].value

        run_both(namespace["scatter_add"], args, run)
        ran_parallel = bool(results[0].stats.get("parallel_loops"))
        assert ran_parallel is passes
