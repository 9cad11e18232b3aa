"""The parallel form of one loop (:class:`LoopRewriter`): its segments, bracketed with
``wait``/``signal``; its jumps, expanded to signal and skip; its carried scalars as shared cells,
reductions and live-outs; and the statements before and after it. Out of scope: :class:`Refused`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import libcst as cst
from helixrc.csim.errors import PlanError
from helixrc.passes.analysis import LoopAnalysis, ScalarClass, ScalarInfo, VerdictKind
from helixrc.passes.frontend import KernelModule
from helixrc.passes.transform.cst_tools import (
    Cells,
    Jumps,
    Rename,
    assigned_names,
    block,
    bound_before,
    call,
    code,
    if_,
    indented,
    is_call,
    level_jumps,
    lines_text,
    parse_expr,
    range_args,
    stmt,
    sub_blocks,
    variables,
    walk,
)
from helixrc.passes.transform.independence import guarded, independence_check, overlap_check
from helixrc.passes.transform.records import Options, Overlap, Refused, Seg, merge
from helixrc.passes.transform.schedule import gather, hoist_operands, schedule
from helixrc.passes.transform.split import Guard, split_ifs


@dataclass
class _Iteration:
    """How the loop walks its iteration space."""

    var: str  # the loop variable of the output's for statement
    header: str  # "prange(0, n, 1, " or "prange_while("
    before: list[cst.BaseStatement]  # bound before the loop (start values of induction variables)
    top: list[cst.BaseStatement]  # recomputed at the top of every iteration


class LoopRewriter:
    """Plan and build the parallel form of one loop; raises :class:`Refused`."""

    def __init__(
        self, km: KernelModule, fn: cst.FunctionDef, loop: LoopAnalysis, node: cst.For | cst.While,
        opts: Options, taken: set[str],
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
        self.body = block(node.body)
        self.breaks = any(True for st in self.body for _ in level_jumps(st, cst.Break))
        self.inductions = [i for i in loop.scalars.values() if i.cls is ScalarClass.INDUCTION]
        self.live_outs = [
            i for i in loop.scalars.values() if i.read_after and i.cls in (ScalarClass.PRIVATE, ScalarClass.INDUCTION)
        ]
        for info in self.live_outs:
            if info.cls is ScalarClass.PRIVATE and self.breaks:
                raise Refused(f"{info.name} is read after a loop that can break (its last value is not recomputable)")
            if not bound_before(self.fn, node, info.name):
                raise Refused(f"{info.name} is read after the loop and may be unbound before it")
        arrays = self.opts.assume_independent
        check = independence_check(self.km, loop, node, arrays) if arrays else None
        segs = self._segments()
        prologues = [s for s in segs if s.prologue]
        if bool(prologues) != loop.has_early_exit or (prologues and prologues[0] is not segs[0]):
            raise Refused("the loop exit is not in the prologue segment")
        for _ in range(len(segs) + 1):
            try:
                group, summary = self._build(segs)
                break
            except Overlap as o:
                segs = merge(segs, o.a, o.b)
        split = self.guard.text()
        if self.guard.int64:
            self.imports.add("int64_arrays")
        apart = overlap_check(loop.assumed_no_alias)
        if apart:
            self.imports.add("disjoint")
        if check is not None:
            self.imports.add("independent")
        conditions = [c for c in (apart, check, split) if c]
        if conditions:
            names = tuple(sorted({x for p in loop.assumed_no_alias for x in p}))
            group = guarded(group, " and ".join(conditions), node, arrays, split, names)
        return group, summary

    def _segments(self) -> list[Seg]:
        loop = self.loop
        segs = [
            Seg(s.index, list(s.scalars), list(s.arrays), set(s.lines), s.prologue) for s in loop.verdict.segments
        ]
        covered = {x for s in segs for x in s.scalars}
        #: (operator, compared variable of an arg pair, tie rule, int/float) -> its variables
        self.reductions: dict[tuple[str, str | None, str, str], list[ScalarInfo]] = {}
        for info in loop.scalars.values():
            if info.cls is ScalarClass.CARRIED and info.name not in covered:
                raise Refused(f"carried scalar {info.name} is in no segment")
            if info.cls is not ScalarClass.REDUCTION:
                continue
            if not bound_before(self.fn, self.node, info.name):
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
                home = Seg(len(segs), [], [], set())
                segs.append(home)
            home.scalars.append(info.name)
            home.lines |= lines
        uses = self._scalar_lines()
        for s in segs:
            for x in s.scalars:
                if not bound_before(self.fn, self.node, x):
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
            for n in variables(node):
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
                for inner in sub_blocks(st):
                    visit(inner)

        visit(self.body)
        return out

    def _group(self, segs: list[Seg], groups: tuple[tuple[str, ...], ...]) -> list[Seg]:
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
                    f"{lines_text(s.lines).removeprefix('lines ').removeprefix('line ')})",
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
                segs = merge(segs, members[0], k)
                members = [m - (m > k) for m in members]  # merge renumbers
        return segs

    # -- building ------------------------------------------------------------------------------

    def _build(self, segs: list[Seg]) -> tuple[list[cst.BaseStatement], str]:
        self.taken = set(self.base_taken)
        self.imports = set()
        self.segs = segs
        self.order = [s.index for s in segs]
        self.prologue = segs[0].prologue if segs else False
        body = self.body
        header = self.km.positions[self.node].start.line
        self.hits = {s.index: self._hits(body, s, header) for s in segs}
        self.holders = {k: self._holders(body, h) for k, h in self.hits.items()}
        self.guard = Guard()
        ints = [name for name, value in self.km.constants.items() if type(value) is int]
        helpers = {name: f for name, f in self.km.functions.items() if f is not self.fn}
        body = split_ifs(body, self.hits, self.holders, helpers, ints, self._fresh, self.guard)
        shared = {x for s in segs for x in s.scalars} | {i.name for g in self.reductions.values() for i in g}
        body = gather(body, self.holders, self.prologue, {s.index: s.scalars for s in segs}, shared)
        body = schedule(body, self.holders, self.prologue, shared)
        body, replaced = hoist_operands(body, self.holders, self.prologue, {s.index: s.scalars for s in segs},
                                        shared, self._read_only(), self._fresh)
        for old, new in replaced.items():
            for found in (*self.hits.values(), *self.holders.values()):
                if old in found:
                    found.remove(old)
                    found.add(new)
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
            placed = [st.visit(Rename(self.acc_of)) for st in placed]  # type: ignore[misc]
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

    def _hits(self, body: list[cst.BaseStatement], seg: Seg, header: int) -> set[cst.BaseStatement]:
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
                for inner in sub_blocks(st):
                    visit(inner)

        visit(body)
        missing = seg.lines - covered - ({header} if seg.prologue else set())
        if missing:
            raise Refused(f"segment {seg.index} has code on {lines_text(missing)} that is not a whole statement")
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

    def _read_only(self) -> set[str]:
        """The kernel's parameters that no store of the loop may write (helpers' stores included)
        and that the kernel never rebinds: arrays read-only in the loop, as the analysis sees
        distinct parameters (not overlapping in memory: ``disjoint(...)`` checks it before the loop)."""
        written = set(self.loop.written_arrays)
        if "*" in written:
            return set()
        return {p.name.value for p in self.fn.params.params} - written - assigned_names(self.fn)

    def _fresh(self, base: str) -> str:
        name = base
        while name in self.taken:
            name = "_" + name
        self.taken.add(name)
        return name

    def _cell_names(self, nodes: Sequence[cst.CSTNode]) -> dict[cst.Name, str]:
        """Every use of a cell scalar, to rewrite as ``segK.name``."""
        return {n: self.cellvar[self.cell_of[n.value]] for st in nodes for n in variables(st) if n.value in self.cell_of}

    def _check_names(self) -> None:
        inside: set[cst.CSTNode] = set()
        for k, stmts in self.ranges.items():
            for st in stmts:
                inside.update(n for n in walk(st) if isinstance(n, cst.Name) and self.cell_of.get(n.value) == k)
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
            start, stop, step = range_args(node)
            var = node.target.value
            header = f"prange({code(start)}, {code(stop)}, {code(step)}, "
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
            exit_ = [*(s for k in self.order for s in self._skip(k)), stmt("break")]
            top.append(if_(f"not ({code(test)})", exit_))
        return _Iteration(it, "prange_while(", before, top)

    def _iteration_number(
        self, var: str, start: cst.BaseExpression, step: cst.BaseExpression, top: list[cst.BaseStatement]
    ) -> str:
        """An expression for the iteration number of a ``for`` loop (a new variable if needed)."""
        s0, st = code(start), code(step)
        if s0 == "0" and st == "1":
            return var
        it = self._fresh("it")
        offset = var if s0 == "0" else f"({var} - {s0})"
        top.append(stmt(f"{it} = {offset}" if st == "1" else f"{it} = {offset} // {st}"))
        return it

    def _recompute(self, info: ScalarInfo, it: str, before: list[cst.BaseStatement]) -> cst.BaseStatement:
        """``v = v0 + it * step`` at the top of the body; ``v0 = v`` before the loop."""
        v = info.name
        if not bound_before(self.fn, self.node, v):
            raise Refused(f"induction variable {v} may be unbound before the loop")
        v0 = self._fresh(f"{v}0")
        before.append(stmt(f"{v0} = {v}"))
        step = info.step or "1"
        try:
            n = int(step)
        except ValueError:
            n = None
        if n is not None:
            term = it if abs(n) == 1 else f"{it} * {abs(n)}"
            return stmt(f"{v} = {v0} {'+' if n >= 0 else '-'} {term}")
        if step.startswith("-(") and step.endswith(")") and step[2:-1].isidentifier():
            return stmt(f"{v} = {v0} - {it} * {step[2:-1]}")
        return stmt(f"{v} = {v0} + {it} * {step if step.isidentifier() else f'({step})'}")

    def _last_writes(self, every: bool) -> list[cst.BaseStatement]:
        """``last.x = x`` for the live-outs (``every``) or for the induction variables only."""
        return [
            stmt(f"{self.last}.{i.name} = {i.name}")
            for i in self.live_outs if every or i.cls is ScalarClass.INDUCTION
        ]

    # -- placement -----------------------------------------------------------------------------

    def _skip(self, k: int) -> list[cst.BaseStatement]:
        return [call("wait", k), call("signal", k)] if self.coupled else [call("signal", k)]

    def _signal_rest(self, k: int) -> list[cst.BaseStatement]:
        """Leave open segment ``k``'s bracket early: signal it and skip the segments after it."""
        return [call("signal", k), *(s for j in self.order if j != k for s in self._skip(j))]

    def _prologue_head(self) -> list[cst.BaseStatement]:
        """The first statements of segment 0: leave if the loop is over; the while test."""
        cells = self.cellvar[0]
        out = [if_(f"{cells}.{self.over}", [*self._signal_rest(0), stmt("break")])]
        if self.test is not None:
            test = self.test.visit(Cells(self.names))
            out.append(if_(f"not ({code(test)})", [
                stmt(f"{cells}.{self.over} = True"), *self._signal_rest(0), stmt("break"),
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
                    raise Overlap(min(j, k), max(j, k))
        if top:
            self.spans = spans
            self.descended = down
        out: list[cst.BaseStatement] = []
        if empty_prologue:
            out += [call("wait", 0), *self._prologue_head(), call("signal", 0)]
        for i, st in enumerate(stmts):
            starts = [k for k, (a, _) in ranges.items() if a == i]
            ends = [k for k, (_, b) in ranges.items() if b == i]
            for k in starts:
                out.append(call("wait", k))
                if top and k == 0 and self.prologue:
                    out += self._prologue_head()
            if any(a <= i <= b for a, b in ranges.values()):
                k = next(k for k, (a, b) in ranges.items() if a <= i <= b)
                self.ranges[k].append(st)
                st = st.visit(Cells(self.names))  # type: ignore[assignment]
            elif i in descend:
                st = self._place_if(st, descend[i])  # type: ignore[arg-type]
            if top:
                self.top_out[i] = st
            out.append(st)
            for k in ends:
                out.append(call("signal", k))
        # a bracket opening at a statement takes over its leading comments
        fixed: list[cst.BaseStatement] = []
        for st in out:
            comments = getattr(st, "leading_lines", None)
            if fixed and is_call(fixed[-1], "wait") and comments:
                j = len(fixed) - 1
                while j > 0 and is_call(fixed[j - 1], "wait"):
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
        body = block(node.body)
        here = [k for k in segs if any(st in self.holders[k] for st in body)]
        new_body = self._place(body, here) if here else body
        skips = [s for k in segs if k not in here for s in self._skip(k)]
        node = node.with_changes(body=indented(node.body, [*skips, *new_body]) if skips or here else node.body)
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            if any(orelse in self.hits[k] for k in segs):
                raise Refused("an elif test belongs to a segment (not in this cut)")
            return node.with_changes(orelse=self._place_if(orelse, segs))
        if orelse is None:
            return node.with_changes(orelse=cst.Else(body=cst.IndentedBlock(body=[s for k in segs for s in self._skip(k)])))
        stmts = block(orelse.body)
        there = [k for k in segs if any(st in self.holders[k] for st in stmts)]
        placed = self._place(stmts, there) if there else stmts
        skips = [s for k in segs if k not in there for s in self._skip(k)]
        return node.with_changes(orelse=orelse.with_changes(body=indented(orelse.body, [*skips, *placed])))

    # -- jumps ---------------------------------------------------------------------------------

    def _expand_jumps(self, body: list[cst.BaseStatement], placed: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Before each ``continue``/``break``/``return``: signal the open segment, skip the later ones."""
        out = list(placed)
        for t, st in enumerate(body):
            if not any(True for _ in level_jumps(st, (cst.Continue, cst.Break, cst.Return))):
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
            signals = [call("signal", k) for k in opened]

            expand = partial(self._expand_jump, line=self._line(st), opened=opened,
                             leave=[*signals, *skips])
            at = next(i for i, x in enumerate(out) if x is self.top_out[t])
            out[at] = self.top_out[t].visit(Jumps(expand))  # type: ignore[assignment]
        flat: list[cst.BaseStatement] = []
        for x in out:
            flat.extend(x.nodes if isinstance(x, cst.FlattenSentinel) else [x])  # type: ignore[arg-type]
        return flat

    def _expand_jump(
        self, small: cst.BaseSmallStatement, line: int, opened: list[int], leave: list[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        """One jump's expansion; ``leave`` signals the open segment and skips the later ones."""
        if isinstance(small, cst.Continue):
            return [*self._last_writes(every=True), *leave, stmt("continue")]
        if 0 not in opened or not self.prologue:
            raise Refused(f"a loop exit outside the prologue segment (line {line})")
        over = stmt(f"{self.cellvar[0]}.{self.over} = True")
        if isinstance(small, cst.Break):
            return [over, *self._last_writes(every=False), *leave, stmt("break")]
        assert isinstance(small, cst.Return)
        pre: list[cst.BaseStatement] = []
        value = small.value
        if value is not None and self._reads_cells(value):  # read the cells before signalling
            tmp = self._fresh("result")
            pre.append(cst.SimpleStatementLine(body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(tmp))], value=value)]))
            value = cst.Name(tmp)
        return [*pre, over, *leave, cst.SimpleStatementLine(body=[small.with_changes(value=value)])]

    def _reads_cells(self, e: cst.CSTNode) -> bool:
        cells = set(self.cellvar.values())
        return any(isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.value.value in cells
                   for n in walk(e))

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
                exits = lines_text(loop.exit_lines)
                guards = f"; protects {what}" if what else ""
                comments.append(f"#   segment 0 is the prologue: it decides the loop exit ({exits}){guards}")
            else:
                comments.append(f"#   segment {s.index} protects {what} ({lines_text(s.lines)})")
        for (op, compared, _, kind), infos in self.reductions.items():
            what = infos[0].describe() if compared else f"{', '.join(i.name for i in infos)} {kind} reduction ({op})"
            if any(i.needs_reassociation for i in infos):
                what += ", reassociated as the plan allows"
            comments.append(f"#   {what}: privatized, combined after the loop")
        if self.live_outs:
            names = ", ".join(i.name for i in self.live_outs)
            comments.append(f"#   {names}: read after the loop, from its last iteration")
        head = parse_expr(f'{iteration.header}segments={n}, signals="{self.signals}")')
        target = cst.Name(iteration.var)
        new_body = indented(node.body, body)
        if isinstance(node, cst.For):
            new_loop: cst.BaseStatement = node.with_changes(target=target, iter=head, body=new_body, leading_lines=())
        else:
            new_loop = cst.For(target=target, iter=head, body=new_body)
        before: list[cst.BaseStatement] = list(iteration.before)
        after: list[cst.BaseStatement] = []
        for s in segs:
            if s.index not in self.cellvar:
                continue
            cv = self.cellvar[s.index]
            cells = [f"{x}={x}" for x in s.scalars]
            if s.prologue:
                cells.insert(0, f"{self.over}=False")
            before.append(stmt(f"{cv} = shared({s.index}, {', '.join(cells)})"))
            after += [stmt(f"{x} = {cv}.{x}") for x in s.scalars]
        for key, infos in self.reductions.items():
            acc = self.acc[key]
            op, _, ties, _ = key
            ties = ', "last"' if ties == "last" else ""
            values = ", ".join(f"{i.name}={i.name}" for i in infos)
            before.append(stmt(f'{acc} = reduction("{op}"{ties}, {values})'))
            after += [stmt(f"{i.name} = {acc}.{i.name}") for i in infos]
            self.imports.add("reduction")
        if self.live_outs:
            self.imports.add("lastprivate")
            names = ", ".join(f"{i.name}={i.name}" for i in self.live_outs)
            before.append(stmt(f"{self.last} = lastprivate({names})"))
            after += [stmt(f"{i.name} = {self.last}.{i.name}") for i in self.live_outs]
        group = [*before, new_loop, *after]
        lines = [*node.leading_lines, *(cst.EmptyLine(comment=cst.Comment(c)) for c in comments)]
        group[0] = group[0].with_changes(leading_lines=lines)  # type: ignore[call-arg]
        return group, summary
