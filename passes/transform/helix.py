"""The HELIX transform (first cut): rewrite the outermost parallelizable ``for`` loop of a kernel
into the parallel form of ``docs/parallel-form.md``, one LibCST pass over the module.

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

Scope of this cut: ``for v in range(...)`` loops whose verdict is DOALL or HELIX, without
``break``/``return``, other induction variables or live-out private scalars. Every reduction is
kept in a segment of its own (ordered, hence exact for floats); privatization comes later. A
segment's statements are bracketed at the innermost block that holds all of them, descending only
through ``if`` statements; the branch that skips a segment signals it (uncoupled) or waits and
signals it (coupled); a ``continue`` signals the segments placed after it. Anything else is
refused: the loop stays as it was and ``TransformResult.loops`` says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from helixrc.passes.analysis import LoopAnalysis, ScalarClass, VerdictKind, analyze_kernel
from helixrc.passes.frontend import KernelModule

__all__ = ["TransformResult", "transform_source"]

IMPORT = "from helixrc.parallel import prange, shared, signal, wait"


@dataclass(frozen=True)
class TransformResult:
    """The transformed module source and, per loop id, what happened to the loop."""

    source: str
    #: loop id -> "HELIX, uncoupled, 1 segment" for a transformed loop, else "refused: <why>"
    loops: dict[str, str]


class Refused(Exception):
    """This loop is outside the scope of the transform; the message says why."""


@dataclass
class _Seg:
    """One sequential segment of the output: the scalars it turns into cells and its lines."""

    index: int
    scalars: list[str]
    arrays: list[str]
    lines: set[int]


def transform_source(module: KernelModule, name: str, signals: str = "uncoupled") -> TransformResult:
    """Transform kernel ``name`` of ``module``; loops out of scope stay sequential."""
    if signals not in ("coupled", "uncoupled"):
        raise ValueError(f"signals must be 'coupled' or 'uncoupled', not {signals!r}")
    analysis = analyze_kernel(module, name)
    fn = module.functions[name]
    fors = {(module.positions[n].start.line, module.positions[n].start.column): n for n in _loops(fn)}
    outcomes: dict[str, str] = {}
    replacements: dict[cst.For, list[cst.BaseStatement]] = {}
    done: set[str] = set()  # transformed loops and the loops nested in them
    taken = {n.value for n in _walk(fn) if isinstance(n, cst.Name)}
    for lid, loop in analysis.loops.items():
        if loop.parent in done:
            done.add(lid)
            outcomes[lid] = f"refused: nested inside the parallel loop {loop.parent}"
            continue
        node = fors.get((loop.loc.line, loop.loc.col))
        try:
            if not isinstance(node, cst.For):
                raise Refused(f"a {loop.kind} loop (only for loops in this cut)")
            rewriter = _LoopRewriter(module, loop, node, signals, set(taken))
            stmts, summary = rewriter.rewrite()
        except Refused as why:
            outcomes[lid] = f"refused: {why}"
            continue
        replacements[node] = stmts
        taken |= rewriter.taken  # the cell variables it created
        outcomes[lid] = summary
        done.add(lid)
    tree = module.module
    if replacements:
        tree = tree.visit(_Splice(replacements))
        tree = _add_import(tree)
    return TransformResult(tree.code, outcomes)


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

    def __init__(self, replacements: dict[cst.For, list[cst.BaseStatement]]) -> None:
        super().__init__()
        self.replacements = replacements

    def leave_For(
        self, original_node: cst.For, updated_node: cst.For
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        stmts = self.replacements.get(original_node)
        return updated_node if stmts is None else cst.FlattenSentinel(stmts)


def _add_import(tree: cst.Module) -> cst.Module:
    """Add the runtime import after the module docstring and ``from __future__`` imports."""
    body = list(tree.body)
    if any(isinstance(s, cst.SimpleStatementLine) and tree.code_for_node(s).strip() == IMPORT for s in body):
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
    body.insert(at, cst.parse_statement(IMPORT))
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


class _Continues(cst.CSTTransformer):
    """Put the skip statements of later segments before every ``continue`` of this loop level."""

    def __init__(self, skips: list[cst.SimpleStatementLine]) -> None:
        super().__init__()
        self.skips = skips
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

    def _expand(self, line: cst.SimpleStatementLine) -> list[cst.BaseStatement]:
        smalls = list(line.body)
        at = next((i for i, s in enumerate(smalls) if isinstance(s, cst.Continue)), None)
        if at is None or self.depth:
            return [line]
        before = [cst.SimpleStatementLine(body=smalls[:at])] if at else []
        return [*before, *self.skips, cst.SimpleStatementLine(body=[cst.Continue()])]

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        out = self._expand(updated_node)
        if out == [updated_node]:
            return updated_node
        out[0] = out[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel(out)

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.BaseSuite:
        line = cst.SimpleStatementLine(body=updated_node.body)
        out = self._expand(line)
        return updated_node if out == [line] else cst.IndentedBlock(body=out)


class _LoopRewriter:
    """Plan and build the parallel form of one ``for`` loop; raises :class:`Refused`."""

    def __init__(
        self, km: KernelModule, loop: LoopAnalysis, node: cst.For, signals: str, taken: set[str]
    ) -> None:
        self.km, self.loop, self.node, self.signals, self.taken = km, loop, node, signals, taken
        self.coupled = signals == "coupled"

    # -- planning ------------------------------------------------------------------------------

    def rewrite(self) -> tuple[list[cst.BaseStatement], str]:
        loop, node = self.loop, self.node
        if loop.verdict.kind is VerdictKind.REFUSED:
            raise Refused(loop.verdict.text.removeprefix("REFUSED: "))
        if loop.has_early_exit:
            raise Refused(f"break or return inside the loop ({_lines_text(loop.exit_lines)})")
        if node.orelse is not None:
            raise Refused("a for ... else loop")
        if not isinstance(node.target, cst.Name):
            raise Refused("the loop target is not a plain name")
        bounds = self._range_args()
        var = node.target.value
        for info in loop.scalars.values():
            if info.cls is ScalarClass.INDUCTION and info.name != var:
                raise Refused(f"induction variable {info.name} needs recomputation (not in this cut)")
            if info.cls in (ScalarClass.PRIVATE, ScalarClass.INDUCTION) and info.live_out:
                raise Refused(f"{info.name} is read after the loop (live-out from the last iteration)")
        segs = self._segments()
        body = _block(node.body)
        self.hits = {s.index: self._hits(body, s) for s in segs}
        self.holders = {k: self._holders(body, h) for k, h in self.hits.items()}
        self.cellvar = {s.index: self._fresh(f"seg{s.index}") for s in segs if s.scalars}
        self.cell_of = {x: s.index for s in segs for x in s.scalars}
        self.ranges: dict[int, list[cst.BaseStatement]] = {s.index: [] for s in segs}
        self.spans: dict[int, tuple[int, int]] = {}
        self.names = self._cell_names(body)
        new_body = self._place(body, [s.index for s in segs], top=True)
        self._check_names()
        new_body = self._continues(body, new_body, [s.index for s in segs])
        return self._assemble(bounds, new_body, segs)

    def _range_args(self) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression]:
        it = self.node.iter
        if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"):
            raise Refused("the loop does not iterate over range(...)")
        args = [a.value for a in it.args]
        if any(a.keyword is not None or a.star for a in it.args) or not 1 <= len(args) <= 3:
            raise Refused("range(...) with unusual arguments")
        if len(args) == 1:
            return cst.Integer("0"), args[0], cst.Integer("1")
        return args[0], args[1], args[2] if len(args) == 3 else cst.Integer("1")

    def _segments(self) -> list[_Seg]:
        loop = self.loop
        segs: list[_Seg] = []
        for s in loop.verdict.segments:
            if s.prologue:
                raise Refused(f"segment {s.index} is a prologue (loop exit) (not in this cut)")
            segs.append(_Seg(len(segs), list(s.scalars), list(s.arrays), set(s.lines)))
        covered = {x for s in segs for x in s.scalars}
        for info in loop.scalars.values():
            if info.cls is ScalarClass.CARRIED and info.name not in covered:
                raise Refused(f"carried scalar {info.name} is in no segment")
            if info.cls is not ScalarClass.REDUCTION:
                continue
            lines = set(info.lines)
            home = next((s for s in segs if s.lines & lines), None)
            if home is None:
                home = _Seg(len(segs), [], [], set())
                segs.append(home)
            home.scalars.append(info.name)
            home.lines |= lines
        return segs

    def _hits(self, body: list[cst.BaseStatement], seg: _Seg) -> set[cst.BaseStatement]:
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
        missing = seg.lines - covered
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

    def _cell_names(self, body: list[cst.BaseStatement]) -> dict[cst.Name, str]:
        """Every use of a cell scalar in the body, to rewrite as ``segK.name``."""
        found: dict[cst.Name, str] = {}
        skip: set[cst.CSTNode] = set()
        for st in body:
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

    # -- placement -----------------------------------------------------------------------------

    def _skip(self, k: int) -> list[cst.SimpleStatementLine]:
        return [_call("wait", k), _call("signal", k)] if self.coupled else [_call("signal", k)]

    def _place(self, stmts: list[cst.BaseStatement], segs: list[int], top: bool = False) -> list[cst.BaseStatement]:
        """Bracket segments ``segs`` in ``stmts``: every path through the block signals each once."""
        spans: dict[int, tuple[int, int]] = {}
        descend: dict[int, list[int]] = {}
        for k in segs:
            idx = [i for i, st in enumerate(stmts) if st in self.holders[k]]
            if not idx:
                raise Refused(f"segment {k} not found")  # callers pass only segments held here
            st = stmts[idx[0]]
            if len(idx) == 1 and isinstance(st, cst.If) and st not in self.hits[k]:
                descend.setdefault(idx[0], []).append(k)
            spans[k] = (idx[0], idx[-1])
        ranges = {k: sp for k, sp in spans.items() if k not in {j for ks in descend.values() for j in ks}}
        for k, (a, b) in ranges.items():
            for j, (c, d) in spans.items():
                if j != k and not (d < a or c > b):
                    raise Refused(f"segments {min(j, k)} and {max(j, k)} overlap")
        if top:
            self.spans = spans
        out: list[cst.BaseStatement] = []
        for i, st in enumerate(stmts):
            starts = [k for k, (a, _) in ranges.items() if a == i]
            ends = [k for k, (_, b) in ranges.items() if b == i]
            for k in starts:
                out.append(_call("wait", k))
            if any(a <= i <= b for a, b in ranges.values()):
                k = next(k for k, (a, b) in ranges.items() if a <= i <= b)
                self.ranges[k].append(st)
                self._no_jumps(st, k)
                st = st.visit(_Cells(self.names))  # type: ignore[assignment]
            elif i in descend:
                st = self._place_if(st, descend[i])  # type: ignore[arg-type]
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
                st = st.with_changes(leading_lines=())
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

    def _no_jumps(self, st: cst.CSTNode, k: int) -> None:
        if any(True for _ in _level_continues(st)):
            raise Refused(f"continue inside segment {k}")

    def _continues(
        self, body: list[cst.BaseStatement], new_body: list[cst.BaseStatement], segs: list[int]
    ) -> list[cst.BaseStatement]:
        """Before each ``continue``, signal the segments placed after its top-level statement."""
        out = list(new_body)
        for t, st in enumerate(body):
            if not list(_level_continues(st)):
                continue
            for k in segs:
                a, b = self.spans[k]
                if a <= t <= b:
                    raise Refused(f"a continue shares a statement with segment {k}")
            later = [k for k in segs if self.spans[k][0] > t]
            if not later:
                continue
            j = next(i for i, x in enumerate(out) if x is st)
            out[j] = st.visit(_Continues([s for k in later for s in self._skip(k)]))  # type: ignore[assignment]
        flat: list[cst.BaseStatement] = []
        for x in out:
            flat.extend(x.nodes if isinstance(x, cst.FlattenSentinel) else [x])  # type: ignore[arg-type]
        return flat

    # -- output --------------------------------------------------------------------------------

    def _assemble(
        self,
        bounds: tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression],
        body: list[cst.BaseStatement],
        segs: list[_Seg],
    ) -> tuple[list[cst.BaseStatement], str]:
        loop, node = self.loop, self.node
        n = len(segs)
        plural = "segment" if n == 1 else "segments"
        summary = f"{loop.verdict.kind.value}, {self.signals}, {n} {plural}"
        comments = [f"# helixrc: loop {loop.id} (line {loop.loc.line}): {summary}"]
        for s in segs:
            what = ", ".join([*s.scalars, *(f"{a}[]" for a in s.arrays)])
            comments.append(f"#   segment {s.index} protects {what} ({_lines_text(s.lines)})")
        iter_ = cst.parse_expression(
            f'prange(start, stop, step, segments={n}, signals="{self.signals}")'
        )
        assert isinstance(iter_, cst.Call)
        args = [a.with_changes(value=v) for a, v in zip(iter_.args[:3], bounds)]
        iter_ = iter_.with_changes(args=[*args, *iter_.args[3:]])
        new_for = node.with_changes(iter=iter_, body=_indented(node.body, body), leading_lines=())
        before: list[cst.BaseStatement] = []
        after: list[cst.BaseStatement] = []
        for s in segs:
            if not s.scalars:
                continue
            cv = self.cellvar[s.index]
            cells = ", ".join(f"{x}={x}" for x in s.scalars)
            before.append(cst.parse_statement(f"{cv} = shared({s.index}, {cells})"))
            after += [cst.parse_statement(f"{x} = {cv}.{x}") for x in s.scalars]
        group = [*before, new_for, *after]
        lines = [*node.leading_lines, *(cst.EmptyLine(comment=cst.Comment(c)) for c in comments)]
        group[0] = group[0].with_changes(leading_lines=lines)  # type: ignore[call-arg]
        return group, summary


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


def _level_continues(node: cst.CSTNode) -> Iterable[cst.Continue]:
    """The ``continue`` statements of the enclosing loop (not of loops nested in ``node``)."""
    if isinstance(node, cst.Continue):
        yield node
        return
    for child in node.children:
        if not isinstance(child, (cst.For, cst.While)):
            yield from _level_continues(child)


def _is_call(st: cst.CSTNode, fn: str) -> bool:
    if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
        return False
    e = st.body[0]
    return (
        isinstance(e, cst.Expr) and isinstance(e.value, cst.Call)
        and isinstance(e.value.func, cst.Name) and e.value.func.value == fn
    )
