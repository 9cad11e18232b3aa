"""Sequential segments and the per-loop verdict: DOALL, HELIX (with segments) or REFUSED.

Segments start at the finest split, one per sequential component of the dependence graph, then
merge where they share data: a loop-carried scalar (a shared cell may be touched in one segment
only) or an array with a loop-carried dependence. The segment holding the loop's exit decision
is the prologue, segment 0. A loop is refused when a helper it calls cannot be summarized, or when
the segments would span the whole iteration: on every path through the body, after hoisting and
sinking the code that does not depend on them, less than ``MIN_PARALLEL_SHARE`` of the static work
lies outside the segments::

    while cur > limit and budget > 0:  REFUSED: loop exit, best, best_at, cur carried on every
        if win[cur + best] == ...:       path (lines 40-50): the segment would span the whole
        ...                              iteration (the exit test needs cur, the break needs best)
        cur = int(prev[cur & wmask])

    while a < n_arcs:                  HELIX: 1 segment: nb, bask_arc[], bask_rc[] carried on one
        if ...: nb += 1; bask_arc[nb] = a  path (lines 37-39)
        a += n_groups
"""

from __future__ import annotations

from dataclasses import dataclass

from helixrc.passes.analysis.arrays import ArrayResult
from helixrc.passes.analysis.cfg import LOOP_FACTOR
from helixrc.passes.analysis.graph import LoopGraph, touched_vars
from helixrc.passes.analysis.model import (
    ScalarClass,
    ScalarInfo,
    SCCClass,
    Segment,
    Verdict,
    VerdictKind,
)
from helixrc.passes.analysis.scalars import LoopFacts, ScalarResult, fmt_lines

#: below this share of parallel work on every path, the segments span the whole iteration
MIN_PARALLEL_SHARE = 0.1
#: paths enumerated for the reported parallel share (the decision itself needs no enumeration)
MAX_PATHS = 4096


@dataclass
class _Seg:
    comps: list[int]
    nodes: set[int]


def propose_segments(
    facts: LoopFacts, scalars: ScalarResult, arrays: ArrayResult, graph: LoopGraph, exit_lines: tuple[int, ...]
) -> list[Segment]:
    """One segment per sequential component, merged when they share data; prologue first."""
    nodes = facts.cfg.nodes
    seq = [i for i, c in enumerate(graph.components) if c.cls is SCCClass.SEQUENTIAL]
    parent = {i: i for i in seq}

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    def state(i: int) -> set[str]:
        comp = graph.components[i]
        touched = touched_vars(nodes, comp.nodes, graph.phi_var) & scalars.carried
        arrays_ = {a.array + "[]" for n in comp.nodes if n >= 0 for a in nodes[n].accesses} & {
            a + "[]" for a in arrays.carried_arrays
        }
        return touched | arrays_

    owner: dict[str, int] = {}
    for i in seq:
        for s in sorted(state(i)):
            if s in owner:
                a, b = find(owner[s]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[s] = i
    segs: dict[int, _Seg] = {}
    for i in seq:
        seg = segs.setdefault(find(i), _Seg([], set()))
        seg.comps.append(i)
        seg.nodes |= graph.components[i].nodes
    def first_line(s: _Seg) -> int:
        return min((nodes[n].line for n in s.nodes if n >= 0), default=0)

    # the prologue is segment 0; the others in source order (any order is legal: they are
    # independent, each with its own wait/signal)
    prologue = [s for s in segs.values() if any(graph.components[i].exit for i in s.comps)]
    others = sorted((s for s in segs.values() if s not in prologue), key=first_line)
    ordered = prologue + others
    return [_describe(k, s, facts, scalars, arrays, graph, exit_lines) for k, s in enumerate(ordered)]


def _describe(
    k: int, seg: _Seg, facts: LoopFacts, scalars: ScalarResult, arrays: ArrayResult, graph: LoopGraph,
    exit_lines: tuple[int, ...],
) -> Segment:  # fmt: skip
    nodes = facts.cfg.nodes
    cfg_nodes = {n for n in seg.nodes if n >= 0}
    real = {n for n in cfg_nodes if nodes[n].kind not in ("target", "for", "entry", "exit")}
    lines = tuple(sorted({nodes[n].line for n in real or cfg_nodes}))
    prologue = any(graph.components[i].exit for i in seg.comps)
    touched = touched_vars(nodes, seg.nodes, graph.phi_var)
    carried_scalars = tuple(sorted(touched & scalars.carried))
    mem = [e.dep for e in arrays.edges if e.dep.carried and e.src in seg.nodes and e.dst in seg.nodes]
    seg_arrays = tuple(sorted({d.array for d in mem}))
    assumed = any(d.certainty == "assumed" for d in mem)
    every = _every_path(facts, seg.nodes)
    deciding: list[str] = []
    if prologue:
        deciding.append(f"the loop exit ({fmt_lines(exit_lines)})")
    for v in carried_scalars:
        def_lines = sorted({nodes[n].line for n in cfg_nodes if v in nodes[n].defs})
        deciding.append(f"{v} carried ({fmt_lines(def_lines or scalars.infos[v].lines)})")
    for a in seg_arrays:
        deps = [d for d in mem if d.array == a]
        acc_lines = sorted({d.src.line for d in deps} | {d.dst.line for d in deps})
        writes = any(d.src.write or d.dst.write for d in deps)
        reads = any(not d.src.write or not d.dst.write for d in deps)
        verb = "read and written" if reads and writes else "written" if writes else "read"
        # the most telling reason first: a data-dependent index, then an unknown helper index
        unsure = sorted(
            (d for d in deps if d.certainty == "assumed"),
            key=lambda d: (0 if "through data" in d.reason else 1 if "inside" in d.reason else 2),
        )
        if unsure:
            how = f"assumed: {unsure[0].reason}"
        else:
            dists = sorted({d.distance for d in deps if d.distance is not None})
            how = f"distance {', '.join(map(str, dists))}" if dists else deps[0].reason
        deciding.append(f"{a}[] {verb} across iterations ({fmt_lines(acc_lines)}; {how})")
    things = [*(["loop exit"] if prologue else []), *carried_scalars, *(f"{a}[]" for a in seg_arrays)]
    if not things:
        things = ["sequential code"]
    path = "on every path" if every else "on one path"
    summary = f"{_join(things)} carried {path} ({fmt_lines(lines)})"
    if prologue and len(things) == 1:
        summary = f"loop exit {path} ({fmt_lines(lines)})"
    return Segment(k, tuple(sorted(seg.comps)), carried_scalars, seg_arrays, lines, every, prologue,
                   assumed, tuple(deciding), summary)  # fmt: skip


def _join(items: list[str]) -> str:
    return ", ".join(items)


def _every_path(facts: LoopFacts, seg_nodes: set[int]) -> bool:
    """Every path from the start of an iteration to its end (back edge or exit) runs the segment."""
    if facts.header in seg_nodes:
        return True
    nodes = facts.cfg.nodes
    seen: set[int] = set()
    work = [s for s in nodes[facts.header].succ if s in facts.body]
    while work:
        n = work.pop()
        if n in seg_nodes or n in seen:
            continue
        if n == facts.header or n not in facts.body:
            return False
        seen.add(n)
        work.extend(nodes[n].succ)
    return True


# ---------------------------------------------------------------------------------------------
# Span: how much of an iteration the segments would serialize
# ---------------------------------------------------------------------------------------------


def segment_spans(facts: LoopFacts, graph: LoopGraph, segments: list[Segment]) -> set[int]:
    """Nodes that would run between some segment's wait and signal once the code that does not
    depend on the segment (or that the segment does not depend on) is moved out of the way."""
    cfg = facts.cfg
    intra = graph.intra_succ()
    intra_pred: dict[int, set[int]] = {}
    for a, bs in intra.items():
        for b in bs:
            intra_pred.setdefault(b, set()).add(a)
    span: set[int] = set()
    for seg in segments:
        vertices = set().union(*(graph.components[i].nodes for i in seg.sccs))
        s_nodes = {n for n in vertices if n >= 0}
        after = set().union(*(facts.reach(n) for n in s_nodes))
        between = {n for n in after if facts.reach(n) & s_nodes} | s_nodes
        fwd = _closure(vertices, intra)
        bwd = _closure(vertices, intra_pred)
        locked: set[int] = set()
        for child in facts.loop.children:
            body = cfg.loops[child].body
            if body & s_nodes:
                locked |= body
        span |= s_nodes | locked | {n for n in between if n in fwd and n in bwd}
    return span


def _closure(start: set[int], succ: dict[int, set[int]]) -> set[int]:
    seen = set(start)
    work = list(start)
    while work:
        n = work.pop()
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                work.append(m)
    return seen


@dataclass
class _Units:
    weight: dict[object, float]
    seq: dict[object, float]
    #: substantial work outside the segment spans
    par: dict[object, float]
    succ: dict[object, set[object]]
    terminal: set[object]
    start: object


def _units(facts: LoopFacts, scalars: ScalarResult, span: set[int]) -> _Units:
    """The iteration at the loop's own level, inner loops collapsed to one unit each."""
    cfg = facts.cfg
    nodes = cfg.nodes
    lid = facts.loop.id
    free = {ind.node for ind in scalars.inductions.values()}  # recomputed: no work left
    if scalars.governed:
        free.add(facts.header)

    def unit(n: int) -> object:
        return cfg.child_loop(n, lid) or n

    weight: dict[object, float] = {}
    seq: dict[object, float] = {}
    par: dict[object, float] = {}
    succ: dict[object, set[object]] = {}
    terminal: set[object] = set()
    for n in facts.body:
        u = unit(n)
        w = 0.0 if n in free else nodes[n].weight * LOOP_FACTOR ** cfg.loop_depth(n, lid)
        weight[u] = weight.get(u, 0.0) + w
        seq[u] = seq.get(u, 0.0) + (w if n in span else 0.0)
        par[u] = par.get(u, 0.0) + (w if n not in span and nodes[n].substantial else 0.0)
        succ.setdefault(u, set())
        for s in nodes[n].succ:
            if n == facts.header and s not in facts.body:
                continue  # the loop ending at its test is not an iteration
            if s == facts.header or s not in facts.body:
                terminal.add(u)  # the back edge or a loop exit ends the path
                continue
            v = unit(s)
            if v != u:
                succ[u].add(v)
    return _Units(weight, seq, par, succ, terminal, facts.header)


def parallel_share(facts: LoopFacts, scalars: ScalarResult, span: set[int]) -> tuple[bool, float]:
    """(some path keeps at least MIN_PARALLEL_SHARE of its work outside the segments, the best
    path's share as far as enumerated)."""
    u = _units(facts, scalars, span)
    best: dict[object, float] = {}

    def score(x: object) -> float:  # max over paths from x of sum(par - share * weight)
        if x in best:
            return best[x]
        best[x] = float("-inf")  # guards a (never expected) cycle
        par = u.par[x]
        tail = max([score(y) for y in u.succ[x]] + ([0.0] if x in u.terminal or not u.succ[x] else []))
        best[x] = par - MIN_PARALLEL_SHARE * u.weight[x] + tail
        return best[x]

    ok = score(u.start) > 1e-9
    shares: list[float] = []
    stack: list[tuple[object, float, float, int]] = [(u.start, 0.0, 0.0, 0)]
    while stack and len(shares) < MAX_PATHS:
        x, par, tot, depth = stack.pop()
        par += u.par[x]
        tot += u.weight[x]
        if (x in u.terminal or not u.succ[x]) and tot > 0:
            shares.append(par / tot)
        if depth < 10_000:
            stack.extend((y, par, tot, depth + 1) for y in u.succ[x])
    return ok, max(shares, default=0.0)


# ---------------------------------------------------------------------------------------------
# Verdict
# ---------------------------------------------------------------------------------------------


def decide(
    facts: LoopFacts,
    scalars: ScalarResult,
    graph: LoopGraph,
    segments: list[Segment],
    opaque_calls: list[tuple[str, int]],
) -> tuple[Verdict, float]:
    """(the verdict, the static parallel share)."""
    reductions = [i for i in scalars.infos.values() if i.cls is ScalarClass.REDUCTION]
    red_notes = _reduction_notes(reductions)
    if opaque_calls:
        name, line = opaque_calls[0]
        why = f"calls {name}() (line {line}), which cannot be summarized"
        return Verdict(VerdictKind.REFUSED, tuple(segments), (why,), f"REFUSED: {why}"), 0.0
    if not segments:
        text = "DOALL" + (": " + "; ".join(red_notes) if red_notes else "")
        return Verdict(VerdictKind.DOALL, (), tuple(red_notes), text), 1.0
    span = segment_spans(facts, graph, segments)
    ok, share = parallel_share(facts, scalars, span)
    deciding = tuple(d for s in segments for d in s.deciding)
    if not ok:
        what = "; ".join(s.summary for s in segments)
        tail = "the segment would span" if len(segments) == 1 else "the segments would span"
        text = f"REFUSED: {what}: {tail} the whole iteration"
        return Verdict(VerdictKind.REFUSED, tuple(segments), deciding, text), share
    n = len(segments)
    parts = [s.summary if n == 1 else f"[{s.index}] {s.summary}" for s in segments]
    text = f"HELIX: {n} segment{'s' if n > 1 else ''}: " + "; ".join(parts)
    if red_notes:
        text += "; plus " + "; ".join(red_notes)
    return Verdict(VerdictKind.HELIX, tuple(segments), deciding + tuple(red_notes), text), share


def _reduction_notes(reductions: list[ScalarInfo]) -> list[str]:
    notes = []
    done: set[str] = set()
    for r in sorted(reductions, key=lambda r: (min(r.lines, default=0), r.name)):
        if r.name in done:
            continue
        done.update((r.name, *r.partners))
        notes.append(f"{r.describe()} ({fmt_lines(r.lines)})")
    return notes
