"""Guard reads of variables that may be unassigned, as CPython does with UnboundLocalError.

A forward must-analysis finds, for every read of a variable, whether every path from the entry
assigns it first. Only reads that fail get a guard: the variable gains a flag register, set at
each assignment, tested before the read::

    def f(n):                        b0: last.set = MOV False ...
        for i in range(n):           body: last = MOV i ; last.set = MOV True
            last = i                 ...
        return last          ->      BR last.set ? ok : fail
                                     fail: RAISE unbound "local variable 'last' ..."
                                     ok:   RET last

An inlined helper's locals start unassigned at every call, as a fresh Python frame does, so its
entry kills them. Kernels that assign before reading on every path pay nothing.
"""

from __future__ import annotations

from helixrc.csim.opcodes import Opcode
from helixrc.passes.ir import Block, Branch, Compute, Function, Raise, Reg, Scalar


def guard_unbound(fn: Function, variables: dict[int, Reg], assigned_at_entry: set[int],
                  calls: list[tuple[Block, set[int], set[int]]]) -> None:
    """Insert guards in ``fn`` for reads of ``variables`` (by register id) that may be unbound.

    ``calls`` lists inlined helper entries: the variables passed there (read at the call) and
    the helper's locals (unassigned again at each call)."""
    kill_at = {id(b): ks for b, _, ks in calls}
    passed_at = {id(b): us for b, us, _ in calls}
    preds: dict[int, list[Block]] = {id(b): [] for b in fn.blocks}
    for b in fn.blocks:
        for s in b.successors():
            preds[id(s)].append(b)
    every = set(variables)
    entry = fn.blocks[0]
    out: dict[int, set[int]] = {id(b): set(every) for b in fn.blocks}

    def block_in(b: Block) -> set[int]:
        if b is entry:
            current = set(assigned_at_entry)
        else:
            ps = preds[id(b)]
            current = set.intersection(*(out[id(p)] for p in ps)) if ps else set(every)
        return current - kill_at.get(id(b), set())

    changed = True
    while changed:
        changed = False
        for b in fn.blocks:
            current = block_in(b)
            for op in b.ops:
                dst = op.dest()
                if dst is not None and dst.id in every:
                    current.add(dst.id)
            if current != out[id(b)]:
                out[id(b)] = current
                changed = True

    unsafe: list[tuple[Block, int, Reg]] = []
    for b in fn.blocks:
        current = block_in(b)
        for vid in sorted(passed_at.get(id(b), ())):
            if vid not in current:
                unsafe.append((b, -1, variables[vid]))  # -1: at the call, before the helper runs
        for i, op in enumerate(b.ops):
            for src in op.sources():
                if src.id in every and src.id not in current:
                    unsafe.append((b, i, src))
            dst = op.dest()
            if dst is not None and dst.id in every:
                current.add(dst.id)
    if not unsafe:
        return
    _insert_guards(fn, {r.id for _, _, r in unsafe}, variables, kill_at, unsafe)


def _insert_guards(fn: Function, guarded: set[int], variables: dict[int, Reg],
                   kill_at: dict[int, set[int]],
                   unsafe: list[tuple[Block, int, Reg]]) -> None:
    unsafe_reads = {(id(b.ops[i]), r.id) for b, i, r in unsafe if i >= 0}
    unsafe_calls = {id(b): [r.id for bb, i, r in unsafe if bb is b and i < 0] for b, _, _ in unsafe}
    true, false = _const(fn, True), _const(fn, False)
    flags: dict[int, Reg] = {}
    for vid in sorted(guarded):
        flag = Reg(len(fn.regs), Scalar.BOOL, f"{variables[vid].name}.set")
        fn.regs.append(flag)
        flags[vid] = flag
    new_blocks: list[Block] = []
    for b in fn.blocks:
        ops, current = b.ops, b
        b.ops = []
        new_blocks.append(b)
        for k in sorted(kill_at.get(id(b), ())):
            if k in flags:
                b.ops.append(Compute(Opcode.MOV, flags[k], (false,), ops[0].loc))
        for index, op in enumerate(ops):
            read = [s.id for s in op.sources() if (id(op), s.id) in unsafe_reads]
            if index == 0:
                read = unsafe_calls.get(id(b), []) + read
            for vid in dict.fromkeys(read):
                ok = Block(f"{current.label}.bound", current.loop)
                fail = Block(f"{current.label}.unbound", current.loop)
                current.ops.append(Branch(flags[vid], ok, fail, op.loc))
                name = variables[vid].name.rsplit(".", 1)[-1]
                fail.ops.append(Raise("unbound", f"cannot access local variable '{name}' where "
                                      "it is not associated with a value", op.loc))
                new_blocks.extend([fail, ok])
                current = ok
            current.ops.append(op)
            dst = op.dest()
            if dst is not None and dst.id in flags:
                current.ops.append(Compute(Opcode.MOV, flags[dst.id], (true,), op.loc))
    fn.blocks = new_blocks


def _const(fn: Function, value: bool) -> Reg:
    for r in fn.regs:
        if r.const is not None and r.type == Scalar.BOOL and r.const == value:
            return r
    reg = Reg(len(fn.regs), Scalar.BOOL, f"c{len(fn.regs)}", const=value)
    fn.regs.append(reg)
    return reg
