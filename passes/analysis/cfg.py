"""A statement-level control-flow graph of one kernel function.

Nodes are simple statements and the tests of ``if``/``while``/``for`` headers; a ``for`` loop is
three nodes (its ``range`` evaluated once before the loop, the header that decides whether another
iteration runs, and the assignment of the loop variable). Short-circuit and conditional
expressions stay inside one node. Each node carries its source node and line, the scalars it
defines and uses, its array accesses (helper calls contribute the accesses of their summary,
mapped back to the caller's arguments) and the innermost loop it belongs to::

    def f(a, n):              # node  kind    defs  uses   accesses      loop
        s = 0                 #  1    stmt    s
        for i in range(n):    #  2    range         n
                              #  3    for                               f/L1
                              #  4    target  i                         f/L1
            if a[i] > 0:      #  5    if            i      read a[i]     f/L1
                s += a[i]     #  6    stmt    s     s, i   read a[i]     f/L1
        return s              #  7    return        s

Control dependences come from post-dominators of the whole function (a node is control dependent
on a branch when it runs on some but not all of the branch's outcomes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from helixrc.passes.analysis.model import HelperSummary
from helixrc.passes.frontend import KernelModule
from helixrc.passes.ir import ArrayType, LoopInfo, Scalar
from helixrc.passes.loops import find_loops

#: a node of these kinds does no work of its own (jumps, the loop variable's assignment)
TRIVIAL_KINDS = frozenset({"entry", "exit", "pass", "break", "continue", "target", "for"})
#: how much more an inner loop's statement weighs than a statement of the enclosing loop
LOOP_FACTOR = 8.0

ANY_ARRAY = "*"  # an array local whose origin is ambiguous: may be any array


def code(node: cst.CSTNode) -> str:
    """The source text of ``node`` on one line."""
    return " ".join(cst.Module([]).code_for_node(node).split())


@dataclass(frozen=True, eq=False)
class Index:
    """One subscript dimension: ``const + sum(coef * expr)`` over source expressions.

    A plain subscript is one term with coefficient 1; a helper's subscript mapped back to its
    caller is the helper's linear form with the caller's argument expressions substituted.
    """

    terms: tuple[tuple[int, cst.BaseExpression], ...]
    const: int = 0

    def text(self) -> str:
        parts = []
        for coef, expr in self.terms:
            t = code(expr)
            if coef != 1 and not isinstance(expr, (cst.Name, cst.Integer, cst.Subscript, cst.Call)):
                t = f"({t})"
            parts.append(t if coef == 1 else f"-{t}" if coef == -1 else f"{coef}*{t}")
        if self.const or not parts:
            parts.append(str(self.const))
        return " + ".join(parts).replace("+ -", "- ")


@dataclass(frozen=True, eq=False)
class Access:
    """An array element read or written at a node."""

    array: str
    write: bool
    #: per dimension; None for the whole tuple (or a dimension) when the index is unknown
    index: tuple[Index | None, ...] | None
    node: int
    line: int
    text: str
    #: the helper kernel the access happens in, if any
    via: str | None = None


@dataclass(eq=False)
class Node:
    id: int
    kind: str  # entry exit stmt if while range for target return break continue pass
    stmt: cst.CSTNode | None
    line: int
    text: str
    #: the innermost loop the node belongs to (None outside loops)
    loop: str | None
    defs: frozenset[str] = frozenset()
    uses: frozenset[str] = frozenset()
    accesses: tuple[Access, ...] = ()
    #: helper kernels called here
    calls: tuple[str, ...] = ()
    #: helpers called here that could not be summarized
    opaque_calls: tuple[str, ...] = ()
    #: static cost: 1 per statement (0 for trivial ones), 2 per array access, plus the weight of
    #: the helpers it calls
    weight: float = 1.0
    #: does real work (touches memory or calls a helper): scalar copies and counters do not count
    #: as parallel work when judging whether segments span an iteration
    substantial: bool = False
    #: for a statement directly inside an if branch: (the if node, True for the then-branch)
    branch: tuple[int, bool] | None = None
    succ: list[int] = field(default_factory=list)
    pred: list[int] = field(default_factory=list)


@dataclass(eq=False)
class LoopNode:
    """A loop of the graph: its header and every node inside it, nested loops included."""

    info: LoopInfo
    stmt: cst.For | cst.While
    header: int
    #: for loops: the range node (in the enclosing region) and the loop variable's node
    range_node: int | None = None
    target: int | None = None
    var: str | None = None
    body: set[int] = field(default_factory=set)
    breaks: list[int] = field(default_factory=list)
    #: return statements anywhere inside the loop (they leave it too)
    returns: list[int] = field(default_factory=list)
    children: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(eq=False)
class CFG:
    name: str
    km: KernelModule
    fn: cst.FunctionDef
    nodes: list[Node]
    entry: int
    exit: int
    #: every loop in loop-forest order
    loops: dict[str, LoopNode]
    params: tuple[str, ...]
    arrays: frozenset[str]
    #: scalar locals and parameters
    scalars: frozenset[str]
    _cdeps: dict[int, set[int]] | None = None

    def loop_depth(self, node: int, outer: str | None) -> int:
        """How many loops inside ``outer`` (excluded) enclose ``node``."""
        depth, lid = 0, self.nodes[node].loop
        while lid is not None and lid != outer:
            depth += 1
            parent = self.loops[lid].info.parent
            lid = parent.id if parent is not None else None
        return depth

    def child_loop(self, node: int, outer: str) -> str | None:
        """The child loop of ``outer`` that contains ``node``, None if it sits at outer's level."""
        lid = self.nodes[node].loop
        while lid is not None and lid != outer:
            parent = self.loops[lid].info.parent
            if parent is not None and parent.id == outer:
                return lid
            lid = parent.id if parent else None
        return None

    def control_deps(self) -> dict[int, set[int]]:
        """node -> the branch nodes it is control dependent on."""
        if self._cdeps is None:
            self._cdeps = _control_dependences(self)
        return self._cdeps


# ---------------------------------------------------------------------------------------------
# Name kinds
# ---------------------------------------------------------------------------------------------


def _subscript_parts(node: cst.Subscript) -> tuple[cst.BaseExpression, list[cst.BaseExpression]]:
    """``a[i][j]`` and ``a[i, j]`` -> (a, [i, j])."""
    indices: list[cst.BaseExpression] = []
    base: cst.BaseExpression = node
    while isinstance(base, cst.Subscript):
        dims = [el.slice.value for el in base.slice if isinstance(el.slice, cst.Index)]
        indices[:0] = dims
        base = base.value
    return base, indices


def _is_shape(node: cst.Subscript) -> bool:
    return isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape"


def array_names(
    fn: cst.FunctionDef,
    summaries: Mapping[str, HelperSummary],
    known: Mapping[str, Scalar | ArrayType] | None = None,
) -> set[str]:
    """The names a function uses as arrays: typed so, subscripted, measured with len() or
    ``.shape``, passed where a helper takes an array, or assigned from such a name."""
    found = {n for n, t in (known or {}).items() if isinstance(t, ArrayType)}
    copies: list[tuple[str, str]] = []

    class Finder(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            base: cst.BaseExpression
            if isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape":
                base = node.value.value
            else:
                base, _ = _subscript_parts(node)
            if isinstance(base, cst.Name):
                found.add(base.value)

        def visit_Call(self, node: cst.Call) -> None:
            if not isinstance(node.func, cst.Name):
                return
            fname = node.func.value
            if fname == "len" and node.args and isinstance(node.args[0].value, cst.Name):
                found.add(node.args[0].value.value)
            summary = summaries.get(fname)
            if summary is not None:
                for i, arg in enumerate(node.args):
                    if i in summary.array_params and isinstance(arg.value, cst.Name):
                        found.add(arg.value.value)

        def visit_Assign(self, node: cst.Assign) -> None:
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                if isinstance(node.value, cst.Name):
                    copies.append((node.targets[0].target.value, node.value.value))

    fn.body.visit(Finder())
    changed = True
    while changed:
        changed = False
        for dst, src in copies:
            if src in found and dst not in found:
                found.add(dst)
                changed = True
    return found


def local_names(fn: cst.FunctionDef) -> tuple[tuple[str, ...], set[str]]:
    """(parameters, every name the function binds)."""
    params = tuple(p.name.value for p in fn.params.params)
    bound = set(params)

    def targets(t: cst.BaseExpression) -> None:
        if isinstance(t, cst.Name):
            bound.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for el in t.elements:
                targets(el.value)

    class Binder(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                targets(t.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            targets(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            targets(node.target)

        def visit_For(self, node: cst.For) -> None:
            targets(node.target)

    fn.body.visit(Binder())
    return params, bound


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


class _Effects:
    """What one node does: collected while its expressions are scanned."""

    def __init__(self) -> None:
        self.defs: set[str] = set()
        self.uses: set[str] = set()
        #: (array, write, index or None, text, via)
        self.accesses: list[tuple[str, bool, tuple[Index | None, ...] | None, str, str | None]] = []
        self.calls: list[str] = []
        self.opaque: list[str] = []
        self.weight = 0.0


class _Builder:
    def __init__(
        self,
        km: KernelModule,
        name: str,
        summaries: Mapping[str, HelperSummary],
        known: Mapping[str, Scalar | ArrayType] | None,
    ) -> None:
        self.km = km
        self.name = name
        self.fn = km.functions[name]
        self.summaries = summaries
        self.loop_infos = find_loops(self.fn, name, km.loc)
        self.params, bound = local_names(self.fn)
        self.arrays = array_names(self.fn, summaries, known)
        self.scalars = frozenset(bound - self.arrays)
        self.aliases = self._array_aliases()
        self.nodes: list[Node] = []
        self.loops: dict[str, LoopNode] = {}
        self.stack: list[LoopNode] = []
        self.returns: list[int] = []

    def _array_aliases(self) -> dict[str, str]:
        """Array locals assigned from one array: the array they stand for (ANY_ARRAY if several)."""
        sources: dict[str, set[str]] = {}

        class Copies(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        src = node.value.value if isinstance(node.value, cst.Name) else ANY_ARRAY
                        sources.setdefault(t.target.value, set()).add(src)

        self.fn.body.visit(Copies())
        aliases: dict[str, str] = {}
        for name in self.arrays - set(self.params):
            srcs = sources.get(name, {ANY_ARRAY})
            aliases[name] = next(iter(srcs)) if len(srcs) == 1 else ANY_ARRAY
        # follow chains (b = a; c = b)
        for name in list(aliases):
            seen = {name}
            while aliases[name] in aliases and aliases[name] not in seen:
                seen.add(aliases[name])
                aliases[name] = aliases[aliases[name]]
        return aliases

    def array_of(self, name: str) -> str:
        return self.aliases.get(name, name) if name not in self.params else name

    # -- nodes ----------------------------------------------------------------------------------

    def new(
        self,
        kind: str,
        stmt: cst.CSTNode | None,
        line: int,
        text: str,
        eff: _Effects | None = None,
        loop: str | None = None,
        branch: tuple[int, bool] | None = None,
    ) -> int:
        nid = len(self.nodes)
        eff = eff or _Effects()
        accesses = tuple(
            Access(array, write, index, nid, line, t, via) for array, write, index, t, via in eff.accesses
        )
        trivial = kind in TRIVIAL_KINDS
        direct = sum(1 for a in accesses if a.via is None)
        weight = 0.0 if trivial else 1.0 + 2.0 * direct + eff.weight
        self.nodes.append(
            Node(
                nid, kind, stmt, line, text,
                loop if loop is not None else (self.stack[-1].id if self.stack else None),
                frozenset(eff.defs), frozenset(eff.uses), accesses, tuple(eff.calls),
                tuple(eff.opaque), weight, not trivial and bool(accesses or eff.calls), branch,
            )
        )  # fmt: skip
        return nid

    def edge(self, a: int, b: int) -> None:
        if b not in self.nodes[a].succ:
            self.nodes[a].succ.append(b)
            self.nodes[b].pred.append(a)

    def join(self, preds: Sequence[int], node: int) -> None:
        for p in preds:
            self.edge(p, node)

    def line(self, node: cst.CSTNode) -> int:
        return self.km.loc(node).line

    # -- statements -----------------------------------------------------------------------------

    def build(self) -> CFG:
        entry_eff = _Effects()
        entry_eff.defs.update(p for p in self.params if p in self.scalars)
        entry = self.new("entry", self.fn, self.line(self.fn), f"def {self.name}", entry_eff)
        body = list(self.fn.body.body)
        if body and _docstring(body[0]):
            body = body[1:]
        preds = self.statements(body, [entry], None)
        exit_ = self.new("exit", None, 0, "exit")
        self.join(preds, exit_)
        for r in self.returns:
            self.edge(r, exit_)
        for loop in self.loops.values():
            loop.body = set()
        for node in self.nodes:
            lid = node.loop
            while lid is not None:
                self.loops[lid].body.add(node.id)
                parent = self.loops[lid].info.parent
                lid = parent.id if parent else None
        ordered = {info.id: self.loops[info.id] for info in self.loop_infos.values() if info.id in self.loops}
        return CFG(
            self.name, self.km, self.fn, self.nodes, entry, exit_, ordered, self.params,
            frozenset(self.arrays), self.scalars,
        )  # fmt: skip

    def statements(
        self, stmts: Sequence[cst.CSTNode], preds: list[int], branch: tuple[int, bool] | None
    ) -> list[int]:
        for stmt in stmts:
            preds = self.statement(stmt, preds, branch)
        return preds

    def block(self, suite: cst.BaseSuite, preds: list[int], branch: tuple[int, bool] | None) -> list[int]:
        return self.statements(list(suite.body), preds, branch)

    def statement(self, stmt: cst.CSTNode, preds: list[int], branch: tuple[int, bool] | None) -> list[int]:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                preds = self.small(small, preds, branch)
            return preds
        if isinstance(stmt, cst.If):
            return self.if_statement(stmt, preds, branch)
        if isinstance(stmt, cst.While):
            return self.while_statement(stmt, preds, branch)
        if isinstance(stmt, cst.For):
            return self.for_statement(stmt, preds, branch)
        if isinstance(stmt, cst.BaseSmallStatement):  # from a one-line suite
            return self.small(stmt, preds, branch)
        raise NotImplementedError(f"statement {type(stmt).__name__} at line {self.line(stmt)}")

    def small(self, small: cst.CSTNode, preds: list[int], branch: tuple[int, bool] | None) -> list[int]:
        line = self.line(small)
        text = code(small)
        eff = _Effects()
        if isinstance(small, cst.Pass):
            node = self.new("pass", small, line, text, branch=branch)
        elif isinstance(small, cst.Break):
            node = self.new("break", small, line, text, branch=branch)
            self.join(preds, node)
            self.stack[-1].breaks.append(node)
            return []
        elif isinstance(small, cst.Continue):
            node = self.new("continue", small, line, text, branch=branch)
            self.join(preds, node)
            self.edge(node, self.stack[-1].header)
            return []
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self.read(small.value, eff)
            node = self.new("return", small, line, text, eff, branch=branch)
            self.join(preds, node)
            self.returns.append(node)
            for loop in self.stack:
                loop.returns.append(node)
            return []
        elif isinstance(small, cst.Assign):
            self.read(small.value, eff)
            for t in small.targets:
                self.write(t.target, eff, aug=False)
            node = self.new("stmt", small, line, text, eff, branch=branch)
        elif isinstance(small, cst.AugAssign):
            self.read(small.value, eff)
            self.write(small.target, eff, aug=True)
            node = self.new("stmt", small, line, text, eff, branch=branch)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.read(small.value, eff)
            self.write(small.target, eff, aug=False)
            node = self.new("stmt", small, line, text, eff, branch=branch)
        elif isinstance(small, cst.Expr):
            self.read(small.value, eff)
            node = self.new("stmt", small, line, text, eff, branch=branch)
        elif isinstance(small, cst.Assert):
            self.read(small.test, eff)
            node = self.new("stmt", small, line, text, eff, branch=branch)
        else:
            raise NotImplementedError(f"statement {type(small).__name__} at line {line}")
        self.join(preds, node)
        return [node]

    def if_statement(self, stmt: cst.If, preds: list[int], branch: tuple[int, bool] | None) -> list[int]:
        eff = _Effects()
        self.read(stmt.test, eff)
        test = self.new("if", stmt, self.line(stmt.test), f"if {code(stmt.test)}", eff, branch=branch)
        self.join(preds, test)
        out = self.block(stmt.body, [test], (test, True))
        if stmt.orelse is None:
            out.append(test)
        elif isinstance(stmt.orelse, cst.If):
            out += self.if_statement(stmt.orelse, [test], (test, False))
        else:
            out += self.block(stmt.orelse.body, [test], (test, False))
        return out

    def while_statement(
        self, stmt: cst.While, preds: list[int], branch: tuple[int, bool] | None
    ) -> list[int]:
        info = self.loop_infos[stmt]
        eff = _Effects()
        self.read(stmt.test, eff)
        text = f"while {code(stmt.test)}"
        header = self.new("while", stmt, self.line(stmt.test), text, eff, info.id, branch)
        self.join(preds, header)
        loop = self.open_loop(info, stmt, header)
        out = self.block(stmt.body, [header], None)
        self.join(out, header)
        self.stack.pop()
        return [header, *loop.breaks]

    def for_statement(self, stmt: cst.For, preds: list[int], branch: tuple[int, bool] | None) -> list[int]:
        info = self.loop_infos[stmt]
        eff = _Effects()
        self.read(stmt.iter, eff)
        head_text = f"for {code(stmt.target)} in {code(stmt.iter)}"
        rng = self.new("range", stmt.iter, self.line(stmt.iter), code(stmt.iter), eff, branch=branch)
        self.join(preds, rng)
        header = self.new("for", stmt, self.line(stmt.target), head_text, loop=info.id)
        self.edge(rng, header)
        loop = self.open_loop(info, stmt, header)
        target_eff = _Effects()
        self.write(stmt.target, target_eff, aug=False)
        target = self.new("target", stmt.target, self.line(stmt.target), head_text, target_eff, info.id)
        self.edge(header, target)
        loop.range_node, loop.target = rng, target
        loop.var = stmt.target.value if isinstance(stmt.target, cst.Name) else None
        out = self.block(stmt.body, [target], None)
        self.join(out, header)
        self.stack.pop()
        return [header, *loop.breaks]

    def open_loop(self, info: LoopInfo, stmt: cst.For | cst.While, header: int) -> LoopNode:
        loop = LoopNode(info, stmt, header)
        if self.stack:
            self.stack[-1].children.append(info.id)
        self.loops[info.id] = loop
        self.stack.append(loop)
        return loop

    # -- expressions ------------------------------------------------------------------------------

    def read(self, e: cst.BaseExpression, eff: _Effects) -> None:
        if isinstance(e, cst.Name):
            if e.value in self.scalars:
                eff.uses.add(e.value)
        elif isinstance(e, cst.Subscript):
            if _is_shape(e):
                return  # a.shape[d]: the shape never changes inside a kernel
            base, indices = _subscript_parts(e)
            if isinstance(base, cst.Name) and base.value in self.arrays:
                dims = tuple(Index(((1, i),)) for i in indices)
                eff.accesses.append((self.array_of(base.value), False, dims, code(e), None))
            else:
                self.read(base, eff)
            for i in indices:
                self.read(i, eff)
        elif isinstance(e, cst.Call):
            self.call(e, eff)
        elif isinstance(e, cst.Attribute):
            pass  # math.inf (shape reads are handled with their subscript)
        else:
            for child in e.children:
                self._walk(child, eff)

    def _walk(self, node: cst.CSTNode, eff: _Effects) -> None:
        if isinstance(node, cst.BaseExpression):
            self.read(node, eff)
        else:
            for child in node.children:
                self._walk(child, eff)

    def call(self, c: cst.Call, eff: _Effects) -> None:
        fname = c.func.value if isinstance(c.func, cst.Name) else None
        summary = self.summaries.get(fname) if fname else None
        if summary is None:
            for arg in c.args:
                value = arg.value
                if not (fname == "len" and isinstance(value, cst.Name) and value.value in self.arrays):
                    self.read(value, eff)
            return
        assert fname is not None
        eff.calls.append(fname)
        eff.weight += summary.weight
        args = [a.value for a in c.args]
        arrays: dict[int, str] = {}
        for i, value in enumerate(args):
            if i in summary.array_params:
                arrays[i] = self.array_of(value.value) if isinstance(value, cst.Name) else ANY_ARRAY
            else:
                self.read(value, eff)
        if summary.problem is not None:
            # Not summarizable: any element of any array it is given may be read and written.
            eff.opaque.append(fname)
            for array in arrays.values():
                for write in (False, True):
                    eff.accesses.append((array, write, None, f"{array}[?] in {fname}()", fname))
            return
        for write, entries in ((False, summary.reads), (True, summary.writes)):
            for pos, template in entries:
                array = arrays.get(pos, ANY_ARRAY)
                if template is None:
                    index = None
                else:
                    dims: list[Index | None] = []
                    for lin in template:
                        if lin is None:
                            dims.append(None)
                        else:
                            dims.append(Index(tuple((coef, args[p]) for p, coef in lin.terms), lin.const))
                    index = tuple(dims)
                shown = "?" if index is None else ", ".join("?" if d is None else d.text() for d in index)
                eff.accesses.append((array, write, index, f"{array}[{shown}] in {fname}()", fname))

    def write(self, t: cst.BaseExpression, eff: _Effects, aug: bool) -> None:
        if isinstance(t, cst.Name):
            if t.value in self.scalars:
                eff.defs.add(t.value)
                if aug:
                    eff.uses.add(t.value)
        elif isinstance(t, cst.Subscript):
            base, indices = _subscript_parts(t)
            if isinstance(base, cst.Name) and base.value in self.arrays:
                dims = tuple(Index(((1, i),)) for i in indices)
                array = self.array_of(base.value)
                if aug:
                    eff.accesses.append((array, False, dims, code(t), None))
                eff.accesses.append((array, True, dims, code(t), None))
            for i in indices:
                self.read(i, eff)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for el in t.elements:
                self.write(el.value, eff, aug)


def _docstring(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        return isinstance(small, cst.Expr) and isinstance(
            small.value, (cst.SimpleString, cst.ConcatenatedString)
        )
    return False


def build_cfg(
    km: KernelModule,
    name: str,
    summaries: Mapping[str, HelperSummary],
    known: Mapping[str, Scalar | ArrayType] | None = None,
) -> CFG:
    """The statement-level CFG of function ``name`` (helpers it calls must be summarized)."""
    return _Builder(km, name, summaries, known).build()


# ---------------------------------------------------------------------------------------------
# Control dependence
# ---------------------------------------------------------------------------------------------


def _control_dependences(cfg: CFG) -> dict[int, set[int]]:
    """Ferrante-Ottenstein-Warren control dependence from post-dominator sets (bitsets)."""
    n = len(cfg.nodes)
    succ = [list(node.succ) for node in cfg.nodes]
    # A node that cannot reach the exit (an endless `while True`) gets a virtual edge to it, so
    # post-dominance stays defined; that only adds dependences.
    reaches = {cfg.exit}
    work = [cfg.exit]
    while work:
        x = work.pop()
        for p in cfg.nodes[x].pred:
            if p not in reaches:
                reaches.add(p)
                work.append(p)
    for i in range(n):
        if i not in reaches and i != cfg.exit:
            succ[i].append(cfg.exit)
    full = (1 << n) - 1
    pdom = [full] * n
    pdom[cfg.exit] = 1 << cfg.exit
    changed = True
    while changed:
        changed = False
        for i in reversed(range(n)):
            if i == cfg.exit:
                continue
            meet = full
            for s in succ[i]:
                meet &= pdom[s]
            new = meet | (1 << i)
            if new != pdom[i]:
                pdom[i] = new
                changed = True
    ipdom: list[int | None] = [None] * n
    for i in range(n):
        strict = pdom[i] & ~(1 << i)
        for d in _bits(strict):
            if pdom[d] == strict:
                ipdom[i] = d
                break
    deps: dict[int, set[int]] = {i: set() for i in range(n)}
    for x in range(n):
        if len(succ[x]) < 2:
            continue
        for s in succ[x]:
            runner: int | None = s
            while runner is not None and runner != ipdom[x]:
                deps[runner].add(x)
                runner = ipdom[runner]
    return deps


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out

