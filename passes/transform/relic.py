"""The Relic task split: a loop's iterations shared between the main context and its SMT sibling
(``docs/parallel-form.md``, last section; ``docs/relic.md``).

Before::

    def count_big(xs, out, cut):
        n = 0
        for i in range(len(xs)):
            out[i] = xs[i] * 3
            if out[i] > cut:
                n += 1
        return n

After (plan: ``technique = "relic"``, ``chunks = "blocked"``)::

    from helixrc.parallel import join, spawn


    def _count_big_relic0(lo, hi, n, xs, out, cut):
        for i in range(lo, hi):
            out[i] = xs[i] * 3
            if out[i] > cut:
                n += 1
        return n


    def count_big(xs, out, cut):
        n = 0
        # helixrc: loop count_big/L1 (line 3): Relic, blocked chunks, 2 tasks
        #   the sibling runs _count_big_relic0 over the first half of the range, this context the second
        #   n int reduction (+): each task returns its partial, combined in order after the join
        stop = len(xs)
        mid = (stop + 1) // 2
        task = spawn(_count_big_relic0, 0, mid, n, xs, out, cut)
        n1 = _count_big_relic0(mid, stop, 0, xs, out, cut)
        n0 = join(task)
        n = n0 + n1
        return n

The loop moves whole into a module-level task function that runs it over ``range(lo, hi, step)``
(``2 * step`` for interleaved chunks) and returns the partial reductions. The spawned task takes
the part that comes first in sequential order (the first half, or the even-numbered iterations)
and starts the reductions from their values before the loop; the main context runs the rest
from the operators' identities (min/max: from the value before the loop too). So under CPython,
where ``spawn`` runs the task at once, everything happens in the original's order, an exception
included, and the combine ``x0 op x1`` is the original's result for integers (float sums and
products only with the plan's ``reassociate``). A loop variable read after the loop gets its last
value back.

The one entry point is :func:`split_loop`; :func:`relic_refusal` says, without rewriting, why a
loop cannot be split (the plan's legality check). A loop out of scope raises :class:`Refused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import libcst as cst
from helixrc.passes.analysis import LoopAnalysis, ScalarClass, ScalarInfo, VerdictKind
from helixrc.passes.frontend import KernelModule
from helixrc.passes.transform.cst_tools import (
    assigned_names, bound_before, call_text, enclosing_targets, fresh_name, names_used, range_args, stmt,
)
from helixrc.passes.transform.independence import guarded, overlap_check
from helixrc.passes.transform.records import Options, Refused

__all__ = ["RelicSplit", "relic_refusal", "split_loop", "task_def"]

#: operator -> (identity for an int, for a float); min/max have none (the task starts from the value before the loop)
_IDENTITY: dict[str, tuple[str, str]] = {"+": ("0", "0.0"), "*": ("1", "1.0"), "|": ("0", ""), "^": ("0", ""),
                                         "&": ("-1", "")}
_INT_OPS = ("+", "*", "&", "|", "^", "min", "max")


@dataclass(frozen=True)
class RelicSplit:
    """A split loop: what replaces it in the kernel, the task function, and what that takes."""

    #: the statements that replace the loop (chunk bounds, spawn, the main context's call, join, combine)
    statements: list[cst.BaseStatement]
    #: the module-level task function that runs the loop over a sub-range
    task: cst.FunctionDef
    #: "Relic, blocked chunks, 2 tasks"
    summary: str
    #: names the kernel now binds (so later rewrites pick others)
    taken: set[str]
    #: the split runs only if ``disjoint(...)`` finds the arrays it assumes apart do not overlap
    disjoint: bool = False


def relic_refusal(loop: LoopAnalysis, node: cst.CSTNode) -> str | None:
    """Why ``loop`` (its statement ``node``) cannot be split into Relic tasks, or None when it can.

    The float reductions that need the plan's ``reassociate`` are left to the caller, as for doall.
    """
    try:
        _check(loop, node)
    except Refused as why:
        return str(why)
    return None


def _check(loop: LoopAnalysis, node: cst.CSTNode) -> tuple[str, int]:
    """The loop variable and the literal step of a loop in scope; raises :class:`Refused`."""
    if loop.verdict.kind is VerdictKind.REFUSED:
        raise Refused(loop.verdict.text.removeprefix("REFUSED: "))
    if loop.verdict.kind is VerdictKind.HELIX:
        deciding = "; ".join(d for s in loop.verdict.segments for d in s.deciding)
        raise Refused(f"its iterations depend on each other: {deciding}")
    if not isinstance(node, cst.For):
        raise Refused("a while loop (a task split needs for ... in range(...))")
    if node.orelse is not None:
        raise Refused("a for ... else loop")
    if not isinstance(node.target, cst.Name):
        raise Refused("the loop target is not a plain name")
    var = node.target.value
    _, _, step_expr = range_args(node)
    step = _literal(step_expr)
    if step is None:
        raise Refused("the range step is not an integer literal (the chunk bounds need its sign)")
    if step == 0:
        raise Refused("the range step is zero")
    for info in loop.scalars.values():
        where = f"line {info.lines[0]}" if info.lines else f"line {loop.loc.line}"
        if info.cls is ScalarClass.INDUCTION and info.name != var:
            raise Refused(f"induction variable {info.name} ({where}) would need recomputing in each task")
        if info.cls is ScalarClass.REDUCTION:
            _check_reduction(info, where)
        elif info.read_after and info.name != var:
            raise Refused(
                f"{info.name} is read after the loop (line {info.read_after[0]}): "
                "a task returns only reductions"
            )
    if var in loop.scalars and loop.scalars[var].read_after and var in assigned_names(node.body):
        raise Refused(f"the loop variable {var} is assigned in the body and read after the loop "
                      f"(line {loop.scalars[var].read_after[0]})")
    return var, step


def _check_reduction(info: ScalarInfo, where: str) -> None:
    if info.order_sensitive:
        raise Refused(f"{info.describe()} ({where}) must run in order")
    if info.op not in _INT_OPS:
        raise Refused(f"{info.describe()} ({where}): a task split combines only + * & | ^ min max reductions")
    if info.is_float and info.op in ("min", "max"):
        raise Refused(f"{info.describe()} ({where}): a task split combines only integer min/max")
    if info.is_float and not _IDENTITY[info.op][1]:
        raise Refused(f"{info.describe()} ({where}) is a float {info.op}")


def _literal(e: cst.BaseExpression) -> int | None:
    """The value of an integer literal (``3``, ``-2``, ``0x10``), else None."""
    if isinstance(e, cst.Integer):
        return int(e.value.replace("_", ""), 0)
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus) and isinstance(e.expression, cst.Integer):
        return -int(e.expression.value.replace("_", ""), 0)
    return None


@dataclass(frozen=True)
class _Lin:
    """A bound of the range as a sum of names (+1 or -1 each) and a constant, printed folded."""

    terms: tuple[tuple[int, str], ...]
    const: int = 0

    @staticmethod
    def of(text: str) -> _Lin:
        """A name or an integer literal (what the split binds the range's bounds to)."""
        value = _literal(cst.parse_expression(text))
        return _Lin((), value) if value is not None else _Lin(((1, text),))

    def __add__(self, k: int) -> _Lin:
        return _Lin(self.terms, self.const + k)

    def __sub__(self, other: _Lin) -> _Lin:
        return _Lin((*self.terms, *((-sign, name) for sign, name in other.terms)), self.const - other.const)

    def __str__(self) -> str:
        if not self.terms:
            return str(self.const)
        (sign, first), *rest = self.terms
        text = ("-" if sign < 0 else "") + first + "".join(f" {'+' if g > 0 else '-'} {n}" for g, n in rest)
        return text + (f" + {self.const}" if self.const > 0 else f" - {-self.const}" if self.const < 0 else "")


def _midpoint(a: str, b: str, step: int) -> str:
    """The first element of the second half of ``range(a, b, step)``: the first half holds
    ceil(n / 2) of its n elements. Exact for either sign, and for an empty range both halves are empty."""
    start, stop, t = _Lin.of(a), _Lin.of(b), abs(step)
    diff = stop - start if step > 0 else start - stop
    if not diff.terms:  # literal bounds: fold
        n = -(-diff.const // t)
        return str(start + (n + 1) // 2 * step)
    half = f"({diff + 1}) // 2" if t == 1 else f"(({diff + (t - 1)}) // {t} + 1) // 2 * {t}"
    if not start.terms and start.const == 0 and step > 0:
        return half
    return f"{start} {'+' if step > 0 else '-'} {half}"


def _last_value(a: str, b: str, step: int) -> tuple[str, str]:
    """The test that ``range(a, b, step)`` is not empty, and its last element."""
    start, stop, t = _Lin.of(a), _Lin.of(b), abs(step)
    if step > 0:
        last = str(stop + -1) if t == 1 else f"{start} + ({stop - start + -1}) // {t} * {t}"
        return f"{start} < {stop}", last
    last = str(stop + 1) if t == 1 else f"{start} - ({start - stop + -1}) // {t} * {t}"
    return f"{start} > {stop}", last


def split_loop(
    km: KernelModule, fn: cst.FunctionDef, loop: LoopAnalysis, node: cst.For | cst.While, opts: Options,
    taken: set[str], task_name: str,
) -> RelicSplit:
    """Split ``loop`` of kernel ``fn`` into two tasks, the first spawned as ``task_name``; raises :class:`Refused`."""
    var, step = _check(loop, node)
    assert isinstance(node, cst.For)
    taken = set(taken)
    fresh = partial(fresh_name, taken=taken)

    reductions = sorted((i for i in loop.scalars.values() if i.cls is ScalarClass.REDUCTION), key=lambda i: i.lines)
    red_names = [i.name for i in reductions]
    for name in red_names:
        if not bound_before(fn, node, name):
            raise Refused(f"reduction {name} may be unbound before the loop")
    params = [p.name.value for p in fn.params.params]
    locals_ = {*params, *assigned_names(fn.body)}
    inside = assigned_names(node.body) | {var}
    free = [n for n in names_used(node.body) if n in locals_ and n not in inside]
    free.sort(key=lambda n: params.index(n) if n in params else len(params))  # the kernel's order first
    outer = enclosing_targets(fn, node)
    for name in free:
        if name not in outer and not bound_before(fn, node, name):
            raise Refused(f"{name} is used in the loop and may be unbound before it")

    # the task: the loop itself over range(lo, hi, step), the partials returned
    names_in_task = {*names_used(node.body), *free, *red_names, var, *km.names}
    lo = next(n for n in ("lo", "_lo", "__lo") if n not in names_in_task)
    hi = next(n for n in ("hi", "_hi", "__hi") if n not in names_in_task)
    interleaved = opts.chunks == "interleaved"
    task_step = 2 * step if interleaved else step
    header = f"range({lo}, {hi})" if task_step == 1 else f"range({lo}, {hi}, {task_step})"
    task_loop = node.with_changes(iter=cst.parse_expression(header), leading_lines=())
    task = task_def(task_name, [lo, hi, *red_names, *free], [task_loop], red_names)

    # the kernel: the bounds once, the spawn, the main context's part, the join and the combine
    start, stop, _ = range_args(node)
    out: list[cst.BaseStatement] = []
    bounds: list[str] = []
    for expr, base in ((start, "start"), (stop, "stop")):
        text = cst.Module(body=[]).code_for_node(expr)
        if isinstance(expr, cst.Name) or _literal(expr) is not None:
            bounds.append(text)
        else:
            name = fresh(base)
            out.append(stmt(f"{name} = {text}"))
            bounds.append(name)
    a, b = bounds
    if interleaved:
        first, second = (a, b), (str(_Lin.of(a) + step), b)
    else:
        mid = fresh("mid")
        out.append(stmt(f"{mid} = {_midpoint(a, b, step)}"))
        first, second = (a, mid), (mid, b)
    handle = fresh("task")
    part0 = [fresh(f"{x}0") for x in red_names]
    part1 = [fresh(f"{x}1") for x in red_names]
    starts = [_start_value(i) for i in reductions]
    col = km.positions[node].start.column
    out.append(stmt(call_text(f"{handle} = spawn", [task_name, *first, *red_names, *free], col)))
    result = f"{', '.join(part1)} = " if red_names else ""
    out.append(stmt(call_text(f"{result}{task_name}", [*second, *starts, *free], col)))
    out.append(stmt(f"{', '.join(part0)} = join({handle})" if red_names else f"join({handle})"))
    for info, x0, x1 in zip(reductions, part0, part1):
        op = info.op or "+"
        combined = f"{op}({x0}, {x1})" if op in ("min", "max") else f"{x0} {op} {x1}"
        out.append(stmt(f"{info.name} = {combined}"))
    live_var = var in loop.scalars and bool(loop.scalars[var].read_after)
    if live_var:
        test, last = _last_value(a, b, step)
        out.append(cst.parse_statement(f"if {test}:\n    {var} = {last}\n"))
        taken.add(var)

    chunks = "interleaved" if interleaved else "blocked"
    summary = f"Relic, {chunks} chunks, 2 tasks"
    what = "the even-numbered iterations, this context the odd ones" if interleaved else (
        "the first half of the range, this context the second")
    comments = [f"# helixrc: loop {loop.id} (line {loop.loc.line}): {summary}",
                f"#   the sibling runs {task_name} over {what}"]
    for kind in ("int", "float"):
        group = [i for i in reductions if bool(i.is_float) == (kind == "float")]
        if not group:
            continue
        what = f"{group[0].name} {kind} reduction ({group[0].op})" if len(group) == 1 else (
            f"{', '.join(f'{i.name} ({i.op})' for i in group)}: {kind} reductions")
        how = "combined after the join, reassociated as the plan allows" if kind == "float" else (
            "combined in order after the join")
        comments.append(f"#   {what}: the tasks' partials {how}")
    if live_var:
        comments.append(f"#   {var}: read after the loop, its last value recomputed")
    lines = [*node.leading_lines, *(cst.EmptyLine(comment=cst.Comment(c)) for c in comments)]
    out[0] = out[0].with_changes(leading_lines=lines)  # type: ignore[call-arg]
    apart = overlap_check(loop.assumed_no_alias)
    if apart:  # the halves run at once: the analysis's distinct arrays must not overlap in memory
        names = tuple(sorted({x for p in loop.assumed_no_alias for x in p}))
        out = guarded(out, apart, node, (), apart=names)
    return RelicSplit(out, task, summary, taken, bool(apart))


def task_def(name: str, params: list[str], body: list[cst.BaseStatement], returns: list[str]) -> cst.FunctionDef:
    """A module-level task function: ``def name(params): body; return returns``."""
    ret = f"\n    return {', '.join(returns)}" if returns else ""
    template = cst.parse_statement(f"{call_text(f'def {name}', params, 0)}:\n    pass{ret}\n")
    assert isinstance(template, cst.FunctionDef) and isinstance(template.body, cst.IndentedBlock)
    block = template.body
    return template.with_changes(body=block.with_changes(body=[*body, *block.body[1:]]),
                                 leading_lines=[cst.EmptyLine()] * 2)


def _start_value(info: ScalarInfo) -> str:
    """Where the main context's part of a reduction starts: the identity (min/max: the value before the loop)."""
    op = info.op or "+"
    if op in ("min", "max"):
        return info.name
    return _IDENTITY[op][1 if info.is_float else 0]
