"""The HELIX transform (passes/transform/helix.py): golden before/after pairs, refusals, and
differential runs: the transformed source, executed under CPython with the runtime's checking mode
on, gives the original's results bit for bit (the protocol of docs/parallel-form.md holds)."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from equality import assert_same
from helixrc import parallel
from helixrc.passes.frontend import load_file, load_module
from helixrc.passes.transform import transform_source

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_KERNELS = sorted(p.stem for p in SAMPLES.glob("*.py") if p.stem != "time_cpython")


def transform(before: str, name: str, signals: str = "uncoupled") -> tuple[str, dict[str, str]]:
    result = transform_source(load_module(textwrap.dedent(before), "k.py"), name, signals)
    return result.source, result.loops


def load_source(source: str, filename: str) -> ModuleType:
    mod = ModuleType("helixrc_transformed")
    mod.__file__ = filename
    exec(compile(source, filename, "exec"), mod.__dict__)
    return mod


def check_same(before: str, after: str, name: str, args: tuple[Any, ...]) -> None:
    """Run original and transformed (checking mode) on deep copies; compare results and arguments."""
    original = getattr(load_source(before, "before.py"), name)
    transformed = getattr(load_source(after, "after.py"), name)
    a, b = copy.deepcopy(args), copy.deepcopy(args)
    expected = original(*a)
    with parallel.checking():
        got = transformed(*b)
    assert_same(expected, got)
    for i, (x, y) in enumerate(zip(a, b)):
        assert_same(x, y, f"argument {i + 1} after the call")


# ---------------------------------------------------------------------------------------------
# Golden before/after
# ---------------------------------------------------------------------------------------------

DOALL = """\
def scale(xs, out, c):
    # scale every element
    for i in range(1, len(xs)):
        out[i] = xs[i] * c
"""


def test_doall_loop() -> None:
    after, loops = transform(DOALL, "scale")
    assert loops == {"scale/L1": "DOALL, uncoupled, 0 segments"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def scale(xs, out, c):
            # scale every element
            # helixrc: loop scale/L1 (line 3): DOALL, uncoupled, 0 segments
            #   assumes out[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, xs):
                for i in prange(1, len(xs), 1, segments=0, signals="uncoupled"):
                    out[i] = xs[i] * c
            else:
                for i in range(1, len(xs)):
                    out[i] = xs[i] * c
        """)


COLLECT = """\
def collect(xs, out):
    n = 0
    for i in range(len(xs)):
        if xs[i] > 0:
            out[n] = i
            n += 1
    return n
"""


def test_carried_counter_on_one_path_uncoupled() -> None:
    after, loops = transform(COLLECT, "collect")
    assert loops == {"collect/L1": "HELIX, uncoupled, 1 segment"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def collect(xs, out):
            n = 0
            # helixrc: loop collect/L1 (line 3): HELIX, uncoupled, 1 segment
            #   segment 0 protects n, out[] (lines 5-6)
            #   assumes out[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, xs):
                seg0 = shared(0, n=n)
                for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
                    if xs[i] > 0:
                        wait(0)
                        out[seg0.n] = i
                        seg0.n += 1
                        signal(0)
                    else:
                        signal(0)
                n = seg0.n
            else:
                for i in range(len(xs)):
                    if xs[i] > 0:
                        out[n] = i
                        n += 1
            return n
        """)


def test_carried_counter_on_one_path_coupled() -> None:
    after, loops = transform(COLLECT, "collect", "coupled")
    assert loops == {"collect/L1": "HELIX, coupled, 1 segment"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def collect(xs, out):
            n = 0
            # helixrc: loop collect/L1 (line 3): HELIX, coupled, 1 segment
            #   segment 0 protects n, out[] (lines 5-6)
            #   assumes out[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, xs):
                seg0 = shared(0, n=n)
                for i in prange(0, len(xs), 1, segments=1, signals="coupled"):
                    if xs[i] > 0:
                        wait(0)
                        out[seg0.n] = i
                        seg0.n += 1
                        signal(0)
                    else:
                        wait(0)
                        signal(0)
                n = seg0.n
            else:
                for i in range(len(xs)):
                    if xs[i] > 0:
                        out[n] = i
                        n += 1
            return n
        """)


FSUM = """\
def total(xs):
    s = 0.0
    for i in range(len(xs)):
        s += xs[i] * 0.5
    return s
"""


def test_float_sum_stays_in_an_ordered_segment() -> None:
    after, loops = transform(FSUM, "total")
    assert loops == {"total/L1": "DOALL, uncoupled, 1 segment"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import prange, shared, signal, wait


        def total(xs):
            s = 0.0
            # helixrc: loop total/L1 (line 3): DOALL, uncoupled, 1 segment
            #   segment 0 protects s (line 4)
            seg0 = shared(0, s=s)
            for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
                s_term = xs[i] * 0.5
                wait(0)
                seg0.s += s_term
                signal(0)
            s = seg0.s
            return s
        """)


BREAK = """\
def first_neg(xs):
    at = -1
    for i in range(len(xs)):
        if xs[i] < 0:
            at = i
            break
    return at
"""


def test_loop_with_break_is_refused_and_unchanged() -> None:
    after, loops = transform(BREAK, "first_neg")
    assert after == BREAK
    assert loops == {"first_neg/L1": "refused: loop exit on every path (lines 4, 6); at carried on one path "
                                     "(line 5): the segments would span the whole iteration"}


CONTINUE = """\
def pick(xs, skip, out):
    n = 0
    for i in range(len(xs)):
        if skip[i]:
            continue
        out[n] = xs[i]
        n += 1
    return n
"""


def test_continue_signals_the_segments_after_it() -> None:
    after, loops = transform(CONTINUE, "pick")
    assert loops == {"pick/L1": "HELIX, uncoupled, 1 segment"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def pick(xs, skip, out):
            n = 0
            # helixrc: loop pick/L1 (line 3): HELIX, uncoupled, 1 segment
            #   segment 0 protects n, out[] (lines 6-7)
            #   assumes out[], skip[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, skip, xs):
                seg0 = shared(0, n=n)
                for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
                    if skip[i]:
                        signal(0)
                        continue
                    wait(0)
                    out[seg0.n] = xs[i]
                    seg0.n += 1
                    signal(0)
                n = seg0.n
            else:
                for i in range(len(xs)):
                    if skip[i]:
                        continue
                    out[n] = xs[i]
                    n += 1
            return n
        """)



GATHER = """\
def cost(lo, hi, w):
    return w[hi - lo]


def boxes(lo, hi, w, nb, tot):
    n = 0
    s = 0.0
    for k in range(len(lo)):
        if hi[k] < lo[k]:
            continue
        nb[n, 0] = lo[k]
        nb[n, 1] = hi[k]
        c = cost(lo[k], hi[k], w)
        tot[lo[k]] = c
        s += c * 0.5
        n += 1
    return n, s
"""


def test_cell_update_is_hoisted_next_to_its_segment() -> None:
    # n += 1 joins the nb writes, so the three segments' brackets no longer overlap and the call
    # (which may raise) runs outside all of them, in its original place among the memory accesses
    after, loops = transform(GATHER, "boxes")
    assert loops == {"boxes/L1": "HELIX, uncoupled, 3 segments"}
    body = after[after.index("        seg0 = shared"):after.index("    else:")]  # the guarded parallel form
    assert body == textwrap.indent(textwrap.dedent("""\
        seg0 = shared(0, n=n)
        seg2 = shared(2, s=s)
        for k in prange(0, len(lo), 1, segments=3, signals="uncoupled"):
            if hi[k] < lo[k]:
                signal(0)
                signal(1)
                signal(2)
                continue
            wait(0)
            nb[seg0.n, 0] = lo[k]
            nb[seg0.n, 1] = hi[k]
            seg0.n += 1
            signal(0)
            c = cost(lo[k], hi[k], w)
            wait(1)
            tot[lo[k]] = c
            signal(1)
            s_term = c * 0.5
            wait(2)
            seg2.s += s_term
            signal(2)
        n = seg0.n
        s = seg2.s
        """), "        ")
    lo = np.array([0, 2, 3, 1, 0], dtype=np.int64)
    hi = np.array([3, 3, 1, 2, 1], dtype=np.int64)
    w = np.array([5, 7, 11, 13], dtype=np.int64)
    check_same(GATHER, after, "boxes", (lo, hi, w, np.zeros((5, 2), np.int64), np.zeros(3, np.float64)))


def test_hoisted_cell_update_keeps_the_exception_and_the_memory_at_it() -> None:
    # iteration 2's call raises IndexError after its nb writes: the same error, the same arrays
    after, _ = transform(GATHER, "boxes")
    lo = np.array([0, 2, 0, 1], dtype=np.int64)
    hi = np.array([3, 3, 9, 2], dtype=np.int64)
    w = np.array([5, 7, 11, 13], dtype=np.int64)
    args = (lo, hi, w, np.zeros((4, 2), np.int64), np.zeros(3, np.float64))
    a, b = copy.deepcopy(args), copy.deepcopy(args)
    with pytest.raises(IndexError) as want:
        getattr(load_source(GATHER, "before.py"), "boxes")(*a)
    with pytest.raises(IndexError) as got, parallel.checking():
        getattr(load_source(after, "after.py"), "boxes")(*b)
    assert str(got.value) == str(want.value)
    assert a[3][2].tolist() == [0, 9]  # written before the raise
    for x, y in zip(a, b):
        assert_same(x, y)


@pytest.mark.parametrize("machine,signals", [("helixrc16", "uncoupled"), ("conventional16", "coupled")])
def test_hoisted_cell_update_raises_the_same_on_the_simulator(machine: str, signals: str) -> None:
    import helixrc

    after, _ = transform(GATHER, "boxes", signals)
    lo = np.array([0, 2, 0, 1] * 5, dtype=np.int64)
    hi = np.array([3, 3, 3, 2] * 5, dtype=np.int64)
    hi[10] = 9  # iteration 10's call raises, after its nb writes, with later iterations running
    w = np.array([5, 7, 11, 13], dtype=np.int64)
    args = (lo, hi, w, np.zeros((20, 2), np.int64), np.zeros(3, np.float64))
    outcomes = []
    for source in (GATHER, after):
        a = copy.deepcopy(args)
        with pytest.raises(IndexError) as err:
            helixrc.simulate(source, a, machine=machine, check=1)
        outcomes.append((str(err.value).split(": ", 1)[1], a))
    (want, a), (got, b) = outcomes
    assert got == want
    assert a[3][10].tolist() == [0, 9] and not a[3][11:].any()  # nothing past the raise
    for x, y in zip(a, b):
        assert_same(x, y)

OPERAND = """\
def change(idx, new, old, tmp):
    d = 0.0
    for k in range(len(idx)):
        net = idx[k]
        c = new[k] * 2.0
        tmp[net] = c
        d += c - old[net]
    return d
"""


def _segment_of(source: str, k: int) -> str:
    """The statements from the one before ``wait(k)`` to ``signal(k)``."""
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == f"wait({k})")
    end = next(i for i, line in enumerate(lines) if i > at and line.strip() == f"signal({k})")
    return "\n".join(line.strip() for line in lines[at - 1:end + 1])


def test_operand_of_a_read_only_array_leaves_the_segment() -> None:
    # old[] is never written in the loop: its load (and the subtraction) run before wait(1)
    after, loops = transform(OPERAND, "change")
    assert loops == {"change/L1": "HELIX, uncoupled, 2 segments"}
    assert _segment_of(after, 1) == "d_term = c - old[net]\nwait(1)\nseg1.d += d_term\nsignal(1)"
    idx = np.array([3, 0, 2, 2, 1], dtype=np.int64)
    new = np.array([0.5, -1.25, 3.0, 7.5, 1e-3])
    old = np.array([0.1, 0.2, 0.3, 0.4])
    check_same(OPERAND, after, "change", (idx, new, old, np.zeros(4)))


@pytest.mark.parametrize("written", [
    "        old[net] = c\n",                  # the array itself, anywhere in the loop
    "        bump(old, net)\n",                # through a helper's store
])
def test_operand_of_an_array_the_loop_writes_stays_in_the_segment(written: str) -> None:
    helper = "def bump(a, i):\n    a[i] += 1.0\n\n\n" if "bump" in written else ""
    before = helper + OPERAND.replace("        d += c - old[net]\n", "        d += c - old[net]\n" + written)
    after, _ = transform(before, "change")
    assert "d_term" not in after
    assert "\nwait(1)\nseg1.d += c - old[net]\n" in _segment_of(after, 1)


def test_operand_of_a_rebound_parameter_stays_in_the_segment() -> None:
    # old may name tmp (which the loop writes): the kernel rebinds it before the loop
    before = OPERAND.replace("    d = 0.0\n", "    d = 0.0\n    if len(idx) > 9:\n        old = tmp\n")
    after, _ = transform(before, "change")
    assert "d_term" not in after and "d += c - old[net]" in after


@pytest.mark.parametrize("machine,signals", [("helixrc16", "uncoupled"), ("conventional16", "coupled")])
def test_hoisted_operand_gives_the_same_results_and_exception_on_the_simulator(machine: str, signals: str) -> None:
    import helixrc

    after, _ = transform(OPERAND, "change", signals)
    rng = np.random.default_rng(5)
    idx = rng.integers(0, 40, size=64).astype(np.int64)
    new, old = rng.random(64), rng.random(40)
    for bad in (None, 37):  # iteration 37 reads old[] out of range, after its tmp[] write
        i = idx.copy()
        if bad is not None:
            i[bad] = 40
        outcomes = []
        for source in (OPERAND, after):
            a = (i.copy(), new.copy(), old.copy(), np.zeros(41))
            try:
                value = helixrc.simulate(source, a, machine=machine, check=1).value
            except IndexError as err:
                value = str(err).split(": ", 1)[1]
            outcomes.append((value, a))
        (want, a), (got, b) = outcomes
        assert_same(want, got)
        for x, y in zip(a, b):
            assert_same(x, y)
        if bad is not None:
            assert isinstance(got, str) and b[3][40] != 0.0  # tmp[40] written before the raise


NESTED = """\
def rows(a, out):
    for i in range(a.shape[0]):
        t = 0
        for j in range(a.shape[1]):
            t += a[i, j]
        out[i] = t
"""


def test_only_the_outermost_loop_is_transformed() -> None:
    after, loops = transform(NESTED, "rows")
    assert loops == {"rows/L1": "DOALL, uncoupled, 0 segments",
                     "rows/L1.1": "refused: nested inside the parallel loop rows/L1"}
    assert after.count("prange(") == 1
    assert "for j in range(a.shape[1]):" in after


def test_bad_signals_argument() -> None:
    with pytest.raises(ValueError):
        transform(DOALL, "scale", "sometimes")


# ---------------------------------------------------------------------------------------------
# Differential: the transformed source runs under checking mode with the original's results
# ---------------------------------------------------------------------------------------------

ELIF = """\
def classify(xs, lo, hi, out_lo, out_hi):
    nl = 0
    nh = 0
    for i in range(0, len(xs), 2):
        if xs[i] < 0:
            out_lo[nl] = i
            nl += 1
        elif xs[i] > 1:
            out_hi[nh] = i
            nh += 1
    return nl, nh
"""


def _inputs(seed: int) -> dict[str, tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    xs = rng.normal(0.0, 1.5, 40)
    n = len(xs)
    return {
        "scale": (xs, np.zeros(n), 3.0),
        "collect": (xs, np.full(n, -1, dtype=np.int64)),
        "total": (xs,),
        "first_neg": (xs,),
        "pick": (xs, rng.random(n) < 0.3, np.zeros(n)),
        "rows": (rng.integers(0, 9, (5, 7)), np.zeros(5, dtype=np.int64)),
        "classify": (xs, 0, 1, np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)),
    }


KERNELS = [(DOALL, "scale"), (COLLECT, "collect"), (FSUM, "total"), (BREAK, "first_neg"),
           (CONTINUE, "pick"), (NESTED, "rows"), (ELIF, "classify")]


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("source,name", KERNELS, ids=[k for _, k in KERNELS])
def test_transformed_kernel_matches_original(source: str, name: str, seed: int, signals: str) -> None:
    after, _ = transform(source, name, signals)
    check_same(source, after, name, _inputs(seed)[name])


def test_elif_chain_signals_on_every_branch() -> None:
    after, loops = transform(ELIF, "classify")
    assert loops == {"classify/L1": "HELIX, uncoupled, 2 segments"}
    # one else of the loop's own, one of the disjoint(...) guard
    assert after.count("else:") == 2 and after.count("signal(0)") == 3 and after.count("signal(1)") == 3


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("kernel", SAMPLE_KERNELS)
def test_samples_transformed_match_original(kernel: str, signals: str) -> None:
    km = load_file(SAMPLES / f"{kernel}.py")
    result = transform_source(km, kernel, signals)
    if not any(not v.startswith("refused") for v in result.loops.values()):
        assert result.source == km.source
        return
    helpers = load_source(km.source, f"{kernel}.py")
    for seed in (1, 2, 3, 4):
        check_same(km.source, result.source, kernel, helpers.make_inputs("small", seed))


def test_module_docstring_example() -> None:
    from helixrc.passes.transform import helix

    doc = helix.__doc__ or ""
    before = textwrap.dedent(doc.split("Before::\n")[1].split("After")[0]).lstrip("\n")
    after = textwrap.dedent(doc.split('``signals="uncoupled"``)::\n')[1].split("\nWhat each loop becomes")[0]).lstrip("\n")
    assert transform(before, "count_hits")[0].rstrip("\n") == after.rstrip("\n")


COUNTER = """\
def tally(xs, out):
    m = 0
    for i in range(len(xs)):
        out[m] = xs[i]
        m += 1
    return m
"""


def test_other_induction_variable_is_recomputed_and_live_out() -> None:
    after, loops = transform(COUNTER, "tally")
    assert loops == {"tally/L1": "DOALL, uncoupled, 0 segments"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, lastprivate, prange, shared, signal, wait


        def tally(xs, out):
            m = 0
            # helixrc: loop tally/L1 (line 3): DOALL, uncoupled, 0 segments
            #   m: read after the loop, from its last iteration
            #   assumes out[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, xs):
                m0 = m
                last = lastprivate(m=m)
                for i in prange(0, len(xs), 1, segments=0, signals="uncoupled"):
                    m = m0 + i
                    out[m] = xs[i]
                    m += 1
                    last.m = m
                m = last.m
            else:
                for i in range(len(xs)):
                    out[m] = xs[i]
                    m += 1
            return m
        """)
    for n in (0, 1, 7):
        check_same(COUNTER, after, "tally", (np.arange(n, dtype=np.float64), np.zeros(n)))


COMMENTED = """\
def keep(xs, out):
    m = 0
    for i in range(len(xs)):
        v = xs[i] * 2
        if v > 0:
            # record the value
            out[m] = v
            m += 1
    return m
"""


def test_comments_stay_above_the_segment() -> None:
    after, loops = transform(COMMENTED, "keep", "coupled")
    assert loops == {"keep/L1": "HELIX, coupled, 1 segment"}
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def keep(xs, out):
            m = 0
            # helixrc: loop keep/L1 (line 3): HELIX, coupled, 1 segment
            #   segment 0 protects m, out[] (lines 7-8)
            #   assumes out[], xs[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, xs):
                seg0 = shared(0, m=m)
                for i in prange(0, len(xs), 1, segments=1, signals="coupled"):
                    v = xs[i] * 2
                    if v > 0:
                        # record the value
                        wait(0)
                        out[seg0.m] = v
                        seg0.m += 1
                        signal(0)
                    else:
                        wait(0)
                        signal(0)
                m = seg0.m
            else:
                for i in range(len(xs)):
                    v = xs[i] * 2
                    if v > 0:
                        # record the value
                        out[m] = v
                        m += 1
            return m
        """)
    check_same(COMMENTED, after, "keep", (np.arange(-5.0, 6.0), np.zeros(11)))


INNER = """\
def nonzero(a, out):
    c = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] != 0:
                out[c] = i * 100 + j
                c += 1
    return c
"""

ELIF_TEST = """\
def firsts(xs, out):
    c = 0
    for i in range(len(xs)):
        if xs[i] < 0:
            out[i] = 0
        elif xs[i] > out[c]:
            out[c] = xs[i]
            c += 1
    return c
"""


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
def test_inner_loop_is_transformed_when_the_outer_is_refused(signals: str) -> None:
    after, loops = transform(INNER, "nonzero", signals)
    assert loops == {
        "nonzero/L1": "refused: c, out[] carried on one path (lines 6-7): the segment would span the whole iteration",
        "nonzero/L1.1": f"HELIX, {signals}, 1 segment",
    }
    assert "    for i in range(a.shape[0]):\n" in after and "seg0 = shared(0, c=c)" in after
    rng = np.random.default_rng(5)
    for _ in range(3):
        a = rng.integers(-1, 2, (6, 5))
        check_same(INNER, after, "nonzero", (a, np.zeros(30, dtype=np.int64)))


def test_refusals_leave_the_source_unchanged() -> None:
    for source, name in [(ELIF_TEST, "firsts"), (BREAK, "first_neg")]:
        after, loops = transform(source, name)
        assert after == source
        assert all(v.startswith("refused: ") for v in loops.values()), loops


WRAPPED = """\
def above(a, w, out):
    c = 0.0
    for i in range(a.shape[0]):
        t = 0.0
        for k in range(w.shape[0]):
            t += w[k] * a[i, k % a.shape[1]]
        out[i] = t
        for j in range(a.shape[1]):
            if a[i, j] > t:
                c += 1.0
    return c
"""


def test_reduction_inside_an_inner_loop_brackets_the_inner_loop() -> None:
    after, loops = transform(WRAPPED, "above")
    assert loops["above/L1"] == "DOALL, uncoupled, 1 segment"
    assert after == textwrap.dedent("""\
        from helixrc.parallel import disjoint, prange, shared, signal, wait


        def above(a, w, out):
            c = 0.0
            # helixrc: loop above/L1 (line 3): DOALL, uncoupled, 1 segment
            #   segment 0 protects c (line 10)
            #   assumes a[], out[], w[] do not overlap in memory; checked here, sequential if they do
            if disjoint(out, a, w):
                seg0 = shared(0, c=c)
                for i in prange(0, a.shape[0], 1, segments=1, signals="uncoupled"):
                    t = 0.0
                    for k in range(w.shape[0]):
                        t += w[k] * a[i, k % a.shape[1]]
                    out[i] = t
                    wait(0)
                    for j in range(a.shape[1]):
                        if a[i, j] > t:
                            seg0.c += 1.0
                    signal(0)
                c = seg0.c
            else:
                for i in range(a.shape[0]):
                    t = 0.0
                    for k in range(w.shape[0]):
                        t += w[k] * a[i, k % a.shape[1]]
                    out[i] = t
                    for j in range(a.shape[1]):
                        if a[i, j] > t:
                            c += 1.0
            return c
        """)
    rng = np.random.default_rng(1)
    for _ in range(3):
        check_same(WRAPPED, after, "above", (rng.normal(size=(5, 4)), rng.normal(size=30), np.zeros(5)))


# ---------------------------------------------------------------------------------------------
# The samples' verdicts after the transform (BENCHMARKS.md's expectations)
# ---------------------------------------------------------------------------------------------


def transformed_sample(kernel: str) -> tuple[str, dict[str, str]]:
    result = transform_source(load_file(str(SAMPLES / f"{kernel}.py")), kernel)
    return result.source, result.loops


def test_sample_mcf_pricing_is_helix_with_a_one_path_segment() -> None:
    after, loops = transformed_sample("mcf_pricing")
    assert loops["mcf_pricing/L1"] == "HELIX, uncoupled, 1 segment"
    assert "for it in prange_while(segments=1" in after
    # the segment is entered only on the path that appends to the basket; the others skip it
    assert "                    wait(0)\n                    seg0.nb += 1\n" in after
    assert after.count("signal(0)") == 4  # the exit, the basket path, and the two skip paths


def test_sample_art_f2_match_outer_loop_privatizes_the_argmax() -> None:
    after, loops = transformed_sample("art_f2_match")
    assert loops["art_f2_match/L1"] == "DOALL, uncoupled, 0 segments"
    assert 'acc0 = reduction("argmax", best=best, win=win)' in after


def test_sample_kv_tree_batch_get_is_doall_with_a_found_reduction() -> None:
    after, loops = transformed_sample("kv_tree_batch_get")
    assert loops["kv_tree_batch_get/L1"] == "DOALL, uncoupled, 0 segments"
    assert 'reduction("+", found=found)' in after


def test_sample_bzip2_mtf_is_sequential_bound() -> None:
    after, loops = transformed_sample("bzip2_mtf")
    # order[] and the run state share the move-to-front update: one merged segment holds all of
    # it, only the gather of the symbol runs in parallel
    assert loops["bzip2_mtf/L1"] == "HELIX, uncoupled, 1 segment"
    body = after.split("for i in prange(")[1].split("signal(0)")[0]
    assert "sym = int(remap[block[j]])\n            wait(0)\n" in body and "while carry != sym:" in body


def test_sample_mcf_refresh_potential_stays_sequential() -> None:
    after, loops = transformed_sample("mcf_refresh_potential")
    assert all(v.startswith("refused: ") for v in loops.values())
    assert "prange" not in after


def test_sample_hash_join_probe_appends_in_a_one_path_segment() -> None:
    after, loops = transformed_sample("hash_join_probe")
    assert loops["hash_join_probe/L1"] == "HELIX, uncoupled, 1 segment"
    assert 'reduction("+", revenue=revenue)' in after
    # the probe walk runs before the segment; only the match path appends
    body = after.split("for r in prange(")[1]
    assert body.index("while tkey[h] != key") < body.index("wait(0)")
    assert "                wait(0)\n                out_row[seg0.nout] = r\n" in body


def test_sample_huffman_decode_is_refused_on_its_output_regions() -> None:
    # The strings' output regions never overlap, but they start at out_lo[s], loaded from
    # memory: the analysis cannot prove them disjoint and keeps the writes in order.
    after, loops = transformed_sample("huffman_decode")
    assert loops["huffman_decode/L1"].startswith("refused: out[] carried on one path")
    assert all(v.startswith("refused: ") for v in loops.values()) and "prange" not in after


@pytest.mark.parametrize("kernel,acc", [("json_log_scan", "lat5xx=lat5xx, n5xx=n5xx"),
                                        ("gbdt_score_batch", "nflag=nflag")])
def test_sample_request_loop_is_doall_with_int_reductions(kernel: str, acc: str) -> None:
    # the lines / requests write only their own slots; the inner loops stay in each iteration
    after, loops = transformed_sample(kernel)
    assert loops[f"{kernel}/L1"] == "DOALL, uncoupled, 0 segments"
    assert f'reduction("+", {acc})' in after
    assert all(v.startswith("refused: nested") for k, v in loops.items() if k != f"{kernel}/L1")


def test_sample_bfs_frontier_step_parallelizes_the_edge_loop() -> None:
    after, loops = transformed_sample("bfs_frontier_step")
    assert loops["bfs_frontier_step/L1"].startswith("refused: dist[] carried on one path")
    assert loops["bfs_frontier_step/L1.1"] == "HELIX, uncoupled, 2 segments"
    # the test-and-set is entered on every edge; the append, split off on the saved test
    # (docs/parallel-form.md rule 11), only by the edges that reach a new vertex
    assert "v = int(col[e])\n                wait(0)\n                cond = bool(dist[v] < 0)\n                if cond:" in after
    assert "                signal(0)\n                if cond:\n                    wait(1)\n" in after


def test_sample_order_book_match_is_one_segment_wide() -> None:
    after, loops = transformed_sample("order_book_match")
    assert loops["order_book_match/L1"] == "HELIX, uncoupled, 1 segment"
    # everything after decoding the message is in the segment
    body = after.split("for i in prange(")[1]
    assert body.split("wait(0)")[0].count("\n") == 3  # the prange line, kind and order id



# ---------------------------------------------------------------------------------------------
# Plans: assume_independent is honoured only with its run-time check
# ---------------------------------------------------------------------------------------------

SCALED_SCATTER = """\
def scatter(idx, w, hist):
    for i in range(len(idx)):
        hist[idx[i] * 2] += w[i]
        w[i] = w[i] * w[i] + 1
"""


def _plan(text: str):  # type: ignore[no-untyped-def]
    from helixrc.passes.plan import parse_plan

    return parse_plan(text, "plan.toml")


def test_assume_independent_needs_a_checkable_subscript() -> None:
    from helixrc.csim.errors import PlanError

    plan = _plan('[loops."scatter/L1"]\ntechnique = "doall"\nassume_independent = ["hist"]\n')
    with pytest.raises(PlanError, match=r"hist\[idx\[i\] \* 2\] \(line 3\): the run-time check needs") as err:
        transform_source(load_module(SCALED_SCATTER, "k.py"), "scatter", plan=plan)
    assert err.value.loc is not None and err.value.loc.line == 3  # the assume_independent key


def test_assume_independent_of_an_array_the_loop_does_not_touch() -> None:
    from helixrc.csim.errors import PlanError

    plan = _plan('[loops."scatter/L1"]\ntechnique = "helix"\nassume_independent = ["nope"]\n')
    with pytest.raises(PlanError, match="nope is not subscripted in loop scatter/L1"):
        transform_source(load_module(SCALED_SCATTER, "k.py"), "scatter", plan=plan)


def test_without_assume_independent_the_scatter_stays_helix() -> None:
    result = transform_source(load_module(SCALED_SCATTER, "k.py"), "scatter")
    assert result.loops == {"scatter/L1": "HELIX, uncoupled, 1 segment"}
    assert "independent(" not in result.source
