"""The HELIX transform: rewrite the chosen loops of a kernel into the parallel form of
``docs/parallel-form.md``, one LibCST pass over the module.

Before::

    def count_hits(xs, out):
        n = 0
        for i in range(len(xs)):
            if xs[i] > 0:
                out[n] = i
                n += 1
        return n

After (``signals="uncoupled"``)::

    from helixrc.parallel import disjoint, prange, shared, signal, wait


    def count_hits(xs, out):
        n = 0
        # helixrc: loop count_hits/L1 (line 3): HELIX, uncoupled, 1 segment
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

What each loop becomes:

- ``for v in range(...)`` becomes ``for v in prange(start, stop, step, ...)``; other induction
  variables are recomputed from the iteration number at the top of the body (``j = j0 + it * s``).
- A ``while`` loop becomes ``for it in prange_while(...)`` with every induction variable
  recomputed from ``it``. When its test compares an induction variable with a loop-invariant bound,
  each iteration decides the test alone (``if not (test): ... break`` at the top); otherwise the
  test is evaluated in the prologue, segment 0.
- ``break`` and ``return`` inside the loop (and a ``while`` test that is not governed by an
  induction variable) put the exit decision in segment 0, the prologue, which opens at the top of
  every iteration: an iteration that finds the loop over (``segK.over``, a shared cell) signals
  every segment and leaves before any side effect. Every exit path (``continue``, ``break``,
  ``return``, the end of the body) signals the segment it is in and skips the ones after it.
- The analysis takes distinct array parameters for distinct memory: when the loop writes one of
  them and touches another, the parallel form runs only if ``disjoint(...)`` finds that they do
  not overlap at run time; otherwise the original loop, kept in the ``else`` branch, runs.
- Loop-carried scalars become shared cells (``segK = shared(K, x=x)``) touched only inside their
  segment; live-out scalars go through ``last = lastprivate(x=x)``, written where an iteration ends.
- Reductions are privatized (``acc = reduction(op, x=x)``, combined after the loop) unless that
  would change the result (float sums without the plan's ``reassociate``, order-sensitive float
  min/max): those stay in an ordered segment. A segment's cell updates are first hoisted next to
  its other statements; segments whose brackets still overlap are merged; a plan's explicit
  grouping merges more; pure private code is moved out of segments.

A segment is bracketed at the innermost block that holds all of its statements, descending only
through ``if`` statements; the branch that skips a segment signals it (uncoupled) or waits and
signals it (coupled). Anything out of scope is refused: the loop stays as it was and
``TransformResult.loops`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from helixrc.csim.errors import PlanError
from helixrc.passes.analysis import (
    KernelAnalysis,
    LoopAnalysis,
    VerdictKind,
    analyze_kernel,
)
from helixrc.passes.frontend import KernelModule
from helixrc.passes.loops import FALLBACK
from helixrc.passes.plan import SIGNALS, Legality, Plan, is_body_id, validate_plan
from helixrc.passes.transform.cst_tools import Splice, add_import, add_tasks, loops, walk
from helixrc.passes.transform.independence import NotCheckable
from helixrc.passes.transform.loop import LoopRewriter
from helixrc.passes.transform.records import Options, Refused
from helixrc.passes.transform.relic import relic_refusal, split_loop
from helixrc.passes.transform.relic_statements import split_statements

__all__ = ["TransformResult", "loop_legality", "transform_source"]


@dataclass(frozen=True)
class TransformResult:
    """The transformed module source and, per loop id, what happened to the loop."""

    source: str
    #: loop id -> "HELIX, uncoupled, 1 segment" for a transformed loop, "sequential (plan)",
    #: else "refused: <why>"
    loops: dict[str, str]
    #: the task functions a Relic split added to the module (``_<kernel>_relic<k>``), in order
    tasks: tuple[str, ...] = ()


def transform_source(
    module: KernelModule, name: str, signals: str = "uncoupled", plan: Plan | None = None
) -> TransformResult:
    """Transform kernel ``name`` of ``module``; loops out of scope stay sequential.

    Without a plan the outermost loop that the analysis can parallelize is transformed, with
    ``signals``. With a plan, exactly the loops of ``name`` that it names as ``doall``/``helix``
    are, and the ones it names ``relic`` are split into tasks (:mod:`.relic`); the rest stay
    sequential. A plan that does not fit the kernel raises :class:`PlanError`.
    """
    if signals not in SIGNALS:
        raise ValueError(f"signals must be 'coupled' or 'uncoupled', not {signals!r}")
    assumed = {} if plan is None else {
        lid: lp.assume_independent for lid, lp in plan.loops.items() if lp.assume_independent and lp.parallel
    }
    analysis = analyze_kernel(module, name, assume_independent=assumed)
    fn = module.functions[name]
    nodes = _loop_statements(module, fn, analysis)
    chosen = _plan_options(analysis, module, plan, nodes) if plan is not None else None
    taken = {n.value for n in walk(fn) if isinstance(n, cst.Name)}
    if chosen is not None and f"{name}/body" in chosen:
        return _split_body(module, name, analysis, taken)
    outcomes: dict[str, str] = {}
    replacements: dict[cst.CSTNode, list[cst.BaseStatement]] = {}
    done: set[str] = set()  # transformed loops and the loops nested in them
    imports: set[str] = set()
    tasks: list[cst.FunctionDef] = []
    prange_used = False
    for lid, loop in analysis.loops.items():
        if FALLBACK in lid:
            outcomes[lid] = "refused: the original loop kept as the fallback of a parallel form"
            continue
        if loop.parent in done:
            done.add(lid)
            outcomes[lid] = f"refused: nested inside the parallel loop {loop.parent}"
            continue
        if chosen is not None and lid not in chosen:
            outcomes[lid] = "sequential (plan)"
            continue
        opts = chosen[lid] if chosen is not None else Options(signals)
        node = nodes[lid]
        assert isinstance(node, (cst.For, cst.While))
        try:
            if opts.technique == "relic":
                task_name = _task_name(module, name, len(tasks))
                if opts.split == "statements":
                    where = f"loop {lid} (line {loop.loc.line})"
                    split = split_statements(module, fn, node, where, analysis.helpers, taken, task_name)
                else:
                    split = split_loop(module, fn, loop, node, opts, taken, task_name)
                stmts, summary = split.statements, split.summary
                taken |= split.taken
                tasks.append(split.task)
                imports |= {"spawn", "join", *(("disjoint",) if split.disjoint else ())}
            else:
                rewriter = LoopRewriter(module, fn, loop, node, opts, set(taken))
                stmts, summary = rewriter.rewrite()
                taken |= rewriter.taken  # the names it created
                imports |= rewriter.imports
                prange_used = True
        except Refused as why:
            if chosen is not None:
                raise PlanError(f"loop {lid!r} cannot be transformed: {why}", _plan_loc(opts, why)) from None
            outcomes[lid] = f"refused: {why}"
            continue
        replacements[node] = stmts
        outcomes[lid] = summary
        if opts.split != "statements":  # a loop whose body is split stays a sequential loop
            done.add(lid)
    tree = module.module
    if replacements:
        tree = tree.visit(Splice(replacements))
        tree = add_tasks(tree, name, tasks)
        tree = add_import(tree, imports, base=prange_used)
    return TransformResult(tree.code, outcomes, tuple(t.name.value for t in tasks))


def _split_body(module: KernelModule, name: str, analysis: KernelAnalysis, taken: set[str]) -> TransformResult:
    """A plan's ``func/body`` entry: the function's own statements split into a task and the continuation."""
    fn = module.functions[name]
    where = f"function {name} (line {module.positions[fn].start.line})"
    split = split_statements(module, fn, fn, where, analysis.helpers, taken, _task_name(module, name, 0))
    body = [split.statements[0] if s is fn else s for s in module.module.body]
    tree = module.module.with_changes(body=body)
    imports = {"spawn", "join", *(("disjoint",) if split.disjoint else ())}
    tree = add_import(add_tasks(tree, name, [split.task]), imports, base=False)
    outcomes = {f"{name}/body": split.summary, **{lid: "sequential (plan)" for lid in analysis.loops}}
    return TransformResult(tree.code, outcomes, (split.task.name.value,))


def _statements_refusal(module: KernelModule, fn: cst.FunctionDef, owner: cst.CSTNode,
                        analysis: KernelAnalysis) -> str | None:
    """Why the body of ``owner`` (a loop of ``fn``, or ``fn``) has no statement split, or None."""
    try:
        split_statements(module, fn, owner, "", analysis.helpers, set(), "_task")  # type: ignore[arg-type]
    except Refused as why:
        return str(why)
    return None


def loop_legality(module: KernelModule, name: str) -> dict[str, dict[str, str | None]]:
    """Per loop id of kernel ``name``: technique -> None where the analysis finds it legal, else why
    not (what a plan is checked against; ``sequential`` is always legal and not listed)."""
    analysis = analyze_kernel(module, name)
    nodes = _loop_statements(module, module.functions[name], analysis)
    return {lid: _legality(loop, nodes[lid]) for lid, loop in analysis.loops.items()}


def _loop_statements(module: KernelModule, fn: cst.FunctionDef, analysis: KernelAnalysis) -> dict[str, cst.CSTNode]:
    """Loop id -> its ``for``/``while`` statement in ``fn``."""
    at = {(module.positions[n].start.line, module.positions[n].start.column): n for n in loops(fn)}
    return {lid: at[(loop.loc.line, loop.loc.col)] for lid, loop in analysis.loops.items()}


def _task_name(module: KernelModule, kernel: str, k: int) -> str:
    """``_<kernel>_relic<k>``, with more leading underscores if the module already binds it."""
    name = f"_{kernel}_relic{k}"
    while name in module.names:
        name = "_" + name
    return name


def _plan_loc(opts: Options, why: Refused):  # type: ignore[no-untyped-def]
    lp = opts.plan
    if lp is None:
        return None
    key = "assume_independent" if isinstance(why, NotCheckable) else "technique"
    return lp.key_locs.get(key, lp.loc)


def _plan_options(
    analysis: KernelAnalysis, module: KernelModule, plan: Plan, nodes: dict[str, cst.CSTNode]
) -> dict[str, Options]:
    """The loops of this kernel that ``plan`` parallelizes or splits, checked against the analysis."""
    prefix = analysis.kernel + "/"
    for lid, lp in plan.loops.items():
        func = lid.split("/", 1)[0]
        if func not in module.functions:
            raise PlanError(
                f"loop {lid!r} names function {func!r}, which {module.filename} does not define "
                f"(functions: {', '.join(module.functions)})",
                lp.loc,
            )
    mine = Plan({lid: lp for lid, lp in plan.loops.items() if lid.startswith(prefix)}, plan.signals, plan.source)
    fn = module.functions[analysis.kernel]
    legality: dict[str, Legality] = {}
    for lid, loop in analysis.loops.items():
        legality[lid] = _legality(loop, nodes[lid])
        lp = mine.loops.get(lid)
        if lp is not None and lp.split == "statements":
            legality[lid] = {**legality[lid], "relic": _statements_refusal(module, fn, nodes[lid], analysis)}
    body = prefix + "body"
    if body in mine.loops:
        legality[body] = {"relic": _statements_refusal(module, fn, fn, analysis)}
    validate_plan(mine, legality)
    out: dict[str, Options] = {}
    for lid, lp in mine.loops.items():
        if not lp.concurrent:
            continue
        if is_body_id(lid):
            out[lid] = Options(lp.signals, lp.technique, plan=lp, split=lp.split)
            continue
        loop = analysis.loops[lid]
        ordered = [i.name for i in loop.scalars.values() if i.order_sensitive]
        if lp.technique == "doall" and ordered:
            raise PlanError(
                f"loop {lid!r} cannot be doall: {', '.join(ordered)} is a float min/max whose result "
                "depends on the order of the values (nan or signed zeros), so it stays in an ordered segment",
                lp.key_locs.get("technique", lp.loc),
                "use technique = \"helix\", or write it as max(acc, e) / if e > acc: acc = e",
            )
        if (lp.technique == "doall" or lp.split == "iterations" and lp.technique == "relic") and (
            loop.float_reductions and not lp.reassociate
        ):
            where = "would stay in an ordered segment" if lp.technique == "doall" else "would be summed in two parts"
            raise PlanError(
                f"loop {lid!r} cannot be {lp.technique} without reassociation: float reduction "
                f"{', '.join(loop.float_reductions)} {where}",
                lp.key_locs.get("technique", lp.loc),
                "add reassociate = true (the sum's rounding may change) or use technique = \"helix\"",
            )
        out[lid] = Options(lp.signals, lp.technique, lp.segments, lp.reassociate, lp.assume_independent, lp,
                           lp.chunks, lp.split)
    return out


def _legality(loop: LoopAnalysis, node: cst.CSTNode) -> dict[str, str | None]:
    relic = relic_refusal(loop, node)
    if loop.verdict.kind is VerdictKind.REFUSED:
        why = loop.verdict.text.removeprefix("REFUSED: ")
        return {"doall": why, "helix": why, "relic": relic}
    if loop.verdict.kind is VerdictKind.HELIX:
        return {"helix": None, "doall": loop.verdict.text.removeprefix("HELIX: "), "relic": relic}
    return {"doall": None, "helix": None, "relic": relic}
