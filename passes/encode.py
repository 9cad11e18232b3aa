"""Encode a lowered function into the simulator's flat instruction array.

Blocks are laid out in the order lowering started them; a jump to the next block in the layout
disappears and a two-way branch becomes one conditional branch plus, when neither successor
follows, a jump::

    b3: BR t5 ? b4 : b7          pc 12: BRF t5 -> pc 20     (b4 follows, so only the false edge)
    b4: ...                      pc 13: ...

Registers keep their ids; constants are preloaded values. Beside the code come the tables that
map results back to source: the location and loop of every pc, the result registers of each
return, the message of each raise, and the pcs that count loop invocations and iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

from helixrc.csim.binding import REDUCE_OPS, Reduction
from helixrc.csim.errors import Loc
from helixrc.csim.opcodes import Opcode, Status
from helixrc.passes.ir import (
    Block, Branch, Compute, IterEnd, Join, Jump, Load, LoopInfo, ParBegin, Raise, Return, Scalar,
    SegmentSync, Spawn, Store,
)
from helixrc.passes.lower import Lowered

RAISE_STATUS = {"assertion": Status.ASSERTION, "value": Status.VALUE_ERROR, "index": Status.INDEX_ERROR,
                "unbound": Status.UNBOUND_LOCAL}

Instr = tuple[int, int, int, int, int, int]


@dataclass
class LoopPcs:
    """Pcs whose execution counts give a loop's invocations and iterations."""

    info: LoopInfo
    entry_pc: int
    body_pc: int


@dataclass
class Encoded:
    code: list[Instr]
    nregs: int
    #: (register, value) pairs to preload: the constants
    const_init: list[tuple[int, int | float]]
    locs: list[Loc]
    #: innermost source loop of each pc
    pc_loops: list[LoopInfo | None]
    returns: dict[int, tuple[tuple[int, Scalar], ...]]
    raises: dict[int, tuple[str, str]]
    loops: list[LoopPcs]
    #: the reduction and lastprivate objects, for the engine's combine
    reductions: list[Reduction]


def encode(lowered: Lowered) -> Encoded:
    fn = lowered.function
    blocks = fn.blocks
    # First pass: sizes, so block addresses are known before branches are emitted.
    start: dict[int, int] = {}
    pc = 0
    for i, block in enumerate(blocks):
        start[id(block)] = pc
        pc += _size(block, blocks[i + 1] if i + 1 < len(blocks) else None)
    code: list[Instr] = []
    locs: list[Loc] = []
    pc_loops: list[LoopInfo | None] = []
    returns: dict[int, tuple[tuple[int, Scalar], ...]] = {}
    raises: dict[int, tuple[str, str]] = {}

    def put(instr: Instr, loc: Loc, loop: LoopInfo | None) -> None:
        code.append(instr)
        locs.append(loc)
        pc_loops.append(loop)

    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        assert start[id(block)] == len(code)
        for op in block.ops:
            if isinstance(op, Compute):
                srcs = [s.id for s in op.srcs] + [-1] * (3 - len(op.srcs))
                put((int(op.opcode), 0, op.dst.id, *srcs), op.loc, block.loop)
            elif isinstance(op, Load):
                idx = [r.id for r in op.indices] + [-1] * (3 - len(op.indices))
                opcode = Opcode.LOAD_RO if op.read_only else Opcode.LOAD
                put((int(opcode), op.array.slot, op.dst.id, *idx), op.loc, block.loop)
            elif isinstance(op, Store):
                idx = [r.id for r in op.indices] + [-1] * (3 - len(op.indices))
                opcode = Opcode.STORE_F if op.value.type == Scalar.F64 else Opcode.STORE_I
                put((int(opcode), op.array.slot, op.value.id, *idx), op.loc, block.loop)
            elif isinstance(op, Jump):
                if _emits_jump(block, op, nxt):
                    put((int(Opcode.JMP), 0, start[id(op.target)], -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, Branch):
                t, f = start[id(op.if_true)], start[id(op.if_false)]
                if op.if_false is nxt:
                    put((int(Opcode.BRT), 0, t, op.cond.id, -1, -1), op.loc, block.loop)
                elif op.if_true is nxt:
                    put((int(Opcode.BRF), 0, f, op.cond.id, -1, -1), op.loc, block.loop)
                else:
                    put((int(Opcode.BRT), 0, t, op.cond.id, -1, -1), op.loc, block.loop)
                    put((int(Opcode.JMP), 0, f, -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, Return):
                returns[len(code)] = tuple((v.id, v.type) for v in op.values)
                put((int(Opcode.RET), 0, -1, -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, Raise):
                raises[len(code)] = (op.kind, op.message)
                put((int(Opcode.RAISE), int(RAISE_STATUS[op.kind]), -1, -1, -1, -1),
                    op.loc, block.loop)
            elif isinstance(op, ParBegin):
                # PAR_BEGIN, then PAR_END (where the main context resumes), then the iterations.
                coupled = int(op.signals == "coupled")
                bounds = [r.id for r in op.bounds] or [-1, -1, -1]
                put((int(Opcode.PAR_BEGIN), op.segments, coupled, *bounds), op.loc, block.loop)
                put((int(Opcode.PAR_END), 0, start[id(op.after)], -1, -1, -1), op.loc, block.loop)
                if op.body is not nxt:
                    put((int(Opcode.JMP), 0, start[id(op.body)], -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, IterEnd) and op.opcode != Opcode.TASK_END:
                if op.opcode == Opcode.LOOP_RETURN:
                    returns[len(code)] = tuple((v.id, v.type) for v in op.values)
                put((int(op.opcode), 0, -1, -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, SegmentSync):
                put((int(op.opcode), op.segment, -1, -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, Spawn):
                # SPAWN, then the task (the sibling starts at pc + 1); the main context jumps on.
                put((int(Opcode.SPAWN), 0, start[id(op.after)], op.handle.id, -1, -1), op.loc, block.loop)
                if op.task is not nxt:
                    put((int(Opcode.JMP), 0, start[id(op.task)], -1, -1, -1), op.loc, block.loop)
            elif isinstance(op, (IterEnd, Join)):
                # TASK_END / JOIN: the results are aux consecutive registers from dst.
                opcode = Opcode.JOIN if isinstance(op, Join) else Opcode.TASK_END
                first = op.values[0].id if op.values else -1
                handle = op.handle.id if isinstance(op, Join) else -1
                put((int(opcode), len(op.values), first, handle, -1, -1), op.loc, block.loop)
    const_init = [(r.id, float(r.const) if r.type == Scalar.F64 else int(r.const))
                  for r in fn.regs if r.const is not None]
    loops = [LoopPcs(rec.info, start[id(rec.entry)], start[id(rec.body)])
             for rec in lowered.loop_records]
    reductions = [Reduction(REDUCE_OPS[r.op], r.ties, r.cells[0].slot, len(r.cells), r.tags.slot)
                  for r in fn.reductions]
    return Encoded(code, len(fn.regs), const_init, locs, pc_loops, returns, raises, loops, reductions)


def _emits_jump(block: Block, op: Jump, nxt: Block | None) -> bool:
    """A jump to the next block disappears, unless it is all of a block that counts iterations
    (which must keep an address of its own)."""
    return op.target is not nxt or (block.counted and len(block.ops) == 1)


def _size(block: Block, nxt: Block | None) -> int:
    size = 0
    for op in block.ops:
        if isinstance(op, Jump):
            size += int(_emits_jump(block, op, nxt))
        elif isinstance(op, Branch):
            size += 1 if nxt in (op.if_true, op.if_false) else 2
        elif isinstance(op, ParBegin):
            size += 2 if op.body is nxt else 3
        elif isinstance(op, Spawn):
            size += 1 if op.task is nxt else 2
        else:
            size += 1
    return size
