"""The loop forest of a kernel: stable loop ids from source structure.

Loops are numbered in source order per function; a loop nested in another extends its id, and
loops inside ``if`` branches count at the level of the enclosing loop::

    def f(n):                      # loop ids
        for i in range(n):         # f/L1
            while j < i: ...       # f/L1.1
            if i > 2:
                for k in range(i): # f/L1.2
        while n > 0: ...           # f/L2

The ids depend only on the function's own source, so plans and reports name loops stably. In a
transformed kernel, the original loop kept as the fallback of a run-time check (``if
disjoint(...): <parallel form> else: <the original loop>``) takes the id of the loop it stands
for with ``-seq`` (``f/L1-seq``), and the loops after it keep the original's ids.
"""

from __future__ import annotations

from typing import Callable

import libcst as cst

from helixrc.csim.errors import Loc
from helixrc.passes.ir import LoopInfo


def find_loops(
    fn: cst.FunctionDef, name: str, loc_of: Callable[[cst.CSTNode], Loc]
) -> dict[cst.CSTNode, LoopInfo]:
    """Map each For/While node of ``fn`` to its LoopInfo."""
    found: dict[cst.CSTNode, LoopInfo] = {}

    def walk(stmts: list[cst.CSTNode], parent: LoopInfo | None, counter: list[int], suffix: str = "") -> None:
        for stmt in stmts:
            if isinstance(stmt, (cst.For, cst.While)):
                counter[0] += 1
                prefix = parent.id + "." if parent else f"{name}/L"
                info = LoopInfo(
                    id=f"{prefix}{counter[0]}{suffix}",
                    kind="for" if isinstance(stmt, cst.For) else "while",
                    loc=loc_of(stmt),
                    parent=parent,
                )
                found[stmt] = info
                walk(suite_body(stmt.body), info, [0])
            elif isinstance(stmt, cst.If) and is_guard(stmt):
                start = counter[0]
                walk(suite_body(stmt.body), parent, counter)
                walk(suite_body(stmt.orelse.body), parent, [start], FALLBACK)  # type: ignore[union-attr]
            elif isinstance(stmt, cst.If):
                for branch in if_branches(stmt):
                    walk(branch, parent, counter)

    walk(suite_body(fn.body), None, [0])
    return found


#: the id suffix of a loop in the fallback of a run-time check: ``f/L1-seq`` is the original
#: ``f/L1`` that runs when the check before the parallel form ``f/L1`` fails
FALLBACK = "-seq"
#: the run-time checks the transform puts before a parallel form (passes/transform/independence.py)
GUARD_CALLS = frozenset({"disjoint", "independent", "int64_arrays"})
#: what the guarded branch of such a check runs: a parallel loop, or a Relic task split
PARALLEL_CALLS = frozenset({"prange", "prange_while", "spawn"})


def is_guard(stmt: cst.If) -> bool:
    """``if <run-time check>: <parallel form> else: <the original>``, as the transform writes it."""
    if not isinstance(stmt.orelse, cst.Else):
        return False
    return _calls(stmt.test) & GUARD_CALLS != set() and _calls(stmt.body) & PARALLEL_CALLS != set()


def _calls(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Name):
                found.add(call.func.value)

    node.visit(Calls())
    return found


def suite_body(suite: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of an indented block or a one-line suite."""
    return list(suite.body)


def if_branches(stmt: cst.If) -> list[list[cst.CSTNode]]:
    """The bodies of an if/elif/.../else chain, in order."""
    branches = [suite_body(stmt.body)]
    orelse = stmt.orelse
    while orelse is not None:
        if isinstance(orelse, cst.If):
            branches.append(suite_body(orelse.body))
            orelse = orelse.orelse
        else:
            branches.append(suite_body(orelse.body))
            orelse = None
    return branches
