"""The Relic statement split: two independent groups of consecutive statements, the first
spawned on the SMT sibling, the second run as the continuation (``docs/relic.md``).

Before (plan: ``[loops."prepare/body"]``, ``technique = "relic"``)::

    def prepare(xs, ys, hist, out):
        for i in range(len(xs)):
            hist[xs[i] & 15] += 1
        s = 0
        for j in range(len(ys)):
            out[j] = ys[j] * 2
            s += ys[j]
        return s

After::

    def _prepare_relic0(xs, hist):
        for i in range(len(xs)):
            hist[xs[i] & 15] += 1


    def prepare(xs, ys, hist, out):
        # helixrc: function prepare (line 1): Relic, statement split, 2 tasks
        #   the sibling runs _prepare_relic0 (lines 2-3), this context lines 4-7
        task = spawn(_prepare_relic0, xs, hist)
        s = 0
        for j in range(len(ys)):
            out[j] = ys[j] * 2
            s += ys[j]
        join(task)
        return s

The groups are chosen in one statement list (a function's body, or the body of a loop that stays
sequential): the pair of consecutive runs of statements, independent of each other, that is the
most balanced by a static weight (a loop counts ten times its body). Independent means: nothing
the first group writes (a scalar, or any element of an array) is read or written by the second,
and no array the second writes is read by the first; a helper kernel's array arguments count as
written when its summary says so. Scalars the second group writes may be read by the first: it
gets them by value at the spawn, before the second runs. Scalars the first group writes that are
used anywhere else come back as the task's return value, assigned at the join. Neither group may
hold a ``return``, ``break`` or ``continue`` of the list's level. When in doubt, a dependence is
kept and there is no split.

The one entry point is :func:`split_statements`; a statement list out of scope raises :class:`Refused`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange

from helixrc.passes.analysis import HelperSummary
from helixrc.passes.analysis.cfg import array_names
from helixrc.passes.frontend import KernelModule
from helixrc.passes.transform.cst_tools import (
    assigned_names,
    block,
    bound_before,
    bound_names,
    call_text,
    enclosing_targets,
    fresh_name,
    indented,
    level_jumps,
    lines_text,
    names_used,
    stmt,
    sub_blocks,
    variables,
    walk,
)
from helixrc.passes.transform.independence import overlap_check
from helixrc.passes.transform.records import Refused
from helixrc.passes.transform.relic import RelicSplit, task_def

__all__ = ["split_statements"]

SUMMARY = "Relic, statement split, 2 tasks"

Positions = Mapping[cst.CSTNode, CodeRange]


@dataclass
class _Effects:
    """What a run of statements reads and writes, by name."""

    #: every variable or array it names
    names: set[str] = field(default_factory=set)
    #: scalars it reads (a name that is only assigned is not read)
    reads: set[str] = field(default_factory=set)
    #: scalars it assigns
    writes: set[str] = field(default_factory=set)
    #: arrays whose elements it writes (directly or through a helper kernel)
    stores: set[str] = field(default_factory=set)
    #: a return, break or continue that would leave the run
    jump: bool = False

    def __or__(self, other: _Effects) -> _Effects:
        return _Effects(self.names | other.names, self.reads | other.reads, self.writes | other.writes,
                        self.stores | other.stores, self.jump or other.jump)


def _array_sources(fn: cst.FunctionDef, helpers: Mapping[str, HelperSummary]) -> dict[str, str | None]:
    """Each array that is a local of ``fn`` (``row = grid[r]``, ``a = xs``) -> the parameter it
    stands for, or None when that is not one array."""
    params = {p.name.value for p in fn.params.params}
    sources: dict[str, set[str | None]] = {}
    for n in walk(fn.body):
        if isinstance(n, cst.Assign):
            base = n.value
            while isinstance(base, cst.Subscript):
                base = base.value
            for t in n.targets:
                if isinstance(t.target, cst.Name):
                    sources.setdefault(t.target.value, set()).add(base.value if isinstance(base, cst.Name) else None)
    out: dict[str, str | None] = {}
    for name in array_names(fn, helpers) - params:
        src: str | None = name
        seen: set[str] = set()
        while src is not None and src not in params and src not in seen:
            seen.add(src)
            srcs = sources.get(src, {None})
            src = next(iter(srcs)) if len(srcs) == 1 else None
        out[name] = src if src in params else None
    return out


def _effects(st: cst.BaseStatement, helpers: Mapping[str, HelperSummary], aliases: Mapping[str, str | None]) -> _Effects:
    out = _Effects()
    targets: set[cst.CSTNode] = set()  # names that are only bound, not read
    for n in walk(st):
        if isinstance(n, (cst.AssignTarget, cst.AnnAssign, cst.For, cst.AugAssign)):
            target = n.target
            out.writes.update(bound_names(target))
            if not isinstance(n, cst.AugAssign):
                targets.update(_binding(target))
            base = target
            while isinstance(base, cst.Subscript):
                base = base.value
            if base is not target and isinstance(base, cst.Name):
                out.stores.add(base.value)
        elif isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and n.func.value in helpers:
            summary = helpers[n.func.value]
            if summary.problem is not None:
                raise Refused(f"helper {summary.name} cannot be summarized: {summary.problem}")
            for pos in sorted({p for p, _ in summary.writes}):
                arg = n.args[pos].value if pos < len(n.args) else None
                if not isinstance(arg, cst.Name):
                    raise Refused(f"helper {summary.name} writes an array it is given as an expression")
                out.stores.add(arg.value)
    for n in variables(st):
        out.names.add(n.value)
        if n not in targets:
            out.reads.add(n.value)
    out.jump = any(True for _ in level_jumps(st, (cst.Continue, cst.Break, cst.Return)))
    for name in out.names & set(aliases):  # an array local stands for the array it was taken from
        if aliases[name] is None:
            raise Refused(f"{name} is a local array that may stand for more than one array")
        out.names.add(aliases[name])  # type: ignore[arg-type]
        if name in out.stores:
            out.stores.add(aliases[name])  # type: ignore[arg-type]
    return out


def _binding(target: cst.BaseExpression) -> list[cst.Name]:
    """The name nodes a target binds (not the array or the index of ``a[i]``)."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _binding(el.value)]
    return []


def _conflict(a: _Effects, b: _Effects) -> str | None:
    """Why run ``b`` depends on run ``a`` before it (None: independent)."""
    for x in sorted((a.writes | a.stores) & b.names):
        return f"{x} is {'written' if x in a.stores else 'assigned'} by the first and used by the second"
    for x in sorted(b.stores & a.names):
        return f"{x} is written by the second and used by the first"
    return None


def _weight(st: cst.BaseStatement) -> int:
    inner = sum(_weight(s) for b in sub_blocks(st) for s in b)
    return 1 + (10 * inner if isinstance(st, (cst.For, cst.While)) else inner)


def _choose(stmts: Sequence[cst.BaseStatement], effects: list[_Effects], pos: Positions) -> tuple[int, int, int]:
    """The most balanced independent pair ``stmts[i:k]``, ``stmts[k:j]``; raises :class:`Refused`."""
    weights = [_weight(s) for s in stmts]
    best: tuple[int, int, int] | None = None
    score = (-1, -1)
    n = len(stmts)
    for i in range(n):
        first = _Effects()
        for k in range(i + 1, n):
            first = first | effects[k - 1]
            if first.jump:
                break
            second = _Effects()
            for j in range(k + 1, n + 1):
                second = second | effects[j - 1]
                if second.jump or _conflict(first, second) is not None:
                    break
                wa, wb = sum(weights[i:k]), sum(weights[k:j])
                if (min(wa, wb), wa + wb) > score:
                    best, score = (i, k, j), (min(wa, wb), wa + wb)
    if best is None:
        raise Refused(_why_not(stmts, effects, weights, pos))
    return best


def _why_not(stmts: Sequence[cst.BaseStatement], effects: list[_Effects], weights: list[int], pos: Positions) -> str:
    """The reason for the most balanced cut of the statements before the first jump, for the refusal."""
    n = next((i for i, e in enumerate(effects) if e.jump), len(stmts))
    if n < 2:
        jump = " before a return, break or continue" if n < len(stmts) else ""
        return f"the statement list has fewer than two statements{jump}"
    total = sum(weights[:n])
    k = min(range(1, n), key=lambda k: abs(total - 2 * sum(weights[:k])))
    first, second = _Effects(), _Effects()
    for e in effects[:k]:
        first = first | e
    for e in effects[k:n]:
        second = second | e
    return (f"no two consecutive statement groups are independent "
            f"(cut before line {pos[stmts[k]].start.line}: {_conflict(first, second)})")


def split_statements(
    km: KernelModule, fn: cst.FunctionDef, owner: cst.FunctionDef | cst.For | cst.While, where: str,
    helpers: Mapping[str, HelperSummary], taken: set[str], task_name: str,
) -> RelicSplit:
    """Split the body of ``owner`` (the kernel ``fn`` itself, or one of its loops) into a spawned
    task and the continuation; ``where`` names it in the comment ("function f", "loop f/L1")."""
    pos = km.positions
    stmts = block(owner.body)
    aliases = _array_sources(fn, helpers)
    effects = [_effects(s, helpers, aliases) for s in stmts]
    i, k, j = _choose(stmts, effects, pos)
    first, second = stmts[i:k], stmts[k:j]
    a = _Effects()
    for e in effects[i:k]:
        a = a | e
    taken = set(taken)

    # what the task takes and gives back
    params = [p.name.value for p in fn.params.params]
    locals_ = {*params, *assigned_names(fn.body)}
    inside = {id(n) for s in first for n in walk(s)}
    outside = {n.value for n in variables(fn.body) if id(n) not in inside}
    in_loop = isinstance(owner, (cst.For, cst.While)) or any(
        isinstance(n, (cst.For, cst.While)) for n in _ancestors(fn, first[0]))
    before = enclosing_targets(fn, first[0])
    returns: list[str] = []
    args: list[str] = []
    for x in names_used(cst.IndentedBlock(body=list(first))):
        if x not in locals_:
            continue  # a module constant, a helper kernel, a builtin
        bound = x in before or bound_before(fn, first[0], x)
        if x in a.writes:
            if x not in outside and not (in_loop and _upward_exposed(first, x)):
                continue  # a temporary of the task
            returns.append(x)
            if bound:
                args.append(x)
            elif not _defined_first(first, x):
                raise Refused(f"{x} is used after line {pos[first[-1]].end.line} and may be unbound before "
                              f"line {pos[first[0]].start.line}")
        elif bound:
            args.append(x)
        else:
            raise Refused(f"{x} is used at {_lines(first, pos)} and may be unbound before them")
    args.sort(key=lambda n: params.index(n) if n in params else len(params))

    # the task: the first group, its results returned
    head = first[0].with_changes(leading_lines=[ln for ln in first[0].leading_lines if ln.comment is not None])
    task = task_def(task_name, args, [head, *first[1:]], returns)

    # the kernel: spawn, the second group, join
    handle = fresh_name("task", taken)
    col = km.positions[first[0]].start.column
    spawn = stmt(call_text(f"{handle} = spawn", [task_name, *args], col))
    join = stmt(f"{', '.join(returns)} = join({handle})" if returns else f"join({handle})")
    comments = [f"# helixrc: {where}: {SUMMARY}",
                f"#   the sibling runs {task_name} ({_lines(first, pos)}), this context {_lines(second, pos)}"]
    if returns:
        comments.append(f"#   {', '.join(returns)}: computed by the task, back at the join")
    spawn = spawn.with_changes(leading_lines=[  # type: ignore[call-arg]
        *(ln for ln in first[0].leading_lines if ln.comment is None),
        *(cst.EmptyLine(comment=cst.Comment(c)) for c in comments),
    ])
    b = _Effects()
    for e in effects[k:j]:
        b = b | e
    arrays = array_names(fn, helpers) & set(params)
    pairs = {tuple(sorted((x, y))) for one, other in ((a, b), (b, a))
             for x in one.stores & arrays for y in other.names & arrays if x != y}
    split: list[cst.BaseStatement] = [spawn, *second, join]
    if pairs:  # the groups touch distinct arrays, which must not overlap in memory
        names = tuple(sorted({x for p in pairs for x in p}))
        spawn = spawn.with_changes(leading_lines=())  # type: ignore[call-arg]
        split = [cst.If(
            test=cst.parse_expression(overlap_check(tuple(pairs))),  # type: ignore[arg-type]
            body=cst.IndentedBlock(body=[spawn, *second, join]),
            orelse=cst.Else(body=cst.IndentedBlock(body=[*first, *second])),
            leading_lines=[*split[0].leading_lines, cst.EmptyLine(comment=cst.Comment(
                f"#   assumes {', '.join(f'{x}[]' for x in names)} do not overlap in memory; checked here, "
                "sequential if they do"))],
        )]
    new_body = [*stmts[:i], *split, *stmts[j:]]
    replaced = owner.with_changes(body=indented(owner.body, new_body))
    return RelicSplit([replaced], task, SUMMARY, taken, bool(pairs))  # type: ignore[list-item]


def _ancestors(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode]:
    path: list[cst.CSTNode] = []

    def find(node: cst.CSTNode) -> bool:
        if node is target:
            return True
        for c in node.children:
            if find(c):
                path.append(node)
                return True
        return False

    find(root)
    return path


def _defined_first(first: Sequence[cst.BaseStatement], x: str) -> bool:
    """The first statement of ``first`` that names ``x`` assigns it without reading it, on every path."""
    for st in first:
        names = {n.value for n in variables(st)}
        if x not in names:
            continue
        if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1 or not isinstance(st.body[0], cst.Assign):
            return False
        assign = st.body[0]
        return x in {y for t in assign.targets for y in bound_names(t.target)} and x not in {
            n.value for n in variables(assign.value)}
    return False


def _upward_exposed(first: Sequence[cst.BaseStatement], x: str) -> bool:
    """``x`` may be read in ``first`` before ``first`` binds it (so a value from an earlier pass of
    the enclosing loop flows in): not when it is assigned first, or bound only by one ``for``."""
    mentions = [st for st in first if x in {n.value for n in variables(st)}]
    if _defined_first(first, x):
        return False
    head = mentions[0] if mentions else None
    return not (isinstance(head, cst.For) and x in bound_names(head.target) and len(mentions) == 1)


def _lines(stmts: Sequence[cst.BaseStatement], pos: Positions) -> str:
    return lines_text(range(pos[stmts[0]].start.line, pos[stmts[-1]].end.line + 1))
