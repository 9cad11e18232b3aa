"""Scalars per loop: private, induction, reduction or carried, and live-out, with reasons.

Def-use chains are computed per loop on the CFG, split into those inside one iteration and those
that cross the back edge (loop-carried). Then each scalar defined in the loop gets one class::

    nb = nb0
    while a < n_arcs:                  a   induction  a += n_groups once per iteration (line 40)
        if state[a] != BASIC:          rc  private    set before use in every iteration (line 35)
            rc = cost[a] - ...         nb  carried    set at line 37, read at line 37 of a later
            if ...:                                   iteration; live-out (read at line 41)
                nb += 1
                bask_arc[nb] = a
        a += n_groups
    return nb

Reductions: ``v op= e`` / ``v = v op e`` (+ - * & | ^), ``v = min(v, e)`` / ``max``, and the
compare-and-replace forms ``if e > v: v = e`` (max) and ``if e > best: best, idx = e, j``
(argmax, a pair; a strict compare keeps the first index on ties). Conditional updates are fine;
a value read anywhere else makes the variable carried instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import libcst as cst

from helixrc.passes.analysis.cfg import CFG, LoopNode, code
from helixrc.passes.analysis.model import ScalarClass, ScalarInfo
from helixrc.passes.ir import ArrayType, Scalar

INT, FLOAT, UNKNOWN = "int", "float", "unknown"

_AUG_OPS: dict[type, str] = {
    cst.AddAssign: "+", cst.SubtractAssign: "-", cst.MultiplyAssign: "*",
    cst.BitAndAssign: "&", cst.BitOrAssign: "|", cst.BitXorAssign: "^",
}  # fmt: skip
_BIN_OPS: dict[type, str] = {
    cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.BitAnd: "&", cst.BitOr: "|", cst.BitXor: "^",
}  # fmt: skip


def names_in(e: cst.CSTNode) -> set[str]:
    """Every Name read in an expression (attribute names excluded)."""
    found: set[str] = set()

    def walk(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Name):
            found.add(n.value)
        elif isinstance(n, cst.Attribute):
            walk(n.value)
        else:
            for c in n.children:
                walk(c)

    walk(e)
    return found


# ---------------------------------------------------------------------------------------------
# Def-use facts of one loop
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefUse:
    var: str
    d: int
    u: int
    carried: bool


@dataclass
class LoopFacts:
    """In-iteration reachability and the def-use chains of one loop."""

    cfg: CFG
    loop: LoopNode
    chains: list[DefUse] = field(default_factory=list)
    #: var -> its defining nodes in the loop
    defs: dict[str, list[int]] = field(default_factory=dict)
    #: var -> uses in the loop reached by the value from before the iteration started
    exposed: dict[str, set[int]] = field(default_factory=dict)
    #: var -> lines after the loop (or of returns inside it) that may read a value set in it
    live_after: dict[str, set[int]] = field(default_factory=dict)
    #: live_after without the returns inside the loop: reads after the loop itself
    read_after: dict[str, set[int]] = field(default_factory=dict)
    _reach: dict[int, frozenset[int]] = field(default_factory=dict)

    @property
    def body(self) -> set[int]:
        return self.loop.body

    @property
    def header(self) -> int:
        return self.loop.header

    def reach(self, n: int) -> frozenset[int]:
        """Nodes reachable from ``n`` within one iteration (back edges to the header excluded;
        inner loops' back edges included)."""
        if n not in self._reach:
            seen: set[int] = set()
            work = [s for s in self.cfg.nodes[n].succ if s in self.body and s != self.header]
            while work:
                x = work.pop()
                if x in seen:
                    continue
                seen.add(x)
                work.extend(s for s in self.cfg.nodes[x].succ if s in self.body and s != self.header)
            self._reach[n] = frozenset(seen)
        return self._reach[n]

    def latches(self) -> list[int]:
        return [p for p in self.cfg.nodes[self.header].pred if p in self.body]

    def _search(self, starts: list[int], var: str) -> tuple[set[int], bool, set[int]]:
        """Def-clear walk for ``var`` from ``starts`` within one iteration: (uses found, whether
        it reaches the back edge, loop-exit targets reached)."""
        nodes = self.cfg.nodes
        uses: set[int] = set()
        exits: set[int] = set()
        latch = False
        seen: set[int] = set()
        work = list(starts)
        while work:
            n = work.pop()
            if n == self.header:
                latch = True
                continue
            if n not in self.body:
                exits.add(n)
                continue
            if n in seen:
                continue
            seen.add(n)
            if var in nodes[n].uses:
                uses.add(n)
            if var in nodes[n].defs:
                continue
            work.extend(nodes[n].succ)
        return uses, latch, exits

    def from_iteration_start(self, var: str) -> tuple[set[int], bool, set[int]]:
        h = self.cfg.nodes[self.header]
        uses, latch, exits = self._search(list(h.succ), var)
        if var in h.uses:
            uses.add(self.header)
        return uses, latch, exits

    def compute(self) -> LoopFacts:
        nodes = self.cfg.nodes
        for n in sorted(self.body):
            for v in nodes[n].defs:
                self.defs.setdefault(v, []).append(n)
        for v, defs in self.defs.items():
            start_uses, _, _ = self.from_iteration_start(v)
            self.exposed[v] = start_uses
            exit_targets: set[int] = set()
            for d in defs:
                uses, latch, exits = self._search(list(nodes[d].succ), v)
                exit_targets |= exits
                self.chains += [DefUse(v, d, u, False) for u in sorted(uses)]
                if latch:
                    self.chains += [DefUse(v, d, u, True) for u in sorted(start_uses)]
                    # the header's own exit (a failing while/for test) leaves with this value too
                    exit_targets |= {s for s in nodes[self.header].succ if s not in self.body}
            self.live_after[v] = self._outside_uses(v, exit_targets)
            self.read_after[v] = set(self.live_after[v])
            for r in self.loop.returns:
                if v in nodes[r].uses:
                    self.live_after[v].add(nodes[r].line)
        return self

    def _outside_uses(self, var: str, starts: set[int]) -> set[int]:
        """Lines that read ``var`` def-clear from the loop's exits (re-entering the loop through an
        enclosing loop counts: that is a read after this loop too)."""
        nodes = self.cfg.nodes
        lines: set[int] = set()
        seen: set[int] = set()
        work = list(starts)
        while work:
            n = work.pop()
            if n in seen:
                continue
            seen.add(n)
            if var in nodes[n].uses:
                lines.add(nodes[n].line)
            if var in nodes[n].defs:
                continue
            work.extend(nodes[n].succ)
        return lines

    def defined_on_every_path(self, var: str) -> bool:
        """Every path from the iteration's start to its end (back edge, break or return) defines
        ``var`` (so its value after the loop comes from the last iteration)."""
        _, latch, exits = self._search(list(self.cfg.nodes[self.header].succ), var)
        header_exits = {s for s in self.cfg.nodes[self.header].succ if s not in self.body}
        return not latch and not (exits - header_exits)

    def on_every_path(self, node: int) -> bool:
        """Every path through an iteration that goes round again runs ``node``."""
        nodes = self.cfg.nodes
        seen: set[int] = set()
        work = [s for s in nodes[self.header].succ if s in self.body]
        while work:
            n = work.pop()
            if n == node or n in seen:
                continue
            if n == self.header:
                return False
            seen.add(n)
            work.extend(s for s in nodes[n].succ if s in self.body)
        return True

    def invariant(self, e: cst.BaseExpression) -> bool:
        """No name in ``e`` is assigned in the loop, no array it reads is written in the loop,
        and it calls no helper."""
        if any(n in self.defs for n in names_in(e)):
            return False
        written = {a.array for n in self.body for a in self.cfg.nodes[n].accesses if a.write}
        functions = self.cfg.km.functions

        def ok(x: cst.CSTNode) -> bool:
            if isinstance(x, cst.Call) and isinstance(x.func, cst.Name):
                if x.func.value in functions:
                    return False
                if x.func.value == "len":
                    return True  # shapes never change
            if isinstance(x, cst.Subscript):
                if isinstance(x.value, cst.Attribute):
                    return True  # a.shape[d]
                root = x.value
                while isinstance(root, cst.Subscript):
                    root = root.value
                if isinstance(root, cst.Name) and root.value in written:
                    return False
            return all(ok(c) for c in x.children)

        return ok(e)


# ---------------------------------------------------------------------------------------------
# Int or float: from the signature if known, else from literals and usage
# ---------------------------------------------------------------------------------------------


def infer_kinds(cfg: CFG, known: Mapping[str, Scalar | ArrayType] | None) -> dict[str, str]:
    """var -> "int", "float" or "unknown". With the signature's types (``known``) this is exact;
    otherwise literals, conversions and uses as an index decide, and anything else is unknown."""
    if known is not None:
        return {
            v: (FLOAT if t is Scalar.F64 else INT) for v, t in known.items() if isinstance(t, Scalar)
        }
    assigns: list[tuple[str, cst.BaseExpression | None, str | None]] = []
    indexish: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                _pair(t.target, node.value, assigns)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if node.value is not None:
                _pair(node.target, node.value, assigns)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name):
                op = "/" if isinstance(node.operator, cst.DivideAssign) else "op"
                assigns.append((node.target.value, node.value, op))

        def visit_For(self, node: cst.For) -> None:
            if isinstance(node.target, cst.Name):
                indexish.add(node.target.value)

        def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
            if isinstance(node.slice, cst.Index) and isinstance(node.slice.value, cst.Name):
                indexish.add(node.slice.value.value)

    cfg.fn.body.visit(Collect())
    kinds: dict[str, str] = {v: INT for v in indexish}
    consts = cfg.km.constants

    def expr(e: cst.BaseExpression) -> str:
        if isinstance(e, cst.Integer):
            return INT
        if isinstance(e, cst.Float):
            return FLOAT
        if isinstance(e, cst.Name):
            if e.value in ("True", "False"):
                return INT
            if e.value in cfg.scalars:
                return kinds.get(e.value, UNKNOWN)
            value = consts.get(e.value)
            if value is not None:
                return FLOAT if isinstance(value, float) else INT
            return FLOAT if cfg.km.math_aliases.get(e.value) == "inf" else UNKNOWN
        if isinstance(e, cst.Attribute):
            return FLOAT if e.attr.value == "inf" else UNKNOWN
        if isinstance(e, cst.BinaryOperation):
            if isinstance(e.operator, cst.Divide):
                return FLOAT
            return _join_strict(expr(e.left), expr(e.right))
        if isinstance(e, cst.UnaryOperation):
            return INT if isinstance(e.operator, cst.Not) else expr(e.expression)
        if isinstance(e, cst.Comparison):
            return INT
        if isinstance(e, cst.BooleanOperation):
            return _join_strict(expr(e.left), expr(e.right))
        if isinstance(e, cst.IfExp):
            return _join_strict(expr(e.body), expr(e.orelse))
        if isinstance(e, cst.Subscript):
            # a.shape[d] is an int; an element's type needs the signature
            return INT if isinstance(e.value, cst.Attribute) else UNKNOWN
        if isinstance(e, cst.Call):
            fname = e.func.value if isinstance(e.func, cst.Name) else None
            if isinstance(e.func, cst.Attribute):
                fname = e.func.attr.value
            elif fname in cfg.km.math_aliases:
                fname = cfg.km.math_aliases[fname]
            if fname in ("int", "len", "bool", "floor", "ceil"):
                return INT
            if fname in ("float", "sqrt", "exp", "log", "fabs"):
                return FLOAT
            if fname in ("abs", "min", "max"):
                result = INT
                for a in e.args:
                    result = _join_strict(result, expr(a.value))
                return result
            return UNKNOWN
        return UNKNOWN

    for _ in range(20):
        changed = False
        for var, value, op in assigns:
            if var not in cfg.scalars:
                continue
            t = FLOAT if op == "/" else (expr(value) if value is not None else UNKNOWN)
            if op == "op" and t != FLOAT:
                continue  # v += <int or unknown> proves nothing: a float stays a float
            new = _join_evidence(kinds.get(var, UNKNOWN), t)
            if new != kinds.get(var, UNKNOWN):
                kinds[var] = new
                changed = True
        if not changed:
            break
    return kinds


def _pair(
    target: cst.BaseExpression,
    value: cst.BaseExpression,
    out: list[tuple[str, cst.BaseExpression | None, str | None]],
) -> None:
    if isinstance(target, cst.Name):
        out.append((target.value, value, None))
    elif isinstance(target, (cst.Tuple, cst.List)):
        values = value.elements if isinstance(value, cst.Tuple) else None
        for i, el in enumerate(target.elements):
            if isinstance(el.value, cst.Name):
                v = values[i].value if values is not None and i < len(values) else None
                out.append((el.value.value, v, None))


def _join_strict(a: str, b: str) -> str:
    """The type of an arithmetic result: float if either is, int only if both are."""
    if FLOAT in (a, b):
        return FLOAT
    if a == INT and b == INT:
        return INT
    return UNKNOWN


def _join_evidence(a: str, b: str) -> str:
    """A variable keeps one type in a kernel: any float evidence wins, then any int evidence."""
    if FLOAT in (a, b):
        return FLOAT
    if INT in (a, b):
        return INT
    return UNKNOWN


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Induction:
    var: str
    node: int
    #: the step: an int, or None with ``step_expr`` giving a loop-invariant expression
    step: int | None
    step_expr: cst.BaseExpression | None
    step_text: str
    #: a for-loop variable (defined at the loop's target node)
    for_var: bool
    #: -1 for `v -= c` with a symbolic c (the step is -step_expr)
    sign: int = 1


@dataclass
class ScalarResult:
    infos: dict[str, ScalarInfo]
    inductions: dict[str, Induction]
    #: reduction variables (payloads of argmax pairs included)
    reductions: set[str]
    #: the governing test of a counted while loop: the header compares an induction variable
    #: with a loop-invariant bound
    governed: bool
    #: scalars whose every access must sit in a sequential segment (the carried ones)
    carried: set[str]


def classify_scalars(facts: LoopFacts, kinds: Mapping[str, str]) -> ScalarResult:
    return _Classifier(facts, kinds).run()


class _Classifier:
    def __init__(self, facts: LoopFacts, kinds: Mapping[str, str]) -> None:
        self.f = facts
        self.cfg = facts.cfg
        self.nodes = facts.cfg.nodes
        self.loop = facts.loop
        self.kinds = kinds
        self.uses: dict[str, list[int]] = {}
        for n in sorted(facts.body):
            for v in self.nodes[n].uses:
                self.uses.setdefault(v, []).append(n)

    def line(self, n: int) -> int:
        return self.nodes[n].line

    def lines(self, ns: list[int] | set[int]) -> tuple[int, ...]:
        return tuple(sorted({self.line(n) for n in ns}))

    def run(self) -> ScalarResult:
        infos: dict[str, ScalarInfo] = {}
        inductions: dict[str, Induction] = {}
        reductions: set[str] = set()
        for v in sorted(self.f.defs):
            ind = self.induction(v)
            if ind is not None:
                inductions[v] = ind
        pending = [v for v in sorted(self.f.defs) if v not in inductions]
        reduction_infos: dict[str, ScalarInfo] = {}
        not_reductions: dict[str, str] = {}
        for v in pending:
            if v in reduction_infos:
                continue
            found, why = self.reduction(v)
            if found:
                for info in found:
                    reduction_infos[info.name] = info
            elif why:
                not_reductions[v] = why
        for v in sorted(self.f.defs):
            live_lines = self.f.live_after.get(v, set())
            live = bool(live_lines)
            live_note = f"; live-out (read at {fmt_lines(live_lines)})" if live else ""
            if v in inductions:
                ind = inductions[v]
                what = (
                    f"for-loop variable (line {self.line(ind.node)})"
                    if ind.for_var
                    else f"{self.nodes[ind.node].text} once per iteration (line {self.line(ind.node)})"
                )
                infos[v] = ScalarInfo(v, ScalarClass.INDUCTION, live, what + live_note,
                                      (self.line(ind.node),), step=ind.step_text)  # fmt: skip
                continue
            if v in reduction_infos:
                info = reduction_infos[v]
                infos[v] = replace(info, live_out=live, reason=info.reason + live_note)
                reductions.add(v)
                continue
            carried = [c for c in self.f.chains if c.var == v and c.carried]
            def_lines = self.lines(self.f.defs[v])
            if carried:
                c = carried[0]
                reason = (
                    f"set at line {self.line(c.d)}, read at line {self.line(c.u)} of a later iteration"
                )
                if v in not_reductions:
                    reason = not_reductions[v] + "; " + reason
                lines = tuple(sorted({*def_lines, *self.lines([c.u for c in carried])}))
                infos[v] = ScalarInfo(v, ScalarClass.CARRIED, live, reason + live_note, lines)
            elif live and not self.f.defined_on_every_path(v):
                infos[v] = ScalarInfo(
                    v, ScalarClass.CARRIED, live,
                    f"set on some paths only ({fmt_lines(def_lines)}) and read after the loop "
                    f"({fmt_lines(live_lines)}): its last value may come from an earlier iteration",
                    def_lines,
                )  # fmt: skip
            else:
                exposed = self.f.exposed.get(v, set())
                if exposed:
                    reason = (
                        f"reads only the value from before the loop ({fmt_lines(self.lines(exposed))})"
                    )
                else:
                    reason = f"set before use in every iteration ({fmt_lines(def_lines)})"
                infos[v] = ScalarInfo(v, ScalarClass.PRIVATE, live, reason + live_note, def_lines)
        for v, info in infos.items():
            after = self.f.read_after.get(v)
            if after:
                infos[v] = replace(info, read_after=tuple(sorted(after)))
        carried_vars = {v for v, i in infos.items() if i.cls is ScalarClass.CARRIED}
        return ScalarResult(infos, inductions, reductions, self.governed(inductions), carried_vars)

    # -- induction ---------------------------------------------------------------------------------

    def induction(self, v: str) -> Induction | None:
        defs = self.f.defs[v]
        if len(defs) != 1:
            return None
        (d,) = defs
        node = self.nodes[d]
        if d == self.loop.target and v == self.loop.var:
            return self.range_induction(v, d)
        # v += c / v -= c / v = v + c / v = c + v / v = v - c, at the loop's own level, once
        # on every path round the loop, c loop-invariant
        if node.loop != self.loop.id or not self.f.on_every_path(d):
            return None
        step = _step_of(node.stmt, v)
        if step is None:
            return None
        sign, expr = step
        if not self.f.invariant(expr):
            return None
        # Recomputing v from the iteration number is exact for ints only (an unknown type may
        # be a float: without the signature, only literals and uses as an index prove int).
        if self.kinds.get(v) != INT:
            return None
        value = _int_value(expr, self.cfg.km.constants)
        text = code(expr)
        if value is not None:
            return Induction(v, d, sign * value, None, str(sign * value), False)
        return Induction(v, d, None, expr, text if sign > 0 else f"-({text})", False, sign)

    def range_induction(self, v: str, d: int) -> Induction:
        stmt = self.loop.stmt
        assert isinstance(stmt, cst.For) and isinstance(stmt.iter, cst.Call)
        args = [a.value for a in stmt.iter.args]
        if len(args) == 3:
            value = _int_value(args[2], self.cfg.km.constants)
            if value is not None:
                return Induction(v, d, value, None, str(value), True)
            return Induction(v, d, None, args[2], code(args[2]), True)
        return Induction(v, d, 1, None, "1", True)

    def governed(self, inductions: Mapping[str, Induction]) -> bool:
        """A for loop, or a while loop whose test is `iv <op> bound` with a loop-invariant bound."""
        if isinstance(self.loop.stmt, cst.For):
            return True
        test = self.loop.stmt.test
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return False
        op = test.comparisons[0].operator
        if not isinstance(op, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)):
            return False
        left, right = test.left, test.comparisons[0].comparator
        for iv, bound in ((left, right), (right, left)):
            if isinstance(iv, cst.Name) and iv.value in inductions and self.f.invariant(bound):
                return True
        return False

    # -- reduction ---------------------------------------------------------------------------------

    def reduction(self, v: str) -> tuple[list[ScalarInfo], str | None]:
        """The reduction infos (v's, and its argmax partners') or ([], why not)."""
        defs = self.f.defs[v]
        ops: set[str] = set()
        compare_node: int | None = None
        compare_info: tuple[str, bool] | None = None  # ("max"/"min", strict)
        for d in defs:
            m = _update_op(self.nodes[d].stmt, v)
            if m is not None:
                ops.add(m)
                continue
            cm = self.compare_update(d, v)
            if cm is None:
                return [], None
            node_if, direction, strict = cm
            if compare_node is not None and compare_node != node_if:
                return [], None
            compare_node, compare_info = node_if, (direction, strict)
            ops.add(direction)
        if not ops:
            return [], None
        if ops <= {"+", "-"}:
            op = "+"
        elif len(ops) == 1:
            op = next(iter(ops))
        else:
            return [], None
        allowed = set(defs) | ({compare_node} if compare_node is not None else set())
        for u in self.uses.get(v, []):
            if u not in allowed:
                first = min(self.line(d) for d in defs)
                return [], (
                    f"updated like a reduction (line {first}) but its value is also read at line {self.line(u)}"
                )
        if compare_node is not None and any(_update_op(self.nodes[d].stmt, v) for d in defs):
            return [], None  # mixing `v += e` with compare-and-replace: not one operator
        is_float = self.kinds.get(v, UNKNOWN) != INT
        lines = self.lines(set(defs) | ({compare_node} if compare_node is not None else set()))
        if compare_node is None:
            stmts = "; ".join(sorted({self.nodes[d].text for d in defs}))
            kind = "float" if is_float else "int"
            # max(v, e) keeps v on ties and never takes a nan e, like `if e > v: v = e`; with v
            # elsewhere among the arguments the result depends on the order of the values
            sensitive = is_float and op in ("min", "max") and not all(
                _first_arg_is(self.nodes[d].stmt, v) for d in defs
            )
            return [ScalarInfo(v, ScalarClass.REDUCTION, False,
                               f"{stmts} ({fmt_lines(lines)}): {kind} {op} reduction", lines,
                               op, is_float, ties="first", order_sensitive=sensitive)], None  # fmt: skip
        assert compare_info is not None
        direction, strict = compare_info
        partners = self.payloads(compare_node, v)
        lines = self.lines({*defs, compare_node, *(d for p in partners for d in self.f.defs[p])})
        compare_stmt = self.nodes[compare_node].stmt
        assert isinstance(compare_stmt, cst.If)
        test_text = code(compare_stmt.test)
        ties = "first" if strict else "last"
        other = _other_statement(compare_stmt, {v, *partners})
        if other is not None:
            line = self.cfg.km.positions[other].start.line
            return [], (
                f"updated like a {direction} reduction (line {self.line(compare_node)}) but its "
                f"comparison also decides line {line}"
            )
        if not partners:
            return [ScalarInfo(v, ScalarClass.REDUCTION, False,
                               f"if {test_text}: {v} = ... ({fmt_lines(lines)}): {direction} reduction",
                               lines, direction, is_float, ties=ties)], None  # fmt: skip
        arg = "argmax" if direction == "max" else "argmin"
        reason = (
            f"if {test_text}: {', '.join([v, *partners])} = ... ({fmt_lines(lines)}): "
            f"{arg} pair, ties keep the {ties} index"
        )
        infos = [ScalarInfo(v, ScalarClass.REDUCTION, False, reason, lines, arg, is_float,
                            None, tuple(partners), ties, v)]  # fmt: skip
        for p in partners:
            infos.append(ScalarInfo(p, ScalarClass.REDUCTION, False, reason, lines, arg,
                                    self.kinds.get(p, UNKNOWN) != INT, None, (v,), ties, v))  # fmt: skip
        return infos, None

    def compare_update(self, d: int, v: str) -> tuple[int, str, bool] | None:
        """``d`` assigns ``v = X`` directly in the then-branch of ``if X > v:`` (or a variant):
        (the if node, "max"/"min", strict)."""
        node = self.nodes[d]
        if node.branch is None or not node.branch[1]:
            return None
        value = _assigned_value(node.stmt, v)
        if value is None or v in names_in(value):
            return None
        test_node = self.nodes[node.branch[0]]
        test = test_node.stmt.test if isinstance(test_node.stmt, cst.If) else None
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        op = test.comparisons[0].operator
        left, right = test.left, test.comparisons[0].comparator
        if isinstance(right, cst.Name) and right.value == v:
            other, v_on_right = left, True
        elif isinstance(left, cst.Name) and left.value == v:
            other, v_on_right = right, False
        else:
            return None
        if code(other) != code(value) or v in names_in(other):
            return None
        # X > v  or  v < X: the new value is larger -> max
        if isinstance(op, (cst.GreaterThan, cst.GreaterThanEqual)):
            direction = "max" if v_on_right else "min"
        elif isinstance(op, (cst.LessThan, cst.LessThanEqual)):
            direction = "min" if v_on_right else "max"
        else:
            return None
        # an else/elif branch that also sets v makes that def fail both patterns: no reduction
        strict = isinstance(op, (cst.GreaterThan, cst.LessThan))
        return node.branch[0], direction, strict

    def payloads(self, if_node: int, v: str) -> list[str]:
        """Variables set only by plain assignments in the then-branch of ``if_node`` and never read
        in the loop: the argmax payload."""
        found = []
        for p, defs in self.f.defs.items():
            if p == v or self.uses.get(p):
                continue
            if all(self.nodes[d].branch == (if_node, True) and _plain_assign(self.nodes[d].stmt, p)
                   for d in defs):  # fmt: skip
                found.append(p)
        return sorted(found)


def _fmt_lines(lines: set[int] | tuple[int, ...] | list[int]) -> str:
    """``37``, ``37-39``, ``54, 60-67``: runs of consecutive lines compressed."""
    ls = sorted(set(lines))
    if not ls:
        return "?"
    runs: list[str] = []
    start = prev = ls[0]
    for x in [*ls[1:], None]:
        if x is not None and x == prev + 1:
            prev = x
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if x is not None:
            start = prev = x
    return ", ".join(runs)


def fmt_lines(lines: set[int] | tuple[int, ...] | list[int], word: bool = True) -> str:
    """``line 37`` / ``lines 37-39`` / ``lines 12, 40``."""
    ls = sorted(set(lines))
    body = _fmt_lines(ls)
    if not word:
        return body
    return f"line {body}" if len(ls) == 1 else f"lines {body}"


def _int_value(e: cst.BaseExpression, consts: Mapping[str, object]) -> int | None:
    if isinstance(e, cst.Integer):
        return int(e.evaluated_value)
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus):
        inner = _int_value(e.expression, consts)
        return -inner if inner is not None else None
    if isinstance(e, cst.Name):
        value = consts.get(e.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _step_of(stmt: cst.CSTNode | None, v: str) -> tuple[int, cst.BaseExpression] | None:
    """``v += c`` -> (1, c); ``v -= c`` -> (-1, c); also ``v = v + c``, ``v = c + v``, ``v = v - c``."""
    if isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == v:
        if isinstance(stmt.operator, cst.AddAssign):
            return 1, stmt.value
        if isinstance(stmt.operator, cst.SubtractAssign):
            return -1, stmt.value
        return None
    value = _assigned_value(stmt, v)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Add, cst.Subtract)):
        left, right = value.left, value.right
        if _is_name(left, v) and v not in names_in(right):
            return (1 if isinstance(value.operator, cst.Add) else -1), right
        if _is_name(right, v) and isinstance(value.operator, cst.Add) and v not in names_in(left):
            return 1, left
    return None


def _is_name(e: cst.CSTNode, v: str) -> bool:
    return isinstance(e, cst.Name) and e.value == v


def _assigned_value(stmt: cst.CSTNode | None, v: str) -> cst.BaseExpression | None:
    """The value a plain assignment gives ``v`` (tuple assignments of a tuple included)."""
    if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == v:
        return stmt.value
    if not isinstance(stmt, cst.Assign) or len(stmt.targets) != 1:
        return None
    target = stmt.targets[0].target
    if isinstance(target, cst.Name):
        return stmt.value if target.value == v else None
    if isinstance(target, cst.Tuple) and isinstance(stmt.value, cst.Tuple):
        for t, val in zip(target.elements, stmt.value.elements):
            if isinstance(t.value, cst.Name) and t.value.value == v:
                return val.value
    return None


def _plain_assign(stmt: cst.CSTNode | None, v: str) -> bool:
    return _assigned_value(stmt, v) is not None


def _first_arg_is(stmt: cst.CSTNode | None, v: str) -> bool:
    """``stmt`` is ``v = min(v, ...)``/``max(v, ...)`` with ``v`` first (or not a min/max call)."""
    if not isinstance(stmt, cst.Assign) or not isinstance(stmt.value, cst.Call):
        return True
    call = stmt.value
    if not (isinstance(call.func, cst.Name) and call.func.value in ("min", "max")):
        return True
    return bool(call.args) and _is_name(call.args[0].value, v)


def _other_statement(node: cst.If, names: set[str]) -> cst.CSTNode | None:
    """The first statement of the ``if`` (else branch included) that assigns anything but ``names``."""
    if node.orelse is not None:
        return node.orelse
    for st in node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]:
        smalls = st.body if isinstance(st, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else None
        if smalls is None:
            return st
        for small in smalls:
            if not isinstance(small, cst.Assign):
                return st
            for t in small.targets:
                targets = t.target.elements if isinstance(t.target, cst.Tuple) else [t.target]
                for e in targets:
                    if isinstance(e, cst.Element):
                        e = e.value
                    if not (isinstance(e, cst.Name) and e.value in names):
                        return st
    return None


def _update_op(stmt: cst.CSTNode | None, v: str) -> str | None:
    """The reduction operator if ``stmt`` is ``v op= e`` / ``v = v op e`` / ``v = min(v, e)``."""
    if isinstance(stmt, cst.AugAssign):
        if isinstance(stmt.target, cst.Name) and stmt.target.value == v:
            op = _AUG_OPS.get(type(stmt.operator))
            if op is not None and v not in names_in(stmt.value):
                return op
        return None
    if not isinstance(stmt, cst.Assign) or len(stmt.targets) != 1:
        return None
    target = stmt.targets[0].target
    if not (isinstance(target, cst.Name) and target.value == v):
        return None
    value = stmt.value
    if isinstance(value, cst.BinaryOperation):
        op = _BIN_OPS.get(type(value.operator))
        if op is None:
            return None
        if _is_name(value.left, v) and v not in names_in(value.right):
            return op
        if _is_name(value.right, v) and op != "-" and v not in names_in(value.left):
            return op
        return None
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in ("min", "max"):
        args = [a.value for a in value.args]
        mine = [a for a in args if isinstance(a, cst.Name) and a.value == v]
        others = [a for a in args if not (isinstance(a, cst.Name) and a.value == v)]
        if len(mine) == 1 and others and all(v not in names_in(a) for a in others):
            return value.func.value
    return None
