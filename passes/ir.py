"""The typed register IR: a closed set of op classes in a CFG of basic blocks.

Lowering (``lower.py``) builds it from kernel source; ``encode.py`` turns it into the simulator's
instruction array. Every op carries the source location it came from. Values live in virtual
registers typed ``i64``, ``f64`` or ``bool``; arrays are slots with a dtype and a rank, and their
shapes are registers preloaded by the caller. Constants are registers too, preloaded, so no op
has an immediate operand. For ``s += a[i] * 2.0`` the printer shows::

    t3:f64 = LOAD a[i]            # line 5
    t4:f64 = MUL_F t3, 2.0        # line 5
    s:f64 = ADD_F s, t4           # line 5

Ops are ``@final``: add a field rather than subclassing, so ``isinstance`` stays exact. The one
verifier (:func:`verify`) checks operand types against the shared opcode table.

The parallel form adds per-call *scratch* memory (:class:`Scratch`: the cells of its shared,
reduction and lastprivate objects, read and written with ``Load``/``Store`` like array elements)
the parallel loop (:class:`ParBegin`, whose body block starts each iteration, :class:`IterEnd`
which ends one) and its sequential segments (:class:`SegmentSync`)::

    STORE seg0.n[seg0] = n                       # seg0 = shared(0, n=n)
    PAR_BEGIN segments=1 uncoupled range(0, n, 1) ? body : after
  body:
    it:i64 = ITER_BEGIN
    ...
    WAIT 0
    t5:i64 = LOAD seg0.n[seg0]                   # seg0.n += 1
    t6:i64 = ADD_I t5, 1
    STORE seg0.n[seg0] = t6
    SIGNAL 0
    ITER_END
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterator, Union, final

from helixrc.csim.errors import Loc
from helixrc.csim.opcodes import MAX_SEGMENTS, OP_INFO, Opcode


class Scalar(Enum):
    """Scalar value types; bools are stored as 0/1 in 64-bit registers."""

    I64 = "i64"
    F64 = "f64"
    BOOL = "bool"

    @property
    def reg_kind(self) -> str:
        """The opcode table's letter for registers of this type."""
        return "F" if self is Scalar.F64 else "I"

    def __str__(self) -> str:
        return self.value


FLOAT_DTYPES = frozenset({"float32", "float64"})
DTYPES = (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "bool",
)
# Elements that CPython reads as NumPy scalars whose arithmetic differs from Python's: the kernel
# must convert them with int()/float()/bool() before arithmetic (KERNEL_LANGUAGE.md).
NARROW_DTYPES = frozenset(DTYPES) - {"int64", "float64"}


@dataclass(frozen=True, slots=True)
class ArrayType:
    """An array argument: NumPy array or a Python list passed as a 1-D array."""

    dtype: str
    ndim: int
    is_list: bool = False
    #: the positions of the call's array arguments whose memory may overlap this one's (its own
    #: included; runtime/args.py ``signature_of``): ``disjoint(...)`` lowers to a constant of it,
    #: and a compiled kernel is reused only for the same overlap. None: not known, may overlap any.
    shares: tuple[int, ...] | None = None

    @property
    def element(self) -> Scalar:
        """The register type an element is loaded into."""
        if self.dtype in FLOAT_DTYPES:
            return Scalar.F64
        return Scalar.BOOL if self.dtype == "bool" else Scalar.I64

    def __str__(self) -> str:
        kind = "list" if self.is_list else "array"
        return f"{kind}[{self.dtype}, {self.ndim}d]"


Type = Union[Scalar, ArrayType]


@dataclass(eq=False, slots=True)
class Reg:
    """A virtual register; ``const`` is set for preloaded constants."""

    id: int
    type: Scalar
    name: str
    const: int | float | bool | None = None

    def __str__(self) -> str:
        if self.const is not None:
            return repr(self.const)
        return self.name


@dataclass(eq=False, slots=True)
class ArraySlot:
    """An array argument of the kernel: slot number, name, type and its shape registers."""

    slot: int
    name: str
    type: ArrayType
    shape: tuple[Reg, ...]

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False, slots=True)
class Scratch:
    """A region of per-call scratch memory: ``length`` elements of ``slot.type.dtype``.

    The binding allocates it, zeroed, beside the arguments (``runtime/args.py``); the program
    accesses it through ``slot`` as a 1-d array. Each cell of a parallel-form object is a region
    of its own, indexed by the object's handle register: on one core an object is one copy at
    index 0, which its statement sets (a multicore engine gives each worker context a copy).
    """

    slot: ArraySlot
    length: int
    #: sized at the call instead: as many elements as this argument array's first dimension
    #: (``independent(...)``'s tables); then ``slot.shape`` is that array's
    like: ArraySlot | None = None

    def __str__(self) -> str:
        size = f"len({self.like.name})" if self.like is not None else self.length
        return f"{self.slot.name}: {self.slot.type.dtype}[{size}]"


@dataclass(frozen=True, slots=True)
class LoopInfo:
    """A source loop: stable id (``func/L1.2``), kind and line, and its parent loop."""

    id: str
    kind: str  # "for" or "while"
    loc: Loc
    parent: LoopInfo | None


class Block:
    """A basic block; only its last op may be a terminator, and it must have one when done."""

    __slots__ = ("label", "ops", "loop", "counted")

    def __init__(self, label: str, loop: LoopInfo | None) -> None:
        self.label = label
        self.ops: list[Op] = []
        #: the innermost source loop this block belongs to
        self.loop = loop
        #: entered once per iteration of ``loop`` (the encoder keeps it addressable)
        self.counted = False

    @property
    def terminated(self) -> bool:
        return bool(self.ops) and isinstance(self.ops[-1], TERMINATORS)

    def append(self, op: Op) -> None:
        if self.terminated:
            raise AssertionError(f"op appended after the terminator of {self.label}")
        self.ops.append(op)

    def successors(self) -> list[Block]:
        last = self.ops[-1] if self.ops else None
        if isinstance(last, Jump):
            return [last.target]
        if isinstance(last, Branch):
            return [last.if_true, last.if_false]
        if isinstance(last, ParBegin):
            return [last.body, last.after]
        if isinstance(last, Spawn):
            return [last.task, last.after]
        return []

    def __repr__(self) -> str:
        return f"<Block {self.label}>"


# ---------------------------------------------------------------------------------------------
# The ops. Each has `loc` and `sources()`; `dest()` is the register it writes, if any.


@final
@dataclass(eq=False, slots=True)
class Compute:
    """dst = opcode(srcs...): arithmetic, conversion, comparison, math; see opcodes.def."""

    opcode: Opcode
    dst: Reg
    srcs: tuple[Reg, ...]
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return self.srcs

    def dest(self) -> Reg | None:
        return self.dst


@final
@dataclass(eq=False, slots=True)
class Load:
    """dst = array[indices]; IndexError out of bounds. ``read_only``: in a parallel loop that
    writes no element of the array (not shared data), encoded LOAD_RO."""

    dst: Reg
    array: ArraySlot
    indices: tuple[Reg, ...]
    loc: Loc
    read_only: bool = False

    def sources(self) -> tuple[Reg, ...]:
        return self.indices

    def dest(self) -> Reg | None:
        return self.dst


@final
@dataclass(eq=False, slots=True)
class Store:
    """array[indices] = value; IndexError out of bounds, OverflowError past the dtype."""

    array: ArraySlot
    indices: tuple[Reg, ...]
    value: Reg
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return (*self.indices, self.value)

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class Jump:
    """Go to target."""

    target: Block
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return ()

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class Branch:
    """Go to if_true when cond is nonzero, else to if_false."""

    cond: Reg
    if_true: Block
    if_false: Block
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return (self.cond,)

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class Return:
    """The kernel returns values (none, one, or a tuple)."""

    values: tuple[Reg, ...]
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return self.values

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class Raise:
    """Stop with a Python exception: kind is "assertion", "value" or "unbound"."""

    kind: str
    message: str
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return ()

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class ParBegin:
    """The parallel loop starts (a terminator): iterations ``range(start, stop, step)``, or 0, 1,
    2, ... until one exits when ``bounds`` is empty; each runs ``body`` on a worker context, and
    the main context goes on at ``after`` once the loop is over (the encoder writes PAR_END)."""

    segments: int
    #: "coupled" or "uncoupled"
    signals: str
    #: (start, stop, step), or () for prange_while
    bounds: tuple[Reg, ...]
    body: Block
    after: Block
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return self.bounds

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class IterEnd:
    """An iteration of the parallel loop ends (a terminator): ITER_END, LOOP_EXIT (``break``) or
    LOOP_RETURN (``return values`` inside the loop: the kernel returns them); or a task's body
    ends: TASK_END, whose ``values`` (consecutive registers) its JOIN takes."""

    opcode: Opcode
    values: tuple[Reg, ...]
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return self.values

    def dest(self) -> Reg | None:
        return None


@dataclass(frozen=True, slots=True)
class ReductionSpec:
    """How the per-context copies of a reduction or lastprivate object combine after the loop:
    ``op`` ("+", ..., "argmax", or "last" for lastprivate), its cells' slots and the tag slot."""

    op: str
    ties: str
    cells: tuple[ArraySlot, ...]
    tags: ArraySlot


@final
@dataclass(eq=False, slots=True)
class SegmentSync:
    """``wait(k)`` or ``signal(k)``: opcode WAIT or SIGNAL of sequential segment ``segment``."""

    opcode: Opcode
    segment: int
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return ()

    def dest(self) -> Reg | None:
        return None


@final
@dataclass(eq=False, slots=True)
class Spawn:
    """``h = spawn(task, ...)`` (a terminator): the task's inlined body starts at ``task`` and runs
    on the sibling context with a copy of the registers; ``handle`` gets its handle and the main
    context goes on at ``after`` (the encoder puts the task right after SPAWN)."""

    handle: Reg
    task: Block
    after: Block
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return ()

    def dest(self) -> Reg | None:
        return self.handle


@final
@dataclass(eq=False, slots=True)
class Join:
    """``join(h)``: wait for the task ``handle`` names; its results arrive in ``values``, the
    registers its TASK_END names."""

    handle: Reg
    values: tuple[Reg, ...]
    loc: Loc

    def sources(self) -> tuple[Reg, ...]:
        return (self.handle,)

    def dest(self) -> Reg | None:
        return None


Op = Union[Compute, Load, Store, Jump, Branch, Return, Raise, ParBegin, IterEnd, SegmentSync, Spawn, Join]
TERMINATORS = (Jump, Branch, Return, Raise, ParBegin, IterEnd, Spawn)


@dataclass(eq=False)
class Function:
    """A lowered kernel (helpers inlined): its blocks, registers, arrays and loops."""

    name: str
    loc: Loc
    #: per positional parameter: the scalar's register or the array's slot
    params: list[Reg | ArraySlot]
    blocks: list[Block] = field(default_factory=list)
    regs: list[Reg] = field(default_factory=list)
    #: the argument arrays' slots, then the scratch regions' (in ``scratch`` order)
    arrays: list[ArraySlot] = field(default_factory=list)
    #: per-call scratch memory the program uses besides its arguments
    scratch: list[Scratch] = field(default_factory=list)
    #: the reduction and lastprivate objects, combined after every parallel loop
    reductions: list[ReductionSpec] = field(default_factory=list)
    #: None when the kernel returns nothing; otherwise the types, and whether it returns a tuple
    return_types: tuple[Scalar, ...] | None = None
    returns_tuple: bool = False
    loops: list[LoopInfo] = field(default_factory=list)

    def ops(self) -> Iterator[Op]:
        for block in self.blocks:
            yield from block.ops


# ---------------------------------------------------------------------------------------------
# The pretty-printer.


def format_function(fn: Function, with_lines: bool = True) -> str:
    """Deterministic text form of a function, used by golden tests and ``--dump-ir``."""
    params = ", ".join(
        f"{p.name}: {p.type}" if isinstance(p, Reg) else f"{p.name}: {p.type}" for p in fn.params
    )
    rtype = "None" if fn.return_types is None else ", ".join(str(t) for t in fn.return_types)
    lines = [f"def {fn.name}({params}) -> {rtype}:"]
    lines += [f"  scratch {region}" for region in fn.scratch]
    for block in fn.blocks:
        loop = f"  # loop {block.loop.id}" if block.loop else ""
        lines.append(f"  {block.label}:{loop}")
        for op in block.ops:
            text = format_op(op)
            if with_lines:
                text = f"{text:<44} # line {op.loc.line}"
            lines.append(f"    {text}")
    return "\n".join(lines) + "\n"


def format_op(op: Op) -> str:
    if isinstance(op, Compute):
        args = ", ".join(str(s) for s in op.srcs)
        return f"{op.dst}:{op.dst.type} = {op.opcode.name} {args}"
    if isinstance(op, Load):
        idx = ", ".join(str(i) for i in op.indices)
        return f"{op.dst}:{op.dst.type} = {'LOAD_RO' if op.read_only else 'LOAD'} {op.array}[{idx}]"
    if isinstance(op, Store):
        idx = ", ".join(str(i) for i in op.indices)
        return f"STORE {op.array}[{idx}] = {op.value}"
    if isinstance(op, Jump):
        return f"JMP {op.target.label}"
    if isinstance(op, Branch):
        return f"BR {op.cond} ? {op.if_true.label} : {op.if_false.label}"
    if isinstance(op, Return):
        return "RET " + ", ".join(str(v) for v in op.values) if op.values else "RET"
    if isinstance(op, ParBegin):
        bounds = f" range({', '.join(str(r) for r in op.bounds)})" if op.bounds else ""
        return f"PAR_BEGIN segments={op.segments} {op.signals}{bounds} ? {op.body.label} : {op.after.label}"
    if isinstance(op, IterEnd):
        values = " " + ", ".join(str(v) for v in op.values) if op.values else ""
        return f"{op.opcode.name}{values}"
    if isinstance(op, SegmentSync):
        return f"{op.opcode.name} {op.segment}"
    if isinstance(op, Spawn):
        return f"{op.handle}:{op.handle.type} = SPAWN {op.task.label} ; main: {op.after.label}"
    if isinstance(op, Join):
        results = ", ".join(f"{v}:{v.type}" for v in op.values)
        return (f"{results} = " if results else "") + f"JOIN {op.handle}"
    return f"RAISE {op.kind} {op.message!r}"


# ---------------------------------------------------------------------------------------------
# The verifier.


def verify(fn: Function) -> list[str]:
    """Structural and type errors of a function; an empty list means it is well formed."""
    errors: list[str] = []
    known = set(id(b) for b in fn.blocks)
    reg_ids = set(id(r) for r in fn.regs)
    slots = set(id(a) for a in fn.arrays)

    def check_reg(where: str, reg: Reg, kind: str | None) -> None:
        if id(reg) not in reg_ids:
            errors.append(f"{where}: register {reg.name} is not in the function's register list")
        if kind is not None and reg.type.reg_kind != kind:
            errors.append(f"{where}: {reg.name} is {reg.type}, the opcode needs {kind}")

    for block in fn.blocks:
        if not block.terminated:
            errors.append(f"{block.label}: no terminator")
        for i, op in enumerate(block.ops):
            where = f"{block.label}[{i}] {format_op(op)}"
            if isinstance(op, TERMINATORS) and i != len(block.ops) - 1:
                errors.append(f"{where}: terminator in the middle of a block")
            if isinstance(op, Compute):
                info = OP_INFO[op.opcode]
                if info.cls in ("MEM", "CTRL", "SYNC"):
                    errors.append(f"{where}: {op.opcode.name} is not a compute opcode")
                if len(op.srcs) != info.nsrcs:
                    errors.append(f"{where}: {len(op.srcs)} operands, the table says {info.srcs}")
                if op.opcode == Opcode.MOV:
                    # a 64-bit copy: any type, as long as both sides agree
                    for src in op.srcs:
                        check_reg(where, src, op.dst.type.reg_kind)
                    check_reg(where, op.dst, None)
                else:
                    for src, kind in zip(op.srcs, info.srcs):
                        check_reg(where, src, kind)
                    check_reg(where, op.dst, info.dst)
                if op.dst.const is not None:
                    errors.append(f"{where}: writes the constant register {op.dst.name}")
            elif isinstance(op, (Load, Store)):
                if id(op.array) not in slots:
                    errors.append(f"{where}: unknown array {op.array.name}")
                if len(op.indices) != op.array.type.ndim:
                    errors.append(f"{where}: {len(op.indices)} indices for a {op.array.type.ndim}-d array")
                for idx in op.indices:
                    check_reg(where, idx, "I")
                if isinstance(op, Load):
                    check_reg(where, op.dst, op.array.type.element.reg_kind)
                else:
                    check_reg(where, op.value, None)
            elif isinstance(op, (Jump, Branch)):
                targets = [op.target] if isinstance(op, Jump) else [op.if_true, op.if_false]
                for t in targets:
                    if id(t) not in known:
                        errors.append(f"{where}: target {t.label} is not in the function")
                if isinstance(op, Branch):
                    check_reg(where, op.cond, "I")
            elif isinstance(op, Return):
                got = tuple(v.type for v in op.values)
                want = fn.return_types or ()
                if got != want:
                    errors.append(f"{where}: returns {got}, the function returns {want}")
            elif isinstance(op, ParBegin):
                if not 0 <= op.segments <= MAX_SEGMENTS or op.signals not in ("coupled", "uncoupled"):
                    errors.append(f"{where}: segments or signals out of range")
                if len(op.bounds) not in (0, 3):
                    errors.append(f"{where}: bounds are start, stop, step or none")
                for r in op.bounds:
                    check_reg(where, r, "I")
                for t in (op.body, op.after):
                    if id(t) not in known:
                        errors.append(f"{where}: target {t.label} is not in the function")
            elif isinstance(op, IterEnd):
                if op.opcode not in (Opcode.ITER_END, Opcode.LOOP_EXIT, Opcode.LOOP_RETURN, Opcode.TASK_END):
                    errors.append(f"{where}: not ITER_END, LOOP_EXIT, LOOP_RETURN or TASK_END")
                got = tuple(v.type for v in op.values)
                if op.opcode == Opcode.LOOP_RETURN and got != (fn.return_types or ()):
                    errors.append(f"{where}: returns {got}, the function returns {fn.return_types or ()}")
            elif isinstance(op, Join):
                check_reg(where, op.handle, "I")
            elif isinstance(op, Spawn):
                check_reg(where, op.handle, "I")
                for t in (op.task, op.after):
                    if id(t) not in known:
                        errors.append(f"{where}: target {t.label} is not in the function")
            elif isinstance(op, SegmentSync):
                if op.opcode not in (Opcode.WAIT, Opcode.SIGNAL) or not 0 <= op.segment < MAX_SEGMENTS:
                    errors.append(f"{where}: not a WAIT or SIGNAL of a segment below {MAX_SEGMENTS}")
            if isinstance(op, Join) or (isinstance(op, IterEnd) and op.opcode == Opcode.TASK_END):
                ids = [v.id for v in op.values]  # the engine copies dst .. dst + aux - 1
                if ids and ids != list(range(ids[0], ids[0] + len(ids))):
                    errors.append(f"{where}: the results are not consecutive registers")
    scratch = [region.slot for region in fn.scratch]
    if fn.arrays[len(fn.arrays) - len(scratch):] != scratch or any(
        r.length < 1 or r.slot.type.ndim != 1
        or (r.slot.shape[0] is not r.like.shape[0] if r.like is not None else r.slot.shape[0].const != r.length)
        for r in fn.scratch
    ):
        errors.append("the scratch regions are not the last array slots, 1-d, of their declared length")
    return errors
