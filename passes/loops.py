"""The loop forest of a kernel: stable loop ids from source structure.

Loops are numbered in source order per function; a loop nested in another extends its id, and
loops inside ``if`` branches count at the level of the enclosing loop::

    def f(n):                      # loop ids
        for i in range(n):         # f/L1
            while j < i: ...       # f/L1.1
            if i > 2:
                for k in range(i): # f/L1.2
        while n > 0: ...           # f/L2

The ids depend only on the function's own source, so plans and reports name loops stably.
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

    def walk(stmts: list[cst.CSTNode], parent: LoopInfo | None, counter: list[int]) -> None:
        for stmt in stmts:
            if isinstance(stmt, (cst.For, cst.While)):
                counter[0] += 1
                prefix = parent.id + "." if parent else f"{name}/L"
                info = LoopInfo(
                    id=f"{prefix}{counter[0]}",
                    kind="for" if isinstance(stmt, cst.For) else "while",
                    loc=loc_of(stmt),
                    parent=parent,
                )
                found[stmt] = info
                walk(suite_body(stmt.body), info, [0])
            elif isinstance(stmt, cst.If):
                for branch in if_branches(stmt):
                    walk(branch, parent, counter)

    walk(suite_body(fn.body), None, [0])
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
