"""Loop dependence analysis and per-loop verdicts, at the source level (LibCST).

One entry point, :func:`analyze_kernel`, runs for every loop of a kernel (nested ones too):

    cfg       statement-level CFG (+ helper summaries from ``calls``)
    scalars   def-use chains per loop; private / induction / reduction / carried, live-out
    arrays    affine subscripts, ZIV / strong SIV / GCD tests, assumed dependences
    graph     the loop dependence graph, Tarjan SCCs, NOELLE classes
    verdict   segments (finest, merged on shared data) and DOALL / HELIX / REFUSED

Example::

    >>> km = load_module(open("samples/mcf_pricing.py").read(), "mcf_pricing.py")
    >>> a = analyze_kernel(km, "mcf_pricing")
    >>> a.loops["mcf_pricing/L1"].verdict.text
    'HELIX: 1 segment: nb, bask_arc[], bask_rc[] carried on one path (lines 37-39)'
    >>> print(format_explain(a))          # the table of `helixrc transform --explain`
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import libcst as cst

from helixrc.passes.analysis.arrays import array_dependences, assume_no_carried
from helixrc.passes.analysis.calls import summarize_helpers
from helixrc.passes.analysis.cfg import CFG, LoopNode, build_cfg
from helixrc.passes.analysis.explain import format_details, format_explain
from helixrc.passes.analysis.graph import build_graph, scc_infos
from helixrc.passes.analysis.model import (
    AccessRef,
    ArrayDep,
    DepKind,
    HelperSummary,
    KernelAnalysis,
    LoopAnalysis,
    ScalarClass,
    ScalarInfo,
    SCCClass,
    SCCInfo,
    Segment,
    Verdict,
    VerdictKind,
)
from helixrc.passes.analysis.scalars import LoopFacts, classify_scalars, infer_kinds
from helixrc.passes.analysis.verdict import decide, propose_segments
from helixrc.passes.frontend import KernelModule, check_kernel
from helixrc.passes.ir import ArrayType, Scalar
from helixrc.passes.types import FnSig, TypeChecker

__all__ = [
    "AccessRef", "ArrayDep", "DepKind", "HelperSummary", "KernelAnalysis", "LoopAnalysis",
    "ScalarClass", "ScalarInfo", "SCCClass", "SCCInfo", "Segment", "Verdict", "VerdictKind",
    "analyze_kernel", "format_details", "format_explain",
]  # fmt: skip


def analyze_kernel(
    module: KernelModule,
    name: str,
    arg_types: Sequence[Scalar | ArrayType] | None = None,
    assume_independent: Mapping[str, Collection[str]] | None = None,
) -> KernelAnalysis:
    """Analyse every loop of kernel ``name`` (validated first; a LanguageError propagates).

    With ``arg_types`` the variable types come from the type checker (exact int/float);
    without, from literals and usage, and an unknown accumulator counts as float.
    ``assume_independent`` maps loop ids to arrays whose loop-carried dependences the user asserts
    away (a plan's ``assume_independent``; the transform checks it at run time).
    """
    order = check_kernel(module, name)
    summaries = summarize_helpers(module, order[:-1])
    known = None
    if arg_types is not None:
        known = TypeChecker(module).infer(FnSig(name, tuple(arg_types))).vars
    cfg = build_cfg(module, name, summaries, known)
    kinds = infer_kinds(cfg, known)
    assumed = assume_independent or {}
    loops = {lid: _analyze_loop(cfg, loop, kinds, frozenset(assumed.get(lid, ()))) for lid, loop in cfg.loops.items()}
    return KernelAnalysis(name, module.filename, loops, _assumptions(loops), summaries)


def _analyze_loop(cfg: CFG, loop: LoopNode, kinds: dict[str, str], independent: frozenset[str]) -> LoopAnalysis:
    nodes = cfg.nodes
    facts = LoopFacts(cfg, loop).compute()
    scalars = classify_scalars(facts, kinds)
    arrays = array_dependences(facts, scalars)
    if independent:
        arrays = assume_no_carried(arrays, independent)
    graph = build_graph(facts, scalars, arrays)
    exit_nodes = [*loop.breaks, *loop.returns]
    if isinstance(loop.stmt, cst.While) and not scalars.governed:
        exit_nodes.insert(0, loop.header)
    exit_lines = tuple(sorted({nodes[n].line for n in exit_nodes}))
    segments = propose_segments(facts, scalars, arrays, graph, exit_lines)
    opaque = [(c, nodes[n].line) for n in sorted(loop.body) for c in nodes[n].opaque_calls]
    verdict, share = decide(facts, scalars, graph, segments, opaque)
    calls = tuple(sorted({c for n in loop.body for c in nodes[n].calls}))
    written = tuple(sorted({a.array for n in loop.body for a in nodes[n].accesses if a.write}))
    floats = tuple(sorted(v for v, i in scalars.infos.items() if i.needs_reassociation))
    return LoopAnalysis(
        id=loop.id,
        kind=loop.info.kind,
        loc=loop.info.loc,
        parent=loop.info.parent.id if loop.info.parent else None,
        counted=scalars.governed and not (loop.breaks or loop.returns),
        governed=scalars.governed,
        has_early_exit=bool(exit_nodes),
        exit_lines=exit_lines,
        scalars=scalars.infos,
        array_deps=arrays.deps,
        sccs=scc_infos(graph, facts, scalars),
        segments=segments,
        verdict=verdict,
        float_reductions=floats,
        assumed_no_alias=tuple(arrays.no_alias),
        assumptions=tuple(arrays.assumptions),
        parallel_share=share,
        helper_calls=calls,
        written_arrays=written,
    )


def _assumptions(loops: dict[str, LoopAnalysis]) -> list[str]:
    out: list[str] = []
    pairs = sorted({p for loop in loops.values() for p in loop.assumed_no_alias})
    if pairs:
        names = sorted({x for p in pairs for x in p})
        out.append(
            f"array parameters {', '.join(names)} do not overlap in memory "
            f"({len(pairs)} pair{'s' if len(pairs) != 1 else ''} with a write; the transformed code checks "
            "at run time and runs the original loop if they do)"
        )
    for loop in loops.values():
        out += [a for a in loop.assumptions if a not in out]
    return out
