"""Keep segments short: move independent pure statements out of a segment's bracket.

A segment is bracketed from the first to the last top-level statement that holds its code, so
code written between them runs inside it, in order with every other iteration. A statement in
between that computes a private value from private values only (names, literals, ``+ - *``,
comparisons, ``and``/``or``/``not``, conditional expressions) is hoisted above the bracket, or
sunk below it, when nothing it crosses writes what it reads or touches what it writes::

    wait(0)                          w = v * v - 7
    if v > 5:                        wait(0)
        out[seg0.n] = v              if v > 5:
        seg0.n += 1          ->          out[seg0.n] = v
    w = v * v - 7                        seg0.n += 1
    if v < 2:                        if v < 2:
        ...                              ...
    signal(0)                        signal(0)

Such a statement cannot raise in CPython and has no side effect, so moving it changes neither the
results nor which exception a failing iteration raises (the simulator's 64-bit overflow, a
documented difference, aside). Nothing moves across a ``continue``, ``break`` or ``return``, and
nothing moves above the prologue (an iteration past the loop's exit must do nothing before it).

Before that, :func:`gather` hoists segment code together: a statement that updates one of a
segment's own cells from its cells and private values (``n += 1``) moves up to the segment's
previous statement, over code that does not name the cell and assigns nothing it reads::

    out[n, 0] = lo                   out[n, 0] = lo
    out[n, 1] = hi                   out[n, 1] = hi
    c = cost(lo, hi)         ->      n += 1
    tot[k] = c                       c = cost(lo, hi)
    n += 1                           tot[k] = c

The crossed code may touch memory and raise: a cell lives in the kernel's frame only (never in
an array, and it is read after the loop only when the loop ends normally), so which exception an
iteration raises and what memory holds then are the same. The segments' brackets then no longer
overlap, so they need not be merged, and the code between them (``cost``) leaves every segment.

Last, :func:`hoist_operands` computes the operand of a segment's opening cell update before the
segment when it reads no cell and no array the loop writes (private names, literals, arithmetic,
``int``/``float`` and elements of read-only arrays)::

    delta += c - net_cost[net]   ->  delta_term = c - net_cost[net]
                                     delta += delta_term

Python evaluates the whole right-hand side before it adds, so only the read of the cell moves
after it; a cell read cannot raise, so the results and the exception a failing iteration raises
are the same. The operand's loads (of data no iteration writes) and their latency leave the
segment, where they would hold up every later iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import libcst as cst
from helixrc.passes.transform.cst_tools import level_jumps, walk

__all__ = ["gather", "hoist_operands", "schedule"]

_PURE_OPS = (cst.Add, cst.Subtract, cst.Multiply)


def schedule(
    body: Sequence[cst.BaseStatement],
    holders: Mapping[int, Collection[cst.CSTNode]],
    prologue: bool,
    shared: Collection[str],
) -> list[cst.BaseStatement]:
    """``body`` with movable statements taken out of each segment's top-level bracket.

    ``holders`` maps each segment to the statements that hold its code; segment 0 is the
    prologue when ``prologue`` is set; ``shared`` names the variables that live in shared cells
    or reduction copies (a statement reading or writing them never moves).
    """
    out = list(body)
    held = {st for hs in holders.values() for st in hs}
    for _ in range(len(out)):
        moved = False
        for k, hs in holders.items():
            idx = [i for i, st in enumerate(out) if st in hs]
            if not idx:
                continue
            first = 0 if prologue and k == 0 else idx[0]
            last = idx[-1]
            for j in range(first + 1, last):
                st = out[j]
                if st in held or not _movable(st, shared):
                    continue
                if not (prologue and k == 0) and all(_independent(st, t) for t in out[first:j]):
                    out[first:j + 1] = [st, *out[first:j]]
                elif all(_independent(st, t) for t in out[j + 1:last + 1]):
                    out[j:last + 1] = [*out[j + 1:last + 1], st]
                else:
                    continue
                moved = True
                break
            if moved:
                break
        if not moved:
            break
    return out


def gather(
    body: Sequence[cst.BaseStatement],
    holders: Mapping[int, Collection[cst.CSTNode]],
    prologue: bool,
    cells: Mapping[int, Collection[str]],
    shared: Collection[str],
) -> list[cst.BaseStatement]:
    """``body`` with each segment's cell updates hoisted next to the segment's previous statement.

    ``cells`` maps each segment to the scalars it keeps in shared cells; ``shared`` names every
    cell and reduction copy; the prologue (segment 0 when ``prologue`` is set) is left alone.
    """
    out = list(body)
    for k, hs in holders.items():
        own = set(cells.get(k, ()))
        if not own or (prologue and k == 0):
            continue
        others = {st for j, ws in holders.items() if j != k for st in ws}
        j = 0
        while j < len(out):
            st = out[j]
            prev = max((i for i in range(j) if out[i] in hs), default=None)
            if (st in hs and st not in others and prev is not None and prev < j - 1
                    and _cell_update(st, own, shared)
                    and all(_independent(st, t) for t in out[prev + 1:j])):
                out[prev + 1:j + 1] = [st, *out[prev + 1:j]]
            j += 1
    return out


def hoist_operands(
    body: Sequence[cst.BaseStatement],
    holders: Mapping[int, Collection[cst.CSTNode]],
    prologue: bool,
    cells: Mapping[int, Collection[str]],
    shared: Collection[str],
    read_only: Collection[str],
    fresh: Callable[[str], str],
) -> tuple[list[cst.BaseStatement], dict[cst.BaseStatement, cst.BaseStatement]]:
    """``body`` with the operand of each segment's first statement, when it is an update of one
    of the segment's own cells (``cell = e`` or ``cell op= e``), assigned to a fresh private name
    just before it; and each statement so replaced mapped to its replacement.

    ``e`` qualifies when it names no cell or reduction copy (``shared``), indexes only arrays in
    ``read_only`` (arrays the loop never writes), and is more than a name or a literal. Only
    top-level statements that hold one segment alone are split; the prologue is left alone.
    """
    out = list(body)
    replaced: dict[cst.BaseStatement, cst.BaseStatement] = {}
    for k, hs in holders.items():
        own = set(cells.get(k, ()))
        first = next((i for i, st in enumerate(out) if st in hs), None)
        if not own or first is None or (prologue and k == 0):
            continue
        st = out[first]
        if any(st in ws for j, ws in holders.items() if j != k):
            continue
        if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
            continue
        small = st.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
        elif isinstance(small, cst.AugAssign):
            target = small.target
        else:
            continue
        value = small.value
        if (not isinstance(target, cst.Name) or target.value not in own
                or isinstance(value, (cst.Name, cst.Integer, cst.Float))
                or not _operand(value, shared, read_only)):
            continue
        name = fresh(f"{target.value}_term")
        temp = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(target=cst.Name(name))], value=value)],
            leading_lines=st.leading_lines,
        )
        new = st.with_changes(body=[small.with_changes(value=cst.Name(name))], leading_lines=())
        out[first:first + 1] = [temp, new]
        replaced[st] = new
    return out, replaced


def _operand(e: cst.BaseExpression, shared: Collection[str], read_only: Collection[str]) -> bool:
    """Private names, literals, arithmetic, ``int(x)``/``float(x)`` and elements of read-only arrays."""
    if isinstance(e, cst.Name):
        return e.value not in shared
    if isinstance(e, (cst.Integer, cst.Float)):
        return True
    if isinstance(e, cst.BinaryOperation):
        return _operand(e.left, shared, read_only) and _operand(e.right, shared, read_only)
    if isinstance(e, cst.UnaryOperation):
        return _operand(e.expression, shared, read_only)
    if isinstance(e, cst.Subscript):
        return (isinstance(e.value, cst.Name) and e.value.value in read_only
                and all(isinstance(el.slice, cst.Index) and _operand(el.slice.value, shared, read_only)
                        for el in e.slice))
    if isinstance(e, cst.Call):
        return (isinstance(e.func, cst.Name) and e.func.value in ("int", "float") and len(e.args) == 1
                and e.args[0].keyword is None and not e.args[0].star
                and _operand(e.args[0].value, shared, read_only))
    return False


def _cell_update(st: cst.BaseStatement, own: Collection[str], shared: Collection[str]) -> bool:
    """``cell = <pure expression>`` (or ``cell op= ...``) of this segment's cells and private names."""
    parts = _assignment(st)
    if parts is None or parts[0].value not in own:
        return False
    return not _names(parts[1]) & (set(shared) - set(own))


def _movable(st: cst.BaseStatement, shared: Collection[str]) -> bool:
    """``name = <pure expression>`` (or ``name op= ...``) on private names only."""
    parts = _assignment(st)
    if parts is None:
        return False
    target, value = parts
    return not ({target.value} | _names(value)) & set(shared)


def _assignment(st: cst.BaseStatement) -> tuple[cst.Name, cst.BaseExpression] | None:
    """The target and value of ``name = <pure expression>`` or ``name += / -= / *= ...``, else None."""
    if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
        return None
    small = st.body[0]
    if isinstance(small, cst.Assign):
        if len(small.targets) != 1:
            return None
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AugAssign) and isinstance(small.operator, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign)):
        target, value = small.target, small.value
    else:
        return None
    if not isinstance(target, cst.Name) or not _pure(value):
        return None
    return target, value


def _pure(e: cst.BaseExpression) -> bool:
    if isinstance(e, (cst.Name, cst.Integer, cst.Float)):
        return True
    if isinstance(e, cst.BinaryOperation):
        return isinstance(e.operator, _PURE_OPS) and _pure(e.left) and _pure(e.right)
    if isinstance(e, cst.UnaryOperation):
        return isinstance(e.operator, (cst.Minus, cst.Plus, cst.Not)) and _pure(e.expression)
    if isinstance(e, cst.Comparison):
        return _pure(e.left) and all(_pure(c.comparator) for c in e.comparisons)
    if isinstance(e, cst.BooleanOperation):
        return _pure(e.left) and _pure(e.right)
    if isinstance(e, cst.IfExp):
        return _pure(e.test) and _pure(e.body) and _pure(e.orelse)
    return False


def _names(node: cst.CSTNode) -> set[str]:
    skip = {n.attr for n in walk(node) if isinstance(n, cst.Attribute)}
    return {n.value for n in walk(node) if isinstance(n, cst.Name) and n not in skip}


def _assigned(node: cst.CSTNode) -> set[str]:
    targets: list[cst.CSTNode] = []
    for n in walk(node):
        if isinstance(n, cst.Assign):
            targets += [t.target for t in n.targets]
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.For)):
            targets.append(n.target)
    # a subscript target assigns an element, not the names in its subscript
    return {x.value for t in targets if not isinstance(t, cst.Subscript) for x in walk(t) if isinstance(x, cst.Name)}


def _independent(st: cst.BaseStatement, other: cst.BaseStatement) -> bool:
    """``st`` and ``other`` may run in either order, and ``other`` does not leave the iteration."""
    if any(True for _ in level_jumps(other, (cst.Continue, cst.Break, cst.Return))):
        return False
    small = st.body[0]  # type: ignore[attr-defined]
    target = (small.targets[0].target if isinstance(small, cst.Assign) else small.target).value
    reads = _names(small.value) | ({target} if isinstance(small, cst.AugAssign) else set())
    return target not in _names(other) and not reads & _assigned(other)
