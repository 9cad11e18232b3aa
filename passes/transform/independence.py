"""A plan's ``assume_independent``: the run-time ``independent(...)`` check that guards the
parallel form, with the original loop as the fallback when the check fails.

For ``hist[idx[i]] += x`` in ``for i in range(len(idx))`` with ``assume_independent = ["hist"]``::

    if independent(hist, 0, len(idx), 1, (idx, 0, "w")):
        for i in prange(0, len(idx), 1, segments=0, signals="uncoupled"):
            ...
    else:
        for i in range(len(idx)):
            ...

An array whose accesses the check cannot see raises :class:`NotCheckable`.
"""

from __future__ import annotations

import libcst as cst
from helixrc.passes.analysis import LoopAnalysis, ScalarClass, ScalarInfo
from helixrc.passes.frontend import KernelModule
from helixrc.passes.transform.cst_tools import (
    code,
    is_name,
    parse_expr,
    range_args,
    walk,
)
from helixrc.passes.transform.records import Refused


class NotCheckable(Refused):
    """A plan's ``assume_independent`` names an array whose accesses the run-time check cannot see."""


def _subscript_targets(body: cst.CSTNode) -> set[cst.CSTNode]:
    """The subscripts that are assigned (``a[i] = ...``, ``a[i] += ...``)."""
    out: set[cst.CSTNode] = set()
    for n in walk(body):
        if isinstance(n, cst.Assign):
            out.update(t.target for t in n.targets)
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
            out.add(n.target)
    return {t for t in out if isinstance(t, cst.Subscript)}


def _written_arrays(body: cst.CSTNode) -> set[str]:
    names = {t.value.value for t in _subscript_targets(body) if isinstance(t.value, cst.Name)}  # type: ignore[attr-defined]
    # an array passed to a call may be written by it (a helper kernel)
    for n in walk(body):
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
    if is_name(e, var):
        return "None", offset
    if (
        isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name) and len(e.slice) == 1
        and isinstance(e.slice[0].slice, cst.Index) and is_name(e.slice[0].slice.value, var)
        and e.value.value not in written and e.value.value not in scalars
    ):
        return e.value.value, offset
    return None


def independence_check(
    km: KernelModule, loop: LoopAnalysis, node: cst.For | cst.While, arrays: tuple[str, ...]
) -> str:
    """The ``independent(...)`` call that checks the plan's assumption before the loop runs."""
    if not isinstance(node, cst.For) or not isinstance(node.target, cst.Name):
        raise NotCheckable("assume_independent is checked for `for ... in range(...)` loops only")
    var = node.target.value
    info = loop.scalars.get(var)
    if info is None or info.cls is not ScalarClass.INDUCTION:
        raise NotCheckable(f"the loop variable {var} is assigned in the loop")
    start, stop, step = range_args(node)
    for e in (start, stop, step):
        calls = [c for c in walk(e) if isinstance(c, cst.Call)]
        if any(not (isinstance(c.func, cst.Name) and c.func.value == "len") for c in calls):
            raise NotCheckable("the range(...) arguments call a function")
    written = _written_arrays(node.body)
    targets = _subscript_targets(node.body)
    checks: list[str] = []
    for array in arrays:
        found = [n for n in walk(node.body) if isinstance(n, cst.Subscript) and is_name(n.value, array)]
        if not found:
            raise NotCheckable(f"{array} is not subscripted in loop {loop.id}")
        bare = [n for n in walk(node.body) if is_name(n, array)]
        if len(bare) != len(found):
            raise NotCheckable(f"{array} is used other than by subscripts in the loop (passed to a call?)")
        accesses: list[str] = []
        for sub in found:
            term = _checkable_index(sub, var, loop.scalars, written)
            if term is None:
                raise NotCheckable(
                    f"{code(sub)} (line {km.positions[sub].start.line}): the run-time check needs subscripts "
                    f"{var} + c or idx[{var}] + c, with idx an array the loop does not write"
                )
            mode = "w" if sub in targets else "r"
            text = f'({term[0]}, {term[1]}, "{mode}")'
            if text not in accesses:
                accesses.append(text)
        bounds = f"{code(start)}, {code(stop)}, {code(step)}"
        checks.append(f"independent({array}, {bounds}, {', '.join(accesses)})")
    return " and ".join(checks)


def overlap_check(pairs: tuple[tuple[str, str], ...]) -> str:
    """The ``disjoint(...)`` calls that check the analysis's assumption that the array parameters
    of ``pairs`` (one of each pair written in the loop) do not overlap in memory; "" for none.
    ``disjoint(a, b, c)`` checks a against b and c; the array in most unchecked pairs goes first."""
    left = {tuple(sorted(p)) for p in pairs}
    checks: list[str] = []
    while left:
        first = min({x for p in left for x in p}, key=lambda x: (-sum(x in p for p in left), x))
        others = sorted(y for p in left if first in p for y in p if y != first)
        checks.append(f"disjoint({', '.join([first, *others])})")
        left = {p for p in left if first not in p}
    return " and ".join(checks)


def guarded(
    group: list[cst.BaseStatement], check: str, node: cst.For | cst.While, arrays: tuple[str, ...],
    split: str = "", apart: tuple[str, ...] = (),
) -> list[cst.BaseStatement]:
    """``if <check>: <parallel form> else: <the original loop>``; the caller imports ``independent``
    (and ``int64_arrays``, ``disjoint``). ``arrays`` are the plan's ``assume_independent``, ``split``
    the condition a split ``if`` needs (passes/transform/split.py), ``apart`` the array parameters
    the analysis assumed not to overlap in memory."""
    comments = list(group[0].leading_lines)  # type: ignore[attr-defined]
    if apart:
        comments.append(cst.EmptyLine(comment=cst.Comment(
            f"#   assumes {', '.join(f'{a}[]' for a in apart)} do not overlap in memory; checked here, "
            "sequential if they do")))
    names = ", ".join(f"{a}[]" for a in arrays)
    if arrays:
        comments.append(cst.EmptyLine(comment=cst.Comment(
            f"#   plan: assumes no loop-carried dependence on {names}; checked here, sequential if not")))
    if split:
        comments.append(cst.EmptyLine(comment=cst.Comment(
            "#   a split if moves stores that cannot raise when this holds; checked here, sequential if not")))
    group[0] = group[0].with_changes(leading_lines=())  # type: ignore[call-arg]
    original = node.with_changes(leading_lines=())
    return [cst.If(
        test=parse_expr(check), body=cst.IndentedBlock(body=group),
        orelse=cst.Else(body=cst.IndentedBlock(body=[original])), leading_lines=comments,
    )]
