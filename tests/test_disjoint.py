"""Array parameters that overlap in memory (views of one buffer): the analysis takes distinct
parameters for distinct memory, so the transform guards the parallel form with ``disjoint(...)``
and the original loop runs when they may overlap. Every front door gives CPython's result, bit
for bit, whether the arguments overlap or not, and a compiled kernel is never reused for another
overlap pattern."""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc.args import signature_of
from helixrc.compare import copy_args
from helixrc.csim.errors import LanguageError
from helixrc.parallel import disjoint, may_overlap
from helixrc.passes.analysis import analyze_kernel
from helixrc.passes.frontend import load_module
from helixrc.passes.transform import transform_source

SHIFT = textwrap.dedent("""\
    def shift_add(a, b, n):
        for i in range(n):
            b[i] = a[i] + 1
        return 0
    """)

MACHINES = ["helixrc16", "conventional16"]

#: (buffer maker, arguments from the buffer): overlapping and disjoint views of one buffer
OVERLAP = (lambda: np.zeros(65, dtype=np.int64), lambda x: (x[:-1], x[1:], 64))
APART = (lambda: np.zeros(64, dtype=np.int64), lambda x: (x[:32], x[32:], 32))


def kernel_of(source: str, name: str) -> Callable[..., Any]:
    """The kernel as a function of a module file (helixrc reads a function's source from its file)."""
    path = _DIR / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"disjoint_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)  # type: ignore[no-any-return]


_DIR = Path(tempfile.mkdtemp(prefix="helixrc-disjoint-"))
atexit.register(shutil.rmtree, _DIR, True)


def expected(source: str, name: str, case: tuple[Callable[[], Any], Callable[[Any], tuple[Any, ...]]]) -> Any:
    """The buffer after CPython runs the original on the case's views of it."""
    make, views = case
    buf = make()
    kernel_of(source, name)(*views(buf))
    return buf


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def parallel_ran(result: Any) -> bool:
    return any(p["invocations"] for p in result.stats.get("parallel_loops", []))


# ---------------------------------------------------------------------------------------------
# The run-time check
# ---------------------------------------------------------------------------------------------


def test_disjoint_sees_views_of_one_buffer() -> None:
    x = np.arange(64, dtype=np.int64)
    assert not disjoint(x[:-1], x[1:])
    assert disjoint(x[:32], x[32:])
    assert not disjoint(x, x)
    assert not disjoint(x[::-1], x[10:12])  # a negative stride covers the whole buffer
    assert not disjoint(x[::2], x[1::2])  # interleaved: conservatively overlapping
    assert not disjoint(x[:8], x[32:], x[4:6])  # the first against each of the others
    assert disjoint(x[:8], x[32:], x[8:16])
    assert not disjoint(x.view(np.int32)[:2], x[:1])  # another dtype over the same bytes
    assert disjoint(x[:0], x)  # no element, no memory
    grid = np.zeros((4, 4))
    assert not disjoint(grid[:, 0], grid[3, :])  # a column and a row cross at grid[3, 0]
    assert disjoint(grid[:2, :], grid[2:, :])


def test_disjoint_lists_and_other_objects() -> None:
    xs, ys = [1, 2], [1, 2]
    assert not disjoint(xs, xs) and disjoint(xs, ys) and disjoint(xs, np.zeros(2))
    assert may_overlap(memoryview(bytearray(8)), np.zeros(1))  # unknown memory: may overlap


def test_the_signature_says_which_arguments_overlap() -> None:
    x = np.zeros(65, dtype=np.int64)
    over = signature_of((x[:-1], x[1:], 64))
    apart = signature_of((x[:32], x[32:], 32))
    assert over[0].shares == over[1].shares == (0, 1)  # type: ignore[union-attr]
    assert (apart[0].shares, apart[1].shares) == ((0,), (1,))  # type: ignore[union-attr]
    assert over != apart  # so the compile cache keeps them apart
    xs = [1, 2]
    assert signature_of((xs, xs))[0].shares == (0, 1)  # type: ignore[union-attr]


def test_copied_arguments_still_overlap() -> None:
    x = np.arange(10, dtype=np.int64)
    ys = [1.0]
    a, b, c, d, e = copy_args((x[:-1], x[1:], ys, ys, x[:-1].view(np.int32)))
    assert np.shares_memory(a, b) and not np.shares_memory(a, x) and c is d
    a[3] = 100
    assert b[2] == 100 and e[6] == 100 and x[3] == 3  # the copy's views share its memory, not x's


# ---------------------------------------------------------------------------------------------
# The transform's guard
# ---------------------------------------------------------------------------------------------


def test_the_guard_checks_only_pairs_with_a_write() -> None:
    source = textwrap.dedent("""\
        def pack(xs, ys, out):
            for i in range(len(xs)):
                out[i] = xs[i] + ys[i]
        """)
    after = transform_source(load_module(source, "k.py"), "pack").source
    assert "    if disjoint(out, xs, ys):\n" in after  # out against each; xs and ys may overlap
    assert "        for i in prange(" in after and "    else:\n        for i in range(len(xs)):" in after
    t = helixrc.transform(source, name="pack")
    x = np.arange(8, dtype=np.int64)
    out = np.zeros(8, dtype=np.int64)
    r = helixrc.simulate(t.function, (x, x, out), "helixrc16")  # two names for one read-only array
    assert parallel_ran(r) and list(out) == list(2 * x)


def test_no_guard_without_a_written_array() -> None:
    source = textwrap.dedent("""\
        def dot(xs, ys):
            s = 0
            for i in range(len(xs)):
                s += xs[i] * ys[i]
            return s
        """)
    result = transform_source(load_module(source, "k.py"), "dot")
    assert result.loops["dot/L1"].startswith("DOALL") and "disjoint" not in result.source


def test_explain_says_what_happens_when_the_check_fails() -> None:
    t = helixrc.transform(SHIFT, name="shift_add")
    assert "assumes a[], b[] do not overlap in memory; checked here, sequential if they do" in t.source
    analysis = analyze_kernel(load_module(SHIFT, "k.py"), "shift_add")
    assert analysis.assumptions == [
        "array parameters a, b do not overlap in memory (1 pair with a write; the transformed code checks "
        "at run time and runs the original loop if they do)"]


@pytest.mark.parametrize("body", [
    "    for i in prange(0, n, 1, segments=0, signals='uncoupled'):\n        if disjoint(a, b):\n            b[i] = 1\n",
    "    if disjoint(a):\n        b[0] = 1\n",
    "    if disjoint(a, b[0:1]):\n        b[0] = 1\n",
    "    f = disjoint\n",
])
def test_misuses_of_disjoint_are_refused(body: str) -> None:
    source = "from helixrc.parallel import disjoint, prange\n\ndef k(a, b, n):\n" + body + "    return 0\n"
    with pytest.raises(LanguageError, match="disjoint"):
        helixrc.simulate(source, (np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64), 4), "atom1")


def test_disjoint_needs_arrays() -> None:
    source = "from helixrc.parallel import disjoint\n\ndef k(a, n):\n    if disjoint(a, n):\n        a[0] = 1\n    return 0\n"
    with pytest.raises(LanguageError, match="must be arrays"):
        helixrc.simulate(source, (np.zeros(4, dtype=np.int64), 4), "atom1")


# ---------------------------------------------------------------------------------------------
# Every front door gives CPython's result
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
def test_run_of_the_repro_is_cpython_bit_for_bit(machine: str) -> None:
    want = expected(SHIFT, "shift_add", OVERLAP)
    assert list(want[:4]) == [0, 1, 2, 3]
    x = OVERLAP[0]()
    result = helixrc.run(kernel_of(SHIFT, "shift_add"), OVERLAP[1](x), machine=machine)
    assert same_bits(x, want) and not parallel_ran(result)


@pytest.mark.parametrize("machine", MACHINES)
def test_the_decorator_gives_cpython_results(machine: str) -> None:
    fast = helixrc.parallelize(machine=machine)(kernel_of(SHIFT, "shift_add"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fallback to CPython is fine; a wrong result is not
        for case in (OVERLAP, APART, OVERLAP):
            x = case[0]()
            fast(*case[1](x))
            assert same_bits(x, expected(SHIFT, "shift_add", case))


@pytest.mark.parametrize("machine", MACHINES)
def test_the_transformed_function_in_cpython_and_simulated(machine: str) -> None:
    t = helixrc.transform(SHIFT, machine=machine, name="shift_add")
    for case in (OVERLAP, APART):
        x = case[0]()
        t.function(*case[1](x))
        assert same_bits(x, expected(SHIFT, "shift_add", case))
    # disjoint, then overlapping, then disjoint: each compiled for its own overlap pattern
    for case, parallel in ((APART, True), (OVERLAP, False), (APART, True), (OVERLAP, False)):
        x = case[0]()
        r = helixrc.simulate(t.function, case[1](x), machine)
        assert same_bits(x, expected(SHIFT, "shift_add", case)) and parallel_ran(r) is parallel


GRID = textwrap.dedent("""\
    def smooth(a, b):
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                b[i, j] = a[i, j] * 2 + 1
        return 0
    """)


@pytest.mark.parametrize("machine", MACHINES)
def test_two_dimensional_views(machine: str) -> None:
    over = (lambda: np.arange(40, dtype=np.int64).reshape(5, 8), lambda g: (g[:-1, :], g[1:, :]))
    apart = (lambda: np.arange(40, dtype=np.int64).reshape(5, 8), lambda g: (g[:2, :], g[2:4, :]))
    t = helixrc.transform(GRID, machine=machine, name="smooth")
    for case, parallel in ((over, False), (apart, True)):
        want = expected(GRID, "smooth", case)
        g = case[0]()
        r = helixrc.simulate(t.function, case[1](g), machine)
        assert same_bits(g, want) and parallel_ran(r) is parallel
        g = case[0]()
        helixrc.run(kernel_of(GRID, "smooth"), case[1](g), machine=machine)
        assert same_bits(g, want)


WIDEN = textwrap.dedent("""\
    def widen(small, out):
        for i in range(len(out)):
            out[i] = int(small[i]) + 1
        return 0
    """)


@pytest.mark.parametrize("machine", MACHINES)
def test_an_int32_view_of_an_int64_array(machine: str) -> None:
    case = (lambda: np.arange(16, dtype=np.int64), lambda x: (x.view(np.int32), x))
    want = expected(WIDEN, "widen", case)
    x = case[0]()
    r = helixrc.run(kernel_of(WIDEN, "widen"), case[1](x), machine=machine)
    assert same_bits(x, want) and not parallel_ran(r)


RELIC = textwrap.dedent("""\
    def count_big(xs, out, cut):
        n = 0
        for i in range(len(xs)):
            out[i] = xs[i] * 3
            if out[i] > cut:
                n += 1
        return n
    """)


def test_a_relic_split_runs_the_original_on_overlapping_arrays() -> None:
    plan = {"loops": {"count_big/L1": {"technique": "relic"}}}
    t = helixrc.transform(RELIC, plan=plan, name="count_big")
    assert "if disjoint(out, xs):" in t.source
    case = (lambda: np.arange(1, 22, dtype=np.int64), lambda x: (x[:-1], x[1:], 50))
    want_buf = case[0]()
    want = kernel_of(RELIC, "count_big")(*case[1](want_buf))
    x = case[0]()
    r = helixrc.simulate(t.function, case[1](x), "big1-smt2")
    assert r.value == want and same_bits(x, want_buf)


TWO_LOOPS = textwrap.dedent("""\
    def two(a, b, n):
        for i in range(n):
            b[i] = a[i] + 1
        s = 0
        for i in range(n):
            s += b[i]
        return s
    """)


def test_loop_ids_of_the_parallel_form_are_the_originals() -> None:
    # the fallback is the original loop: f/L1-seq; the loops after it keep their ids
    t = helixrc.transform(TWO_LOOPS, machine="helixrc16", name="two")
    assert t.loops == {"two/L1": "DOALL, uncoupled, 0 segments", "two/L2": "DOALL, uncoupled, 0 segments"}
    for case, parallel in ((APART, True), (OVERLAP, False)):
        x = case[0]()
        r = helixrc.simulate(t.function, case[1](x), "helixrc16")
        ran = {e["id"] for e in r.stats["loops"] if e["invocations"]}
        assert ran == ({"two/L1", "two/L2"} if parallel else {"two/L1-seq", "two/L2"})
    again = transform_source(load_module(t.source, "t.py"), "two")
    assert again.source == t.source and again.loops["two/L1-seq"].startswith("refused: the original loop")
