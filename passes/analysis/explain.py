"""The verdict table of ``helixrc transform --explain``: one row per loop, its segments below.

::

    samples/dfa_match_batch.py::dfa_match_batch
    loop                  line  kind   verdict  segs  deciding dependences
    dfa_match_batch/L1      27  for    HELIX       1  [0] nhit, out[] carried on one path (lines 35-36)
                                                          nhit carried (line 36)
                                                          out[] written across iterations (line 35; assumed: ...)
    dfa_match_batch/L1.1    31  while  REFUSED     1  loop exit, s carried on every path (lines 31-32): the
                                                      segment would span the whole iteration
    assumes: array parameters delta, out, rec_lo, text do not overlap in memory (...)

:func:`format_details` lists everything per loop (scalar classes, dependences, SCCs) for reviews.
"""

from __future__ import annotations

from helixrc.passes.analysis.model import KernelAnalysis, LoopAnalysis, VerdictKind
from helixrc.passes.analysis.scalars import fmt_lines


def format_explain(analysis: KernelAnalysis, details: bool = True) -> str:
    """The verdict table; ``details`` adds each segment's deciding dependences."""
    rows: list[tuple[str, str, str, str, str, list[str]]] = []
    for loop in analysis.loops.values():
        rows.append((loop.id, str(loop.loc.line), loop.kind, loop.verdict.kind.value,
                     str(len(loop.segments)), _deciding(loop, details)))  # fmt: skip
    head = ("loop", "line", "kind", "verdict", "segs")
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(5)]
    lines = [f"{analysis.filename}::{analysis.kernel}"]

    def row(cells: tuple[str, ...], last: str) -> str:
        a, b, c, d, e = cells
        return (
            f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:<{widths[2]}}  {d:<{widths[3]}}  {e:>{widths[4]}}  {last}"
        ).rstrip()

    lines.append(row(head, "deciding dependences"))
    indent = " " * (sum(widths) + 10)
    for *cells, deciding in rows:
        first = deciding[0] if deciding else "-"
        lines.append(row(tuple(cells), first))
        lines += [indent + d for d in deciding[1:]]
    if not rows:
        lines.append("(no loops)")
    for a in analysis.assumptions:
        lines.append(f"assumes: {a}")
    return "\n".join(lines)


def _deciding(loop: LoopAnalysis, details: bool) -> list[str]:
    v = loop.verdict
    out: list[str] = []
    if v.kind is VerdictKind.DOALL:
        return list(v.deciding) or ["no loop-carried dependence"]
    if v.kind is VerdictKind.REFUSED and not loop.segments:
        return list(v.deciding)
    if v.kind is VerdictKind.REFUSED:
        out.append(v.text.split(": ", 1)[1])
        if details:
            out += [f"    {d}" for s in loop.segments for d in s.deciding]
        return out
    for s in loop.segments:
        out.append(f"[{s.index}] {s.summary}")
        if details:
            out += [f"    {d}" for d in s.deciding]
    reductions = [d for d in v.deciding if "reduction" in d]
    out += [f"+ {r}" for r in reductions]
    return out


def format_details(analysis: KernelAnalysis) -> str:
    """Everything per loop, for reviews and golden files: scalar classes, array dependences,
    SCCs, segments, verdict."""
    out: list[str] = []
    for loop in analysis.loops.values():
        flags = [loop.kind, "counted" if loop.counted else "not counted"]
        if loop.has_early_exit:
            flags.append(f"exits at {fmt_lines(loop.exit_lines)}")
        out.append(f"loop {loop.id} (line {loop.loc.line}; {', '.join(flags)})")
        out.append("  scalars:")
        width = max((len(v) for v in loop.scalars), default=1)
        for v, info in sorted(loop.scalars.items()):
            out.append(f"    {v:<{width}}  {info.cls.value:<9}  {info.reason}")
        if loop.array_deps:
            out.append("  array dependences:")
            for d in loop.array_deps:
                out.append(f"    {d.describe()}")
        out.append("  sccs:")
        for c in loop.sccs:
            kind = c.cls.value + (f" ({c.op})" if c.op else "") + (", exit" if c.exit else "")
            out.append(f"    {c.index:>2} {kind:<28} {fmt_lines(c.lines):<14} {c.reason}")
        for seg in loop.segments:
            out.append(f"  segment {seg.index}{' (prologue)' if seg.prologue else ''}: {seg.summary}")
        out.append(f"  verdict: {loop.verdict.text}")
    out += [f"assumes: {a}" for a in analysis.assumptions]
    return "\n".join(out)
