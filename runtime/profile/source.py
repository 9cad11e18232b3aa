"""The profiled function's code object, source and loops, located as CPython 3.11 locates bytecode.

Loops come from the function's AST, numbered as the static analysis numbers them (``f/L1``,
``f/L1.1``: source order per level), so a dynamic loop and a static one share an id. Each loop
owns the source *region* that runs once per iteration -- for a ``for``: the target and the body
(not the iterable, nor ``else``); for a ``while``: the test and the body -- and a bytecode
instruction belongs to the innermost loop whose region contains its position::

    for i in range(n):      # `range(n)` and GET_ITER: outside; FOR_ITER: the header; `i`: inside
        s += a[i]           # inside
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from types import CodeType, FunctionType
from typing import Any

from helixrc.csim.errors import Loc, ProfileError

#: (line, column) pairs order positions; a span is [start, end)
Pos = tuple[int, int]


@dataclass
class LoopSource:
    """One loop of the profiled function."""

    #: "f/L1.2", as the static analysis names it
    id: str
    kind: str  # "for" or "while"
    #: the line of the `for` / `while` keyword
    line: int
    parent: LoopSource | None
    #: the spans that run in every iteration (target + body, or test + body)
    region: list[tuple[Pos, Pos]]
    #: the span of the body alone (a while loop's iteration starts at its first instruction)
    body: tuple[Pos, Pos]
    depth: int = 0
    children: list[LoopSource] = field(default_factory=list)

    def contains(self, start: Pos, end: Pos) -> bool:
        return any(lo <= start and end <= hi for lo, hi in self.region)

    def in_body(self, start: Pos, end: Pos) -> bool:
        lo, hi = self.body
        return lo <= start and end <= hi

    def chain(self) -> tuple[LoopSource, ...]:
        """This loop and its ancestors, outermost first."""
        out: list[LoopSource] = []
        loop: LoopSource | None = self
        while loop is not None:
            out.append(loop)
            loop = loop.parent
        return tuple(reversed(out))


@dataclass
class FunctionSource:
    fn: FunctionType
    code: CodeType
    name: str
    filename: str
    #: every loop, in source order (parents before children)
    loops: list[LoopSource]

    def loc(self, line: int) -> Loc:
        return Loc(self.filename, line)

    def innermost(self, start: Pos, end: Pos) -> LoopSource | None:
        """The innermost loop whose per-iteration region contains the span."""
        best: LoopSource | None = None
        for loop in self.loops:
            if loop.contains(start, end) and (best is None or loop.depth > best.depth):
                best = loop
        return best


def _span(node: ast.AST) -> tuple[Pos, Pos]:
    return (node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]


def _body_span(body: list[ast.stmt]) -> tuple[Pos, Pos]:
    return _span(body[0])[0], _span(body[-1])[1]


def unwrap(fn: Any) -> FunctionType:
    """The plain Python function behind ``fn`` (bound methods and ``functools.wraps`` wrappers)."""
    fn = inspect.unwrap(getattr(fn, "__func__", fn))
    if not isinstance(fn, FunctionType):
        raise ProfileError(f"{fn!r} is not a Python function; only Python functions can be instrumented")
    return fn


def function_source(fn: FunctionType) -> FunctionSource:
    """Parse ``fn``'s source (from its file or linecache) and find its loops."""
    code = fn.__code__
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise ProfileError(
            f"cannot read the source of {fn.__qualname__}: {e}", Loc(code.co_filename, code.co_firstlineno),
            hint="the profiler names loops and lines from the source; define the function in a file",
        ) from e
    # Bytecode positions use the file's columns: strip the def's own indentation from every line,
    # then add it back to the parsed columns.
    margin = len(lines[0]) - len(lines[0].lstrip())
    text = "".join(ln[margin:] if not ln[:margin].strip() else ln.lstrip() for ln in lines)
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        raise ProfileError(f"cannot parse the source of {fn.__qualname__}: {e.msg}",
                           Loc(code.co_filename, first + (e.lineno or 1) - 1)) from e
    for node in ast.walk(tree):
        if hasattr(node, "lineno"):
            node.lineno += first - 1  # type: ignore[attr-defined]
            node.end_lineno = (node.end_lineno or node.lineno) + first - 1  # type: ignore[attr-defined]
            node.col_offset += margin  # type: ignore[attr-defined]
            node.end_col_offset = (node.end_col_offset or 0) + margin  # type: ignore[attr-defined]
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        raise ProfileError(f"the source of {fn.__qualname__} holds no def", Loc(code.co_filename, first))
    if defs[0].name != code.co_name:
        raise ProfileError(
            f"the source at {code.co_filename}:{first} defines {defs[0].name}, not {code.co_name}",
            Loc(code.co_filename, first), hint="the file changed since the function was defined; reload it",
        )
    loops: list[LoopSource] = []
    _find_loops(defs[0].body, None, fn.__name__, loops)
    return FunctionSource(fn, code, fn.__name__, code.co_filename, loops)


def _find_loops(stmts: list[ast.stmt], parent: LoopSource | None, name: str, out: list[LoopSource]) -> None:
    """Number loops in source order per level; loops in if/try/with bodies count at the level of
    the enclosing loop (the static analysis's rule); nested defs and classes are not searched."""
    counter = 0
    pending = list(stmts)
    while pending:
        stmt = pending.pop(0)
        if isinstance(stmt, (ast.For, ast.While)):
            counter += 1
            prefix = parent.id + "." if parent else f"{name}/L"
            head = stmt.target if isinstance(stmt, ast.For) else stmt.test
            body = _body_span(stmt.body)
            loop = LoopSource(
                id=f"{prefix}{counter}", kind="for" if isinstance(stmt, ast.For) else "while",
                line=stmt.lineno, parent=parent, region=[_span(head), body], body=body,
                depth=parent.depth + 1 if parent else 0,
            )
            if parent is not None:
                parent.children.append(loop)
            out.append(loop)
            _find_loops(stmt.body, loop, name, out)
            pending[:0] = stmt.orelse  # runs after the loop, at this level
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        else:
            inner: list[ast.stmt] = []
            for fld in ("body", "orelse", "finalbody"):
                inner += getattr(stmt, fld, None) or []
            for handler in getattr(stmt, "handlers", None) or []:
                inner += handler.body
            for case in getattr(stmt, "cases", None) or []:
                inner += case.body
            pending[:0] = inner
