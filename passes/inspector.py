"""Lower ``independent(...)``, the run-time check of a plan's ``assume_independent``, to an
inspector loop in the IR (docs/multicore.md section 1).

The main context runs it before the guarded parallel loop, as ordinary instructions, so its cost
is simulated like any other code. It answers exactly as ``helixrc.parallel.independent`` does:
ValueError for a step of 0; True for fewer than two iterations; False when a subscript is out of
range (the sequential loop then raises as the original) or when an element of the array written
by one iteration is touched by another; else True. For ``independent(h, 0, n, 1, (idx, 0, "w"))``::

    if step == 0: raise ValueError          # as range()
    if fewer than 2 iterations: True
    epoch = stamp[0] + 1 ; s = epoch         # s: this iteration's stamp
    for it in range(start, stop, step):
        e = idx[it] + 0                      # False if it or e is out of range
        bits = max(flags[e] - 4 * epoch, 0)  # 1: written, 2: touched by two iterations (this check)
        if last[e] > epoch - 1 and last[e] != s: bits |= 2
        bits |= 1                            # a write
        if bits == 3: False
        last[e] = s ; flags[e] = 4 * epoch + bits
        s += 1
    True                                     # either way stamp[0] = s

``last`` and ``flags`` are scratch tables as long as the array (``Scratch.like``), ``stamp`` one
word: stamps only grow, so a later check of the same site (a loop around it) sees the entries of
earlier ones as stale without clearing the tables. The tables are indexed like the array (a
negative element wraps), so ``e`` and ``e + len(h)`` are one element, as in NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helixrc.csim.errors import Loc
from helixrc.csim.opcodes import Opcode
from helixrc.passes.ir import ArraySlot, ArrayType, Block, Branch, Load, Reg, Scalar, Scratch, Store
from helixrc.passes.parallel_form import IndependentCheck

if TYPE_CHECKING:
    from helixrc.passes.lower import _Lowerer

I64, BOOL = Scalar.I64, Scalar.BOOL


def lower_independent(lw: _Lowerer, check: IndependentCheck, loc: Loc) -> Reg:
    """Emit the inspector of ``check`` at the lowerer's current block; returns its bool result."""
    array = lw.scope.arrays[check.array]
    site = f"{check.array}.@independent{loc.line}"  # one set of tables per check in the source
    last, flags = (_table(lw, array, f"{site}.{what}") for what in ("last", "flags"))
    stamp = lw.scratch(lw.scope, f"{site}.stamp", "int64", 1)
    start, stop, step = (lw.expr(b, None) for b in check.bounds)
    lw.step_nonzero(step, loc)
    result = lw.new_reg(BOOL)
    yes, no, done = lw.new_block("indep_yes"), lw.new_block("indep_no"), lw.new_block("indep_done")
    two, inspect, body = lw.new_block("indep_two"), lw.new_block("indep"), lw.new_block("indep_iter")
    lw.emit(Branch(lw.range_test(start, stop, step, loc), two, yes, loc))
    lw.start(two)
    second = lw.compute(Opcode.ADD_I, None, I64, (start, step), loc)
    lw.emit(Branch(lw.range_test(second, stop, step, loc), inspect, yes, loc))

    lw.start(inspect)
    zero = lw.const(0, I64)
    base = lw.new_reg(I64)
    lw.emit(Load(base, stamp, (zero,), loc))
    epoch = lw.compute(Opcode.ADD_I, None, I64, (base, lw.const(1, I64)), loc)
    epoch_bits = lw.compute(Opcode.SHL_I, None, I64, (epoch, lw.const(2, I64)), loc)
    s, it = lw.move(lw.new_reg(I64), epoch, loc), lw.move(lw.new_reg(I64), start, loc)
    lengths = {a.index: lw.scope.arrays[a.index].shape[0] for a in check.accesses if a.index is not None}
    lengths[None] = array.shape[0]
    negated = {length.id: lw.compute(Opcode.NEG_I, None, I64, (length,), loc) for length in lengths.values()}
    lw.jump(body, loc)
    lw.start(body)
    for access in check.accesses:
        if access.index is None:
            e = it
        else:
            index = lw.scope.arrays[access.index]
            _in_range(lw, it, index.shape[0], negated[index.shape[0].id], no, loc)
            e = lw.new_reg(I64)
            lw.emit(Load(e, index, (it,), loc))
        if access.offset:
            e = lw.compute(Opcode.ADD_I, None, I64, (e, lw.const(access.offset, I64)), loc)
        _in_range(lw, e, array.shape[0], negated[array.shape[0].id], no, loc)
        seen, old = lw.new_reg(I64), lw.new_reg(I64)
        lw.emit(Load(seen, last, (e,), loc))
        lw.emit(Load(old, flags, (e,), loc))
        bits = lw.compute(Opcode.MAX_I, None, I64,
                          (lw.compute(Opcode.SUB_I, None, I64, (old, epoch_bits), loc), zero), loc)
        other = lw.compute(Opcode.AND_I, None, BOOL, (
            lw.compute(Opcode.GT_I, None, BOOL, (seen, base), loc),
            lw.compute(Opcode.NE_I, None, BOOL, (seen, s), loc)), loc)
        shared = lw.compute(Opcode.SHL_I, None, I64, (other, lw.const(1, I64)), loc)
        bits = lw.compute(Opcode.OR_I, None, I64, (bits, shared), loc)
        if access.write:
            bits = lw.compute(Opcode.OR_I, None, I64, (bits, lw.const(1, I64)), loc)
        fine = lw.new_block("indep_ok")
        lw.emit(Branch(lw.compute(Opcode.EQ_I, None, BOOL, (bits, lw.const(3, I64)), loc), no, fine, loc))
        lw.start(fine)
        lw.emit(Store(last, (e,), s, loc))
        lw.emit(Store(flags, (e,), lw.compute(Opcode.ADD_I, None, I64, (epoch_bits, bits), loc), loc))
    lw.compute(Opcode.ADD_I, it, I64, (it, step), loc)
    lw.compute(Opcode.ADD_I, s, I64, (s, lw.const(1, I64)), loc)
    passed = lw.new_block("indep_pass")
    lw.emit(Branch(lw.range_test(it, stop, step, loc), body, passed, loc))
    lw.start(passed)
    lw.emit(Store(stamp, (zero,), s, loc))
    lw.jump(yes, loc)

    lw.start(no)
    lw.emit(Store(stamp, (zero,), s, loc))
    refused = lw.new_block("indep_false")
    lw.jump(refused, loc)
    lw.boolean(yes, refused, result, done, loc)
    return result


def _table(lw: _Lowerer, array: ArraySlot, name: str) -> ArraySlot:
    """An int64 scratch table with one entry per element of array."""
    slot = ArraySlot(len(lw.fn.arrays), lw.scoped_name(lw.scope.types, name), ArrayType("int64", 1),
                     (array.shape[0],))
    lw.fn.arrays.append(slot)
    lw.fn.scratch.append(Scratch(slot, 1, like=array))
    return slot


def _in_range(lw: _Lowerer, index: Reg, length: Reg, neg: Reg, out: Block, loc: Loc) -> None:
    """Go on when neg = -length <= index < length (a subscript NumPy accepts), else go to out."""
    low, inside = lw.new_block("indep_lo"), lw.new_block("indep_in")
    lw.emit(Branch(lw.compute(Opcode.GE_I, None, BOOL, (index, neg), loc), low, out, loc))
    lw.start(low)
    lw.emit(Branch(lw.compute(Opcode.LT_I, None, BOOL, (index, length), loc), inside, out, loc))
    lw.start(inside)
