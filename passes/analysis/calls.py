"""Summaries of helper kernels: which array parameters each reads and writes, and where.

A subscript that is linear in parameters the helper never reassigns maps back to the caller's
argument expressions; anything else (a local, a loaded value, a helper loop variable) is an
unknown index. Callees are summarized first, so summaries are transitive::

    def sift_down(heap, hdoc, k):        reads  heap[?], hdoc[?]   (i, c are helper locals)
        i = 0                            writes heap[?], hdoc[?]
        while True: ... heap[i] = heap[c] ...

    def count_edges(net, ..., ecnt, ...):  writes ecnt[net, 0] .. ecnt[net, 3]
        ... ecnt[net, 0] = nxl             (net is a parameter: the caller's argument substitutes)

At a call ``count_edges(nets[k], ..., counts, ...)`` the caller sees writes of
``counts[nets[k], 0]`` and so on; at ``sift_down(h, d, k)`` writes of ``h`` at unknown indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst

from helixrc.passes.analysis.cfg import ANY_ARRAY, LOOP_FACTOR, CFG, Index, build_cfg
from helixrc.passes.analysis.model import HelperSummary, Lin, Template
from helixrc.passes.frontend import KernelModule


def summarize_helpers(km: KernelModule, order: Sequence[str]) -> dict[str, HelperSummary]:
    """Summaries of the functions in ``order`` (callees before callers)."""
    summaries: dict[str, HelperSummary] = {}
    for name in order:
        summaries[name] = summarize(km, name, summaries)
    return summaries


def summarize(km: KernelModule, name: str, summaries: Mapping[str, HelperSummary]) -> HelperSummary:
    fn = km.functions[name]
    params = tuple(p.name.value for p in fn.params.params)
    try:
        cfg = build_cfg(km, name, summaries)
    except Exception as e:  # noqa: BLE001 - any failure means: cannot be summarized
        # Everything a caller passes might be read and written at any index.
        return HelperSummary(name, params, frozenset(range(len(params))), (), (), 1.0,
                             problem=f"{type(e).__name__}: {e}")  # fmt: skip
    return _Summarizer(km, cfg).summary()


class _Summarizer:
    def __init__(self, km: KernelModule, cfg: CFG) -> None:
        self.km = km
        self.cfg = cfg
        self.params = cfg.params
        #: parameters the helper never reassigns: their value is the caller's argument
        assigned = {v for node in cfg.nodes if node.kind != "entry" for v in node.defs}
        self.stable = {p: i for i, p in enumerate(self.params) if p not in assigned}

    def summary(self) -> HelperSummary:
        cfg = self.cfg
        array_params = frozenset(i for i, p in enumerate(self.params) if p in cfg.arrays)
        reads: list[tuple[int, Template | None]] = []
        writes: list[tuple[int, Template | None]] = []
        problem = None
        for node in cfg.nodes:
            if node.opaque_calls and problem is None:
                problem = f"calls {node.opaque_calls[0]}(), which cannot be summarized"
            for acc in node.accesses:
                positions = self._positions(acc.array, array_params)
                template = None if acc.index is None else tuple(self._lin(d) for d in acc.index)
                if template is not None and all(t is None for t in template):
                    template = None  # nothing mappable: an unknown index
                for pos in positions:
                    entry = (pos, template)
                    bucket = writes if acc.write else reads
                    if not any(_same(entry, e) for e in bucket):
                        bucket.append(entry)
        weight = sum(
            node.weight * LOOP_FACTOR ** cfg.loop_depth(node.id, None) for node in cfg.nodes
        )
        return HelperSummary(
            cfg.name, self.params, array_params, tuple(reads), tuple(writes), max(weight, 1.0), problem
        )

    def _positions(self, array: str, array_params: frozenset[int]) -> list[int]:
        if array == ANY_ARRAY or array not in self.params:
            return sorted(array_params)  # an array local of unknown origin: any of them
        return [self.params.index(array)]

    def _lin(self, index: Index | None) -> Lin | None:
        if index is None:
            return None
        terms: dict[int, int] = {}
        const = index.const
        for coef, expr in index.terms:
            lin = self._expr(expr)
            if lin is None:
                return None
            for p, c in lin.terms:
                terms[p] = terms.get(p, 0) + coef * c
            const += coef * lin.const
        return Lin(tuple(sorted((p, c) for p, c in terms.items() if c)), const)

    def _expr(self, e: cst.BaseExpression) -> Lin | None:
        """``e`` as a linear form over stable parameters, or None."""
        if isinstance(e, cst.Integer):
            return Lin((), int(e.evaluated_value))
        if isinstance(e, cst.Name):
            value = self.km.constants.get(e.value)
            if e.value not in self.cfg.scalars and isinstance(value, int):
                return Lin((), int(value))
            if e.value in self.stable:
                return Lin(((self.stable[e.value], 1),), 0)
            return None
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, (cst.Minus, cst.Plus)):
            inner = self._expr(e.expression)
            if inner is None or isinstance(e.operator, cst.Plus):
                return inner
            return _scale(inner, -1)
        if isinstance(e, cst.BinaryOperation):
            left, right = self._expr(e.left), self._expr(e.right)
            if left is None or right is None:
                return None
            if isinstance(e.operator, cst.Add):
                return _add(left, right, 1)
            if isinstance(e.operator, cst.Subtract):
                return _add(left, right, -1)
            if isinstance(e.operator, cst.Multiply):
                if not left.terms:
                    return _scale(right, left.const)
                if not right.terms:
                    return _scale(left, right.const)
            return None
        if (
            isinstance(e, cst.Call)
            and isinstance(e.func, cst.Name)
            and e.func.value == "int"
            and len(e.args) == 1
        ):
            return self._expr(e.args[0].value)
        return None


def _scale(lin: Lin, k: int) -> Lin:
    return Lin(tuple((p, c * k) for p, c in lin.terms if c * k), lin.const * k)


def _add(a: Lin, b: Lin, sign: int) -> Lin:
    terms = dict(a.terms)
    for p, c in b.terms:
        terms[p] = terms.get(p, 0) + sign * c
    return Lin(tuple(sorted((p, c) for p, c in terms.items() if c)), a.const + sign * b.const)


def _same(a: tuple[int, Template | None], b: tuple[int, Template | None]) -> bool:
    return a == b
