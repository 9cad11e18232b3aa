"""Split an ``if`` that holds code of two segments, so that their brackets need not merge.

A top-level ``if`` whose test and first statements belong to segment ``j`` and whose other
statements belong to segment ``k`` (``k`` comes after it, ``j`` before it) makes the two brackets
overlap, and rule 9 would merge them into one. When ``k``'s statements can be moved below ``j``'s
exactly, the ``if`` is split in two on a saved test (parser_memo_probe: the value store of the
miss path leaves the segment of the chain walk)::

    wait(0)                                  wait(0)
    e = bucket[h]                            e = bucket[h]
    ...                                      ...
    if e == -1:                              cond = bool(e == -1)
        e = nfree                            if cond:
        nfree += 1                               e = nfree
        ka[e] = a                                nfree += 1
        val[e] = slow_count(a, b, c)   ->        ka[e] = a
        enext[e] = bucket[h]                     enext[e] = bucket[h]
        bucket[h] = e                            bucket[h] = e
    total += val[e] * wgt[q]                 signal(0)
    signal(0)                                wait(1)
                                             if cond:
                                                 val[e] = slow_count(a, b, c)
                                             total += val[e] * wgt[q]
                                             signal(1)

Splitting on a saved test, ``bool(test)`` (what ``if`` applies to it), is always exact. Moving a
statement ``X`` of ``k`` below a statement ``Y`` of ``j`` is exact when neither can raise and they
touch disjoint names and arrays (distinct array parameters do not overlap, the analysis's stated
assumption): then the results and, when a later statement raises, the memory at that point are
the original's. A statement cannot raise when it is ``arr[i] = v`` or ``name = v`` where

- the index ``i`` is a name that already indexed an array ``w`` on every path to it in this
  iteration (in a statement before the first moved one, in the ``if`` or at the top level before
  it) and is not reassigned since, and ``len(arr) == len(w)`` is checked before the loop;
- the value is an int literal, such a name, an element ``w[i]`` so indexed, or a call of a helper
  that cannot raise and returns an int (straight-line integer code: ``+ - * & | ^``, shifts by
  literals, ``for`` over ``range`` with one or two arguments) on int arguments (such names, or
  names the iteration set with ``int(...)`` before the ``if``);
- every array stored, or whose element is stored, is a 1-d int64 array, checked before the loop
  with ``int64_arrays(...)``, so an element is an int and a 64-bit integer value fits (a value beyond 64 bits is the simulator's documented overflow).

The checks guard the parallel form; the original loop runs when they fail. When unsure, nothing
moves and the brackets merge as before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from helixrc.passes.transform.cst_tools import assigned_names, block, level_jumps, walk

__all__ = ["Guard", "split_ifs"]

_INT_OPS = (cst.Add, cst.Subtract, cst.Multiply, cst.BitAnd, cst.BitOr, cst.BitXor)
_SHIFTS = (cst.LeftShift, cst.RightShift)
INT64_MAX = 2**63 - 1


@dataclass
class Guard:
    """What the parallel form needs checked before the loop: equal lengths and int64 arrays."""

    lengths: list[tuple[str, str]] = field(default_factory=list)
    int64: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The condition, e.g. ``len(val) == len(ka) and int64_arrays(val, bucket)``; "" if none."""
        parts = [f"len({a}) == len({b})" for a, b in self.lengths]
        if self.int64:
            parts.append(f"int64_arrays({', '.join(self.int64)})")
        return " and ".join(parts)


def split_ifs(
    body: Sequence[cst.BaseStatement],
    hits: MutableMapping[int, set[cst.BaseStatement]],
    holders: MutableMapping[int, set[cst.CSTNode]],
    helpers: Mapping[str, cst.FunctionDef],
    constants: Collection[str],
    fresh: Callable[[str], str],
    guard: Guard,
) -> list[cst.BaseStatement]:
    """``body`` with each top-level ``if`` held by two segments split in two where that is exact.

    ``hits`` and ``holders`` (per segment, as the loop rewriter computes them) are updated in
    place for the new statements; ``guard`` collects the run-time checks the moves rely on.
    """
    out = list(body)
    t = 0
    while t < len(out):
        st = out[t]
        owners = [k for k, hs in holders.items() if st in hs]
        if isinstance(st, cst.If) and len(owners) == 2:
            new = _split(out, t, owners, hits, holders, helpers, constants, fresh, guard)
            if new is not None:
                out[t:t + 1] = new
                t += len(new) - 1
        t += 1
    return out


def _split(
    body: list[cst.BaseStatement], t: int, owners: list[int],
    hits: MutableMapping[int, set[cst.BaseStatement]], holders: MutableMapping[int, set[cst.CSTNode]],
    helpers: Mapping[str, cst.FunctionDef], constants: Collection[str], fresh: Callable[[str], str],
    guard: Guard,
) -> list[cst.BaseStatement] | None:
    st = body[t]
    assert isinstance(st, cst.If)
    if st.orelse is not None:
        return None
    at = {k: [i for i, x in enumerate(body) if x in holders[k]] for k in owners}
    before = [k for k in owners if max(at[k]) == t and (min(at[k]) < t or st in hits[k])]
    after = [k for k in owners if min(at[k]) == t and st not in hits[k]]
    if len(before) != 1 or len(after) != 1 or before == after:
        return None
    j, k = before[0], after[0]
    inner = block(st.body)
    if any(not isinstance(x, cst.SimpleStatementLine) or len(x.body) != 1 for x in inner):
        return None
    if any(True for x in inner for _ in level_jumps(x, (cst.Continue, cst.Break, cst.Return))):
        return None
    if any(x in holders[j] and x in holders[k] for x in inner):
        return None
    mine = [x for x in inner if x in holders[k]]
    rest = [x for x in inner if x not in holders[k]]
    first = next((i for i, x in enumerate(inner) if x in holders[k]), None)
    if first is None or not rest:
        return None
    crossed = [x for x in inner[first:] if x not in holders[k]]
    if crossed:
        facts = _Facts(body[:t], inner[:first], inner, helpers, constants)
        local = Guard()
        moved = [x for x in inner[first:] if x in holders[k]]
        if not all(facts.cannot_raise(x, local) for x in [*moved, *crossed]):
            return None
        if not all(_apart(x, y) for x in moved for y in crossed):
            return None
        guard.lengths += [p for p in local.lengths if p not in guard.lengths]
        guard.int64 += [a for a in local.int64 if a not in guard.int64]
    cond = fresh("cond")
    # bool() is what `if` applies to its test (a NumPy bool becomes a value the language accepts)
    test = cst.Call(func=cst.Name("bool"), args=[cst.Arg(value=st.test)])
    save = cst.SimpleStatementLine(
        body=[cst.Assign(targets=[cst.AssignTarget(target=cst.Name(cond))], value=test)],
        leading_lines=st.leading_lines,
    )
    head = st.with_changes(test=cst.Name(cond), body=st.body.with_changes(body=rest), leading_lines=())
    tail = cst.If(test=cst.Name(cond), body=st.body.with_changes(body=mine))
    for seg, new in ((j, head), (k, tail)):
        holders[seg].discard(st)
        holders[seg].add(new)
    if st in hits[j]:  # the test belongs to j: its saved value is computed in j's bracket
        hits[j].discard(st)
        hits[j] |= {head, save}
        holders[j].add(save)
    return [save, head, tail]


def _apart(x: cst.BaseStatement, y: cst.BaseStatement) -> bool:
    """``x`` and ``y`` share no variable one of them assigns, and no array one of them stores."""
    nx, ny = _variables(x), _variables(y)
    ax, ay = assigned_names(x), assigned_names(y)
    if ax & ny or ay & nx:
        return False
    return not (_stored(x) & _arrays(y) or _stored(y) & _arrays(x))


def _variables(node: cst.CSTNode) -> set[str]:
    skip = {n.attr for n in walk(node) if isinstance(n, cst.Attribute)}
    return {n.value for n in walk(node) if isinstance(n, cst.Name) and n not in skip}


def _arrays(node: cst.CSTNode) -> set[str]:
    return {n.value.value for n in walk(node) if isinstance(n, cst.Subscript) and isinstance(n.value, cst.Name)}


def _stored(node: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    for n in walk(node):
        targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else (
            [n.target] if isinstance(n, (cst.AugAssign, cst.AnnAssign)) else [])
        out |= {x.value.value for x in targets if isinstance(x, cst.Subscript) and isinstance(x.value, cst.Name)}
    return out


def _index(sub: cst.Subscript) -> str | None:
    """The name ``i`` of ``arr[i]`` (one plain index), else None."""
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    e = sub.slice[0].slice.value
    return e.value if isinstance(e, cst.Name) else None


def _evaluated(node: cst.CSTNode) -> list[cst.Subscript]:
    """The subscripts a statement that completes has evaluated (not under ``and``/``or``/``x if c else y``)."""
    if isinstance(node, (cst.BooleanOperation, cst.IfExp, cst.Lambda)):
        return []
    out = [node] if isinstance(node, cst.Subscript) else []
    for child in node.children:
        out += _evaluated(child)
    return out


class _Facts:
    """What is known at the moved statements: the names that indexed an array (and which), and the
    names set to ``int(...)`` before the ``if``."""

    def __init__(
        self, prefix: Sequence[cst.BaseStatement], head: Sequence[cst.BaseStatement],
        inner: Sequence[cst.BaseStatement], helpers: Mapping[str, cst.FunctionDef], constants: Collection[str],
    ) -> None:
        self.helpers, self.constants = helpers, constants
        self.witness: dict[str, set[str]] = {}  # index name -> arrays it indexed
        self.ints: set[str] = set()
        inner_assigned = set().union(*(assigned_names(x) for x in inner))
        for n, st in enumerate(prefix):
            later = set().union(*(assigned_names(x) for x in prefix[n + 1:])) | inner_assigned
            self._learn(st, later, top=True)
        for n, st in enumerate(head):
            self._learn(st, set().union(*(assigned_names(x) for x in inner[n + 1:])), top=False)

    def _learn(self, st: cst.BaseStatement, later: set[str], top: bool) -> None:
        if not isinstance(st, cst.SimpleStatementLine):
            return
        for sub in _evaluated(st):
            i = _index(sub)
            if i is not None and i not in later and isinstance(sub.value, cst.Name):
                self.witness.setdefault(i, set()).add(sub.value.value)
        if top and len(st.body) == 1 and isinstance(st.body[0], cst.Assign) and len(st.body[0].targets) == 1:
            target, value = st.body[0].targets[0].target, st.body[0].value
            if (isinstance(target, cst.Name) and target.value not in later and isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Name) and value.func.value == "int"):
                self.ints.add(target.value)

    def cannot_raise(self, st: cst.BaseStatement, guard: Guard) -> bool:
        small = st.body[0]  # type: ignore[attr-defined]
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            return False
        target = small.targets[0].target
        if isinstance(target, cst.Name):
            return self._value(small.value, guard, stored=None)
        if not isinstance(target, cst.Subscript) or not isinstance(target.value, cst.Name):
            return False
        array = target.value.value
        if not self._indexed(target, guard):
            return False
        if array not in guard.int64:
            guard.int64.append(array)
        return self._value(small.value, guard, stored=array)

    def _indexed(self, sub: cst.Subscript, guard: Guard) -> bool:
        """``arr[i]`` with ``i`` known to index ``arr`` or an array whose length is checked equal."""
        i = _index(sub)
        arrays = self.witness.get(i or "", set())
        array = sub.value.value  # type: ignore[attr-defined]
        if not arrays:
            return False
        if array not in arrays:
            pair = (array, min(arrays))
            if pair not in guard.lengths:
                guard.lengths.append(pair)
        return True

    def _value(self, e: cst.BaseExpression, guard: Guard, stored: str | None) -> bool:
        """An int value that cannot raise (evaluating it, or storing it into an int64 array)."""
        if isinstance(e, cst.Integer):
            return e.evaluated_value <= INT64_MAX
        if isinstance(e, cst.Name):
            return e.value in self.witness
        if isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name):
            if not self._indexed(e, guard):
                return False
            if e.value.value not in guard.int64:  # an int64 element
                guard.int64.append(e.value.value)
            return True
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value in self.helpers:
            if any(a.keyword is not None or a.star for a in e.args):
                return False
            fn = self.helpers[e.func.value]
            args_ok = all(isinstance(a.value, cst.Integer) or (isinstance(a.value, cst.Name) and (
                a.value.value in self.witness or a.value.value in self.ints)) for a in e.args)
            return args_ok and int_helper(fn, self.constants)
        return False


def int_helper(fn: cst.FunctionDef, constants: Collection[str]) -> bool:
    """``fn`` runs straight-line integer code on int parameters: it cannot raise, touches no
    memory, ends, and returns an int (``+ - * & | ^``, shifts by literals, ``for`` over ``range``
    with one or two arguments, one final ``return``)."""
    params = fn.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None:
        return False
    if params.kwonly_params or params.star_kwarg or params.posonly_params:
        return False
    if any(p.default is not None for p in params.params):
        return False
    defined = {p.name.value for p in params.params} | set(constants)
    stmts = block(fn.body)
    if not stmts:
        return False
    for st in stmts[:-1]:
        if isinstance(st, cst.For):
            if not _range_loop(st, defined):
                return False
        elif not _assigns_int(st, defined):
            return False
    return _returns_int(stmts[-1], defined)


def _range_loop(st: cst.For, defined: set[str]) -> bool:
    if not isinstance(st.target, cst.Name) or st.orelse is not None or st.asynchronous is not None:
        return False
    it = st.iter
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"
            and 1 <= len(it.args) <= 2 and all(a.keyword is None and not a.star for a in it.args)
            and all(_int_expr(a.value, defined) for a in it.args)):
        return False
    local = defined | {st.target.value}
    return all(_assigns_int(x, local) for x in block(st.body))  # names bound inside stay inside


def _assigns_int(st: cst.BaseStatement, defined: set[str]) -> bool:
    """``name = e`` or ``name op= e`` (``+ - * & | ^``) of defined names; adds ``name``."""
    if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
        return False
    small = st.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        target, value = small.targets[0].target.value, small.value
    elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and isinstance(
            small.operator, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign, cst.BitAndAssign,
                             cst.BitOrAssign, cst.BitXorAssign)):
        target, value = small.target.value, small.value
        if target not in defined:
            return False
    else:
        return False
    if not _int_expr(value, defined):
        return False
    defined.add(target)
    return True


def _returns_int(st: cst.BaseStatement, defined: set[str]) -> bool:
    return (isinstance(st, cst.SimpleStatementLine) and len(st.body) == 1 and isinstance(st.body[0], cst.Return)
            and st.body[0].value is not None and _int_expr(st.body[0].value, defined))


def _int_expr(e: cst.BaseExpression, defined: Collection[str]) -> bool:
    """An int expression of int names that cannot raise."""
    if isinstance(e, cst.Integer):
        return True
    if isinstance(e, cst.Name):
        return e.value in defined
    if isinstance(e, cst.UnaryOperation):
        return isinstance(e.operator, (cst.Minus, cst.Plus, cst.BitInvert)) and _int_expr(e.expression, defined)
    if isinstance(e, cst.BinaryOperation):
        if isinstance(e.operator, _SHIFTS):  # a negative shift count raises
            return isinstance(e.right, cst.Integer) and _int_expr(e.left, defined)
        return isinstance(e.operator, _INT_OPS) and _int_expr(e.left, defined) and _int_expr(e.right, defined)
    return False
