"""The analysis of the benchmark kernels matches BENCHMARKS.md (the expected dependence pattern
and verdict of each). Loops are found by a statement they contain, not by id, so samples may gain
an enclosing loop (vpr, twolf) without breaking these tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from helixrc.args import signature_of
from helixrc.passes.analysis import (
    KernelAnalysis,
    LoopAnalysis,
    ScalarClass,
    Segment,
    VerdictKind,
    analyze_kernel,
    format_explain,
)
from helixrc.passes.frontend import load_file
from helixrc.resolve import import_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
HELIX, DOALL, REFUSED = VerdictKind.HELIX, VerdictKind.DOALL, VerdictKind.REFUSED


@lru_cache(maxsize=None)
def analysis(stem: str, kernel: str | None = None, typed: bool = False) -> KernelAnalysis:
    path = SAMPLES / f"{stem}.py"
    types = signature_of(import_file(str(path)).make_inputs("small", 1)) if typed else None
    return analyze_kernel(load_file(path), kernel or stem, types)


def line_of(stem: str, statement: str, kernel: str | None = None) -> int:
    """The only line of the kernel's source that contains ``statement``."""
    km = load_file(SAMPLES / f"{stem}.py")
    span = km.loc(km.functions[kernel or stem])
    lines = [i for i, text in enumerate(km.source.splitlines(), 1)
             if span.line <= i <= span.end_line and statement in text]  # fmt: skip
    assert len(lines) == 1, f"{statement!r} occurs at lines {lines} of {stem}.py"
    return lines[0]


def loop_at(stem: str, statement: str, kernel: str | None = None, typed: bool = False) -> LoopAnalysis:
    """The innermost loop of the kernel containing ``statement``."""
    line = line_of(stem, statement, kernel)
    a = analysis(stem, kernel, typed)
    inside = [la for la in a.loops.values() if la.loc.line <= line <= la.loc.end_line]
    assert inside, f"no loop of {stem} contains line {line}"
    return max(inside, key=lambda la: la.id.count("."))


def outermost(stem: str, kernel: str | None = None) -> LoopAnalysis:
    return next(la for la in analysis(stem, kernel).loops.values() if la.parent is None)


def segment_with(la: LoopAnalysis, name: str) -> Segment:
    found = [s for s in la.segments if name in s.scalars or name in s.arrays]
    assert len(found) == 1, (name, la.verdict.text)
    return found[0]


def cls(la: LoopAnalysis, var: str) -> ScalarClass:
    return la.scalars[var].cls


def test_mcf_pricing_one_path_segment() -> None:
    la = loop_at("mcf_pricing", "nb += 1")
    assert la.kind == "while" and la.counted and cls(la, "a") is ScalarClass.INDUCTION
    assert la.verdict.kind is HELIX and len(la.segments) == 1
    (seg,) = la.segments
    assert seg.scalars == ("nb",) and seg.arrays == ("bask_arc", "bask_rc") and not seg.every_path
    first, last = line_of("mcf_pricing", "nb += 1"), line_of("mcf_pricing", "bask_rc[nb] = rc")
    assert seg.lines == tuple(range(first, last + 1))
    assert la.verdict.text == (
        f"HELIX: 1 segment: nb, bask_arc[], bask_rc[] carried on one path (lines {first}-{last})"
    )


def test_art_outer_argmax_inner_float_sum() -> None:
    outer = loop_at("art_f2_match", "win = j")
    inner = loop_at("art_f2_match", "s += float(bu[i, j]) * p[i]")
    assert outer.verdict.kind is DOALL and inner.verdict.kind is DOALL
    best = outer.scalars["best"]
    assert best.cls is ScalarClass.REDUCTION and best.op == "argmax" and best.ties == "first"
    assert best.partners == ("win",) and cls(outer, "s") is ScalarClass.PRIVATE
    s = inner.scalars["s"]
    assert s.cls is ScalarClass.REDUCTION and s.op == "+" and s.is_float and s.needs_reassociation
    assert inner.float_reductions == ("s",)


def test_kv_tree_outer_doall_found_reduction() -> None:
    la = outermost("kv_tree_batch_get")
    assert la.verdict.kind is DOALL
    found = la.scalars["found"]
    assert found.cls is ScalarClass.REDUCTION and found.op == "+" and found.is_float is False
    assert la.verdict.text == f"DOALL: found int reduction (+) (line {line_of('kv_tree_batch_get', 'found += 1')})"
    # the descents are while loops with exits of their own; for the query loop they are inner work
    assert not la.has_early_exit
    for inner in analysis("kv_tree_batch_get").loops.values():
        if inner.parent is not None:
            assert inner.kind == "while" and inner.has_early_exit


def test_dfa_one_path_segment() -> None:
    la = loop_at("dfa_match_batch", "nhit += 1")
    assert la.parent is None and la.verdict.kind is HELIX
    (seg,) = la.segments
    assert seg.scalars == ("nhit",) and seg.arrays == ("out",) and not seg.every_path
    assert cls(la, "s") is ScalarClass.PRIVATE and cls(la, "pos") is ScalarClass.PRIVATE


def test_topk_tail_segment() -> None:
    la = loop_at("topk_bm25", "hdoc[0] = d")
    assert la.verdict.kind is HELIX
    (seg,) = la.segments
    assert set(seg.arrays) == {"heap", "hdoc"} and seg.assumed
    # the scoring before it is outside: the segment starts at the compare with heap[0]
    assert min(seg.lines) == line_of("topk_bm25", "if s > heap[0]:")
    assert la.helper_calls == ("sift_down",)


def test_parser_memo_probe() -> None:
    la = loop_at("parser_memo_probe", "total += val[e] * wgt[q]")
    assert la.verdict.kind is HELIX
    total = la.scalars["total"]
    assert total.cls is ScalarClass.REDUCTION and total.op == "+" and total.is_float is False
    assert cls(la, "nfree") is ScalarClass.CARRIED
    seg = segment_with(la, "nfree")
    assert {"bucket", "enext"} <= set(seg.arrays)
    # the inserts happen on the miss path only; the lookups of later iterations must see them
    assert line_of("parser_memo_probe", "bucket[h] = e") in seg.lines
    dep = next(d for d in la.array_deps if d.array == "bucket" and d.carried and d.kind.value == "RAW")
    assert dep.certainty == "assumed"


def test_bzip2_mtf_order_carried_every_iteration() -> None:
    la = loop_at("bzip2_mtf", "zrun += 1")
    assert la.verdict.kind in (HELIX, REFUSED)
    order = segment_with(la, "order")
    assert order.every_path and order.assumed
    runs = segment_with(la, "zrun")
    assert {"zrun", "wr"} <= set(runs.scalars) and {"out", "freq"} <= set(runs.arrays)
    assert la.helper_calls == ("emit_runs",)


def test_mcf_refresh_potential_refused() -> None:
    la = outermost("mcf_refresh_potential")
    assert la.verdict.kind is REFUSED
    assert la.segments[0].prologue and "node" in la.segments[0].scalars
    assert "the segment would span the whole iteration" in la.verdict.text
    assert cls(la, "node") is ScalarClass.CARRIED


def test_bzip2_bigram_sequential_on_ftab() -> None:
    la = loop_at("bzip2_bigram_hist", "ftab[j] += 1")
    assert la.verdict.kind is REFUSED
    assert cls(la, "j") is ScalarClass.CARRIED
    ftab = [d for d in la.array_deps if d.array == "ftab" and d.carried]
    assert {d.kind.value for d in ftab} == {"RAW", "WAR", "WAW"}
    assert all(d.certainty == "assumed" and "index through data (j)" in d.reason for d in ftab)


def test_ammp_outer_refused_inner_reductions_and_scatter() -> None:
    outer = outermost("ammp_pair_forces")
    inner = loop_at("ammp_pair_forces", "gx[b] -= f * dx")
    assert outer.verdict.kind is REFUSED
    gx = [d for d in outer.array_deps if d.array == "gx" and d.carried]
    assert any(d.kind.value == "RAW" for d in gx) and all(d.certainty == "assumed" for d in gx)
    assert inner.parent == outer.id and inner.verdict.kind is HELIX
    for v in ("vp", "fx", "fy", "fz"):
        info = inner.scalars[v]
        assert info.cls is ScalarClass.REDUCTION and info.is_float and info.needs_reassociation
    assert inner.float_reductions == ("fx", "fy", "fz", "vp")
    scatter = segment_with(inner, "gx")
    assert scatter.assumed and not scatter.every_path
    close = segment_with(inner, "nc")
    assert close.arrays == ("close",) and not close.every_path


def test_gzip_longest_match_carried_with_early_exit() -> None:
    la = outermost("gzip_longest_match", "gzip_longest_match")
    assert la.verdict.kind is REFUSED and la.has_early_exit and not la.counted
    assert line_of("gzip_longest_match", "while cur > limit and budget > 0:") in la.exit_lines
    assert cls(la, "best") is ScalarClass.CARRIED and cls(la, "cur") is ScalarClass.CARRIED
    # budget = max_chain: int only once the signature says so (a float would not recompute exactly)
    assert cls(la, "budget") is ScalarClass.CARRIED
    typed = analysis("gzip_longest_match", "gzip_longest_match", typed=True).loops[la.id]
    assert cls(typed, "budget") is ScalarClass.INDUCTION and typed.verdict.kind is REFUSED
    prologue = la.segments[0]
    assert prologue.prologue and {"best", "cur"} <= set(prologue.scalars)


def test_gzip_norej_is_conservative() -> None:
    # The break depends on the byte compare, so the exit slice holds it; speculating the
    # read-only compare past an exit is not something this analysis does.
    la = outermost("gzip_longest_match", "gzip_longest_match_norej")
    assert la.verdict.kind is REFUSED and la.has_early_exit


def test_vpr_net_loop() -> None:
    la = loop_at("vpr_affected_nets", "bbi += 1")
    assert la.verdict.kind is HELIX
    assert cls(la, "bbi") is ScalarClass.CARRIED
    delta = la.scalars["delta"]
    assert delta.cls is ScalarClass.REDUCTION and delta.is_float and la.float_reductions == ("delta",)
    bbi = segment_with(la, "bbi")
    assert not bbi.every_path and "nb" in bbi.arrays
    tmp = segment_with(la, "tmp_cost")
    assert tmp.assumed  # distinct nets at run time, but nothing proves it
    if la.parent is not None:  # the move loop around it is sequential by construction
        assert analysis("vpr_affected_nets").loops[la.parent].verdict.kind is REFUSED


def test_twolf_terminal_loop() -> None:
    la = loop_at("twolf_new_dbox", "dflag[net] = 0")
    assert la.kind == "while" and la.has_early_exit and la.verdict.kind is HELIX
    assert la.segments[0].prologue and la.segments[0].scalars == ("t",)
    assert cls(la, "cost") is ScalarClass.REDUCTION and la.scalars["cost"].is_float is False
    assert segment_with(la, "dflag").assumed
    pins = loop_at("twolf_new_dbox", "p = pin_next[p]")
    assert pins.parent == la.id
    if la.parent is not None:
        assert analysis("twolf_new_dbox").loops[la.parent].verdict.kind is REFUSED


@pytest.mark.parametrize("stem", ["mcf_pricing", "topk_bm25", "ammp_pair_forces", "parser_memo_probe"])
def test_signature_types_agree(stem: str) -> None:
    untyped, typed = analysis(stem), analysis(stem, typed=True)
    assert [la.verdict.text for la in untyped.loops.values()] == [la.verdict.text for la in typed.loops.values()]


def test_every_sample_explains() -> None:
    for path in sorted(SAMPLES.glob("*.py")):
        module = import_file(str(path))
        if not hasattr(module, "make_inputs"):
            continue
        for kernel in getattr(module, "KERNELS", (path.stem,)):
            a = analysis(path.stem, kernel)
            text = format_explain(a)
            assert text.splitlines()[0].endswith(f"::{kernel}")
            assert len(a.loops) >= 1
            for la in a.loops.values():
                assert la.id in text and la.verdict.text
                assert "@" not in la.verdict.text and "~" not in la.verdict.text
