"""The loop dependence analysis on small hand-made loops: one behaviour per test."""

from __future__ import annotations

import textwrap

import pytest

from helixrc.passes.analysis import (
    DepKind,
    KernelAnalysis,
    LoopAnalysis,
    ScalarClass,
    SCCClass,
    VerdictKind,
    analyze_kernel,
    format_explain,
)
from helixrc.passes.analysis import calls as calls_module
from helixrc.passes.frontend import load_module
from helixrc.passes.ir import ArrayType, Scalar

F64_1D = ArrayType("float64", 1)
I64_1D = ArrayType("int64", 1)
I64, F64 = Scalar.I64, Scalar.F64


def analyze(source: str, kernel: str = "k", types: list[Scalar | ArrayType] | None = None) -> KernelAnalysis:
    return analyze_kernel(load_module(textwrap.dedent(source).lstrip("\n"), "t.py"), kernel, types)


def loop(source: str, loop_id: str = "k/L1", kernel: str = "k", types: list | None = None) -> LoopAnalysis:  # type: ignore[type-arg]
    return analyze(source, kernel, types).loops[loop_id]


def cls(la: LoopAnalysis, var: str) -> ScalarClass:
    return la.scalars[var].cls


def carried_deps(la: LoopAnalysis, array: str) -> list[tuple[str, int | None, str]]:
    return sorted(
        (d.kind.value, d.distance, d.certainty) for d in la.array_deps if d.array == array and d.carried
    )


# -- DOALL, private, induction ---------------------------------------------------------------------


def test_doall_loop() -> None:
    la = loop("""
        def k(a, b, c):
            for i in range(len(a)):
                c[i] = a[i] * b[i] + 1.0
        """)
    assert la.verdict.kind is VerdictKind.DOALL
    assert la.verdict.text == "DOALL"
    assert la.segments == [] and la.counted and not la.has_early_exit
    assert not any(d.carried for d in la.array_deps)
    assert ("a", "c") in la.assumed_no_alias and ("b", "c") in la.assumed_no_alias


def test_private_temp() -> None:
    la = loop("""
        def k(a, out):
            t = 0
            for i in range(len(a)):
                t = a[i] * 2
                out[i] = t + 1
        """)
    assert cls(la, "t") is ScalarClass.PRIVATE
    assert "line 4" in la.scalars["t"].reason
    assert la.verdict.kind is VerdictKind.DOALL


def test_private_live_out_last_value() -> None:
    la = loop("""
        def k(a, out):
            t = 0
            for i in range(len(a)):
                t = a[i] * 2
                out[i] = t
            return t
        """)
    info = la.scalars["t"]
    assert info.cls is ScalarClass.PRIVATE and info.live_out
    assert "line 6" in info.reason


def test_conditional_last_value_is_carried() -> None:
    # the value after the loop may come from any earlier iteration: not a plain private
    la = loop("""
        def k(a, key):
            found = -1
            for i in range(len(a)):
                if a[i] == key:
                    found = i
            return found
        """)
    info = la.scalars["found"]
    assert info.cls is ScalarClass.CARRIED and info.live_out
    assert "last value" in info.reason
    assert la.verdict.kind is VerdictKind.HELIX


def test_for_variable_induction() -> None:
    la = loop("""
        def k(a):
            for i in range(2, len(a), 3):
                a[i] = 0
        """)
    info = la.scalars["i"]
    assert info.cls is ScalarClass.INDUCTION and info.step == "3"
    assert la.sccs[0].cls is SCCClass.INDUCTION


def test_while_induction_counted() -> None:
    la = loop("""
        def k(a, start, step):
            i = start
            while i < len(a):
                a[i] = a[i] + 1
                i += step
            return i
        """)
    info = la.scalars["i"]
    assert info.cls is ScalarClass.INDUCTION and info.step == "step" and info.live_out
    assert la.counted and not la.has_early_exit
    assert la.verdict.kind is VerdictKind.DOALL


def test_increment_on_one_path_is_not_induction() -> None:
    la = loop("""
        def k(a):
            i = 0
            j = 0
            while i < len(a):
                if a[i] > 0:
                    j += 1
                i += 1
            return j
        """)
    assert cls(la, "i") is ScalarClass.INDUCTION
    assert cls(la, "j") is ScalarClass.REDUCTION  # a conditional counter only read after the loop


def test_while_not_counted_needs_prologue() -> None:
    la = loop("""
        def k(nxt, start):
            n = 0
            p = start
            while p != -1:
                n += 1
                p = nxt[p]
            return n
        """)
    assert not la.counted and la.has_early_exit and la.exit_lines == (4,)
    # n += 1 runs once on every path round the loop: an induction (the trip count), not a reduction
    assert cls(la, "p") is ScalarClass.CARRIED and cls(la, "n") is ScalarClass.INDUCTION
    assert la.segments[0].prologue and "p" in la.segments[0].scalars
    assert la.verdict.kind is VerdictKind.REFUSED  # the pointer walk is all the loop does


# -- reductions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "update, op",
    [
        ("s += a[i]", "+"),
        ("s = s + a[i]", "+"),
        ("s -= a[i]", "+"),
        ("s *= a[i]", "*"),
        ("s = a[i] * s", "*"),
        ("s = max(s, a[i])", "max"),
        ("s = min(a[i], s)", "min"),
        ("s |= a[i]", "|"),
        ("s &= a[i]", "&"),
        ("s ^= a[i]", "^"),
    ],
)
def test_int_reductions(update: str, op: str) -> None:
    la = loop(f"""
        def k(a):
            s = 0
            for i in range(len(a)):
                {update}
            return s
        """)
    info = la.scalars["s"]
    assert info.cls is ScalarClass.REDUCTION and info.op == op and info.is_float is False
    assert info.live_out and not info.needs_reassociation
    assert la.verdict.kind is VerdictKind.DOALL
    assert any(s.cls is SCCClass.REDUCTION for s in la.sccs)


@pytest.mark.parametrize("update, op, reassoc", [
    ("s += a[i]", "+", True), ("s *= a[i]", "*", True), ("s = max(s, a[i])", "max", False),
])  # fmt: skip
def test_float_reductions(update: str, op: str, reassoc: bool) -> None:
    la = loop(f"""
        def k(a):
            s = 0.0
            for i in range(len(a)):
                {update}
            return s
        """)
    info = la.scalars["s"]
    assert info.cls is ScalarClass.REDUCTION and info.op == op and info.is_float
    assert info.needs_reassociation is reassoc
    assert la.float_reductions == (("s",) if reassoc else ())
    assert la.verdict.kind is VerdictKind.DOALL
    assert ("needs reassociation" in la.verdict.text) is reassoc


def test_reduction_type_from_signature() -> None:
    source = """
        def k(a, s0):
            s = s0
            for i in range(len(a)):
                s += a[i]
            return s
        """
    assert loop(source).scalars["s"].is_float  # unknown without types: treated as float
    assert loop(source, types=[I64_1D, I64]).scalars["s"].is_float is False
    assert loop(source, types=[F64_1D, F64]).scalars["s"].is_float is True


def test_conditional_reduction() -> None:
    la = loop("""
        def k(a):
            found = 0
            for i in range(len(a)):
                if a[i] > 3:
                    found += 1
                else:
                    found += 2
            return found
        """)
    info = la.scalars["found"]
    assert info.cls is ScalarClass.REDUCTION and info.op == "+"
    assert info.lines == (5, 7)


def test_argmax_with_ties_keeps_first() -> None:
    la = loop("""
        def k(a):
            best = -1.0
            win = -1
            for j in range(len(a)):
                if a[j] > best:
                    best = a[j]
                    win = j
            return win, best
        """)
    best, win = la.scalars["best"], la.scalars["win"]
    assert best.cls is win.cls is ScalarClass.REDUCTION
    assert best.op == "argmax" and best.ties == "first" and best.partners == ("win",)
    assert win.partners == ("best",)
    assert not best.needs_reassociation  # comparisons only: exact in any order
    assert la.verdict.kind is VerdictKind.DOALL
    assert "ties keep the first" in la.verdict.text


def test_argmin_tuple_form_nonstrict_keeps_last() -> None:
    la = loop("""
        def k(a):
            lo = 1000
            at = -1
            for j in range(len(a)):
                if a[j] <= lo:
                    lo, at = a[j], j
            return at
        """)
    info = la.scalars["lo"]
    assert info.op == "argmin" and info.ties == "last" and info.partners == ("at",)


def test_reduction_read_elsewhere_is_carried() -> None:
    la = loop("""
        def k(a, out):
            s = 0
            for i in range(len(a)):
                s += a[i]
                out[i] = s
            return s
        """)
    info = la.scalars["s"]
    assert info.cls is ScalarClass.CARRIED
    assert "also read at line 5" in info.reason
    # a prefix sum: the update is the segment, the store of each prefix reads it afterwards
    assert la.verdict.kind is VerdictKind.HELIX
    assert [(s.scalars, s.lines) for s in la.segments] == [(("s",), (4,))]


def test_max_compare_read_in_condition_elsewhere_is_carried() -> None:
    la = loop("""
        def k(a, out):
            best = 0
            for i in range(len(a)):
                if a[i] > best:
                    best = a[i]
                if best > 10:
                    out[i] = 1
        """)
    assert cls(la, "best") is ScalarClass.CARRIED


# -- carried scalars -----------------------------------------------------------------------------------


def test_carried_counter_on_one_path_only() -> None:
    # HELIX-RC's vpr loop: the slot counter advances only for nets that are not skipped
    la = loop("""
        SKIP = 3

        def k(nets, moved, cost, slot_net):
            bbi = 0
            for j in range(len(nets)):
                net = nets[j]
                if moved[j] == SKIP:
                    continue
                c = cost[net] * 2
                slot_net[bbi] = net
                bbi += 1
            return bbi
        """)
    assert cls(la, "bbi") is ScalarClass.CARRIED and la.scalars["bbi"].live_out
    assert cls(la, "c") is ScalarClass.PRIVATE
    assert la.verdict.kind is VerdictKind.HELIX
    (seg,) = la.segments
    assert seg.scalars == ("bbi",) and seg.arrays == ("slot_net",)
    assert not seg.every_path and seg.lines == (10, 11)
    assert la.verdict.text == "HELIX: 1 segment: bbi, slot_net[] carried on one path (lines 10-11)"


# -- array dependences ---------------------------------------------------------------------------------


def test_raw_distance_one() -> None:
    la = loop("""
        def k(a):
            for i in range(1, len(a)):
                a[i] = a[i - 1] + 1
        """)
    assert carried_deps(la, "a") == [("RAW", 1, "provable")]
    dep = next(d for d in la.array_deps if d.carried)
    assert dep.src.write and dep.src.text == "a[i]" and dep.dst.text == "a[i - 1]"
    assert la.verdict.kind is VerdictKind.REFUSED


def test_raw_distance_two() -> None:
    la = loop("""
        def k(a, b):
            for i in range(2, len(a)):
                x = b[i] * 3 + b[i - 1]
                a[i] = a[i - 2] + x
        """)
    assert carried_deps(la, "a") == [("RAW", 2, "provable")]
    assert la.verdict.kind is VerdictKind.HELIX  # the b loads and the arithmetic overlap


def test_anti_dependence() -> None:
    la = loop("""
        def k(a):
            for i in range(len(a) - 1):
                a[i] = a[i + 1]
        """)
    assert carried_deps(la, "a") == [("WAR", 1, "provable")]


def test_no_dependence_same_element() -> None:
    la = loop("""
        def k(a, b):
            for i in range(len(a)):
                a[i] = b[i] + a[i]
        """)
    assert carried_deps(la, "a") == []
    assert la.verdict.kind is VerdictKind.DOALL


def test_gcd_independent() -> None:
    la = loop("""
        def k(a):
            for i in range(len(a) // 2):
                a[2 * i] = a[2 * i + 1]
        """)
    assert carried_deps(la, "a") == []
    assert la.verdict.kind is VerdictKind.DOALL


def test_symbolic_base_cancels() -> None:
    la = loop("""
        def k(a, base):
            for i in range(10):
                a[i + base] = a[i + base - 1] * 2
        """)
    assert carried_deps(la, "a") == [("RAW", 1, "provable")]


def test_private_subscript_is_substituted() -> None:
    la = loop("""
        def k(a):
            for i in range(len(a) // 2):
                j = 2 * i
                a[j] = a[j + 1]
        """)
    assert carried_deps(la, "a") == []


def test_invariant_element_every_iteration() -> None:
    la = loop("""
        def k(a, b):
            for i in range(len(b)):
                a[0] = a[0] + b[i]
        """)
    assert ("RAW", None, "provable") in carried_deps(la, "a")
    assert any(d.reason == "the same element in every iteration" for d in la.array_deps)


def test_write_through_index_array() -> None:
    la = loop("""
        def k(a, idx, v):
            for i in range(len(idx)):
                a[idx[i]] = v[i]
        """)
    assert carried_deps(la, "a") == [("WAW", None, "assumed")]
    (dep,) = [d for d in la.array_deps if d.carried]
    assert "index through data (idx[i])" in dep.reason
    assert la.segments[0].assumed
    # the one statement is the whole iteration
    assert la.verdict.kind is VerdictKind.REFUSED
    assert la.verdict.deciding == ("a[] written across iterations (line 3; assumed: index through data (idx[i]))",)


def test_scatter_with_work_outside_is_helix() -> None:
    la = loop("""
        import math

        def k(a, idx, v):
            for i in range(len(idx)):
                x = math.sqrt(v[i] * v[i] + 1.0)
                a[idx[i]] = x
        """)
    assert la.verdict.kind is VerdictKind.HELIX
    assert la.verdict.text == "HELIX: 1 segment: a[] carried on every path (line 6)"


def test_histogram_through_data() -> None:
    la = loop("""
        def k(block, hist):
            for i in range(len(block)):
                hist[block[i]] += 1
        """)
    kinds = {k for k, _, c in carried_deps(la, "hist") if c == "assumed"}
    assert kinds == {"RAW", "WAR", "WAW"}


def test_read_only_arrays_carry_nothing() -> None:
    la = loop("""
        def k(a, idx):
            s = 0
            for i in range(len(idx)):
                s += a[idx[i]] + a[idx[i] + 1]
            return s
        """)
    assert la.array_deps == []


def test_2d_inner_loop() -> None:
    a = analyze("""
        def k(a, n, m):
            for i in range(n):
                for j in range(1, m):
                    a[i, j] = a[i, j - 1] + 1
        """)
    outer, inner = a.loops["k/L1"], a.loops["k/L1.1"]
    assert carried_deps(outer, "a") == []  # dimension 0 proves different rows
    assert outer.verdict.kind is VerdictKind.DOALL
    assert carried_deps(inner, "a") == [("RAW", 1, "provable")]
    assert inner.verdict.kind is VerdictKind.REFUSED


def test_2d_chained_subscripts() -> None:
    la = loop("""
        def k(a, n, m):
            for i in range(1, n):
                for j in range(m):
                    a[i][j] = a[i - 1][j] + 1
        """)
    assert ("RAW", 1, "assumed") in carried_deps(la, "a")  # distance 1 in i; j is free


def test_inner_loop_variables_are_free_for_outer() -> None:
    a = analyze("""
        def k(a, b, n, m):
            for i in range(n):
                for j in range(m):
                    a[j] = a[j] + b[i, j]
        """)
    outer, inner = a.loops["k/L1"], a.loops["k/L1.1"]
    assert {"RAW", "WAR", "WAW"} <= {k for k, _, _ in carried_deps(outer, "a")}
    assert inner.verdict.kind is VerdictKind.DOALL
    assert outer.verdict.kind is VerdictKind.REFUSED


def test_negative_subscript_assumption_is_recorded() -> None:
    a = analyze("""
        def k(a):
            for i in range(len(a)):
                a[i] = a[i - 1] + 1
        """)
    assert any("wrap around" in s for s in a.assumptions)


# -- early exits ---------------------------------------------------------------------------------------


def test_while_with_data_dependent_break() -> None:
    la = loop("""
        def k(a, out, limit):
            i = 0
            total = 0
            while i < len(a):
                x = a[i] * 2
                if x > limit:
                    break
                out[i] = x + 1
                total += x
                i += 1
            return i, total
        """)
    assert la.has_early_exit and not la.counted and la.exit_lines == (7,)
    prologue = la.segments[0]
    assert prologue.prologue and {4, 5, 6} <= set(prologue.lines)
    assert 8 not in prologue.lines and 9 not in prologue.lines
    assert any(s.exit for s in la.sccs)
    assert la.verdict.kind is VerdictKind.HELIX  # out[i] and total run after the exit test


def test_return_inside_loop() -> None:
    la = loop("""
        def k(a, key):
            for i in range(len(a)):
                if a[i] == key:
                    return i
            return -1
        """)
    assert la.has_early_exit and la.exit_lines == (4,) and not la.counted
    assert la.segments[0].prologue
    assert la.verdict.kind is VerdictKind.REFUSED  # the search is nothing but its exit test


def test_break_in_inner_loop_exits_only_inner() -> None:
    a = analyze("""
        def k(a, out, n, m):
            for i in range(n):
                j = 0
                while j < m:
                    if a[i, j] < 0:
                        break
                    j += 1
                out[i] = j
        """)
    outer, inner = a.loops["k/L1"], a.loops["k/L1.1"]
    assert not outer.has_early_exit and outer.verdict.kind is VerdictKind.DOALL
    assert inner.has_early_exit and inner.exit_lines == (6,)


# -- nesting and helpers -------------------------------------------------------------------------------


def test_nested_loops_differ() -> None:
    a = analyze("""
        def k(x, rows, n, m):
            for i in range(n):
                s = 0.0
                for j in range(m):
                    s = s + x[i, j]
                rows[i] = s
        """)
    outer, inner = a.loops["k/L1"], a.loops["k/L1.1"]
    assert outer.verdict.kind is VerdictKind.DOALL and cls(outer, "s") is ScalarClass.PRIVATE
    assert inner.verdict.kind is VerdictKind.DOALL and cls(inner, "s") is ScalarClass.REDUCTION
    assert inner.float_reductions == ("s",)
    assert inner.parent == "k/L1" and outer.parent is None
    assert list(a.loops) == ["k/L1", "k/L1.1"]


def test_helper_writing_an_array() -> None:
    a = analyze("""
        def bump(h, v):
            h[v] += 1

        def scatter(h, v, i):
            h[i] = v

        def k(h, keys, out):
            for i in range(len(keys)):
                bump(h, keys[i])
            for i in range(len(keys)):
                scatter(out, keys[i], i)
        """)
    first, second = a.loops["k/L1"], a.loops["k/L2"]
    assert first.helper_calls == ("bump",)
    assert {"RAW", "WAR", "WAW"} <= {k for k, _, _ in carried_deps(first, "h")}
    assert first.verdict.kind is not VerdictKind.DOALL
    # the helper writes out[i] at the caller's i: mapped back, no dependence
    assert carried_deps(second, "out") == []
    assert second.verdict.kind is VerdictKind.DOALL
    summary = a.helpers["scatter"]
    assert summary.written == ["h"] and summary.writes[0][1] is not None


def test_helper_unknown_index_write() -> None:
    la = loop("""
        def fill(h, n):
            j = 0
            while j < n:
                h[j] = 0
                j += 1

        def k(h, a):
            for i in range(len(a)):
                fill(h, a[i])
        """)
    deps = [d for d in la.array_deps if d.carried and d.array == "h"]
    assert deps and all(d.certainty == "assumed" for d in deps)
    assert "inside fill()" in deps[0].reason


def test_unsummarizable_helper_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    real = calls_module.build_cfg

    def broken(km, name, summaries, known=None):  # type: ignore[no-untyped-def]
        if name == "helper":
            raise RuntimeError("boom")
        return real(km, name, summaries, known)

    monkeypatch.setattr(calls_module, "build_cfg", broken)
    la = loop("""
        def helper(a, i):
            a[i] = 0

        def k(a):
            for i in range(len(a)):
                helper(a, i)
        """)
    assert la.verdict.kind is VerdictKind.REFUSED
    assert la.verdict.text == "REFUSED: calls helper() (line 6), which cannot be summarized"


def test_tuple_results_of_helper_are_defs() -> None:
    la = loop("""
        def minmax(a, lo, hi):
            return a[lo], a[hi]

        def k(a, lo, hi, out):
            for i in range(len(out)):
                x, y = minmax(a, lo[i], hi[i])
                out[i] = x - y
        """)
    assert cls(la, "x") is ScalarClass.PRIVATE and cls(la, "y") is ScalarClass.PRIVATE
    assert la.verdict.kind is VerdictKind.DOALL


# -- graph, segments and explain -----------------------------------------------------------------------


def test_segments_merge_on_shared_data() -> None:
    la = loop("""
        def k(a, out, log):
            n = 0
            m = 0
            for i in range(len(a)):
                if a[i] > 0:
                    out[n] = a[i]
                    n += 1
                if a[i] < -5:
                    log[m] = i
                    m += 1
            return n, m
        """)
    assert la.verdict.kind is VerdictKind.HELIX
    assert [s.scalars for s in la.segments] == [("n",), ("m",)]
    assert [s.arrays for s in la.segments] == [("out",), ("log",)]


def test_reader_of_carried_value_stays_outside_segment() -> None:
    la = loop("""
        def k(nxt, val, out, p):
            i = 0
            while p != -1:
                out[i] = val[p] * 2
                p = nxt[p]
                i += 1
        """)
    (seg,) = la.segments
    assert seg.prologue and seg.lines == (3, 5)  # the walk, not the work on each node
    assert la.verdict.kind is VerdictKind.HELIX


def test_explain_table() -> None:
    a = analyze("""
        def k(a, out):
            n = 0
            for i in range(len(a)):
                if a[i] > 0:
                    out[n] = i
                    n += 1
            s = 0
            for i in range(len(a)):
                s += a[i]
            return n, s
        """)
    text = format_explain(a)
    lines = text.splitlines()
    assert lines[0] == "t.py::k"
    assert lines[1].split() == ["loop", "line", "kind", "verdict", "segs", "deciding", "dependences"]
    assert lines[2].split()[:5] == ["k/L1", "3", "for", "HELIX", "1"]
    assert "n, out[] carried on one path (lines 5-6)" in lines[2]
    assert any(l.split()[:5] == ["k/L2", "8", "for", "DOALL", "0"] and "s int reduction (+)" in l for l in lines)
    assert text.splitlines()[-1].startswith("assumes: array parameters a, out do not overlap")
    assert "@" not in text and "~" not in text  # no internal names


def test_deps_of_kind_enum() -> None:
    la = loop("""
        def k(a):
            for i in range(1, len(a)):
                a[i] = a[i - 1]
        """)
    assert all(isinstance(d.kind, DepKind) for d in la.array_deps)


def test_unconditional_return_is_an_exit() -> None:
    # no branch decides this exit, yet a second iteration must never run: not DOALL
    la = loop("""
        def k(a):
            for i in range(len(a)):
                a[i] = 1
                return i
            return -1
        """)
    assert la.has_early_exit and la.exit_lines == (4,)
    assert la.verdict.kind is not VerdictKind.DOALL and la.segments[0].prologue


def test_while_true_with_break() -> None:
    la = loop("""
        def k(a, n):
            i = 0
            while True:
                if a[i] == n:
                    break
                a[i] = 0
                i += 1
            return i
        """)
    assert la.exit_lines == (3, 5) and not la.counted
    assert la.verdict.kind is VerdictKind.HELIX and la.segments[0].prologue
    assert 6 not in la.segments[0].lines  # the store runs after the exit test


def test_local_array_alias() -> None:
    la = loop("""
        def k(a, b):
            c = a
            for i in range(len(b)):
                c[i + 1] = a[i] + b[i]
        """)
    assert carried_deps(la, "a") == [("RAW", 1, "provable")]


def test_reader_before_update_reads_previous_value() -> None:
    la = loop("""
        def k(a, out):
            s = 0
            for i in range(len(a)):
                out[i] = s
                s += a[i]
            return s
        """)
    assert cls(la, "s") is ScalarClass.CARRIED
    (seg,) = la.segments
    assert seg.lines == (5,)  # the store of the old value can follow the segment
    assert la.verdict.kind is VerdictKind.HELIX


def test_no_loops() -> None:
    a = analyze("""
        def k(a, n):
            return n + 1
        """)
    assert a.loops == {} and "(no loops)" in format_explain(a)


def test_helper_mapped_subscript_keeps_distance() -> None:
    la = loop("""
        def put(out, v, j):
            out[j] = v

        def k(out, a):
            for i in range(len(a) - 1):
                put(out, out[i] + a[i], i + 1)
        """)
    assert carried_deps(la, "out") == [("RAW", 1, "provable")]


def test_symbolic_step_keeps_unknown_distance() -> None:
    la = loop("""
        def k(a, s):
            for i in range(0, len(a) - 1, s):
                a[i] = a[i + 1]
        """)
    assert carried_deps(la, "a") == [("RAW", None, "assumed"), ("WAR", None, "assumed")]
    same = loop("""
        def k(a, s):
            for i in range(0, len(a), s):
                a[i] = a[i] + 1
        """)
    assert carried_deps(same, "a") == []


def test_induction_after_its_update() -> None:
    la = loop("""
        def k(a, n):
            j = 0
            while j < n:
                j += 1
                a[j] = a[j - 1] * 2
        """)
    assert cls(la, "j") is ScalarClass.INDUCTION
    assert carried_deps(la, "a") == [("RAW", 1, "provable")]


def test_element_updated_by_inner_loop_is_not_carried_by_outer() -> None:
    a = analyze("""
        def k(a, b, n):
            for i in range(n):
                for j in range(len(b)):
                    a[i] += b[j]
        """)
    assert carried_deps(a.loops["k/L1"], "a") == []
    assert a.loops["k/L1"].verdict.kind is VerdictKind.DOALL
    assert ("RAW", None, "provable") in carried_deps(a.loops["k/L1.1"], "a")  # one element, every iteration
