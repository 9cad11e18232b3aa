"""The loop dependence graph, its SCCs (Tarjan) and their NOELLE classes.

Vertices are the CFG nodes of one loop (inner loops included) plus one virtual phi per carried
scalar (the value at the start of an iteration, like NOELLE's header PHI: code that only reads a
carried value hangs off the recurrence instead of joining it). Edges are scalar def-use chains,
array dependences and control dependences, each marked loop-carried or not. Carried edges of
induction variables are dropped (the transform recomputes them from the iteration number), and so
is the header's own carried control edge when the loop is counted; every break or return adds a
carried control edge to the header. Components joined by a loop-carried edge are merged
(NOELLE's normalization: producer and consumer of a loop-carried dependence share a segment),
cycles among the merged sets are collapsed, and each set gets a class::

    for i in range(n):          {header}, {i}        induction
        x = a[i] * 2            {x = a[i] * 2}       iteration-independent
        s += x                  {s += x}             reduction (+)
        if x > 3:               {if x > 3}           iteration-independent
            k += 1              {k += 1, phi k}      sequential: k carried (line 8)
            b[k] = x            {b[k] = x}           sequential: b[] WAW across iterations (assumed)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from helixrc.passes.analysis.arrays import ArrayResult
from helixrc.passes.analysis.cfg import CFG, Node
from helixrc.passes.analysis.model import ArrayDep, SCCClass, SCCInfo, ScalarClass
from helixrc.passes.analysis.scalars import LoopFacts, ScalarResult, fmt_lines

IND, RED = "induction", "reduction"


@dataclass(frozen=True)
class Edge:
    src: int
    dst: int
    kind: str  # "data", "memory" or "control"
    #: the variable or array (the branch's line for control edges)
    name: str
    carried: bool
    #: "induction" (dropped: recomputed) or "reduction" (privatized), else None
    tag: str | None = None
    dep: ArrayDep | None = None


@dataclass
class Component:
    nodes: set[int]
    cls: SCCClass = SCCClass.INDEPENDENT
    op: str | None = None
    exit: bool = False
    #: the loop-carried edges inside it (induction ones excluded)
    carried: list[Edge] = field(default_factory=list)


@dataclass
class LoopGraph:
    edges: list[Edge]
    #: in topological order of the within-iteration dependences
    components: list[Component]
    comp_of: dict[int, int]
    #: the virtual phi vertex of each carried scalar (negative ids) -> its variable
    phi_var: dict[int, str] = field(default_factory=dict)

    def intra_succ(self) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for e in self.edges:
            if not e.carried:
                out.setdefault(e.src, set()).add(e.dst)
        return out


def build_graph(facts: LoopFacts, scalars: ScalarResult, arrays: ArrayResult) -> LoopGraph:
    cfg = facts.cfg
    edges: list[Edge] = []
    phis: dict[str, int] = {}
    for c in facts.chains:
        if not c.carried:
            edges.append(Edge(c.d, c.u, "data", c.var, False))
        elif c.var in scalars.inductions:
            edges.append(Edge(c.d, c.u, "data", c.var, True, IND))  # recomputed: dropped below
        else:
            # def -> phi (crosses the back edge) -> use: like NOELLE's header PHI, so code that
            # only reads a carried value hangs off the recurrence instead of joining it
            tag = RED if c.var in scalars.reductions else None
            phi = phis.setdefault(c.var, -1 - len(phis))
            edges.append(Edge(c.d, phi, "data", c.var, True, tag))
            edges.append(Edge(phi, c.u, "data", c.var, False, tag))
    edges = list(dict.fromkeys(edges))
    for m in arrays.edges:
        edges.append(Edge(m.src, m.dst, "memory", m.dep.array, m.dep.carried, None, m.dep))
    cdeps = cfg.control_deps()
    header = facts.header
    for n in sorted(facts.body):
        for x in sorted(cdeps.get(n, ())):
            if x not in facts.body:
                continue
            carried = n not in facts.reach(x)
            tag = IND if carried and x == n == header and scalars.governed else None
            edges.append(Edge(x, n, "control", str(cfg.nodes[x].line), carried, tag))
    # Whether another iteration runs depends on every break or return that leaves the loop, even
    # an unconditional one (which no branch decides, so control dependence alone misses it).
    for x in (*facts.loop.breaks, *facts.loop.returns):
        edges.append(Edge(x, header, "control", str(cfg.nodes[x].line), True))
    kept = [e for e in edges if e.tag != IND]
    vertices = sorted(facts.body) + sorted(phis.values(), reverse=True)
    sccs = _tarjan(vertices, kept)
    comp_of = {n: i for i, comp in enumerate(sccs) for n in comp}

    # Normalize: every loop-carried edge inside one set, then collapse cycles among the sets.
    parent = list(range(len(sccs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for e in kept:
        if e.carried:
            a, b = find(comp_of[e.src]), find(comp_of[e.dst])
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, set[int]] = {}
    for i, comp in enumerate(sccs):
        groups.setdefault(find(i), set()).update(comp)
    merged = list(groups.values())
    group_of = {n: i for i, g in enumerate(merged) for n in g}
    gedges = [Edge(group_of[e.src], group_of[e.dst], e.kind, e.name, e.carried) for e in kept
              if group_of[e.src] != group_of[e.dst]]  # fmt: skip
    collapsed = _tarjan(list(range(len(merged))), gedges)
    final = [set().union(*(merged[g] for g in gs)) for gs in collapsed]
    order = _topological(cfg, final, kept, phis)
    components = [Component(final[i]) for i in order]
    comp_of = {n: i for i, c in enumerate(components) for n in c.nodes}
    for e in kept:
        if e.carried:
            components[comp_of[e.src]].carried.append(e)
    phi_var = {i: v for v, i in phis.items()}
    for component in components:
        _classify(component, facts, scalars, phi_var)
    return LoopGraph(edges, components, comp_of, phi_var)


def touched_vars(nodes: list[Node], comp_nodes: set[int], phi_var: dict[int, str]) -> set[str]:
    """Scalars a set of vertices defines or uses (a phi vertex touches its variable)."""
    out = {phi_var[n] for n in comp_nodes if n < 0}
    for n in comp_nodes:
        if n >= 0:
            out |= nodes[n].defs | nodes[n].uses
    return out


def _classify(comp: Component, facts: LoopFacts, scalars: ScalarResult, phi_var: dict[int, str]) -> None:
    nodes = facts.cfg.nodes
    real = {n for n in comp.nodes if n >= 0}
    touched = {v for n in real for v in nodes[n].defs} | {phi_var[n] for n in comp.nodes if n < 0}
    # Readers of a carried value are not part of its recurrence; its writers are.
    plain = [e for e in comp.carried if e.tag is None]
    if plain or touched & scalars.carried:
        comp.cls = SCCClass.SEQUENTIAL
        comp.exit = facts.header in comp.nodes or any(
            nodes[n].kind in ("break", "return") for n in real
        )
        return
    reductions = sorted(v for v in touched if v in scalars.reductions)
    defined = {v for n in real for v in nodes[n].defs}
    if any(e.tag == RED for e in comp.carried) or (defined & scalars.reductions):
        comp.cls = SCCClass.REDUCTION
        ops = sorted({scalars.infos[v].op or "?" for v in reductions if v in scalars.infos})
        comp.op = ", ".join(ops) or None
        return
    ivs = {ind.node for ind in scalars.inductions.values()}
    if comp.nodes & ivs or (facts.header in comp.nodes and scalars.governed):
        comp.cls = SCCClass.INDUCTION


def _tarjan(vertices: list[int], edges: Iterable[Edge]) -> list[list[int]]:
    """Strongly connected components, iteratively (no recursion limit)."""
    succ: dict[int, list[int]] = {v: [] for v in vertices}
    for e in edges:
        if e.src in succ and e.dst in succ:
            succ[e.src].append(e.dst)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in vertices:
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            children = succ[v]
            while i < len(children):
                w = children[i]
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _topological(cfg: CFG, comps: list[set[int]], edges: list[Edge], phis: dict[str, int]) -> list[int]:
    """Kahn's order over the within-iteration edges; ties go to the earlier source line."""
    owner = {n: i for i, c in enumerate(comps) for n in c}
    succ: dict[int, set[int]] = {i: set() for i in range(len(comps))}
    indeg = {i: 0 for i in range(len(comps))}
    for e in edges:
        a, b = owner[e.src], owner[e.dst]
        if a != b and not e.carried and b not in succ[a]:
            succ[a].add(b)
            indeg[b] += 1
    def first(c: set[int]) -> tuple[int, int]:
        real = [n for n in c if n >= 0]
        return (min(cfg.nodes[n].line for n in real), min(real)) if real else (0, 0)

    key = {i: first(c) for i, c in enumerate(comps)}
    ready = sorted((i for i in indeg if indeg[i] == 0), key=lambda i: key[i])
    order: list[int] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                ready.append(j)
        ready.sort(key=lambda i: key[i])
    order += [i for i in range(len(comps)) if i not in order]  # cannot happen after collapsing
    return order


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def scc_infos(graph: LoopGraph, facts: LoopFacts, scalars: ScalarResult) -> list[SCCInfo]:
    nodes = facts.cfg.nodes
    out = []
    for i, comp in enumerate(graph.components):
        real = [n for n in comp.nodes if n >= 0 and nodes[n].kind not in ("entry", "exit")]
        lines = tuple(sorted({nodes[n].line for n in real}))
        defined = tuple(sorted({v for n in real for v in nodes[n].defs}))
        arrays = tuple(sorted({a.array for n in real for a in nodes[n].accesses}))
        out.append(SCCInfo(i, comp.cls, lines, defined, arrays, comp.op,
                           carried_reason(comp, facts, scalars), comp.exit))  # fmt: skip
    return out


def carried_reason(comp: Component, facts: LoopFacts, scalars: ScalarResult) -> str:
    """The loop-carried dependences inside a component, by name and line."""
    nodes = facts.cfg.nodes
    if comp.cls is SCCClass.INDEPENDENT:
        return "no loop-carried dependence"
    if comp.cls is SCCClass.INDUCTION:
        names = sorted(v for v, ind in scalars.inductions.items() if ind.node in comp.nodes)
        return "recomputed from the iteration number" + (f" ({', '.join(names)})" if names else "")
    if comp.cls is SCCClass.REDUCTION:
        defined = sorted({v for n in comp.nodes if n >= 0 for v in nodes[n].defs} & scalars.reductions)
        return "; ".join(
            f"{scalars.infos[v].describe()}, privatized" for v in defined if scalars.infos[v].op
        ) or "reduction"
    scalars_: dict[str, set[int]] = {}
    arrays: dict[str, tuple[set[str], set[int], set[str]]] = {}
    exits: set[int] = set()
    for e in comp.carried:
        if e.kind == "data":
            scalars_.setdefault(e.name, set()).add(nodes[e.src].line)
        elif e.kind == "memory":
            assert e.dep is not None
            kinds, lines, how = arrays.setdefault(e.name, (set(), set(), set()))
            kinds.add(e.dep.kind.value)
            lines |= {e.dep.src.line, e.dep.dst.line}
            how.add(e.dep.certainty)
        else:
            exits.add(nodes[e.src].line)
    parts: list[str] = []
    if exits:
        parts.append(f"loop exit decided at {fmt_lines(exits)}")
    parts += [f"{v} carried ({fmt_lines(ls)})" for v, ls in sorted(scalars_.items())]
    for a, (kinds, lines, how) in sorted(arrays.items()):
        certainty = "assumed" if "assumed" in how else "provable"
        parts.append(f"{a}[] {'/'.join(sorted(kinds))} across iterations ({fmt_lines(lines)}; {certainty})")
    if not parts:
        carried = sorted({v for n in comp.nodes if n >= 0 for v in nodes[n].defs} & scalars.carried)
        if carried:
            infos = [scalars.infos[v] for v in carried]
            parts = [f"{i.name} carried ({fmt_lines(i.lines)})" for i in infos
                     if i.cls is ScalarClass.CARRIED]  # fmt: skip
    return "; ".join(parts) if parts else "loop-carried"
