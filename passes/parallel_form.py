"""Recognize the parallel form: the dialect of the kernel language that the HELIX transform writes.

``docs/parallel-form.md`` is the contract and ``tests/golden/transform-patterns.test`` shows every
shape. A kernel in parallel form imports the runtime's names at module level and uses them only as
the transform writes them::

    from helixrc.parallel import prange, shared, signal, wait

    def mark(net_of, touched, out):
        n = 0
        seg0 = shared(0, n=n)                 # an object: a statement of its own, before the loop
        for i in prange(0, len(net_of), 1, segments=1, signals="uncoupled"):
            net = net_of[i]
            wait(0)                           # an int literal, inside the parallel loop
            if touched[net] == 0:
                touched[net] = 1
                out[seg0.n] = net             # cells: seg0.n read, written, updated with op=
                seg0.n += 1
            signal(0)
        n = seg0.n
        return n

A ``return`` inside the loop whose value reads cells becomes ``result = <value>`` (a tuple too),
then the exit's cell write and signals, then ``return result``: the value is computed inside the
segment. That temporary is the one place the form holds a tuple in a variable; it is recognized
only in exactly this shape (assigned once, returned once, nothing but cell writes, waits and
signals between) and means the return of the value as computed at the assignment.

:func:`read_parallel_form` finds these constructs in one function and reports every other use of
the runtime's names and of the objects as a :class:`FormError` (a location, a message, a hint). The
frontend checks the plain kernel-language parts (initial values, loop bounds) and raises the first
error of either kind in source order; the type checker and the lowering read the recognized
constructs from the :class:`ParallelForm`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from helixrc.csim.errors import Loc
from helixrc.csim.opcodes import MAX_SEGMENTS
from helixrc.passes.loops import if_branches, suite_body

if TYPE_CHECKING:
    from helixrc.passes.frontend import Binding

__all__ = [
    "CheckAccess", "FormError", "IndependentCheck", "ParLoop", "ParObject", "ParallelForm", "SegmentSync",
    "TaskJoin", "TaskSpawn", "cell_key", "read_parallel_form", "runtime_names",
]

RUNTIME_MODULE = "helixrc.parallel"
OBJECT_MAKERS = ("shared", "reduction", "lastprivate")
LOOP_MAKERS = ("prange", "prange_while")
SYNC_CALLS = ("wait", "signal")
TASK_CALLS = ("spawn", "join")
#: the run-time check of a plan's ``assume_independent`` (passes/transform/independence.py)
CHECK_CALL = "independent"
#: the run-time check that guards a split ``if`` (passes/transform/split.py)
DTYPE_CALL = "int64_arrays"
#: the run-time check that array parameters the analysis assumed apart do not overlap in memory
OVERLAP_CALL = "disjoint"
#: the checks of array arguments by name: call -> how many arrays it takes at least
ARRAY_CHECKS = {DTYPE_CALL: 1, OVERLAP_CALL: 2}
#: the runtime's names a kernel may use
RUNTIME_NAMES = (*OBJECT_MAKERS, *LOOP_MAKERS, *SYNC_CALLS, *TASK_CALLS, CHECK_CALL, *ARRAY_CHECKS)
REDUCTION_OPS = ("+", "*", "&", "|", "^", "min", "max", "argmax", "argmin")
#: reductions whose combine picks one iteration's value, so ``ties`` says which
ORDERED_OPS = ("min", "max", "argmax", "argmin")
SIGNALS = ("coupled", "uncoupled")

_WHAT = {"shared": "shared cells", "reduction": "reduction", "lastprivate": "live-out values"}
_SHAPES = {
    "shared": "seg0 = shared(0, n=n)",
    "reduction": 'acc0 = reduction("+", total=total)',
    "lastprivate": "last = lastprivate(i=i)",
    "prange": 'for i in prange(0, n, 1, segments=1, signals="uncoupled"):',
    "prange_while": 'for it in prange_while(segments=1, signals="uncoupled"):',
    "spawn": "t0 = spawn(task, a, b)",
    "join": "x = join(t0)",
    CHECK_CALL: 'independent(hist, 0, len(idx), 1, (idx, 0, "w"), (None, -1, "r"))',
    DTYPE_CALL: "int64_arrays(val, enext, bucket)",
    OVERLAP_CALL: "disjoint(out, a, b)",
}


@dataclass(frozen=True, eq=False)
class ParObject:
    """``X = shared(k, ...)``, ``reduction(op, [ties,] ...)`` or ``lastprivate(...)``: named scalars
    that live in memory. Their values are read and written as ``X.name``."""

    name: str
    #: "shared", "reduction" or "lastprivate"
    kind: str
    #: the cells in keyword order: each name and the expression of its initial value
    cells: tuple[tuple[str, cst.BaseExpression], ...]
    node: cst.Assign
    #: shared: the segment that protects the cells
    segment: int | None = None
    #: reduction: the operator, and for min/max/argmax/argmin which iteration wins a tie
    op: str | None = None
    ties: str | None = None

    @property
    def cell_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.cells)

    @property
    def what(self) -> str:
        return _WHAT[self.kind]


@dataclass(frozen=True, eq=False)
class ParLoop:
    """``for v in prange(start, stop, step, ...)`` or ``for it in prange_while(...)``."""

    #: "prange" or "prange_while"
    kind: str
    segments: int
    #: "coupled" or "uncoupled"
    signals: str
    #: prange: start, stop and step; prange_while: none
    bounds: tuple[cst.BaseExpression, ...]
    node: cst.For


@dataclass(frozen=True, eq=False)
class SegmentSync:
    """``wait(k)`` or ``signal(k)``, a statement of its own inside a parallel loop."""

    #: "wait" or "signal"
    kind: str
    segment: int
    node: cst.Expr


@dataclass(frozen=True, eq=False)
class TaskSpawn:
    """``h = spawn(task, arg, ...)``: the call ``task(arg, ...)`` handed to the SMT sibling."""

    handle: str
    #: the task: a kernel function of the same module
    task: str
    #: the ``spawn(...)`` call; the task's arguments are its arguments after the first
    call: cst.Call
    node: cst.Assign

    @property
    def args(self) -> tuple[cst.Arg, ...]:
        return tuple(self.call.args[1:])


@dataclass(frozen=True, eq=False)
class TaskJoin:
    """``join(h)``, ``x = join(h)`` or ``a, b = join(h)``: wait for the task, take its result."""

    spawn: TaskSpawn
    #: the assignment's target; None for a ``join(h)`` statement
    target: cst.BaseExpression | None
    node: cst.Assign | cst.Expr


@dataclass(frozen=True)
class CheckAccess:
    """One access of an ``independent(...)`` check: iteration ``i`` touches ``array[index[i] +
    offset]``, or ``array[i + offset]`` when ``index`` is None."""

    index: str | None
    offset: int
    write: bool


@dataclass(frozen=True, eq=False)
class IndependentCheck:
    """``independent(array, start, stop, step, (index, offset, "r"|"w"), ...)``, outside parallel
    loops: True when no element of ``array`` written by one iteration of ``range(start, stop,
    step)`` is touched by another (``helixrc.parallel.independent``)."""

    array: str
    bounds: tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression]
    accesses: tuple[CheckAccess, ...]
    node: cst.Call


@dataclass(frozen=True)
class FormError:
    loc: Loc
    message: str
    hint: str


@dataclass
class ParallelForm:
    """The parallel-form constructs of one function, by the source nodes the passes walk."""

    #: local name -> the runtime function it names ("prange", "shared", ...)
    runtime: dict[str, str] = field(default_factory=dict)
    objects: dict[str, ParObject] = field(default_factory=dict)
    object_at: dict[cst.Assign, ParObject] = field(default_factory=dict)
    loops: dict[cst.For, ParLoop] = field(default_factory=dict)
    syncs: dict[cst.Expr, SegmentSync] = field(default_factory=dict)
    #: ``independent(...)`` calls, each an expression of type bool
    checks: dict[cst.Call, IndependentCheck] = field(default_factory=dict)
    #: ``int64_arrays(...)`` calls, each an expression of type bool: the arrays' names
    dtype_checks: dict[cst.Call, tuple[str, ...]] = field(default_factory=dict)
    #: ``disjoint(...)`` calls, each an expression of type bool: the arrays' names
    overlap_checks: dict[cst.Call, tuple[str, ...]] = field(default_factory=dict)
    #: every ``X.name`` of an object, read or written: the object
    cells: dict[cst.Attribute, ParObject] = field(default_factory=dict)
    #: ``return result`` of a return temporary, and the statement ``result = <value>`` it returns
    returns: dict[cst.Return, cst.Assign] = field(default_factory=dict)
    #: the return temporaries' statements: their value is computed there and returned later
    deferred: set[cst.Assign] = field(default_factory=set)
    #: Relic tasks: each spawn statement, each join statement, and the handles' names
    spawns: dict[cst.Assign, TaskSpawn] = field(default_factory=dict)
    joins: dict[cst.CSTNode, TaskJoin] = field(default_factory=dict)
    handles: set[str] = field(default_factory=set)
    errors: list[FormError] = field(default_factory=list)

    def runtime_call(self, node: cst.CSTNode) -> str | None:
        """The runtime function a call calls (``"prange"``, ...), else None."""
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            return self.runtime.get(node.func.value)
        return None


def cell_key(node: cst.Attribute) -> str:
    """``"seg0.n"`` for ``seg0.n``: how the type checker and the lowering name a cell."""
    assert isinstance(node.value, cst.Name)
    return f"{node.value.value}.{node.attr.value}"


def runtime_names(names: Mapping[str, Binding], local: set[str] | frozenset[str]) -> dict[str, str]:
    """The module's names imported from ``helixrc.parallel`` that a function does not shadow."""
    found: dict[str, str] = {}
    for name, binding in names.items():
        module, _, attr = binding.origin.rpartition(".")
        if binding.kind == "import" and module == RUNTIME_MODULE and attr in RUNTIME_NAMES and name not in local:
            found[name] = attr
    return found


def read_parallel_form(
    fn: cst.FunctionDef, runtime: Mapping[str, str], loc: Callable[[cst.CSTNode], Loc]
) -> ParallelForm:
    """The parallel form of ``fn``, given the runtime names it sees (:func:`runtime_names`)."""
    reader = _Reader(runtime, loc)
    if runtime:  # without the runtime's names there is nothing to find
        reader.read(fn)
    return reader.form


class _Reader:
    def __init__(self, runtime: Mapping[str, str], loc: Callable[[cst.CSTNode], Loc]) -> None:
        self.form = ParallelForm(runtime=dict(runtime))
        self.loc = loc
        self.loop: ParLoop | None = None

    def error(self, node: cst.CSTNode, message: str, hint: str) -> None:
        self.form.errors.append(FormError(self.loc(node), message, hint))

    def line(self, node: cst.CSTNode) -> int:
        return self.loc(node).line

    def read(self, fn: cst.FunctionDef) -> None:
        # Objects first: a use that comes before its object's statement in the source is still
        # that object's (an unassigned object raises UnboundLocalError at run time, as in CPython).
        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params)}
        for node in _object_statements(fn, self.form):
            self.object_statement(node, params)
        self.form.handles = _handle_names(fn, self.form) - set(self.form.objects)
        self.name_counts = _name_counts(fn)
        self.block(suite_body(fn.body), None)

    # -- objects ------------------------------------------------------------------------------

    def object_statement(self, node: cst.Assign, params: set[str]) -> None:
        call = node.value
        assert isinstance(call, cst.Call)
        maker = self.form.runtime_call(call)
        assert maker is not None
        target = node.targets[0].target
        if len(node.targets) != 1 or not isinstance(target, cst.Name):
            self.error(node, f"{maker}(...) must be assigned to one name",
                       f"write it as the transform does: {_SHAPES[maker]}")
            return
        name = target.value
        if name in self.form.objects:
            first = self.form.objects[name]
            self.error(target, f"{name} is already the {first.what} of line {self.line(first.node)}",
                       "give each parallel object a name of its own")
            return
        if name in params:
            self.error(target, f"{name} is a parameter; it cannot name {_WHAT[maker]}",
                       "give the parallel object another name")
            return
        obj = self.object_arguments(node, call, maker, name)
        self.form.objects[name] = obj
        self.form.object_at[node] = obj

    def object_arguments(self, node: cst.Assign, call: cst.Call, maker: str, name: str) -> ParObject:
        """The object a maker's call describes; errors for arguments the transform never writes."""
        shape = _SHAPES[maker]
        positional = [a for a in call.args if a.keyword is None and not a.star]
        cells: list[tuple[str, cst.BaseExpression]] = []
        for arg in call.args:
            if arg.star:
                self.error(arg, f"argument unpacking is not supported in {maker}()", f"write {shape}")
            elif arg.keyword is not None:
                cell = arg.keyword.value
                if cell.startswith(("__", "_hx_")):
                    self.error(arg.keyword, f"{cell!r} cannot be a cell name", "rename the cell")
                cells.append((cell, arg.value))
        if not cells:
            self.error(call, f"{maker}() without cells", f"name each cell and its initial value: {shape}")
        segment = op = ties = None
        if maker == "shared":
            if len(positional) != 1:
                self.error(call, "shared() takes the segment number, then the cells as keywords",
                           f"write {shape}")
            else:
                segment = self.int_literal(positional[0].value, "the segment number of shared()",
                                           MAX_SEGMENTS - 1)
        elif maker == "reduction":
            if not 1 <= len(positional) <= 2:
                self.error(call, 'reduction() takes the operator, optionally "first" or "last", '
                           "then the variables as keywords", f"write {shape}")
            else:
                op = self.str_literal(positional[0].value, "the operator of reduction()", REDUCTION_OPS)
                if len(positional) == 2:
                    ties = self.str_literal(positional[1].value, "the ties of reduction()", ("first", "last"))
                    if op is not None and op not in ORDERED_OPS:
                        self.error(positional[1], f"a {op!r} reduction has no ties to break",
                                   "ties is for min, max, argmax and argmin")
        elif positional:
            self.error(positional[0], "lastprivate() takes only the variables, as keywords",
                       f"write {shape}")
        return ParObject(name, maker, tuple(cells), node, segment, op, ties)

    def int_literal(self, node: cst.BaseExpression, what: str, most: int) -> int | None:
        if isinstance(node, cst.Integer) and node.evaluated_value <= most:
            return node.evaluated_value
        if isinstance(node, cst.Integer):
            self.error(node, f"{what} is {node.evaluated_value}; the simulator supports 0 to {most}",
                       "merge segments (a plan's segments grouping) to need fewer")
        else:
            self.error(node, f"{what} must be an int literal, not {_code(node)}",
                       "the segments of a parallel loop are fixed when it is compiled: write a number")
        return None

    def str_literal(self, node: cst.BaseExpression, what: str, choices: tuple[str, ...]) -> str | None:
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            if isinstance(value, str) and value in choices:
                return value
        self.error(node, f"{what} must be one of {', '.join(repr(c) for c in choices)}, not {_code(node)}",
                   f'write one of them as a string literal, e.g. "{choices[0]}"')
        return None

    # -- statements ---------------------------------------------------------------------------

    def block(self, stmts: list[cst.CSTNode], loop: ParLoop | None) -> None:
        self.loop = loop  # the innermost parallel loop, for independent(...) checks
        if loop is not None:
            self.return_temporaries(stmts)
        if self.form.handles:
            self.tasks(stmts, loop)
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small(small, loop)
            elif isinstance(stmt, cst.If):
                orelse: cst.If | cst.Else | None = stmt
                while isinstance(orelse, cst.If):
                    self.expr(orelse.test)
                    orelse = orelse.orelse
                for branch in if_branches(stmt):
                    self.block(branch, loop)
            elif isinstance(stmt, cst.For):
                self.for_loop(stmt, loop)
            elif isinstance(stmt, cst.While):
                self.expr(stmt.test)
                self.block(suite_body(stmt.body), loop)
            self.loop = loop
            # anything else is outside the kernel language: the frontend refuses it

    def return_temporaries(self, stmts: list[cst.CSTNode]) -> None:
        """``result = <value>``, cell writes, waits, signals, ``return result`` in one block."""
        for i, stmt in enumerate(stmts):
            assign = _only_small(stmt)
            if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1
                    and isinstance(assign.targets[0].target, cst.Name)):
                continue
            name = assign.targets[0].target.value
            if self.name_counts.get(name) != 2 or self.form.runtime_call(assign.value) is not None:
                continue  # read or written elsewhere: an ordinary variable
            for later in stmts[i + 1:]:
                small = _only_small(later)
                if isinstance(small, cst.Return):
                    if isinstance(small.value, cst.Name) and small.value.value == name:
                        self.form.returns[small] = assign
                        self.form.deferred.add(assign)
                    break
                between = (isinstance(small, cst.Expr) and self.form.runtime_call(small.value) in SYNC_CALLS) or (
                    isinstance(small, cst.Assign) and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Attribute)
                    and isinstance(small.targets[0].target.value, cst.Name)
                    and small.targets[0].target.value.value in self.form.objects)
                if not between:
                    break

    # -- tasks ------------------------------------------------------------------------------

    def tasks(self, stmts: list[cst.CSTNode], loop: ParLoop | None) -> None:
        """Pair each ``h = spawn(...)`` of this statement list with the ``join(h)`` after it."""
        pending: dict[str, tuple[TaskSpawn, int]] = {}
        for i, stmt in enumerate(stmts):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                value = small.value if isinstance(small, (cst.Assign, cst.Expr)) else None
                which = self.form.runtime_call(value) if value is not None else None
                if which == "spawn":
                    assert isinstance(small, cst.Assign) and isinstance(value, cst.Call)
                    spawn = self.spawn_statement(small, value, loop)
                    if spawn is not None:
                        if spawn.handle in pending:
                            first = pending[spawn.handle][0]
                            self.error(small, f"{spawn.handle} is spawned again before the task of line "
                                       f"{self.line(first.node)} was joined",
                                       f"join({spawn.handle}) first, or give each task a handle of its own")
                        pending[spawn.handle] = (spawn, i)
                elif which == "join":
                    assert isinstance(small, (cst.Assign, cst.Expr)) and isinstance(value, cst.Call)
                    self.join_statement(small, value, pending, stmts, i)
        for spawn, _ in pending.values():
            if self.joined_elsewhere(stmts, spawn.handle):
                continue  # a join(h) in a shape of its own, which expr() refuses
            self.error(spawn.node, f"the task {spawn.handle} = spawn({spawn.task}, ...) is never joined "
                       "in this block", f"join({spawn.handle}) later in the same block, before it ends")

    def joined_elsewhere(self, stmts: list[cst.CSTNode], handle: str) -> bool:
        """Whether some ``join(handle)`` in these statements is not one of the recognized shapes."""
        found: list[cst.Call] = []
        form = self.form

        class Finder(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                if (form.runtime_call(node) == "join" and node.args and isinstance(node.args[0].value, cst.Name)
                        and node.args[0].value.value == handle):
                    found.append(node)

        for stmt in stmts:
            stmt.visit(Finder())
        recognized = {id(j.node.value) for j in form.joins.values()}
        return any(id(call) not in recognized for call in found)

    def spawn_statement(self, node: cst.Assign, call: cst.Call, loop: ParLoop | None) -> TaskSpawn | None:
        shape = _SHAPES["spawn"]
        target = node.targets[0].target
        if len(node.targets) != 1 or not isinstance(target, cst.Name):
            self.error(node, "spawn(...) must be assigned to one name, the task's handle", f"write {shape}")
            return None
        if any(a.star or a.keyword is not None for a in call.args) or not call.args:
            self.error(call, "spawn() takes the task function, then its arguments by position",
                       f"write {shape}")
            return None
        task = call.args[0].value
        if not isinstance(task, cst.Name):
            self.error(task, f"the task of spawn() must name a kernel function, not {_code(task)}",
                       f"write {shape}, with task a function of this module")
            return None
        if loop is not None:
            self.error(call, f"spawn() inside the parallel loop of line {self.line(loop.node)}: the "
                       "sibling context is one of the loop's workers", "spawn the task outside the loop")
            return None
        spawn = TaskSpawn(target.value, task.value, call, node)
        self.form.spawns[node] = spawn
        return spawn

    def join_statement(self, node: cst.Assign | cst.Expr, call: cst.Call,
                       pending: dict[str, tuple[TaskSpawn, int]], stmts: list[cst.CSTNode], i: int) -> None:
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star or not isinstance(
                call.args[0].value, cst.Name):
            self.error(call, "join() takes one task handle", f"write {_SHAPES['join']}")
            return
        handle = call.args[0].value.value
        if isinstance(node, cst.Assign) and len(node.targets) != 1:
            self.error(node, "join(...) is assigned to one target", f"write {_SHAPES['join']}")
            return
        if handle not in pending:
            where = ("no spawn of it comes earlier in this block, or its task was already joined"
                     if handle in self.form.handles else "it is not a task handle")
            self.error(call, f"join({handle}): {where}",
                       "join each task exactly once, after its spawn and in the same block")
            return
        spawn, at = pending.pop(handle)
        for stmt in stmts[at:i + 1]:
            exit_ = _early_exit(stmt)
            if exit_ is not None:
                self.error(exit_, f"this {_code(exit_).split()[0]} leaves the block between "
                           f"{handle} = spawn(...) (line {self.line(spawn.node)}) and its join",
                           "join the task before leaving: the task must be joined on every path")
        target = node.targets[0].target if isinstance(node, cst.Assign) else None
        self.form.joins[node] = TaskJoin(spawn, target, node)

    def small(self, node: cst.CSTNode, loop: ParLoop | None) -> None:
        if node in self.form.spawns:
            assert isinstance(node, cst.Assign)
            for arg in self.form.spawns[node].args:
                self.expr(arg.value)
            return
        if node in self.form.joins:
            target = self.form.joins[node].target
            if target is not None:
                self.target(target)
            return
        if isinstance(node, (cst.Assign, cst.Expr)) and self.form.runtime_call(node.value) in TASK_CALLS:
            return  # a task statement that tasks() refused
        if isinstance(node, cst.Assign):
            obj = self.form.object_at.get(node)
            if obj is not None:
                if loop is not None:
                    self.error(node.value, f"{obj.kind}() inside the parallel loop of line "
                               f"{self.line(loop.node)}: every iteration would create {obj.name} again",
                               f"create it before the loop, as the transform does: {_SHAPES[obj.kind]}")
                for _, value in obj.cells:
                    self.expr(value)
                return
            if self.form.runtime_call(node.value) in OBJECT_MAKERS:
                return  # an object statement that object_statement() refused
            for target in node.targets:
                self.target(target.target)
            self.expr(node.value)
        elif isinstance(node, cst.AugAssign):
            self.target(node.target)
            self.expr(node.value)
        elif isinstance(node, cst.AnnAssign):
            self.target(node.target)
            if node.value is not None:
                self.expr(node.value)
        elif isinstance(node, cst.Expr):
            which = self.form.runtime_call(node.value)
            if which in SYNC_CALLS:
                assert isinstance(node.value, cst.Call)
                self.sync(node, node.value, which, loop)
            else:
                self.expr(node.value)
        elif isinstance(node, cst.Return) and node.value is not None:
            self.expr(node.value)
        elif isinstance(node, cst.Assert):
            self.expr(node.test)

    def sync(self, node: cst.Expr, call: cst.Call, which: str, loop: ParLoop | None) -> None:
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            self.error(call, f"{which}() takes one segment number", f"write {which}(0)")
            return
        k = self.int_literal(call.args[0].value, f"the segment of {which}()", MAX_SEGMENTS - 1)
        if k is None:
            return
        if loop is None:
            self.error(call, f"{which}({k}) outside a parallel loop",
                       "wait and signal belong inside the body of a for ... in prange(...) loop")
        elif k >= loop.segments:
            self.error(call.args[0], f"{which}({k}): the parallel loop of line {self.line(loop.node)} "
                       f"declares {loop.segments} segment{'s' * (loop.segments != 1)}",
                       f"declare segments={k + 1} in its prange(...), or use a lower segment")
        else:
            self.form.syncs[node] = SegmentSync(which, k, node)

    def for_loop(self, stmt: cst.For, loop: ParLoop | None) -> None:
        self.target(stmt.target)
        which = self.form.runtime_call(stmt.iter)
        if which not in LOOP_MAKERS:
            self.expr(stmt.iter)
            self.block(suite_body(stmt.body), loop)
            return
        assert isinstance(stmt.iter, cst.Call)
        if loop is not None:
            self.error(stmt.iter, f"{which}() inside the parallel loop of line {self.line(loop.node)}: "
                       "one parallel loop runs at a time",
                       "keep the inner loop a plain for ... in range(...) loop")
        par, ok = self.loop_arguments(stmt, stmt.iter, which)
        for bound in par.bounds:
            self.expr(bound)
        if ok and loop is None:
            self.form.loops[stmt] = par
        self.block(suite_body(stmt.body), par)

    def loop_arguments(self, stmt: cst.For, call: cst.Call, which: str) -> tuple[ParLoop, bool]:
        """The loop a prange/prange_while call describes, and whether its arguments are all valid
        (if not, the body is still read against what could be read, with no limit on segments)."""
        before = len(self.form.errors)
        shape = _SHAPES[which]
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
        if any(a.star for a in call.args):
            self.error(call, f"argument unpacking is not supported in {which}()", f"write {shape}")
        wanted = 3 if which == "prange" else 0
        if len(positional) != wanted:
            takes = "start, stop and step, then" if wanted else "only"
            self.error(call, f"{which}() takes {takes} segments= and signals=", f"write {shape}")
        for key, arg in keywords.items():
            if key not in ("segments", "signals"):
                self.error(arg, f"{which}() has no argument {key}=", f"write {shape}")
        segments: int | None = None
        signals: str | None = None
        if "segments" in keywords:
            segments = self.int_literal(keywords["segments"].value, "segments=", MAX_SEGMENTS)
        if "signals" in keywords:
            signals = self.str_literal(keywords["signals"].value, "signals=", SIGNALS)
        missing = [k for k in ("segments", "signals") if k not in keywords]
        if missing:
            self.error(call, f"{which}() needs {' and '.join(m + '=' for m in missing)}: the simulator "
                       "reads the segments and the signals from the loop", f"write {shape}")
        par = ParLoop(which, MAX_SEGMENTS if segments is None else segments, signals or "uncoupled",
                      tuple(positional[:wanted]), stmt)
        return par, len(self.form.errors) == before

    # -- expressions and targets --------------------------------------------------------------

    def target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name) and node.value in self.form.handles:
            self.error(node, f"{node.value} is a task handle; only {node.value} = spawn(...) assigns it",
                       "give the variable another name")
        elif isinstance(node, cst.Name) and node.value in self.form.objects:
            obj = self.form.objects[node.value]
            self.error(node, f"{node.value} is the {obj.what} of line {self.line(obj.node)}; it cannot be "
                       "assigned again", "give the variable another name")
        elif isinstance(node, (cst.Tuple, cst.List)):
            for el in node.elements:
                self.target(el.value)
        elif isinstance(node, cst.StarredElement):
            self.target(node.value)
        elif not isinstance(node, cst.Name):
            self.expr(node)

    def expr(self, node: cst.CSTNode) -> None:
        """Every use of an object or a runtime name inside an expression (that is not one of the
        recognized statements) is a cell ``X.name`` or an error."""
        if isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name) and node.value.value in self.form.objects:
                self.cell(node, self.form.objects[node.value.value])
            else:
                self.expr(node.value)  # node.attr names an attribute, not a variable
        elif isinstance(node, cst.Name):
            if node.value in self.form.objects:
                obj = self.form.objects[node.value]
                self.error(node, f"{node.value} is the {obj.what} of line {self.line(obj.node)}; a kernel "
                           f"uses it only through its cells, as {node.value}.{obj.cells[0][0] if obj.cells else 'x'}",
                           "read the cells into variables and pass those")
            elif node.value in self.form.runtime:
                self.misused(node, self.form.runtime[node.value])
            elif node.value in self.form.handles:
                self.error(node, f"{node.value} is a task handle; a kernel uses it only in join({node.value})",
                           "join the task and use its result")
        elif isinstance(node, cst.Call) and self.form.runtime_call(node) == CHECK_CALL:
            self.independent(node)
        elif isinstance(node, cst.Call) and self.form.runtime_call(node) in ARRAY_CHECKS:
            self.array_check(node, self.form.runtime_call(node) or "")
        elif isinstance(node, cst.Call) and self.form.runtime_call(node) is not None:
            self.misused(node, self.form.runtime_call(node) or "")
        elif isinstance(node, cst.Arg):
            self.expr(node.value)  # not the keyword's name
        else:
            for child in node.children:
                self.expr(child)

    def cell(self, node: cst.Attribute, obj: ParObject) -> None:
        name = node.attr.value
        if name in obj.cell_names:
            self.form.cells[node] = obj
        else:
            self.error(node, f"{obj.name} has no cell {name!r} (its cells, from line {self.line(obj.node)}: "
                       f"{', '.join(obj.cell_names) or 'none'})",
                       f"add {name}=... to its {obj.kind}(...), or use one of its cells")

    def independent(self, call: cst.Call) -> None:
        """``independent(array, start, stop, step, (index, offset, "r"|"w"), ...)`` as the transform
        writes it: array and index arrays by name, the offset and the mode as literals."""
        shape = f"write it as the transform does: {_SHAPES[CHECK_CALL]}"
        if self.loop is not None:
            self.error(call, f"independent(...) inside the parallel loop of line {self.line(self.loop.node)}",
                       "check before the loop: if independent(...): <the parallel loop> else: <the original>")
            return
        before = len(self.form.errors)
        args = [a.value for a in call.args]
        if any(a.keyword is not None or a.star for a in call.args) or len(args) < 5:
            self.error(call, "independent() takes the array, start, stop, step, then one or more accesses",
                       shape)
            return
        array, *bounds = args[:4]
        if not isinstance(array, cst.Name):
            self.error(array, f"the array of independent() must be a name, not {_code(array)}", shape)
            return
        for bound in bounds:
            self.expr(bound)
        accesses = [self.check_access(a, shape) for a in args[4:]]
        if all(a is not None for a in accesses) and len(self.form.errors) == before:
            self.form.checks[call] = IndependentCheck(array.value, (bounds[0], bounds[1], bounds[2]),
                                                      tuple(a for a in accesses if a is not None), call)

    def array_check(self, call: cst.Call, which: str) -> None:
        """``int64_arrays(a, ...)`` / ``disjoint(a, b, ...)``: arrays by name, outside the parallel loop."""
        shape = f"write it as the transform does: {_SHAPES[which]}"
        if self.loop is not None:
            self.error(call, f"{which}(...) inside the parallel loop of line {self.line(self.loop.node)}",
                       f"check before the loop: if {which}(...): <the parallel loop> else: <the original>")
            return
        args = [a.value for a in call.args]
        least = ARRAY_CHECKS[which]
        if len(args) < least or any(a.keyword is not None or a.star for a in call.args):
            self.error(call, f"{which}() takes {'one' if least == 1 else 'two'} or more arrays", shape)
            return
        bad = next((a for a in args if not isinstance(a, cst.Name)), None)
        if bad is not None:
            self.error(bad, f"the arguments of {which}() must be names, not {_code(bad)}", shape)
            return
        found = self.form.dtype_checks if which == DTYPE_CALL else self.form.overlap_checks
        found[call] = tuple(a.value for a in args)  # type: ignore[attr-defined]

    def check_access(self, node: cst.BaseExpression, shape: str) -> CheckAccess | None:
        """``(index, offset, "r"|"w")``: index a name or None, offset an int literal (or its
        negation)."""
        if not (isinstance(node, cst.Tuple) and len(node.elements) == 3):
            self.error(node, f"an access of independent() is (index, offset, mode), not {_code(node)}", shape)
            return None
        index, offset, mode = (e.value for e in node.elements)
        if not isinstance(index, cst.Name):
            self.error(index, f"the index of an access must be an array's name or None, not {_code(index)}", shape)
            return None
        sign = 1
        if isinstance(offset, cst.UnaryOperation) and isinstance(offset.operator, cst.Minus):
            sign, offset = -1, offset.expression
        if not isinstance(offset, cst.Integer):
            self.error(offset, f"the offset of an access must be an int literal, not {_code(offset)}", shape)
            return None
        written = self.str_literal(mode, "the mode of an access", ("r", "w"))
        if written is None:
            return None
        name = None if index.value == "None" else index.value
        return CheckAccess(name, sign * offset.evaluated_value, written == "w")

    def misused(self, node: cst.CSTNode, which: str) -> None:
        if which == DTYPE_CALL:
            self.error(node, "int64_arrays is the run-time check of a split if; it can only be called",
                       f"write {_SHAPES[DTYPE_CALL]}")
        elif which == OVERLAP_CALL:
            self.error(node, "disjoint is the run-time check that arrays do not overlap in memory; it can "
                       "only be called", f"write {_SHAPES[OVERLAP_CALL]}")
        elif which == CHECK_CALL:
            self.error(node, "independent is the run-time check of a plan's assume_independent; it can "
                       "only be called", f"write {_SHAPES[CHECK_CALL]}")
        elif which in LOOP_MAKERS:
            self.error(node, f"{which}() can only be the iterable of a for loop", f"write {_SHAPES[which]}")
        elif which in SYNC_CALLS:
            self.error(node, f"{which}(k) can only be a statement of its own, inside a parallel loop",
                       f"write {which}(0) on a line of its own")
        elif which == "spawn":
            self.error(node, "spawn(...) can only be assigned to a task handle, in a statement of its own",
                       f"write {_SHAPES['spawn']}")
        elif which == "join":
            self.error(node, "join(h) can only be a statement of its own or assigned in one",
                       "write join(t0), x = join(t0) or a, b = join(t0)")
        else:
            self.error(node, f"{which}(...) can only be assigned to a name, in a statement of its own",
                       f"write {_SHAPES[which]} before the parallel loop")


def _object_statements(fn: cst.FunctionDef, form: ParallelForm) -> list[cst.Assign]:
    """Every ``X = shared/reduction/lastprivate(...)`` statement of the function, in source order."""
    found: list[cst.Assign] = []

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if form.runtime_call(node.value) in OBJECT_MAKERS:
                found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn  # a nested def is refused by the frontend

    fn.visit(Finder())
    return found


def _handle_names(fn: cst.FunctionDef, form: ParallelForm) -> set[str]:
    """The names ``X = spawn(...)`` statements assign: the task handles."""
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if form.runtime_call(node.value) == "spawn":
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        found.add(t.target.value)

    fn.body.visit(Finder())
    return found


def _early_exit(stmt: cst.CSTNode) -> cst.CSTNode | None:
    """The first ``return`` or ``raise`` in a statement, or ``break``/``continue`` that leaves it."""
    found: list[cst.CSTNode] = []

    class Finder(cst.CSTVisitor):
        def __init__(self) -> None:
            self.loops = 0

        def visit_Return(self, node: cst.Return) -> None:
            found.append(node)

        def visit_Raise(self, node: cst.Raise) -> None:
            found.append(node)

        def visit_Break(self, node: cst.Break) -> None:
            if not self.loops:
                found.append(node)

        def visit_Continue(self, node: cst.Continue) -> None:
            if not self.loops:
                found.append(node)

        def visit_For(self, node: cst.For) -> None:
            self.loops += 1

        def leave_For(self, node: cst.For) -> None:
            self.loops -= 1

        def visit_While(self, node: cst.While) -> None:
            self.loops += 1

        def leave_While(self, node: cst.While) -> None:
            self.loops -= 1

    stmt.visit(Finder())
    return found[0] if found else None


def _only_small(stmt: cst.CSTNode) -> cst.BaseSmallStatement | None:
    """The statement of a line that holds exactly one."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def _name_counts(fn: cst.FunctionDef) -> dict[str, int]:
    """How often each identifier occurs in the function (any role: a conservative count)."""
    counts: dict[str, int] = {}

    class Counter(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            counts[node.value] = counts.get(node.value, 0) + 1

    fn.body.visit(Counter())
    return counts


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node).strip()
