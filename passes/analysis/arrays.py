"""Array dependences per loop: affine subscripts, ZIV / strong SIV / GCD tests, and assumptions.

Each subscript dimension becomes an affine form in the loop's iteration number ``it`` with
loop-invariant symbols (``i + k``, ``2*i + base``); private scalars are substituted by their
unique definition in the same iteration. Anything else -- a value loaded in the loop, an index
array, an inner loop's variable, a non-linear expression -- is a fresh unknown per iteration.
Two accesses of one array (one of them a write) are then tested for two different iterations
``it1 != it2`` and for the same iteration::

    for i in range(n):
        a[i] = a[i - 1] + 1    # a[i] vs a[i-1]: i1 = i2 - 1 -> RAW, carried, distance 1, provable
        b[2*i] = b[2*i + 1]    # gcd(2, 2) does not divide 1 -> independent
        c[idx[i]] += 1         # unknown index -> RAW/WAR/WAW carried, distance None, assumed

A multi-dimensional pair is independent if any dimension proves it. Distinct array parameters
are assumed not to overlap; the loop records the pairs so the transform can check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import TypeGuard

import libcst as cst

from helixrc.passes.analysis.cfg import ANY_ARRAY, Access, Index, code
from helixrc.passes.analysis.model import AccessRef, ArrayDep, DepKind
from helixrc.passes.analysis.scalars import DefUse, LoopFacts, ScalarResult, _assigned_value

IT = "@it"  # the iteration number of the analysed loop (one per iteration instance)


def _is_call(e: cst.CSTNode, name: str) -> TypeGuard[cst.Call]:
    return isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value == name


def _per_instance(key: str) -> bool:
    """Keys whose value differs between iterations: the iteration number and unknowns."""
    return key.startswith("@") or key.startswith("~")


@dataclass(frozen=True)
class Affine:
    """``const + sum(coef * key)``: keys are symbols, ``@it`` terms, or ``~`` unknowns."""

    terms: tuple[tuple[str, int], ...]
    const: int = 0

    @staticmethod
    def of(terms: dict[str, int], const: int = 0) -> Affine:
        return Affine(tuple(sorted((k, c) for k, c in terms.items() if c)), const)

    def plus(self, other: Affine, sign: int = 1) -> Affine:
        terms = dict(self.terms)
        for k, c in other.terms:
            terms[k] = terms.get(k, 0) + sign * c
        return Affine.of(terms, self.const + sign * other.const)

    def times(self, k: int) -> Affine:
        return Affine.of({key: c * k for key, c in self.terms}, self.const * k)

    @property
    def may_be_negative(self) -> bool:
        return self.const < 0 or any(c < 0 for _, c in self.terms)


class AffineEval:
    """Affine forms of subscripts at their nodes, for one loop."""

    def __init__(self, facts: LoopFacts, scalars: ScalarResult) -> None:
        self.f = facts
        self.cfg = facts.cfg
        self.ivs = scalars.inductions
        self.reaching: dict[tuple[int, str], list[DefUse]] = {}
        for c in facts.chains:
            self.reaching.setdefault((c.u, c.var), []).append(c)
        self._fresh = 0
        self._cache: dict[tuple[int, int], tuple[Affine | None, ...] | None] = {}
        #: per access: the varying non-affine values its subscript depends on, and whether each
        #: comes from memory (a load, an index array, a helper's result)
        self.unknowns: dict[int, list[tuple[str, bool]]] = {}
        self._unknowns: list[tuple[str, bool]] = []

    def access(self, acc: Access) -> tuple[Affine | None, ...] | None:
        key = (id(acc.index), acc.node)
        if key not in self._cache:
            self._unknowns = []
            if acc.index is None:
                forms = None
            else:
                forms = tuple(None if d is None else self.index(d, acc.node) for d in acc.index)
            self._cache[key] = forms
            self.unknowns[key[0]] = self._unknowns
        return self._cache[key]

    def index(self, idx: Index, node: int) -> Affine:
        result = Affine.of({}, idx.const)
        for coef, expr in idx.terms:
            result = result.plus(self.expr(expr, node, 0).times(coef))
        return result

    def expr(self, e: cst.BaseExpression, node: int, depth: int) -> Affine:
        if isinstance(e, cst.Integer):
            return Affine.of({}, int(e.evaluated_value))
        if isinstance(e, cst.Name):
            return self.name(e, node, depth)
        if isinstance(e, cst.UnaryOperation):
            if isinstance(e.operator, cst.Minus):
                return self.expr(e.expression, node, depth).times(-1)
            if isinstance(e.operator, cst.Plus):
                return self.expr(e.expression, node, depth)
        if isinstance(e, cst.BinaryOperation):
            if isinstance(e.operator, (cst.Add, cst.Subtract)):
                left, right = self.expr(e.left, node, depth), self.expr(e.right, node, depth)
                return left.plus(right, 1 if isinstance(e.operator, cst.Add) else -1)
            if isinstance(e.operator, (cst.Multiply, cst.LeftShift)):
                left, right = self.expr(e.left, node, depth), self.expr(e.right, node, depth)
                if isinstance(e.operator, cst.LeftShift):
                    if not right.terms and 0 <= right.const < 63:
                        return left.times(1 << right.const)
                elif not left.terms:
                    return right.times(left.const)
                elif not right.terms:
                    return left.times(right.const)
        if _is_call(e, "int") and len(e.args) == 1:
            return self.expr(e.args[0].value, node, depth)
        return self.opaque(e, node)

    def name(self, e: cst.Name, node: int, depth: int) -> Affine:
        v = e.value
        if v not in self.cfg.scalars:
            constant = self.cfg.km.constants.get(v)
            if isinstance(constant, int):
                return Affine.of({}, int(constant))
            return self.opaque(e, node)
        if v in self.ivs:
            return self.induction(v, node)
        if v not in self.f.defs:
            return Affine.of({v: 1})  # loop-invariant
        # A private value with one definition earlier in the same iteration, at the loop's own
        # level (so it is computed once per iteration): substitute its expression.
        reaching = self.reaching.get((node, v), [])
        if (
            depth < 8
            and len(reaching) == 1
            and not reaching[0].carried
            and node not in self.f.exposed.get(v, set())
            and self.cfg.nodes[reaching[0].d].loop == self.f.loop.id
        ):
            value = _assigned_value(self.cfg.nodes[reaching[0].d].stmt, v)
            if value is not None:
                mark = len(self._unknowns)
                form = self.expr(value, reaching[0].d, depth + 1)
                if len(self._unknowns) > mark:  # report the variable, not its expression
                    data = any(d for _, d in self._unknowns[mark:])
                    del self._unknowns[mark:]
                    self._unknowns.append((v, data))
                return form
        return self.opaque(e, node)

    def induction(self, v: str, node: int) -> Affine:
        ind = self.ivs[v]
        loop = self.f.loop
        if ind.for_var:
            stmt = loop.stmt
            assert isinstance(stmt, cst.For) and isinstance(stmt.iter, cst.Call)
            args = [a.value for a in stmt.iter.args]
            assert loop.range_node is not None
            start = self.expr(args[0], loop.range_node, 0) if len(args) >= 2 else Affine.of({})
            if ind.step is not None:
                return start.plus(Affine.of({IT: ind.step}))
            assert ind.step_expr is not None
            return start.plus(Affine.of({f"{IT}*{code(ind.step_expr)}": 1}))
        # v = v@entry + step * (it + phase): phase 1 once this iteration's update has run
        after = any(not c.carried and c.d == ind.node for c in self.reaching.get((node, v), []))
        before = node in self.f.exposed.get(v, set()) or any(
            c.carried for c in self.reaching.get((node, v), [])
        )
        if after and before:
            return self.opaque(cst.Name(v), node)
        base = Affine.of({f"{v}@entry": 1})
        if ind.step is not None:
            return base.plus(Affine.of({IT: ind.step}, ind.step if after else 0))
        assert ind.step_expr is not None
        form = base.plus(Affine.of({f"{IT}*{code(ind.step_expr)}": ind.sign}))
        if after:
            form = form.plus(self.expr(ind.step_expr, ind.node, 1).times(ind.sign))
        return form

    def opaque(self, e: cst.BaseExpression, node: int) -> Affine:
        text = code(e)
        if self.f.invariant(e):
            return Affine.of({text: 1})
        self._unknowns.append((text, self._from_memory(e)))
        key = f"~{text}@{node}"
        if self.cfg.nodes[node].loop != self.f.loop.id:
            # inside an inner loop the node runs many times per iteration: never equal to itself
            self._fresh += 1
            key += f"#{self._fresh}"
        return Affine.of({key: 1})


    def _from_memory(self, e: cst.BaseExpression) -> bool:
        """Does the value come from memory: a subscript, a helper call, or a variable loaded so?"""
        found = False

        def walk(n: cst.CSTNode) -> None:
            nonlocal found
            if isinstance(n, cst.Subscript) or any(_is_call(n, f) for f in self.cfg.km.functions):
                found = True
            elif isinstance(n, cst.Name) and n.value in self.f.defs:
                found |= any(
                    self.cfg.nodes[d].accesses or self.cfg.nodes[d].calls for d in self.f.defs[n.value]
                )
            else:
                for c in n.children:
                    walk(c)

        walk(e)
        return found


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

INDEP, EXACT, ANY, UNKNOWN, NONE = "independent", "exact", "any", "unknown", "none"


def _test_dim(a: Affine | None, b: Affine | None, same: bool) -> tuple[str, int | None]:
    """Can ``a`` (instance 1) equal ``b`` (instance 2)? Instances are two different iterations,
    or (``same``) one iteration."""
    if a is None or b is None:
        return UNKNOWN, None
    eq: dict[str, int] = {}
    for form, sign, suffix in ((a, 1, "#1"), (b, -1, "#2")):
        for k, c in form.terms:
            key = k + suffix if (not same and _per_instance(k)) else k
            eq[key] = eq.get(key, 0) + sign * c
    eq = {k: c for k, c in eq.items() if c}
    const = b.const - a.const  # sum(eq[k] * x_k) == const
    if not eq:
        return (NONE, None) if const == 0 else (INDEP, None)
    if not same and len(eq) == 2 and all(k.startswith(IT) for k in eq):
        k1, k2 = sorted(eq)
        if k1[:-2] == k2[:-2] and eq[k1] == -eq[k2]:
            coef = eq[k1]  # coef * (x1 - x2) == const
            if const % coef:
                return INDEP, None
            delta = const // coef
            if k1[:-2] == IT:
                return EXACT, -delta  # it2 - it1
            # x = step * it with a symbolic, non-zero step: equal only in the same iteration
            return (EXACT, 0) if delta == 0 else (UNKNOWN, None)
    g = 0
    for c in eq.values():
        g = gcd(g, abs(c))
    if const % g:
        return INDEP, None
    return UNKNOWN, None


def dependence_test(
    f1: tuple[Affine | None, ...] | None, f2: tuple[Affine | None, ...] | None, same: bool
) -> tuple[str, int | None, bool, list[int]]:
    """(result, distance it2 - it1 for EXACT, whether an unknown dimension was involved, the
    dimensions that decided an independence or an exact distance)."""
    if f1 is None or f2 is None or len(f1) != len(f2):
        return UNKNOWN, None, True, []
    results = [_test_dim(a, b, same) for a, b in zip(f1, f2)]
    indep = [i for i, (r, _) in enumerate(results) if r == INDEP]
    if indep:
        return INDEP, None, False, indep[:1]
    exact = {d for r, d in results if r == EXACT}
    exact_dims = [i for i, (r, _) in enumerate(results) if r == EXACT]
    unknown = any(r == UNKNOWN for r, _ in results)
    if len(exact) > 1:
        return INDEP, None, False, exact_dims
    if exact:
        return EXACT, exact.pop(), unknown, exact_dims
    if unknown:
        return UNKNOWN, None, True, []
    return ANY, None, False, []


@dataclass(frozen=True)
class MemEdge:
    """A dependence as an edge of the loop dependence graph."""

    src: int
    dst: int
    dep: ArrayDep


@dataclass
class ArrayResult:
    deps: list[ArrayDep]
    edges: list[MemEdge]
    #: arrays with a loop-carried dependence
    carried_arrays: set[str]
    no_alias: list[tuple[str, str]]
    assumptions: list[str]


def array_dependences(facts: LoopFacts, scalars: ScalarResult) -> ArrayResult:
    ev = AffineEval(facts, scalars)
    nodes = facts.cfg.nodes
    accesses = [a for n in sorted(facts.body) for a in nodes[n].accesses]
    groups: dict[str, list[Access]] = {}
    wild = [a for a in accesses if a.array == ANY_ARRAY]
    for a in accesses:
        if a.array != ANY_ARRAY:
            groups.setdefault(a.array, []).append(a)
    for name in list(groups):
        groups[name] += wild
    if wild and not groups:
        groups[ANY_ARRAY] = wild
    edges: list[MemEdge] = []
    seen: set[tuple[int, int, str, str, str, bool]] = set()
    wrap: set[str] = set()

    def emit(src: Access, dst: Access, carried: bool, distance: int | None, certain: bool, why: str) -> None:
        kind = DepKind.WAW if src.write and dst.write else DepKind.RAW if src.write else DepKind.WAR
        key = (src.node, dst.node, src.text, dst.text, kind.value, carried)
        if key in seen:
            return
        seen.add(key)
        array = src.array if src.array != ANY_ARRAY else dst.array
        dep = ArrayDep(
            array, kind, distance,
            AccessRef(src.text, src.line, src.write), AccessRef(dst.text, dst.line, dst.write),
            carried, "provable" if certain else "assumed", why,
        )  # fmt: skip
        edges.append(MemEdge(src.node, dst.node, dep))

    for array, accs in groups.items():
        if not any(a.write for a in accs):
            continue  # read-only here: nothing to order
        for i, a1 in enumerate(accs):
            for a2 in accs[i:]:
                if not (a1.write or a2.write):
                    continue
                f1, f2 = ev.access(a1), ev.access(a2)
                r, d, unknown, decisive = dependence_test(f1, f2, same=False)
                if r in (INDEP, EXACT) and _negative(f1, f2, decisive):
                    wrap.add(array)
                if r == EXACT and d:
                    why = f"distance {abs(d)}" + (", " + _unknown_reason(ev, a1, a2) if unknown else "")
                    src, dst = (a1, a2) if d > 0 else (a2, a1)
                    emit(src, dst, True, abs(d), not unknown, why)
                elif r in (ANY, UNKNOWN):
                    why = "the same element in every iteration" if r == ANY else _unknown_reason(ev, a1, a2)
                    emit(a1, a2, True, None, r == ANY, why)
                    if a1 is not a2:
                        emit(a2, a1, True, None, r == ANY, why)
                if a1 is a2 or a1.node == a2.node:
                    continue  # within one statement the reads come first
                r2, _, unknown2, _ = dependence_test(f1, f2, same=True)
                if r2 == INDEP:
                    continue
                why = "same element in the same iteration" if not unknown2 else _unknown_reason(ev, a1, a2)
                if a2.node in facts.reach(a1.node):
                    emit(a1, a2, False, 0 if not unknown2 else None, not unknown2, why)
                if a1.node in facts.reach(a2.node):
                    emit(a2, a1, False, 0 if not unknown2 else None, not unknown2, why)

    real = sorted({a.array for a in accesses if a.array != ANY_ARRAY})
    written = {a.array for a in accesses if a.write}
    no_alias = [(x, y) for i, x in enumerate(real) for y in real[i + 1 :] if x in written or y in written]
    assumptions = []
    if wrap:
        names = ", ".join(f"{a}[]" for a in sorted(wrap))
        assumptions.append(
            f"subscripts of {names} stay non-negative in {facts.loop.id} (negative indices would wrap around)"
        )
    carried_arrays = {e.dep.array for e in edges if e.dep.carried}
    return ArrayResult([e.dep for e in edges], edges, carried_arrays, no_alias, assumptions)


def assume_no_carried(result: ArrayResult, arrays: frozenset[str]) -> ArrayResult:
    """``result`` without the loop-carried dependences of ``arrays`` (asserted away by a plan)."""
    edges = [e for e in result.edges if not (e.dep.carried and e.dep.array in arrays)]
    carried = {e.dep.array for e in edges if e.dep.carried}
    return ArrayResult([e.dep for e in edges], edges, carried, result.no_alias, result.assumptions)


def _negative(
    f1: tuple[Affine | None, ...] | None, f2: tuple[Affine | None, ...] | None, dims: list[int]
) -> bool:
    """Could a deciding subscript be negative (Python would wrap it to the array's end)?"""
    for fs in (f1, f2):
        for i in dims:
            f = fs[i] if fs is not None else None
            if f is not None and f.may_be_negative:
                return True
    return False


def _unknown_reason(ev: AffineEval, a1: Access, a2: Access) -> str:
    helpers = sorted({a.via for a in (a1, a2) if a.via is not None and a.index is None})
    if helpers:
        return f"index unknown inside {', '.join(h + '()' for h in helpers)}"
    texts: list[str] = []
    data = False
    for a in (a1, a2):
        for t, d in ev.unknowns.get(id(a.index), []):
            data |= d
            if t not in texts:
                texts.append(t)
    if data:
        return f"index through data ({', '.join(texts)})"
    if texts:
        return f"index not affine in the loop counter ({', '.join(texts)})"
    if any(a.index is not None and any(d is None for d in a.index) for a in (a1, a2)):
        return "index unknown inside " + ", ".join(sorted({a.via or "?" for a in (a1, a2)})) + "()"
    return "the subscripts may overlap (GCD test)"
