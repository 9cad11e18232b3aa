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

    from helixrc.parallel import prange, shared, signal, wait


    def count_hits(xs, out):
        n = 0
        # helixrc: loop count_hits/L1 (line 3): HELIX, uncoupled, 1 segment
        #   segment 0 protects n, out[] (lines 5-6)
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
- Loop-carried scalars become shared cells (``segK = shared(K, x=x)``) touched only inside their
  segment; live-out scalars go through ``last = lastprivate(x=x)``, written where an iteration ends.
- Reductions are kept in an ordered segment (exact for floats). Segments whose brackets would
  overlap in the source are merged; a plan's explicit grouping merges more.

A segment is bracketed at the innermost block that holds all of its statements, descending only
through ``if`` statements; the branch that skips a segment signals it (uncoupled) or waits and
signals it (coupled). Anything out of scope is refused: the loop stays as it was and
``TransformResult.loops`` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from helixrc.csim.errors import PlanError
from helixrc.passes.analysis import (
    KernelAnalysis,
    LoopAnalysis,
    ScalarClass,
    ScalarInfo,
    VerdictKind,
    analyze_kernel,
)
from helixrc.passes.frontend import KernelModule
from helixrc.passes.plan import SIGNALS, LoopPlan, Plan, validate_plan

__all__ = ["TransformResult", "transform_source"]

BASE_IMPORTS = ("prange", "shared", "signal", "wait")


@dataclass(frozen=True)
class TransformResult:
    """The transformed module source and, per loop id, what happened to the loop."""

    source: str
    #: loop id -> "HELIX, uncoupled, 1 segment" for a transformed loop, "sequential (plan)",
    #: else "refused: <why>"
    loops: dict[str, str]


class Refused(Exception):
    """This loop is outside the scope of the transform; the message says why."""


class _NotCheckable(Refused):
    """A plan's ``assume_independent`` names an array whose accesses the run-time check cannot see."""


class _Overlap(Exception):
    """Segments ``a`` and ``b`` cannot be bracketed apart: merge them and place again."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(a, b)
        self.a, self.b = a, b


@dataclass
class _Seg:
    """One sequential segment of the output: the scalars it turns into cells and its lines."""

    index: int
    scalars: list[str]
    arrays: list[str]
    lines: set[int]
    prologue: bool = False


@dataclass(frozen=True)
class _Options:
    """What the plan (or the default) asks for one loop."""

    signals: str
    technique: str | None = None  # None: whatever the analysis found (doall or helix)
    segments: object = "auto"
    reassociate: bool = False
    assume_independent: tuple[str, ...] = ()
    plan: LoopPlan | None = field(default=None, compare=False)


def transform_source(
    module: KernelModule, name: str, signals: str = "uncoupled", plan: Plan | None = None
) -> TransformResult:
    """Transform kernel ``name`` of ``module``; loops out of scope stay sequential.

    Without a plan the outermost loop that the analysis can parallelize is transformed, with
    ``signals``. With a plan, exactly the loops of ``name`` that it names as ``doall``/``helix``
    are; the rest stay sequential. A plan that does not fit the kernel raises :class:`PlanError`.
    """
    if signals not in SIGNALS:
        raise ValueError(f"signals must be 'coupled' or 'uncoupled', not {signals!r}")
    assumed = {} if plan is None else {
        lid: lp.assume_independent for lid, lp in plan.loops.items() if lp.assume_independent and lp.parallel
    }
    analysis = analyze_kernel(module, name, assume_independent=assumed)
    chosen = _plan_options(analysis, module, plan) if plan is not None else None
    fn = module.functions[name]
    loop_nodes = {(module.positions[n].start.line, module.positions[n].start.column): n for n in _loops(fn)}
    outcomes: dict[str, str] = {}
    replacements: dict[cst.CSTNode, list[cst.BaseStatement]] = {}
    done: set[str] = set()  # transformed loops and the loops nested in them
    imports: set[str] = set()
    taken = {n.value for n in _walk(fn) if isinstance(n, cst.Name)}
    for lid, loop in analysis.loops.items():
        if loop.parent in done:
            done.add(lid)
            outcomes[lid] = f"refused: nested inside the parallel loop {loop.parent}"
            continue
        if chosen is not None and lid not in chosen:
            outcomes[lid] = "sequential (plan)"
            continue
        opts = chosen[lid] if chosen is not None else _Options(signals)
        node = loop_nodes[(loop.loc.line, loop.loc.col)]
        assert isinstance(node, (cst.For, cst.While))
        try:
            rewriter = _LoopRewriter(module, fn, loop, node, opts, set(taken))
            stmts, summary = rewriter.rewrite()
        except Refused as why:
            if chosen is not None:
                raise PlanError(f"loop {lid!r} cannot be transformed: {why}", _plan_loc(opts, why)) from None
            outcomes[lid] = f"refused: {why}"
            continue
        replacements[node] = stmts
        taken |= rewriter.taken  # the names it created
        imports |= rewriter.imports
        outcomes[lid] = summary
        done.add(lid)
    tree = module.module
    if replacements:
        tree = tree.visit(_Splice(replacements))
        tree = _add_import(tree, imports)
    return TransformResult(tree.code, outcomes)


def _plan_loc(opts: _Options, why: Refused):  # type: ignore[no-untyped-def]
    lp = opts.plan
    if lp is None:
        return None
    key = "assume_independent" if isinstance(why, _NotCheckable) else "technique"
    return lp.key_locs.get(key, lp.loc)


def _plan_options(analysis: KernelAnalysis, module: KernelModule, plan: Plan) -> dict[str, _Options]:
    """The loops of this kernel that ``plan`` parallelizes, checked against the analysis."""
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
    validate_plan(mine, {lid: _legality(loop) for lid, loop in analysis.loops.items()})
    out: dict[str, _Options] = {}
    for lid, lp in mine.loops.items():
        if not lp.parallel:
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
        if lp.technique == "doall" and loop.float_reductions and not lp.reassociate:
            raise PlanError(
                f"loop {lid!r} cannot be doall without reassociation: float reduction "
                f"{', '.join(loop.float_reductions)} would stay in an ordered segment",
                lp.key_locs.get("technique", lp.loc),
                "add reassociate = true (the sum's rounding may change) or use technique = \"helix\"",
            )
        out[lid] = _Options(lp.signals, lp.technique, lp.segments, lp.reassociate, lp.assume_independent, lp)
    return out


def _legality(loop: LoopAnalysis) -> dict[str, str | None]:
    if loop.verdict.kind is VerdictKind.REFUSED:
        why = loop.verdict.text.removeprefix("REFUSED: ")
        return {"doall": why, "helix": why}
    if loop.verdict.kind is VerdictKind.HELIX:
        return {"helix": None, "doall": loop.verdict.text.removeprefix("HELIX: ")}
    return {"doall": None, "helix": None}


# ---------------------------------------------------------------------------------------------
# Tree helpers
# ---------------------------------------------------------------------------------------------


def _walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _loops(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    return (n for n in _walk(node) if isinstance(n, (cst.For, cst.While)))


def _block(suite: cst.BaseSuite) -> list[cst.BaseStatement]:
    """The statements of a suite; a one-line suite becomes one statement line."""
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    assert isinstance(suite, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=suite.body)]


def _indented(suite: cst.BaseSuite, body: Sequence[cst.BaseStatement]) -> cst.IndentedBlock:
    if isinstance(suite, cst.IndentedBlock):
        return suite.with_changes(body=list(body))
    return cst.IndentedBlock(body=list(body))


def _call(fn: str, k: int) -> cst.SimpleStatementLine:
    return cst.parse_statement(f"{fn}({k})")  # type: ignore[return-value]


def _lines_text(lines: Iterable[int]) -> str:
    ordered = sorted(set(lines))
    runs: list[list[int]] = []
    for x in ordered:
        if runs and x == runs[-1][1] + 1:
            runs[-1][1] = x
        else:
            runs.append([x, x])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    return ("line " if len(ordered) == 1 else "lines ") + ", ".join(parts)


class _Splice(cst.CSTTransformer):
    """Replace each transformed ``for`` statement by its parallel form (setup, loop, copy-back)."""

    def __init__(self, replacements: dict[cst.CSTNode, list[cst.BaseStatement]]) -> None:
        super().__init__()
        self.replacements = replacements

    def _swap(self, original: cst.CSTNode, updated: cst.BaseStatement) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        stmts = self.replacements.get(original)
        return updated if stmts is None else cst.FlattenSentinel(stmts)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        return self._swap(original_node, updated_node)

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        return self._swap(original_node, updated_node)


def _add_import(tree: cst.Module, extra: set[str]) -> cst.Module:
    """Add the runtime import after the module docstring and ``from __future__`` imports."""
    names = sorted({*BASE_IMPORTS, *extra})
    statement = f"from helixrc.parallel import {', '.join(names)}"
    body = list(tree.body)
    if any(isinstance(s, cst.SimpleStatementLine) and tree.code_for_node(s).strip() == statement for s in body):
        return tree
    at = 0
    while at < len(body):
        line = body[at]
        if not isinstance(line, cst.SimpleStatementLine):
            break
        small = line.body[0]
        docstring = at == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        future = isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and (
            small.module.value == "__future__"
        )
        if not (docstring or future):
            break
        at += 1
    if at < len(body) and not body[at].leading_lines:  # keep the import apart from the code after it
        blank = 2 if isinstance(body[at], (cst.FunctionDef, cst.ClassDef)) else 1
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()] * blank)
    body.insert(at, cst.parse_statement(statement))
    return tree.with_changes(body=body)


# ---------------------------------------------------------------------------------------------
# One loop
# ---------------------------------------------------------------------------------------------


class _Cells(cst.CSTTransformer):
    """Rewrite the chosen ``Name`` nodes (by identity) into ``cellvar.name``."""

    def __init__(self, names: dict[cst.Name, str]) -> None:
        super().__init__()
        self.names = names

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        cellvar = self.names.get(original_node)
        if cellvar is None:
            return updated_node
        return cst.Attribute(value=cst.Name(cellvar), attr=cst.Name(original_node.value))


class _Rename(cst.CSTTransformer):
    """Rewrite every use of the given variables (by name) into ``accvar.name``."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # the attribute's own name is not a variable
        return False

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return updated_node.with_changes(value=original_node.value.visit(self))

    def visit_Arg(self, node: cst.Arg) -> bool:
        return True

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        acc = self.names.get(original_node.value)
        return updated_node if acc is None else cst.Attribute(value=cst.Name(acc), attr=cst.Name(original_node.value))


class _Jumps(cst.CSTTransformer):
    """Expand the jumps that leave an iteration: ``continue``/``break`` of this loop level and any
    ``return`` (nested loops included) get the statements ``expand`` gives them."""

    def __init__(self, expand: Callable[[cst.BaseSmallStatement], list[cst.BaseStatement] | None]) -> None:
        super().__init__()
        self.expand = expand
        self.depth = 0

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        self.depth -= 1
        return updated_node

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.While:
        self.depth -= 1
        return updated_node

    def _line(self, line: cst.SimpleStatementLine) -> list[cst.BaseStatement]:
        smalls = list(line.body)
        for at, small in enumerate(smalls):
            if isinstance(small, cst.Return) or (isinstance(small, (cst.Continue, cst.Break)) and not self.depth):
                out = self.expand(small)
                if out is None:
                    continue
                before = [cst.SimpleStatementLine(body=smalls[:at])] if at else []
                return [*before, *out]
        return [line]

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        out = self._line(updated_node)
        if out == [updated_node]:
            return updated_node
        out[0] = out[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel(out)

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.BaseSuite:
        line = cst.SimpleStatementLine(body=updated_node.body)
        out = self._line(line)
        return updated_node if out == [line] else cst.IndentedBlock(body=out)


class _LoopRewriter:
    """Plan and build the parallel form of one loop; raises :class:`Refused`."""

    def __init__(
        self, km: KernelModule, fn: cst.FunctionDef, loop: LoopAnalysis, node: cst.For | cst.While,
        opts: _Options, taken: set[str],
    ) -> None:
        self.km, self.fn, self.loop, self.node, self.opts = km, fn, loop, node, opts
        self.base_taken = taken
        self.taken = set(taken)
        self.signals = opts.signals
        self.coupled = opts.signals == "coupled"
        self.imports: set[str] = set()

    # -- planning ------------------------------------------------------------------------------

    def rewrite(self) -> tuple[list[cst.BaseStatement], str]:
        loop, node = self.loop, self.node
        if loop.verdict.kind is VerdictKind.REFUSED:
            raise Refused(loop.verdict.text.removeprefix("REFUSED: "))
        if node.orelse is not None:
            raise Refused(f"a {loop.kind} ... else loop")
        self.body = _block(node.body)
        self.breaks = any(True for st in self.body for _ in _level_jumps(st, cst.Break))
        self.inductions = [i for i in loop.scalars.values() if i.cls is ScalarClass.INDUCTION]
        self.live_outs = [
            i for i in loop.scalars.values() if i.read_after and i.cls in (ScalarClass.PRIVATE, ScalarClass.INDUCTION)
        ]
        for info in self.live_outs:
            if info.cls is ScalarClass.PRIVATE and self.breaks:
                raise Refused(f"{info.name} is read after a loop that can break (its last value is not recomputable)")
            if not _bound_before(self.fn, node, info.name):
                raise Refused(f"{info.name} is read after the loop and may be unbound before it")
        check = self._independence_check() if self.opts.assume_independent else None
        segs = self._segments()
        prologues = [s for s in segs if s.prologue]
        if bool(prologues) != loop.has_early_exit or (prologues and prologues[0] is not segs[0]):
            raise Refused("the loop exit is not in the prologue segment")
        for _ in range(len(segs) + 1):
            try:
                group, summary = self._build(segs)
                break
            except _Overlap as o:
                segs = _merge(segs, o.a, o.b)
        if check is not None:
            group = self._guarded(group, check)
        return group, summary

    # -- assume_independent --------------------------------------------------------------------

    def _independence_check(self) -> str:
        """The ``independent(...)`` call that checks the plan's assumption before the loop runs."""
        node, loop = self.node, self.loop
        arrays = self.opts.assume_independent
        if not isinstance(node, cst.For) or not isinstance(node.target, cst.Name):
            raise _NotCheckable("assume_independent is checked for `for ... in range(...)` loops only")
        var = node.target.value
        info = loop.scalars.get(var)
        if info is None or info.cls is not ScalarClass.INDUCTION:
            raise _NotCheckable(f"the loop variable {var} is assigned in the loop")
        start, stop, step = self._range_args(node)
        for e in (start, stop, step):
            calls = [c for c in _walk(e) if isinstance(c, cst.Call)]
            if any(not (isinstance(c.func, cst.Name) and c.func.value == "len") for c in calls):
                raise _NotCheckable("the range(...) arguments call a function")
        written = _written_arrays(node.body)
        targets = _subscript_targets(node.body)
        checks: list[str] = []
        for array in arrays:
            found = [n for n in _walk(node.body) if isinstance(n, cst.Subscript) and _is_name(n.value, array)]
            if not found:
                raise _NotCheckable(f"{array} is not subscripted in loop {loop.id}")
            bare = [n for n in _walk(node.body) if _is_name(n, array)]
            if len(bare) != len(found):
                raise _NotCheckable(f"{array} is used other than by subscripts in the loop (passed to a call?)")
            accesses: list[str] = []
            for sub in found:
                term = _checkable_index(sub, var, loop.scalars, written)
                if term is None:
                    raise _NotCheckable(
                        f"{_code(sub)} (line {self._line(sub)}): the run-time check needs subscripts "
                        f"{var} + c or idx[{var}] + c, with idx an array the loop does not write"
                    )
                mode = "w" if sub in targets else "r"
                text = f'({term[0]}, {term[1]}, "{mode}")'
                if text not in accesses:
                    accesses.append(text)
            bounds = f"{_code(start)}, {_code(stop)}, {_code(step)}"
            checks.append(f"independent({array}, {bounds}, {', '.join(accesses)})")
        return " and ".join(checks)

    def _guarded(self, group: list[cst.BaseStatement], check: str) -> list[cst.BaseStatement]:
        """``if <check>: <parallel form> else: <the original loop>``."""
        self.imports.add("independent")
        comments = list(group[0].leading_lines)  # type: ignore[attr-defined]
        names = ", ".join(f"{a}[]" for a in self.opts.assume_independent)
        comments.append(cst.EmptyLine(comment=cst.Comment(
            f"#   plan: assumes no loop-carried dependence on {names}; checked here, sequential if not")))
        group[0] = group[0].with_changes(leading_lines=())  # type: ignore[call-arg]
        original = self.node.with_changes(leading_lines=())
        return [cst.If(
            test=_parse_expr(check), body=cst.IndentedBlock(body=group),
            orelse=cst.Else(body=cst.IndentedBlock(body=[original])), leading_lines=comments,
        )]

    def _segments(self) -> list[_Seg]:
        loop = self.loop
        segs = [
            _Seg(s.index, list(s.scalars), list(s.arrays), set(s.lines), s.prologue) for s in loop.verdict.segments
        ]
        covered = {x for s in segs for x in s.scalars}
        #: (operator, compared variable of an arg pair, tie rule, int/float) -> its variables
        self.reductions: dict[tuple[str, str | None, str, str], list[ScalarInfo]] = {}
        for info in loop.scalars.values():
            if info.cls is ScalarClass.CARRIED and info.name not in covered:
                raise Refused(f"carried scalar {info.name} is in no segment")
            if info.cls is not ScalarClass.REDUCTION:
                continue
            if not _bound_before(self.fn, self.node, info.name):
                raise Refused(f"reduction {info.name} may be unbound before the loop")
            if (not info.needs_reassociation or self.opts.reassociate) and not info.order_sensitive:
                assert info.op is not None
                # which of equal values wins matters for floats (-0.0 == 0.0) and for arg pairs
                ties = info.ties or "first" if info.is_float or info.compared else "first"
                kind = "" if info.compared else "float" if info.is_float else "int"  # a pair stays whole
                key = (info.op, info.compared, ties, kind)
                group = self.reductions.setdefault(key, [])
                group.insert(0, info) if info.name == info.compared else group.append(info)
                continue
            lines = set(info.lines)
            home = next((s for s in segs if s.lines & lines), None)
            if home is None:
                home = _Seg(len(segs), [], [], set())
                segs.append(home)
            home.scalars.append(info.name)
            home.lines |= lines
        uses = self._scalar_lines()
        for s in segs:
            for x in s.scalars:
                if not _bound_before(self.fn, self.node, x):
                    raise Refused(f"{x} is carried into the loop but may be unbound before it")
                # a cell is read and written only inside its segment: readers of the carried value
                # (which the dependence graph hangs off the recurrence) join the bracket too
                s.lines |= uses.get(x, set())
        if self.opts.segments != "auto":
            segs = self._group(segs, self.opts.segments)  # type: ignore[arg-type]
        return segs

    def _scalar_lines(self) -> dict[str, set[int]]:
        """Every line of the loop body that names each variable."""
        out: dict[str, set[int]] = {}

        def names(node: cst.CSTNode, line: int) -> None:
            skip: set[cst.CSTNode] = set()
            for n in _walk(node):
                if isinstance(n, cst.Attribute):
                    skip.add(n.attr)
                elif isinstance(n, cst.Arg) and n.keyword is not None:
                    skip.add(n.keyword)
                elif isinstance(n, cst.Name) and n not in skip:
                    out.setdefault(n.value, set()).add(line)

        def visit(stmts: Sequence[cst.BaseStatement]) -> None:
            for st in stmts:  # a name counts at the line where its statement (or header) starts
                line = self._line(st)
                if isinstance(st, cst.SimpleStatementLine):
                    names(st, line)
                    continue
                for header in (getattr(st, "test", None), getattr(st, "iter", None), getattr(st, "target", None)):
                    if header is not None:
                        names(header, line)
                for block in _sub_blocks(st):
                    visit(block)

        visit(self.body)
        return out

    def _group(self, segs: list[_Seg], groups: tuple[tuple[str, ...], ...]) -> list[_Seg]:
        """Merge the segments that a plan's explicit grouping puts together."""
        lp = self.opts.plan
        loc = None if lp is None else lp.key_locs.get("segments", lp.loc)
        of: dict[int, int] = {}
        for s in segs:
            names = [*s.scalars, *s.arrays]
            hit = sorted({g for g, group in enumerate(groups) for x in names if x in group})
            if not hit:
                raise PlanError(
                    f"loop {self.loop.id!r}: segment grouping leaves out {', '.join(names)} (lines "
                    f"{_lines_text(s.lines).removeprefix('lines ').removeprefix('line ')})",
                    loc,
                )
            of[s.index] = hit[0]
            for g in hit[1:]:  # a segment that needs two groups joins them
                for k, h in list(of.items()):
                    if h == g:
                        of[k] = hit[0]
        for g in set(of.values()):
            members = sorted(k for k, h in of.items() if h == g)
            for k in members[1:]:
                segs = _merge(segs, members[0], k)
                members = [m - (m > k) for m in members]  # _merge renumbers
        return segs

    # -- building ------------------------------------------------------------------------------

    def _build(self, segs: list[_Seg]) -> tuple[list[cst.BaseStatement], str]:
        self.taken = set(self.base_taken)
        self.imports = set()
        self.segs = segs
        self.order = [s.index for s in segs]
        self.prologue = segs[0].prologue if segs else False
        body = self.body
        header = self.km.positions[self.node].start.line
        self.hits = {s.index: self._hits(body, s, header) for s in segs}
        self.holders = {k: self._holders(body, h) for k, h in self.hits.items()}
        self.cellvar = {s.index: self._fresh(f"seg{s.index}") for s in segs if s.scalars or s.prologue}
        self.cell_of = {x: s.index for s in segs for x in s.scalars}
        self.over = ""
        if self.prologue:
            self.over = next(n for n in ("over", "loop_over", "_over", "__over") if n not in segs[0].scalars)
        self.last = self._fresh("last") if self.live_outs else ""
        self.acc = {key: self._fresh(f"acc{n}") for n, key in enumerate(self.reductions)}
        self.acc_of = {i.name: self.acc[key] for key, infos in self.reductions.items() for i in infos}
        self.ranges: dict[int, list[cst.CSTNode]] = {s.index: [] for s in segs}
        self.spans: dict[int, tuple[int, int]] = {}
        self.descended: set[int] = set()
        self.top_out: dict[int, cst.BaseStatement] = {}
        self.test = self._test()
        self.names = self._cell_names([*body, *([self.test] if self.test is not None else [])])
        iteration = self._iteration()
        placed = self._place(body, self.order, top=True)
        if self.test is not None:
            self.ranges[0].append(self.test)
        self._check_names()
        placed = self._expand_jumps(body, placed)
        placed = [*iteration.top, *placed, *self._last_writes(every=True)]
        if self.acc_of:
            placed = [st.visit(_Rename(self.acc_of)) for st in placed]  # type: ignore[misc]
        return self._assemble(iteration, placed)

    def _test(self) -> cst.BaseExpression | None:
        """The while test the prologue evaluates (a governed test is decided per iteration)."""
        node = self.node
        if not isinstance(node, cst.While) or self.loop.governed:
            return None
        if isinstance(node.test, cst.Name) and node.test.value == "True":
            return None
        if not self.prologue:
            raise Refused("the while test is not in the prologue segment")
        return node.test

    def _hits(self, body: list[cst.BaseStatement], seg: _Seg, header: int) -> set[cst.BaseStatement]:
        """The outermost statements on the segment's lines (a compound one counts whole)."""
        pos = self.km.positions
        hits: set[cst.BaseStatement] = set()
        covered: set[int] = set()

        def visit(stmts: Sequence[cst.BaseStatement]) -> None:
            for st in stmts:
                r = pos[st]
                if r.start.line in seg.lines:
                    hits.add(st)
                    covered.update(range(r.start.line, r.end.line + 1))
                    continue
                for block in _sub_blocks(st):
                    visit(block)

        visit(body)
        missing = seg.lines - covered - ({header} if seg.prologue else set())
        if missing:
            raise Refused(f"segment {seg.index} has code on {_lines_text(missing)} that is not a whole statement")
        return hits

    def _holders(self, body: list[cst.BaseStatement], hits: set[cst.BaseStatement]) -> set[cst.CSTNode]:
        """Every statement that is a hit or holds one."""
        out: set[cst.CSTNode] = set()

        def visit(st: cst.CSTNode) -> bool:
            held = st in hits
            for child in st.children:
                held = visit(child) or held
            if held:
                out.add(st)
            return held

        for st in body:
            visit(st)
        return out

    def _fresh(self, base: str) -> str:
        name = base
        while name in self.taken:
            name = "_" + name
        self.taken.add(name)
        return name

    def _cell_names(self, nodes: Sequence[cst.CSTNode]) -> dict[cst.Name, str]:
        """Every use of a cell scalar, to rewrite as ``segK.name``."""
        found: dict[cst.Name, str] = {}
        skip: set[cst.CSTNode] = set()
        for st in nodes:
            for n in _walk(st):
                if isinstance(n, cst.Attribute):
                    skip.add(n.attr)
                elif isinstance(n, cst.Arg) and n.keyword is not None:
                    skip.add(n.keyword)
                elif isinstance(n, cst.Name) and n not in skip and n.value in self.cell_of:
                    found[n] = self.cellvar[self.cell_of[n.value]]
        return found

    def _check_names(self) -> None:
        inside: set[cst.CSTNode] = set()
        for k, stmts in self.ranges.items():
            for st in stmts:
                inside.update(n for n in _walk(st) if isinstance(n, cst.Name) and self.cell_of.get(n.value) == k)
        for n in self.names:
            if n not in inside:
                k = self.cell_of[n.value]
                line = self.km.positions[n].start.line
                raise Refused(f"{n.value} is used outside segment {k} (line {line})")

    # -- the iteration space -------------------------------------------------------------------

    def _iteration(self) -> _Iteration:
        """The loop header, the statements before the loop and those at the top of every iteration."""
        node, loop = self.node, self.loop
        before: list[cst.BaseStatement] = []
        top: list[cst.BaseStatement] = []
        if isinstance(node, cst.For):
            if not isinstance(node.target, cst.Name):
                raise Refused("the loop target is not a plain name")
            start, stop, step = self._range_args(node)
            var = node.target.value
            header = f"prange({_code(start)}, {_code(stop)}, {_code(step)}, "
            others = [i for i in self.inductions if i.name != var]
            if others:
                for e in (start, step):
                    if not (isinstance(e, cst.Integer) or (isinstance(e, cst.Name) and e.value not in loop.scalars)):
                        raise Refused(f"induction variable {others[0].name} needs the range start and step as plain names")
                it = self._iteration_number(var, start, step, top)
                for info in others:
                    top.append(self._recompute(info, it, before))
            return _Iteration(var, header, before, top)
        it = self._fresh("it")
        self.imports.add("prange_while")
        for info in self.inductions:
            top.append(self._recompute(info, it, before))
        if loop.governed:
            test = node.test
            # no live-out writes here: every later iteration fails the test too; the last
            # iteration that ran wrote the exit value of the induction variables at its end
            exit_ = [*(s for k in self.order for s in self._skip(k)), _stmt("break")]
            top.append(_if(f"not ({_code(test)})", exit_))
        return _Iteration(it, "prange_while(", before, top)

    def _range_args(self, node: cst.For) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression]:
        it = node.iter
        if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"):
            raise Refused("the loop does not iterate over range(...)")
        args = [a.value for a in it.args]
        if any(a.keyword is not None or a.star for a in it.args) or not 1 <= len(args) <= 3:
            raise Refused("range(...) with unusual arguments")
        if len(args) == 1:
            return cst.Integer("0"), args[0], cst.Integer("1")
        return args[0], args[1], args[2] if len(args) == 3 else cst.Integer("1")

    def _iteration_number(
        self, var: str, start: cst.BaseExpression, step: cst.BaseExpression, top: list[cst.BaseStatement]
    ) -> str:
        """An expression for the iteration number of a ``for`` loop (a new variable if needed)."""
        s0, st = _code(start), _code(step)
        if s0 == "0" and st == "1":
            return var
        it = self._fresh("it")
        offset = var if s0 == "0" else f"({var} - {s0})"
        top.append(_stmt(f"{it} = {offset}" if st == "1" else f"{it} = {offset} // {st}"))
        return it

    def _recompute(self, info: ScalarInfo, it: str, before: list[cst.BaseStatement]) -> cst.BaseStatement:
        """``v = v0 + it * step`` at the top of the body; ``v0 = v`` before the loop."""
        v = info.name
        if not _bound_before(self.fn, self.node, v):
            raise Refused(f"induction variable {v} may be unbound before the loop")
        v0 = self._fresh(f"{v}0")
        before.append(_stmt(f"{v0} = {v}"))
        step = info.step or "1"
        try:
            n = int(step)
        except ValueError:
            n = None
        if n is not None:
            term = it if abs(n) == 1 else f"{it} * {abs(n)}"
            return _stmt(f"{v} = {v0} {'+' if n >= 0 else '-'} {term}")
        if step.startswith("-(") and step.endswith(")") and step[2:-1].isidentifier():
            return _stmt(f"{v} = {v0} - {it} * {step[2:-1]}")
        return _stmt(f"{v} = {v0} + {it} * {step if step.isidentifier() else f'({step})'}")

    def _last_writes(self, every: bool) -> list[cst.BaseStatement]:
        """``last.x = x`` for the live-outs (``every``) or for the induction variables only."""
        return [
            _stmt(f"{self.last}.{i.name} = {i.name}")
            for i in self.live_outs if every or i.cls is ScalarClass.INDUCTION
        ]

    # -- placement -----------------------------------------------------------------------------

    def _skip(self, k: int) -> list[cst.BaseStatement]:
        return [_call("wait", k), _call("signal", k)] if self.coupled else [_call("signal", k)]

    def _signal_rest(self, k: int) -> list[cst.BaseStatement]:
        """Leave open segment ``k``'s bracket early: signal it and skip the segments after it."""
        return [_call("signal", k), *(s for j in self.order if j != k for s in self._skip(j))]

    def _prologue_head(self) -> list[cst.BaseStatement]:
        """The first statements of segment 0: leave if the loop is over; the while test."""
        cells = self.cellvar[0]
        out = [_if(f"{cells}.{self.over}", [*self._signal_rest(0), _stmt("break")])]
        if self.test is not None:
            test = self.test.visit(_Cells(self.names))
            out.append(_if(f"not ({_code(test)})", [
                _stmt(f"{cells}.{self.over} = True"), *self._signal_rest(0), _stmt("break"),
            ]))
        return out

    def _place(self, stmts: list[cst.BaseStatement], segs: list[int], top: bool = False) -> list[cst.BaseStatement]:
        """Bracket segments ``segs`` in ``stmts``: every path through the block signals each once."""
        spans: dict[int, tuple[int, int]] = {}
        descend: dict[int, list[int]] = {}
        empty_prologue = False
        for k in segs:
            idx = [i for i, st in enumerate(stmts) if st in self.holders[k]]
            if top and k == 0 and self.prologue:
                if not idx:
                    empty_prologue = True
                    continue
                spans[k] = (0, idx[-1])  # the prologue opens every iteration
                continue
            if not idx:
                raise Refused(f"segment {k} not found")  # callers pass only segments held here
            st = stmts[idx[0]]
            if len(idx) == 1 and isinstance(st, cst.If) and st not in self.hits[k]:
                descend.setdefault(idx[0], []).append(k)
            spans[k] = (idx[0], idx[-1])
        down = {j for ks in descend.values() for j in ks}
        ranges = {k: sp for k, sp in spans.items() if k not in down}
        for k, (a, b) in ranges.items():
            for j, (c, d) in spans.items():
                if j != k and not (d < a or c > b):
                    raise _Overlap(min(j, k), max(j, k))
        if top:
            self.spans = spans
            self.descended = down
        out: list[cst.BaseStatement] = []
        if empty_prologue:
            out += [_call("wait", 0), *self._prologue_head(), _call("signal", 0)]
        for i, st in enumerate(stmts):
            starts = [k for k, (a, _) in ranges.items() if a == i]
            ends = [k for k, (_, b) in ranges.items() if b == i]
            for k in starts:
                out.append(_call("wait", k))
                if top and k == 0 and self.prologue:
                    out += self._prologue_head()
            if any(a <= i <= b for a, b in ranges.values()):
                k = next(k for k, (a, b) in ranges.items() if a <= i <= b)
                self.ranges[k].append(st)
                st = st.visit(_Cells(self.names))  # type: ignore[assignment]
            elif i in descend:
                st = self._place_if(st, descend[i])  # type: ignore[arg-type]
            if top:
                self.top_out[i] = st
            out.append(st)
            for k in ends:
                out.append(_call("signal", k))
        # a bracket opening at a statement takes over its leading comments
        fixed: list[cst.BaseStatement] = []
        for st in out:
            comments = getattr(st, "leading_lines", None)
            if fixed and _is_call(fixed[-1], "wait") and comments:
                j = len(fixed) - 1
                while j > 0 and _is_call(fixed[j - 1], "wait"):
                    j -= 1
                fixed[j] = fixed[j].with_changes(leading_lines=comments)
                moved = st.with_changes(leading_lines=())
                if top:  # the jump expansion finds top-level statements by identity
                    self.top_out = {i: moved if x is st else x for i, x in self.top_out.items()}
                st = moved
            fixed.append(st)
        return fixed

    def _place_if(self, node: cst.If, segs: list[int]) -> cst.If:
        """Place ``segs`` in both branches of an ``if`` (an ``else:`` is created if needed)."""
        body = _block(node.body)
        here = [k for k in segs if any(st in self.holders[k] for st in body)]
        new_body = self._place(body, here) if here else body
        skips = [s for k in segs if k not in here for s in self._skip(k)]
        node = node.with_changes(body=_indented(node.body, [*skips, *new_body]) if skips or here else node.body)
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            if any(orelse in self.hits[k] for k in segs):
                raise Refused("an elif test belongs to a segment (not in this cut)")
            return node.with_changes(orelse=self._place_if(orelse, segs))
        if orelse is None:
            return node.with_changes(orelse=cst.Else(body=cst.IndentedBlock(body=[s for k in segs for s in self._skip(k)])))
        stmts = _block(orelse.body)
        there = [k for k in segs if any(st in self.holders[k] for st in stmts)]
        placed = self._place(stmts, there) if there else stmts
        skips = [s for k in segs if k not in there for s in self._skip(k)]
        return node.with_changes(orelse=orelse.with_changes(body=_indented(orelse.body, [*skips, *placed])))

    # -- jumps ---------------------------------------------------------------------------------

    def _expand_jumps(self, body: list[cst.BaseStatement], placed: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Before each ``continue``/``break``/``return``: signal the open segment, skip the later ones."""
        out = list(placed)
        for t, st in enumerate(body):
            if not any(True for _ in _level_jumps(st, (cst.Continue, cst.Break, cst.Return))):
                continue
            opened: list[int] = []
            later: list[int] = []
            for k in self.order:
                if k not in self.spans:  # an empty prologue: already signalled at the top
                    continue
                a, b = self.spans[k]
                if k in self.descended and a == t:
                    raise Refused(f"a jump inside the if statement that holds segment {k} (line {self._line(st)})")
                if a <= t <= b:
                    opened.append(k)
                elif a > t:
                    later.append(k)
            skips = [s for k in later for s in self._skip(k)]
            signals = [_call("signal", k) for k in opened]

            def expand(small: cst.BaseSmallStatement) -> list[cst.BaseStatement]:
                if isinstance(small, cst.Continue):
                    return [*self._last_writes(every=True), *signals, *skips, _stmt("continue")]
                if 0 not in opened or not self.prologue:
                    raise Refused(f"a loop exit outside the prologue segment (line {self._line(st)})")
                over = _stmt(f"{self.cellvar[0]}.{self.over} = True")
                if isinstance(small, cst.Break):
                    return [over, *self._last_writes(every=False), *signals, *skips, _stmt("break")]
                assert isinstance(small, cst.Return)
                pre: list[cst.BaseStatement] = []
                value = small.value
                if value is not None and self._reads_cells(value):
                    tmp = self._fresh("result")
                    pre.append(cst.SimpleStatementLine(body=[cst.Assign(
                        targets=[cst.AssignTarget(cst.Name(tmp))], value=value)]))
                    value = cst.Name(tmp)
                ret = cst.SimpleStatementLine(body=[small.with_changes(value=value)])
                return [*pre, over, *signals, *skips, ret]

            at = next(i for i, x in enumerate(out) if x is self.top_out[t])
            out[at] = self.top_out[t].visit(_Jumps(expand))  # type: ignore[assignment]
        flat: list[cst.BaseStatement] = []
        for x in out:
            flat.extend(x.nodes if isinstance(x, cst.FlattenSentinel) else [x])  # type: ignore[arg-type]
        return flat

    def _reads_cells(self, e: cst.CSTNode) -> bool:
        cells = set(self.cellvar.values())
        return any(isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value in cells
                   for n in _walk(e))

    def _line(self, node: cst.CSTNode) -> int:
        return self.km.positions[node].start.line

    # -- output --------------------------------------------------------------------------------

    def _assemble(self, iteration: _Iteration, body: list[cst.BaseStatement]) -> tuple[list[cst.BaseStatement], str]:
        loop, node, segs = self.loop, self.node, self.segs
        n = len(segs)
        plural = "segment" if n == 1 else "segments"
        summary = f"{loop.verdict.kind.value}, {self.signals}, {n} {plural}"
        comments = [f"# helixrc: loop {loop.id} (line {loop.loc.line}): {summary}"]
        for s in segs:
            what = ", ".join([*s.scalars, *(f"{a}[]" for a in s.arrays)])
            if s.prologue:
                exits = _lines_text(loop.exit_lines)
                guards = f"; protects {what}" if what else ""
                comments.append(f"#   segment 0 is the prologue: it decides the loop exit ({exits}){guards}")
            else:
                comments.append(f"#   segment {s.index} protects {what} ({_lines_text(s.lines)})")
        for (op, compared, _, kind), infos in self.reductions.items():
            what = infos[0].describe() if compared else f"{', '.join(i.name for i in infos)} {kind} reduction ({op})"
            if any(i.needs_reassociation for i in infos):
                what += ", reassociated as the plan allows"
            comments.append(f"#   {what}: privatized, combined after the loop")
        if self.live_outs:
            names = ", ".join(i.name for i in self.live_outs)
            comments.append(f"#   {names}: read after the loop, from its last iteration")
        call = _parse_expr(f'{iteration.header}segments={n}, signals="{self.signals}")')
        target = cst.Name(iteration.var)
        new_body = _indented(node.body, body)
        if isinstance(node, cst.For):
            new_loop: cst.BaseStatement = node.with_changes(target=target, iter=call, body=new_body, leading_lines=())
        else:
            new_loop = cst.For(target=target, iter=call, body=new_body)
        before: list[cst.BaseStatement] = list(iteration.before)
        after: list[cst.BaseStatement] = []
        for s in segs:
            if s.index not in self.cellvar:
                continue
            cv = self.cellvar[s.index]
            cells = [f"{x}={x}" for x in s.scalars]
            if s.prologue:
                cells.insert(0, f"{self.over}=False")
            before.append(_stmt(f"{cv} = shared({s.index}, {', '.join(cells)})"))
            after += [_stmt(f"{x} = {cv}.{x}") for x in s.scalars]
        for key, infos in self.reductions.items():
            acc = self.acc[key]
            op, _, ties, _ = key
            ties = ', "last"' if ties == "last" else ""
            values = ", ".join(f"{i.name}={i.name}" for i in infos)
            before.append(_stmt(f'{acc} = reduction("{op}"{ties}, {values})'))
            after += [_stmt(f"{i.name} = {acc}.{i.name}") for i in infos]
            self.imports.add("reduction")
        if self.live_outs:
            self.imports.add("lastprivate")
            names = ", ".join(f"{i.name}={i.name}" for i in self.live_outs)
            before.append(_stmt(f"{self.last} = lastprivate({names})"))
            after += [_stmt(f"{i.name} = {self.last}.{i.name}") for i in self.live_outs]
        group = [*before, new_loop, *after]
        lines = [*node.leading_lines, *(cst.EmptyLine(comment=cst.Comment(c)) for c in comments)]
        group[0] = group[0].with_changes(leading_lines=lines)  # type: ignore[call-arg]
        return group, summary


@dataclass
class _Iteration:
    """How the loop walks its iteration space."""

    var: str  # the loop variable of the output's for statement
    header: str  # "prange(0, n, 1, " or "prange_while("
    before: list[cst.BaseStatement]  # bound before the loop (start values of induction variables)
    top: list[cst.BaseStatement]  # recomputed at the top of every iteration


def _merge(segs: list[_Seg], a: int, b: int) -> list[_Seg]:
    """Segments ``a`` and ``b`` become one; the prologue stays first, the others by first line."""
    x, y = segs[a], segs[b]
    joined = _Seg(0, [*x.scalars, *(v for v in y.scalars if v not in x.scalars)],
                  [*x.arrays, *(v for v in y.arrays if v not in x.arrays)], x.lines | y.lines, x.prologue or y.prologue)
    rest = [s for i, s in enumerate(segs) if i not in (a, b)] + [joined]
    rest.sort(key=lambda s: (not s.prologue, min(s.lines, default=0)))
    for i, s in enumerate(rest):
        s.index = i
    return rest


def _bound_before(fn: cst.FunctionDef, target: cst.CSTNode, name: str) -> bool:
    """``name`` is certainly bound when ``target`` starts: a parameter, or assigned by a statement
    that runs before it on every path (earlier in one of the blocks that lead to it)."""
    params = fn.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return True
    path: set[cst.CSTNode] = set()

    def find(node: cst.CSTNode) -> bool:
        if node is target or any(find(c) for c in node.children):
            path.add(node)
            return True
        return False

    find(fn)

    def search(stmts: Sequence[cst.BaseStatement]) -> bool:
        for st in stmts:
            if st in path:
                if st is target:
                    return False
                return any(search(b) for b in _sub_blocks(st) if any(x in path for x in b))
            if _binds(st, name):
                return True
        return False

    return search(_block(fn.body))


def _binds(st: cst.BaseStatement, name: str) -> bool:
    if not isinstance(st, cst.SimpleStatementLine):
        return False
    for small in st.body:
        targets: list[cst.CSTNode] = []
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and (
            not isinstance(small, cst.AnnAssign) or small.value is not None
        ):
            targets = [small.target]
        for t in targets:
            if any(isinstance(n, cst.Name) and n.value == name for n in _walk(t)):
                return True
    return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _parse_expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def _stmt(text: str) -> cst.BaseStatement:
    return cst.parse_statement(text)


def _if(test: str, body: list[cst.BaseStatement]) -> cst.If:
    return cst.If(test=_parse_expr(test), body=cst.IndentedBlock(body=body))


def _sub_blocks(st: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    """The statement lists nested directly in a compound statement."""
    out: list[list[cst.BaseStatement]] = []
    if isinstance(st, cst.If):
        out.append(_block(st.body))
        if isinstance(st.orelse, cst.If):
            out.append([st.orelse])
        elif st.orelse is not None:
            out.append(_block(st.orelse.body))
    elif isinstance(st, (cst.For, cst.While)):
        out.append(_block(st.body))
        if st.orelse is not None:
            out.append(_block(st.orelse.body))
    return out


def _level_jumps(node: cst.CSTNode, kinds: type | tuple[type, ...]) -> Iterable[cst.CSTNode]:
    """The jumps of the enclosing loop: ``continue``/``break`` not in a nested loop, any ``return``."""
    if isinstance(node, kinds):
        yield node
        return
    for child in node.children:
        if isinstance(child, (cst.For, cst.While)):
            if cst.Return in (kinds if isinstance(kinds, tuple) else (kinds,)):
                yield from (n for n in _walk(child) if isinstance(n, cst.Return))
            continue
        yield from _level_jumps(child, kinds)


def _is_call(st: cst.CSTNode, fn: str) -> bool:
    if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
        return False
    e = st.body[0]
    return (
        isinstance(e, cst.Expr) and isinstance(e.value, cst.Call)
        and isinstance(e.value.func, cst.Name) and e.value.func.value == fn
    )


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _subscript_targets(body: cst.CSTNode) -> set[cst.CSTNode]:
    """The subscripts that are assigned (``a[i] = ...``, ``a[i] += ...``)."""
    out: set[cst.CSTNode] = set()
    for n in _walk(body):
        if isinstance(n, cst.Assign):
            out.update(t.target for t in n.targets)
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
            out.add(n.target)
    return {t for t in out if isinstance(t, cst.Subscript)}


def _written_arrays(body: cst.CSTNode) -> set[str]:
    names = {t.value.value for t in _subscript_targets(body) if isinstance(t.value, cst.Name)}  # type: ignore[attr-defined]
    # an array passed to a call may be written by it (a helper kernel)
    for n in _walk(body):
        if isinstance(n, cst.Call):
            names.update(a.value.value for a in n.args if isinstance(a.value, cst.Name))
    return names


def _checkable_index(
    sub: cst.Subscript, var: str, scalars: dict[str, ScalarInfo], written: set[str]
) -> tuple[str, int] | None:
    """``(index array or "None", offset)`` for ``a[var + c]`` / ``a[idx[var] + c]``, else None."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    e = sub.slice[0].slice.value
    offset = 0
    if isinstance(e, cst.BinaryOperation) and isinstance(e.right, cst.Integer) and isinstance(
        e.operator, (cst.Add, cst.Subtract)
    ):
        offset = e.right.evaluated_value if isinstance(e.operator, cst.Add) else -e.right.evaluated_value
        e = e.left
    if _is_name(e, var):
        return "None", offset
    if (
        isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name) and len(e.slice) == 1
        and isinstance(e.slice[0].slice, cst.Index) and _is_name(e.slice[0].slice.value, var)
        and e.value.value not in written and e.value.value not in scalars
    ):
        return e.value.value, offset
    return None
