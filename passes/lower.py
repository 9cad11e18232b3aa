"""Lower a kernel from source to the register IR, inlining the helper kernels it calls.

Each variable gets one register of its inferred type (``types.py``); temporaries get fresh ones;
constants are preloaded registers. Loops are rotated so an iteration costs one test::

    for i in range(n):          entry:  i = 0 ; BR LT_I 0, n ? body : exit
        s += a[i]          ->   body:   t = LOAD a[i] ; s = ADD_F s, t
                                latch:  i = ADD_I i, 1 ; BR LT_I i, n ? body : done
                                done:   i = SUB_I i, 1          (Python leaves i at its last value)

Short-circuit ``and``/``or``, chained comparisons and conditional expressions become branches,
as a compiler for an in-order core would emit them. The result is verified by ``ir.verify``.

The parallel form lowers for the multicore engine (docs/multicore.md): ``prange``/``prange_while``
end a block with ``PAR_BEGIN`` (its range, or none); each iteration starts at the body block with
``it = ITER_BEGIN`` (``v = start + it * step``), ends with ``ITER_END`` (``continue`` too),
``LOOP_EXIT`` (``break``) or ``LOOP_RETURN`` (``return``), and the main context goes on after the
loop. ``wait``/``signal`` become ``WAIT``/``SIGNAL``. Each cell of a shared object is a scratch
region of one element; a reduction or lastprivate cell has one copy per worker context, indexed by
the object's handle register, which each iteration sets to its context (``CTX``), and every write
to it inside the loop also stores the iteration in the object's tag region; the engine combines
the copies after the loop (``Function.reductions``)::

    seg0 = shared(0, n=n)          STORE seg0.n[seg0] = n       (after seg0:i64 = MOV 0)
    seg0.n += 1               ->   t = LOAD seg0.n[seg0] ; t2 = ADD_I t, 1 ; STORE seg0.n[seg0] = t2
"""

from __future__ import annotations

import math
import operator
import struct
from dataclasses import dataclass, field
from typing import Callable, Sequence

import libcst as cst

from helixrc.csim.errors import LanguageError, Loc
from helixrc.csim.opcodes import MAX_CORES, Opcode
from helixrc.passes.frontend import KernelModule, check_kernel
from helixrc.passes.guard_unbound import guard_unbound
from helixrc.passes.inspector import lower_independent
from helixrc.passes.ir import (
    ArraySlot, ArrayType, Block, Branch, Compute, Function, IterEnd, Join, Jump, Load, LoopInfo,
    ParBegin, Raise, ReductionSpec, Reg, Return, Scalar, Scratch, SegmentSync, Spawn, Store,
)
from helixrc.passes.loops import find_loops, suite_body
from helixrc.passes.parallel_form import ParLoop, ParObject, TaskJoin, TaskSpawn
from helixrc.passes.types import (
    AUG_TO_BIN, CONVERSIONS, INT64_MAX, INT64_MIN, ExprType, FnSig, FnTypes, Raw, TypeChecker,
)

I64, F64, BOOL = Scalar.I64, Scalar.F64, Scalar.BOOL

INT_BINARY: dict[type, Opcode] = {
    cst.Add: Opcode.ADD_I, cst.Subtract: Opcode.SUB_I, cst.Multiply: Opcode.MUL_I,
    cst.FloorDivide: Opcode.FLOORDIV_I, cst.Modulo: Opcode.MOD_I, cst.Power: Opcode.POW_I,
    cst.BitAnd: Opcode.AND_I, cst.BitOr: Opcode.OR_I, cst.BitXor: Opcode.XOR_I,
    cst.LeftShift: Opcode.SHL_I, cst.RightShift: Opcode.SHR_I, cst.Divide: Opcode.TRUEDIV_I,
}
FLOAT_BINARY: dict[type, Opcode] = {
    cst.Add: Opcode.ADD_F, cst.Subtract: Opcode.SUB_F, cst.Multiply: Opcode.MUL_F,
    cst.Divide: Opcode.DIV_F, cst.FloorDivide: Opcode.FLOORDIV_F, cst.Modulo: Opcode.MOD_F,
    cst.Power: Opcode.POW_F,
}
COMPARE_NAMES: dict[type, str] = {
    cst.LessThan: "LT", cst.LessThanEqual: "LE", cst.GreaterThan: "GT",
    cst.GreaterThanEqual: "GE", cst.Equal: "EQ", cst.NotEqual: "NE",
}
MIRROR = {"LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE", "EQ": "EQ", "NE": "NE"}
MATH_OPS = {"sqrt": Opcode.SQRT_F, "exp": Opcode.EXP_F, "log": Opcode.LOG_F,
            "fabs": Opcode.ABS_F, "floor": Opcode.FLOOR_F, "ceil": Opcode.CEIL_F}
PY_BINARY: dict[type, Callable[[object, object], object]] = {
    cst.Add: operator.add, cst.Subtract: operator.sub, cst.Multiply: operator.mul,
    cst.Divide: operator.truediv, cst.FloorDivide: operator.floordiv, cst.Modulo: operator.mod,
    cst.Power: operator.pow, cst.BitAnd: operator.and_, cst.BitOr: operator.or_,
    cst.BitXor: operator.xor, cst.LeftShift: operator.lshift, cst.RightShift: operator.rshift,
}


def reg_type(t: ExprType) -> Scalar:
    """The register type holding a value of static type t (raw elements load as i64 or f64)."""
    if isinstance(t, Raw):
        if t.is_float:
            return F64
        return BOOL if t.dtype == "bool" else I64
    assert isinstance(t, Scalar)
    return t


@dataclass
class LoopRecord:
    """Where a loop's invocations and iterations can be counted after encoding."""

    info: LoopInfo
    entry: Block
    body: Block


#: the scratch dtype of a cell of each type
CELL_DTYPES = {I64: "int64", F64: "float64", BOOL: "bool"}


@dataclass
class ObjectStorage:
    """A parallel-form object in one scope: its handle register and each cell's scratch region."""

    handle: Reg
    cells: dict[str, ArraySlot]
    #: reduction and lastprivate objects: the iteration of each copy's last write
    tags: ArraySlot | None = None


@dataclass
class Scope:
    """One function instance being lowered: the kernel itself or an inlined helper."""

    types: FnTypes
    fn_def: cst.FunctionDef
    vars: dict[str, Reg]
    arrays: dict[str, ArraySlot]
    loops: dict[cst.CSTNode, LoopInfo]
    #: set for an inlined helper: where its returns go
    result_regs: list[Reg] | None = None
    return_block: Block | None = None
    #: (continue target, break target) of the enclosing source loops
    loop_targets: list[tuple[Block, Block]] = field(default_factory=list)
    loop_stack: list[LoopInfo] = field(default_factory=list)
    #: the loop of the call site, for an inlined helper
    outer_loop: LoopInfo | None = None
    #: the parallel form's objects, by name
    objects: dict[str, ObjectStorage] = field(default_factory=dict)


@dataclass
class Lowered:
    """A lowered kernel and what the encoder and the reports need besides the IR."""

    function: Function
    loop_records: list[LoopRecord]


def lower_kernel(module: KernelModule, name: str, args: Sequence[Scalar | ArrayType]) -> Lowered:
    """Validate kernel ``name`` of ``module`` and lower it for arguments of the given types."""
    check_kernel(module, name)
    checker = TypeChecker(module)
    sig = FnSig(name, tuple(args))
    types = checker.infer(sig)
    return _Lowerer(module, checker).lower(sig, types)


class _Lowerer:
    def __init__(self, module: KernelModule, checker: TypeChecker) -> None:
        self.module = module
        self.checker = checker
        self.consts: dict[tuple[Scalar, bytes], Reg] = {}
        self.loop_records: list[LoopRecord] = []
        #: registers of source variables (not temporaries), by register id
        self.var_regs: dict[int, Reg] = {}
        #: helper entries: the caller's variables passed as arguments (read at the call, as
        #: Python evaluates arguments) and the helper's locals (unassigned again in a new frame)
        self.calls: list[tuple[Block, set[int], set[int]]] = []
        self.reparent_cache: dict[tuple[int, str], LoopInfo] = {}
        #: constant-folding results by node: expr() asks at every level of an expression
        self.fold_cache: dict[int, int | float | bool | None] = {}
        self.block: Block
        self.scope: Scope
        self.nblocks = 0
        #: the parallel loop being lowered, and how many helper calls deep it was entered
        self.parallel: tuple[ParLoop, int] | None = None
        #: the helper calls being inlined, innermost last
        self.call_sites: list[Loc] = []
        #: the values of return temporaries, until their return
        self.deferred: dict[cst.Assign, list[Reg]] = {}
        #: inside the parallel loop's body: the register holding the iteration number
        self.iteration: Reg | None = None
        #: the parallel loop's loads and the array slots it stores to, helpers inlined (LOAD_RO)
        self.par_loads: list[Load] = []
        self.par_stored: set[int] = set()
        #: where the main context goes on after the parallel loop
        self.after_parallel: Block
        #: the task being lowered (its spawn's location), and each spawn's result registers
        self.task: Loc | None = None
        self.task_results: dict[TaskSpawn, list[Reg]] = {}

    # -- infrastructure ---------------------------------------------------------------------

    def loc(self, node: cst.CSTNode) -> Loc:
        return self.module.loc(node)

    def new_reg(self, t: Scalar, name: str | None = None) -> Reg:
        reg = Reg(len(self.fn.regs), t, name or f"t{len(self.fn.regs)}")
        self.fn.regs.append(reg)
        return reg

    def const(self, value: int | float | bool, t: Scalar | None = None) -> Reg:
        if t is None:
            t = BOOL if isinstance(value, bool) else I64 if isinstance(value, int) else F64
        if t == F64:
            value = float(value)
            bits = struct.pack("<d", value)
        else:
            value = int(value) if t == I64 else bool(value)
            bits = struct.pack("<q", int(value))
        key = (t, bits)
        if key not in self.consts:
            reg = Reg(len(self.fn.regs), t, f"c{len(self.fn.regs)}", const=value)
            self.fn.regs.append(reg)
            self.consts[key] = reg
        return self.consts[key]

    def new_block(self, hint: str) -> Block:
        self.nblocks += 1
        loop = self.scope.loop_stack[-1] if self.scope.loop_stack else self.scope.outer_loop
        return Block(f"{hint}{self.nblocks}", loop)

    def start(self, block: Block) -> None:
        self.fn.blocks.append(block)
        self.block = block

    def emit(self, op) -> None:  # type: ignore[no-untyped-def]
        if self.block.terminated:
            # Code after a return/break/continue: unreachable, kept in a block pruned later.
            self.start(self.new_block("dead"))
        self.block.append(op)
        if self.parallel is not None:
            if isinstance(op, Load):
                self.par_loads.append(op)
            elif isinstance(op, Store):
                self.par_stored.add(op.array.slot)

    def jump(self, target: Block, loc: Loc) -> None:
        if not self.block.terminated:
            self.block.append(Jump(target, loc))

    def compute(self, opcode: Opcode, dst: Reg | None, t: Scalar, srcs: tuple[Reg, ...],
                loc: Loc) -> Reg:
        if dst is None or dst.const is not None:
            dst = self.new_reg(t)
        self.emit(Compute(opcode, dst, srcs, loc))
        return dst

    def move(self, dst: Reg | None, src: Reg, loc: Loc) -> Reg:
        if dst is None or dst is src:
            return src
        self.emit(Compute(Opcode.MOV, dst, (src,), loc))
        return dst

    def node_type(self, node: cst.CSTNode) -> ExprType:
        return self.scope.types.node_types[node]

    def node_types_get(self, node: cst.CSTNode) -> ExprType | None:
        return self.scope.types.node_types.get(node)

    # -- functions --------------------------------------------------------------------------

    def lower(self, sig: FnSig, types: FnTypes) -> Lowered:
        fn_def = self.module.functions[sig.name]
        self.fn = Function(sig.name, self.loc(fn_def), params=[])
        self.fn.return_types = types.returns
        self.fn.returns_tuple = types.returns_tuple
        scope = self.make_scope(types, fn_def, None)
        for p, t in zip(fn_def.params.params, sig.args):
            pname = p.name.value
            if isinstance(t, ArrayType):
                shape = tuple(self.new_reg(I64, f"{pname}.shape[{d}]") for d in range(t.ndim))
                slot = ArraySlot(len(self.fn.arrays), pname, t, shape)
                self.fn.arrays.append(slot)
                scope.arrays[pname] = slot
                self.fn.params.append(slot)
            else:
                self.fn.params.append(scope.vars[pname])
        self.allocate_cells(scope)  # after the arguments: scratch slots come last
        self.scope = scope
        self.start(Block("entry", None))
        self.statements(suite_body(fn_def.body))
        self.fall_off(fn_def)
        self.prune()
        params = {p.id for p in self.fn.params if isinstance(p, Reg)}
        guard_unbound(self.fn, self.var_regs, params, self.calls)
        return Lowered(self.fn, self.loop_records)

    def make_scope(self, types: FnTypes, fn_def: cst.FunctionDef,
                   alias: dict[str, Reg | ArraySlot] | None) -> Scope:
        alias = alias or {}
        scope = Scope(types, fn_def, {}, {},
                      find_loops(fn_def, types.sig.name, self.loc))
        for name, t in types.vars.items():
            bound = alias.get(name)
            if isinstance(bound, ArraySlot):
                scope.arrays[name] = bound
            elif isinstance(bound, Reg):
                scope.vars[name] = bound
            elif isinstance(t, Scalar):
                reg = self.new_reg(t, self.scoped_name(types, name))
                scope.vars[name] = reg
                self.var_regs[reg.id] = reg
        for name in types.parallel.objects:
            # The handle is a variable to guard_unbound: a cell used before its object's
            # statement ran raises UnboundLocalError, as CPython's attribute read would.
            handle = self.new_reg(I64, self.scoped_name(types, name))
            self.var_regs[handle.id] = handle
            scope.objects[name] = ObjectStorage(handle, {})
        return scope

    def scoped_name(self, types: FnTypes, name: str) -> str:
        """A variable's name in the IR: an inlined helper's are prefixed with the helper's."""
        inlined = hasattr(self, "scope")
        return f"{types.sig.name}.{name}" if inlined else name

    def allocate_cells(self, scope: Scope) -> None:
        """One scratch region per cell of the scope's objects: one element for a shared cell, one
        copy per worker context (MAX_CORES) for a reduction or lastprivate cell, whose object also
        gets a region of tags (the iteration of each copy's last write)."""
        for name, obj in scope.types.parallel.objects.items():
            storage = scope.objects[name]
            copies = 1 if obj.kind == "shared" else MAX_CORES
            for cell in obj.cell_names:
                dtype = CELL_DTYPES[scope.types.cells[f"{name}.{cell}"]]
                storage.cells[cell] = self.scratch(scope, f"{name}.{cell}", dtype, copies)
            if obj.kind != "shared":
                storage.tags = self.scratch(scope, f"{name}.@iteration", "int64", copies)
                op = obj.op if obj.kind == "reduction" else "last"
                self.fn.reductions.append(ReductionSpec(
                    op or "last", obj.ties or "first", tuple(storage.cells.values()), storage.tags))

    def scratch(self, scope: Scope, name: str, dtype: str, length: int) -> ArraySlot:
        slot = ArraySlot(len(self.fn.arrays), self.scoped_name(scope.types, name),
                         ArrayType(dtype, 1), (self.const(length, I64),))
        self.fn.arrays.append(slot)
        self.fn.scratch.append(Scratch(slot, length))
        return slot

    def fall_off(self, fn_def: cst.FunctionDef) -> None:
        """The end of the body: an implicit `return` (None)."""
        if self.block.terminated:
            return
        loc = self.loc(fn_def)
        if self.scope.types.returns is not None:
            # Reaching here would return None where other paths return values; refuse only if
            # reachable, which prune() decides, so mark it.
            self.block.append(Raise("fall_off", f"kernel '{fn_def.name.value}' can reach its end "
                                    "without returning a value", loc))
        elif self.scope.return_block is not None:
            self.block.append(Jump(self.scope.return_block, loc))
        else:
            self.block.append(Return((), loc))

    def prune(self) -> None:
        """Drop unreachable blocks; refuse a reachable fall-off where values are returned."""
        seen: set[int] = set()
        stack = [self.fn.blocks[0]]
        while stack:
            b = stack.pop()
            if id(b) in seen:
                continue
            seen.add(id(b))
            stack.extend(b.successors())
        self.fn.blocks = [b for b in self.fn.blocks if id(b) in seen]
        for b in self.fn.blocks:
            last = b.ops[-1]
            if isinstance(last, Raise) and last.kind == "fall_off":
                raise LanguageError(last.message, last.loc,
                                    "add a return at the end, of the same types as the others")
        kept = set(id(b) for b in self.fn.blocks)
        self.loop_records = [r for r in self.loop_records
                             if id(r.entry) in kept and id(r.body) in kept]

    # -- statements -------------------------------------------------------------------------

    def statements(self, stmts: list[cst.CSTNode]) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small(small)
            elif isinstance(stmt, cst.If):
                self.if_stmt(stmt)
            elif isinstance(stmt, cst.For):
                par = self.scope.types.parallel.loops.get(stmt)
                if par is not None and par.kind == "prange_while":
                    self.prange_while_stmt(stmt, par)
                else:
                    self.for_stmt(stmt, par)
            elif isinstance(stmt, cst.While):
                self.while_stmt(stmt)
            else:
                raise LanguageError("this statement is not supported in a kernel", self.loc(stmt))

    def small(self, node: cst.CSTNode) -> None:
        loc = self.loc(node)
        form = self.scope.types.parallel
        obj = form.object_at.get(node)  # type: ignore[call-overload]
        sync = form.syncs.get(node)  # type: ignore[call-overload]
        spawn = form.spawns.get(node)  # type: ignore[call-overload]
        join = form.joins.get(node)
        if obj is not None:
            self.object_statement(obj, loc)
        elif spawn is not None:
            self.spawn(spawn, loc)
        elif join is not None:
            self.join(join, loc)
        elif node in form.deferred:
            # result = <value>: computed here, inside the segment; returned by `return result`
            assert isinstance(node, cst.Assign)
            self.deferred[node] = self.return_values(node.value)
        elif sync is not None:
            opcode = Opcode.WAIT if sync.kind == "wait" else Opcode.SIGNAL
            self.emit(SegmentSync(opcode, sync.segment, loc))
        elif isinstance(node, cst.Assign):
            if len(node.targets) == 1:
                self.assign(node.targets[0].target, node.value, loc)
            else:
                # `i = j = expr`: the value is computed once and assigned left to right.
                value = self.expr(node.value, None)
                for target in node.targets:
                    self.store_to(target.target, value, loc)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, node.value, loc)
        elif isinstance(node, cst.AugAssign):
            self.aug_assign(node, loc)
        elif isinstance(node, cst.Return):
            self.return_stmt(node, loc)
        elif isinstance(node, cst.Break):
            self.jump(self.scope.loop_targets[-1][1], loc)
        elif isinstance(node, cst.Continue):
            self.jump(self.scope.loop_targets[-1][0], loc)
        elif isinstance(node, cst.Pass):
            pass
        elif isinstance(node, cst.Assert):
            ok, fail = self.new_block("assert_ok"), self.new_block("assert_fail")
            self.cond(node.test, ok, fail)
            self.start(fail)
            message = ""
            if node.msg is not None and isinstance(node.msg, cst.SimpleString):
                message = node.msg.evaluated_value
            self.emit(Raise("assertion", message, loc))
            self.start(ok)
        elif isinstance(node, cst.Expr):
            if isinstance(node.value, cst.Call):
                self.helper_call(node.value)
            # a docstring or a bare constant: nothing to do
        else:
            raise LanguageError("this statement is not supported in a kernel", loc)

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression, loc: Loc) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            targets = [e.value for e in target.elements]
            if isinstance(value, cst.Tuple):
                # Evaluate every value before assigning any target: `a, b = b, a`.
                regs = [self.expr(e.value, None) for e in value.elements]
                written = {self.scope.vars[n].id for t in targets for n in _target_names(t)}
                regs = [self.move(self.new_reg(r.type), r, loc) if r.id in written else r
                        for r in regs]
            else:
                regs = self.helper_call(value)
            for t, r in zip(targets, regs):
                self.store_to(t, r, loc)
            return
        if isinstance(target, cst.Name):
            dst = self.scope.vars[target.value]
            if isinstance(value, cst.Call) and self.is_helper(value):
                (r,) = self.helper_call(value)
                self.move(dst, r, loc)
            else:
                self.expr(value, dst)
            return
        self.store_to(target, self.expr(value, None), loc)

    def store_to(self, target: cst.BaseExpression, reg: Reg, loc: Loc) -> None:
        if isinstance(target, cst.Name):
            self.move(self.scope.vars[target.value], reg, loc)
            return
        slot, indices = self.memory_ref(target)
        self.emit(Store(slot, indices, self.store_value(slot, reg, loc), loc))
        self.tag_write(target, loc)

    def tag_write(self, target: cst.BaseExpression, loc: Loc) -> None:
        """Inside the parallel loop a write to a reduction or lastprivate copy also records the
        iteration, which the engine's combine orders copies by."""
        if self.iteration is None or not isinstance(target, cst.Attribute):
            return
        storage = self.scope.objects[self.scope.types.parallel.cells[target].name]
        if storage.tags is not None:
            self.emit(Store(storage.tags, (storage.handle,), self.iteration, loc))

    def memory_ref(self, target: cst.BaseExpression) -> tuple[ArraySlot, tuple[Reg, ...]]:
        """Where an array element or a parallel-form cell lives: its slot and index registers."""
        if isinstance(target, cst.Attribute):
            obj = self.scope.types.parallel.cells[target]
            storage = self.scope.objects[obj.name]
            return storage.cells[target.attr.value], (storage.handle,)
        assert isinstance(target, cst.Subscript)
        return self.array_ref(target)

    def object_statement(self, obj: ParObject, loc: Loc) -> None:
        """``X = shared(k, a=..., ...)``: the initial values, evaluated in order, into X's cells."""
        values = [self.expr(value, None) for _, value in obj.cells]
        storage = self.scope.objects[obj.name]
        self.emit(Compute(Opcode.MOV, storage.handle, (self.const(0, I64),), loc))
        for (cell, _), value in zip(obj.cells, values):
            slot = storage.cells[cell]
            self.emit(Store(slot, (storage.handle,), self.store_value(slot, value, loc), loc))

    def store_value(self, slot: ArraySlot, reg: Reg, loc: Loc) -> Reg:
        """Convert an int or bool to float for a float array, as NumPy's assignment does."""
        if slot.type.element == F64 and reg.type != F64:
            return self.to_float(reg, loc)
        return reg

    def aug_assign(self, node: cst.AugAssign, loc: Loc) -> None:
        op = AUG_TO_BIN[type(node.operator)]
        if isinstance(node.target, cst.Name):
            dst = self.scope.vars[node.target.value]
            rhs = self.expr(node.value, None)
            self.binary_into(op, dst, rhs, dst, loc)
            return
        # a[i] op= v (or X.a op= v): Python evaluates the index, loads a[i], then evaluates v.
        slot, indices = self.memory_ref(node.target)
        old = self.new_reg(slot.type.element)
        self.emit(Load(old, slot, indices, loc))
        rhs = self.expr(node.value, None)
        result = self.binary_into(op, old, rhs, None, loc)
        self.emit(Store(slot, indices, self.store_value(slot, result, loc), loc))
        self.tag_write(node.target, loc)

    def return_stmt(self, node: cst.Return, loc: Loc) -> None:
        values: list[Reg] = []
        deferred = self.scope.types.parallel.returns.get(node)
        if deferred is not None:
            values = self.deferred.pop(deferred)
        elif node.value is not None:
            values = self.return_values(node.value)
        if self.parallel is not None and self.parallel[1] == len(self.call_sites):
            # A return of the parallel loop's own function, inside it: the iteration's result.
            if self.scope.return_block is not None:
                raise LanguageError(
                    "a return inside a helper's parallel loop is not supported", loc,
                    "return a value from the loop's kernel, or keep the helper's loop a plain range loop")
            self.emit(IterEnd(Opcode.LOOP_RETURN, tuple(values), loc))
            return
        if self.scope.result_regs is not None:
            for dst, v in zip(self.scope.result_regs, values):
                self.move(dst, v, loc)
        if self.scope.return_block is not None:
            self.jump(self.scope.return_block, loc)
        else:
            self.emit(Return(tuple(values), loc))

    def return_values(self, value: cst.BaseExpression) -> list[Reg]:
        """The registers holding a return value: one, or one per element of a tuple."""
        if isinstance(value, cst.Tuple):
            return [self.expr(e.value, None) for e in value.elements]
        if isinstance(value, cst.Call) and self.is_helper(value):
            return self.helper_call(value)
        return [self.expr(value, None)]

    def if_stmt(self, stmt: cst.If) -> None:
        done = self.new_block("endif")
        node: cst.If | cst.Else | None = stmt
        while isinstance(node, cst.If):
            then, other = self.new_block("then"), self.new_block("else")
            self.cond(node.test, then, other)
            self.start(then)
            self.statements(suite_body(node.body))
            self.jump(done, self.loc(node))
            self.start(other)
            node = node.orelse
        if isinstance(node, cst.Else):
            self.statements(suite_body(node.body))
        self.jump(done, self.loc(stmt))
        self.start(done)

    def enter_loop(self, stmt: cst.For | cst.While) -> tuple[LoopInfo, Block]:
        info = self.reparented(self.scope.loops[stmt])
        entry = self.new_block("loop")
        entry.counted = True
        self.jump(entry, self.loc(stmt))
        self.start(entry)
        if info not in self.fn.loops:
            self.fn.loops.append(info)
        return info, entry

    def reparented(self, info: LoopInfo) -> LoopInfo:
        """A helper's loop, nested under the loop of the call site so cycles add up inclusively."""
        if self.scope.outer_loop is None:
            return info
        key = (id(self.scope), info.id)
        if key not in self.reparent_cache:
            parent = self.reparented(info.parent) if info.parent else self.scope.outer_loop
            self.reparent_cache[key] = LoopInfo(info.id, info.kind, info.loc, parent)
        return self.reparent_cache[key]

    def for_stmt(self, stmt: cst.For, par: ParLoop | None = None) -> None:
        """``for v in range(...)``: a counted loop; ``prange(start, stop, step, ...)``: the parallel
        loop over the same range."""
        loc = self.loc(stmt)
        info, entry = self.enter_loop(stmt)
        assert isinstance(stmt.target, cst.Name) and isinstance(stmt.iter, cst.Call)
        var = self.scope.vars[stmt.target.value]
        args = list(par.bounds) if par is not None else [a.value for a in stmt.iter.args]
        regs = [self.expr(a, None) for a in args]
        # range() evaluates its arguments once, before the first iteration.
        body_writes = {self.scope.vars[n].id for n in assigned_names(stmt.body) if n in self.scope.vars}
        regs = [self.move(self.new_reg(I64), r, loc) if r.id in body_writes else r for r in regs]
        if len(regs) == 1:
            start, stop, step = self.const(0), regs[0], self.const(1)
        elif len(regs) == 2:
            start, stop, step = regs[0], regs[1], self.const(1)
        else:
            start, stop, step = regs
        self.step_nonzero(step, loc)
        if par is not None:
            self.prange(stmt, par, info, entry, (start, stop, step))
            return
        # The loop variable doubles as the counter unless the body assigns it.
        counter = var if stmt.target.value not in assigned_names(stmt.body) else self.new_reg(I64, f"{var.name}.next")
        first, body, latch, exit_, done = (
            self.new_block("first"), self.new_block("body"), self.new_block("latch"),
            self.new_block("loop_exit"), self.new_block("after"))
        body.counted = True
        cont = self.range_test(start, stop, step, loc)
        self.emit(Branch(cont, first, done, loc))
        self.loop_records.append(LoopRecord(info, entry, body))
        # The counter takes the first value only once the loop is known to run: with zero
        # iterations Python leaves the loop variable untouched.
        self.start(first)
        self.move(counter, start, loc)
        self.jump(body, loc)
        self.start(body)
        if counter is not var:
            self.emit(Compute(Opcode.MOV, var, (counter,), loc))
        self.loop_body(stmt, info, latch, done)
        self.start(latch)
        self.compute(Opcode.ADD_I, counter, I64, (counter, step), loc)
        cont = self.range_test(counter, stop, step, loc)
        self.emit(Branch(cont, body, exit_, loc))
        self.start(exit_)
        if counter is var:
            self.compute(Opcode.SUB_I, var, I64, (var, step), loc)
        self.jump(done, loc)
        self.start(done)

    def step_nonzero(self, step: Reg, loc: Loc) -> None:
        """ValueError, as range() raises, when step is 0."""
        if step.const is None:
            ok, bad = self.new_block("step_ok"), self.new_block("step_zero")
            self.emit(Branch(step, ok, bad, loc))
            self.start(bad)
            self.emit(Raise("value", "range() arg 3 must not be zero", loc))
            self.start(ok)
        elif step.const == 0:
            self.emit(Raise("value", "range() arg 3 must not be zero", loc))
            self.start(self.new_block("dead"))

    def prange(self, stmt: cst.For, par: ParLoop, info: LoopInfo, entry: Block,
               bounds: tuple[Reg, Reg, Reg]) -> None:
        """The iterations of ``prange(start, stop, step)``: each computes ``v = start + it * step``
        from its number ``it``."""
        loc = self.loc(stmt)
        assert isinstance(stmt.target, cst.Name)
        var = self.scope.vars[stmt.target.value]
        start, _, step = bounds
        it = self.begin_parallel(par, info, entry, bounds, loc)
        offset = it if step.const == 1 else self.compute(Opcode.MUL_I, None, I64, (it, step), loc)
        if start.const == 0:
            self.move(var, offset, loc)
        else:
            self.compute(Opcode.ADD_I, var, I64, (start, offset), loc)
        self.parallel_body(stmt, info, loc)

    def prange_while_stmt(self, stmt: cst.For, par: ParLoop) -> None:
        """``for it in prange_while(...)``: iterations 0, 1, 2, ... until one breaks (or returns)."""
        loc = self.loc(stmt)
        info, entry = self.enter_loop(stmt)
        assert isinstance(stmt.target, cst.Name)
        it = self.begin_parallel(par, info, entry, (), loc)
        self.move(self.scope.vars[stmt.target.value], it, loc)
        self.parallel_body(stmt, info, loc)

    def begin_parallel(self, par: ParLoop, info: LoopInfo, entry: Block, bounds: tuple[Reg, ...],
                       loc: Loc) -> Reg:
        """End the current block with PAR_BEGIN and start the first block of an iteration: its
        number, and the running context's copy of each reduction and lastprivate object."""
        if self.task is not None:
            raise LanguageError(f"this call runs a parallel loop (line {loc.line} of {loc.file}) inside "
                                f"the task spawned at line {self.task.line}: a task runs on one context",
                                self.call_sites[-1] if self.call_sites else loc,
                                "spawn a kernel without parallel loops")
        if self.parallel is not None:
            outer, depth = self.parallel
            site = self.call_sites[depth] if depth < len(self.call_sites) else loc
            raise LanguageError(
                f"this call runs a parallel loop (line {loc.line} of {loc.file}) inside the parallel "
                f"loop of line {self.loc(outer.node).line}: one parallel loop runs at a time", site,
                "call it outside the parallel loop, or keep the helper's loop a plain range loop",
            )
        self.parallel = (par, len(self.call_sites))
        body, self.after_parallel = self.new_block("iteration"), self.new_block("after")
        body.counted = True
        self.emit(ParBegin(par.segments, par.signals, bounds, body, self.after_parallel, loc))
        self.loop_records.append(LoopRecord(info, entry, body))
        self.start(body)
        self.iteration = self.compute(Opcode.ITER_BEGIN, None, I64, (), loc)
        for storage in self.scope.objects.values():
            if storage.tags is not None:
                self.emit(Compute(Opcode.CTX, storage.handle, (), loc))
        return self.iteration

    def parallel_body(self, stmt: cst.For, info: LoopInfo, loc: Loc) -> None:
        """The loop's body: falling off its end or ``continue`` is ITER_END, ``break`` LOOP_EXIT;
        the main context goes on after the loop."""
        latch, exit_ = self.new_block("iter_end"), self.new_block("loop_exit")
        exit_.loop = info
        self.loop_body(stmt, info, latch, exit_)
        self.start(latch)
        self.emit(IterEnd(Opcode.ITER_END, (), loc))
        self.start(exit_)
        self.emit(IterEnd(Opcode.LOOP_EXIT, (), loc))
        self.start(self.after_parallel)
        self.mark_read_only()
        self.parallel = None
        self.iteration = None

    def mark_read_only(self) -> None:
        """A load of an array argument that no store of the parallel loop (helpers inlined, any
        path, dead code too) writes reads no shared data: LOAD_RO, which the core serves from its
        private L1 even inside a segment. Cells are always shared; two arguments that overlap in
        memory are caught by the engine, which keeps such a LOAD_RO on the ring."""
        params = {p.slot for p in self.fn.params if isinstance(p, ArraySlot)}
        for load in self.par_loads:
            load.read_only = load.array.slot in params and load.array.slot not in self.par_stored
        self.par_loads, self.par_stored = [], set()

    def range_test(self, at: Reg, stop: Reg, step: Reg, loc: Loc) -> Reg:
        if step.const is not None:
            opcode = Opcode.LT_I if step.const > 0 else Opcode.GT_I
            return self.compute(opcode, None, BOOL, (at, stop), loc)
        return self.compute(Opcode.RANGE_CONT, None, BOOL, (at, stop, step), loc)

    def while_stmt(self, stmt: cst.While) -> None:
        info, entry = self.enter_loop(stmt)
        body, latch, done = self.new_block("body"), self.new_block("latch"), self.new_block("after")
        body.counted = True
        self.cond(stmt.test, body, done)
        self.loop_records.append(LoopRecord(info, entry, body))
        self.start(body)
        self.loop_body(stmt, info, latch, done)
        self.start(latch)
        self.cond(stmt.test, body, done)
        self.start(done)

    def loop_body(self, stmt: cst.For | cst.While, info: LoopInfo, latch: Block,
                  done: Block) -> None:
        self.scope.loop_stack.append(info)
        self.scope.loop_targets.append((latch, done))
        latch.loop = info
        self.block.loop = info
        self.statements(suite_body(stmt.body))
        self.jump(latch, self.loc(stmt))
        self.scope.loop_targets.pop()
        self.scope.loop_stack.pop()

    # -- helper kernels ---------------------------------------------------------------------

    def call_kind(self, node: cst.Call) -> str:
        """What the type checker found the call calls: "helper", "math.<fn>" or a builtin's name."""
        return self.scope.types.call_kinds[node]

    def is_helper(self, node: cst.Call) -> bool:
        return self.call_kind(node) == "helper"

    def spawn(self, spawn: TaskSpawn, loc: Loc) -> None:
        """``h = spawn(task, args...)``: the task's body inlined out of line, after SPAWN."""
        if self.parallel is not None:
            raise LanguageError("a task is spawned inside the parallel loop of line "
                                f"{self.loc(self.parallel[0].node).line}", self.call_sites[0] if self.call_sites else loc,
                                "spawn tasks outside parallel loops")
        if self.task is not None:
            raise LanguageError(f"a task is spawned inside the task spawned at line {self.task.line}: "
                                "a task spawns nothing", self.call_sites[-1] if self.call_sites else loc,
                                "spawn every task from the main context")
        handle = self.scope.vars[spawn.handle]
        self.task_results[spawn] = self.helper_call(spawn.call, task=handle)

    def join(self, join: TaskJoin, loc: Loc) -> None:
        """``join(h)``, ``x = join(h)``, ``a, b = join(h)``: JOIN, then the results into the targets."""
        results = self.task_results[join.spawn]
        self.emit(Join(self.scope.vars[join.spawn.handle], tuple(results), loc))
        target = join.target
        if target is None:
            return
        targets = [e.value for e in target.elements] if isinstance(target, cst.Tuple) else [target]
        for t, r in zip(targets, results):
            self.store_to(t, r, loc)

    def helper_call(self, node: cst.BaseExpression, task: Reg | None = None) -> list[Reg]:
        """Inline a call of a helper kernel; returns the registers holding its results. With
        ``task`` (a handle), ``node`` is a ``spawn(helper, ...)`` call: the arguments are evaluated
        here, then SPAWN, then the body out of line, ending in TASK_END."""
        assert isinstance(node, cst.Call)
        loc = self.loc(node)
        call_args = node.args[1:] if task is not None else node.args
        func = node.args[0].value if task is not None else node.func
        assert isinstance(func, cst.Name)
        name = func.value
        caller = self.scope
        arg_types: list[Scalar | ArrayType] = []
        bound: list[Reg | ArraySlot] = []
        for arg in call_args:
            t = self.node_type(arg.value)
            if isinstance(t, ArrayType):
                base = arg.value
                assert isinstance(base, cst.Name)
                bound.append(caller.arrays[base.value])
                arg_types.append(t)
            else:
                bound.append(self.expr(arg.value, None))
                arg_types.append(reg_type(t))
        types = self.checker.infer(FnSig(name, tuple(arg_types)))
        fn_def = self.module.functions[name]
        params = [p.name.value for p in fn_def.params.params]
        written = assigned_names(fn_def.body)
        alias: dict[str, Reg | ArraySlot] = {}
        copies: list[tuple[str, Reg]] = []
        for pname, value in zip(params, bound):
            if isinstance(value, ArraySlot) or pname not in written:
                alias[pname] = value
            else:
                copies.append((pname, value))
        scope = self.make_scope(types, fn_def, alias)
        self.allocate_cells(scope)
        after = None
        if task is not None:
            body, after = self.new_block(f"task_{name}_"), self.new_block("continue")
            self.emit(Spawn(task, body, after, loc))
            self.start(body)
        for pname, value in copies:
            self.move(scope.vars[pname], value, loc)
        # A fresh frame: the helper's locals are unassigned at each call.
        call_entry = Block(f"call_{name}_{self.nblocks}", self.block.loop)
        self.jump(call_entry, loc)
        self.start(call_entry)
        passed = {v.id for v in bound if isinstance(v, Reg) and v.id in self.var_regs}
        fresh = {r.id for n, r in scope.vars.items() if n not in params}
        self.calls.append((call_entry, passed, fresh | {o.handle.id for o in scope.objects.values()}))
        results = [self.new_reg(t) for t in (types.returns or ())]
        scope.result_regs = results
        scope.return_block = self.new_block(f"ret_{name}_")
        scope.outer_loop = caller.loop_stack[-1] if caller.loop_stack else caller.outer_loop
        scope.return_block.loop = scope.outer_loop
        self.scope = scope
        self.call_sites.append(loc)
        outer_task = self.task
        if task is not None:
            self.task = loc
        try:
            self.statements(suite_body(fn_def.body))
            self.fall_off(fn_def)
        finally:
            self.scope = caller
            self.call_sites.pop()
            self.task = outer_task
        self.start(scope.return_block)
        if after is not None:
            self.emit(IterEnd(Opcode.TASK_END, tuple(results), loc))
            self.start(after)
        return results

    # -- expressions ------------------------------------------------------------------------

    def folded(self, node: cst.BaseExpression) -> int | float | bool | None:
        """The value of an expression made only of literals and module constants, else None."""
        key = id(node)
        if key in self.fold_cache:
            return self.fold_cache[key]
        try:
            value = self._fold(node)
        except (ArithmeticError, ValueError, TypeError):
            value = None
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                value = None
        self.fold_cache[key] = value
        return value

    def _fold(self, node: cst.BaseExpression) -> int | float | bool | None:
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.evaluated_value
        if isinstance(node, cst.Name):
            if node.value in ("True", "False"):
                return node.value == "True"
            if node.value in self.scope.vars or node.value in self.scope.arrays:
                return None
            if node.value in self.module.constants:
                return self.module.constants[node.value]
            if self.module.math_aliases.get(node.value) == "inf":
                return math.inf
            return None
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            if node.value.value in self.module.math_modules and node.attr.value == "inf":
                return math.inf
            return None
        if isinstance(node, cst.UnaryOperation):
            inner = self._fold(node.expression)
            if inner is None:
                return None
            if isinstance(node.operator, cst.Minus):
                return -inner
            if isinstance(node.operator, cst.Plus):
                return +inner
            if isinstance(node.operator, cst.BitInvert):
                return ~inner  # type: ignore[operator]
            return not inner
        if isinstance(node, cst.BinaryOperation):
            left, right = self._fold(node.left), self._fold(node.right)
            if left is None or right is None:
                return None
            result = PY_BINARY[type(node.operator)](left, right)
            return result  # type: ignore[return-value]
        names = self.scope.types.parallel.overlap_checks.get(node) if isinstance(node, cst.Call) else None
        if names is not None:  # whether the arguments overlap is the signature's: the branch not
            first, *others = (self.scope.arrays[n] for n in names)  # taken is never lowered
            return not any(self.may_overlap(first, other) for other in others)
        return None

    def expr(self, node: cst.BaseExpression, want: Reg | None) -> Reg:
        """Lower an expression; the value ends in ``want`` when given (written last)."""
        loc = self.loc(node)
        value = self.folded(node)
        if value is not None:
            t = self.node_type(node) if node in self.scope.types.node_types else None
            reg = self.const(value, reg_type(t) if t is not None and not isinstance(t, ArrayType) else None)
            return self.move(want, reg, loc)
        if isinstance(node, cst.Name):
            return self.move(want, self.scope.vars[node.value], loc)
        if isinstance(node, cst.Attribute) and node in self.scope.types.parallel.cells:
            slot, indices = self.memory_ref(node)
            dst = want if want is not None and want.type == slot.type.element else self.new_reg(slot.type.element)
            self.emit(Load(dst, slot, indices, loc))
            return self.move(want, dst, loc)
        if isinstance(node, cst.BinaryOperation):
            left = self.expr(node.left, None)
            right = self.expr(node.right, None)
            return self.binary_into(type(node.operator), left, right, want, loc)
        if isinstance(node, cst.UnaryOperation):
            return self.unary(node, want, loc)
        if isinstance(node, (cst.BooleanOperation, cst.IfExp)) or (
            isinstance(node, cst.Comparison) and len(node.comparisons) > 1
        ):
            return self.branchy_value(node, want, loc)
        if isinstance(node, cst.Comparison):
            left = self.expr(node.left, None)
            right = self.expr(node.comparisons[0].comparator, None)
            numpy_rules = isinstance(self.node_type(node), Raw)
            return self.compare(type(node.comparisons[0].operator), left, right, want, loc, numpy_rules)
        if isinstance(node, cst.Subscript):
            if isinstance(node.value, cst.Attribute):
                return self.move(want, self.shape_reg(node), loc)
            slot, indices = self.array_ref(node)
            dst = want if want is not None and want.type == slot.type.element else self.new_reg(slot.type.element)
            self.emit(Load(dst, slot, indices, loc))
            return self.move(want, dst, loc)
        if isinstance(node, cst.Call):
            return self.call(node, want, loc)
        raise LanguageError("this expression is not supported in a kernel", loc)

    def shape_reg(self, node: cst.Subscript) -> Reg:
        attr = node.value
        assert isinstance(attr, cst.Attribute) and isinstance(attr.value, cst.Name)
        slot = self.scope.arrays.get(attr.value.value)
        index = node.slice[0].slice
        dim = self.folded(index.value) if isinstance(index, cst.Index) else None
        if slot is None or not isinstance(dim, int):
            raise LanguageError("shape must be read as a.shape[d] with a constant d of an array",
                                self.loc(node))
        if not -slot.type.ndim <= dim < slot.type.ndim:
            raise LanguageError(f"'{slot.name}' has {slot.type.ndim} dimension(s); shape[{dim}] "
                                "is out of range", self.loc(node))
        return slot.shape[dim]

    def array_ref(self, node: cst.Subscript) -> tuple[ArraySlot, tuple[Reg, ...]]:
        levels: list[list[cst.BaseExpression]] = []
        base: cst.BaseExpression = node
        while isinstance(base, cst.Subscript):
            levels.insert(0, [e.slice.value for e in base.slice if isinstance(e.slice, cst.Index)])
            base = base.value
        assert isinstance(base, cst.Name)
        slot = self.scope.arrays[base.value]
        regs: list[Reg] = []
        for level, exprs in enumerate(levels):
            if level > 0 and any(_may_raise(e) for e in exprs):
                # m[i][j]: CPython indexes m[i] (IndexError) before it evaluates j.
                for d, reg in enumerate(regs):
                    self.bounds_check(slot, d, reg, self.loc(node))
            regs.extend(self.expr(e, None) for e in exprs)
        return slot, tuple(regs)

    def bounds_check(self, slot: ArraySlot, d: int, index: Reg, loc: Loc) -> None:
        low = self.compute(Opcode.NEG_I, None, I64, (slot.shape[d],), loc)
        above, inside, fail = self.new_block("idx_lo"), self.new_block("idx_ok"), self.new_block("idx_bad")
        self.emit(Branch(self.compute(Opcode.GE_I, None, BOOL, (index, low), loc), above, fail, loc))
        self.start(above)
        self.emit(Branch(self.compute(Opcode.LT_I, None, BOOL, (index, slot.shape[d]), loc), inside, fail, loc))
        self.start(fail)
        self.emit(Raise("index", f"index out of bounds for axis {d} of '{slot.name}'", loc))
        self.start(inside)

    def to_float(self, reg: Reg, loc: Loc) -> Reg:
        if reg.type == F64:
            return reg
        if reg.const is not None:
            return self.const(float(reg.const), F64)
        return self.compute(Opcode.I2F, None, F64, (reg,), loc)

    def binary_into(self, op: type, left: Reg, right: Reg, want: Reg | None, loc: Loc) -> Reg:
        floats = F64 in (left.type, right.type)
        if op is cst.Power and not floats and (right.const is None or right.const < 0):
            floats = True  # int ** negative int is a float in Python
        if floats:
            opcode = FLOAT_BINARY.get(op)
            if opcode is None:
                raise LanguageError("this operator is not defined on floats", loc)
            srcs, t = (self.to_float(left, loc), self.to_float(right, loc)), F64
        elif op is cst.Divide:
            opcode, srcs, t = Opcode.TRUEDIV_I, (left, right), F64
        else:
            opcode, srcs = INT_BINARY[op], (left, right)
            bitwise = op in (cst.BitAnd, cst.BitOr, cst.BitXor)
            t = BOOL if bitwise and left.type == right.type == BOOL else I64
        dst = want if want is not None and want.type == t else None
        return self.move(want, self.compute(opcode, dst, t, srcs, loc), loc)

    def unary(self, node: cst.UnaryOperation, want: Reg | None, loc: Loc) -> Reg:
        if isinstance(node.operator, cst.Not):
            if self.simple_truth(node.expression):
                return self.not_value(node, want, loc)
            return self.branchy_value(node, want, loc)
        value = self.expr(node.expression, None)
        if isinstance(node.operator, cst.Plus):
            return self.move(want, self.retyped(value, I64, loc), loc)
        if isinstance(node.operator, cst.Minus):
            opcode = Opcode.NEG_F if value.type == F64 else Opcode.NEG_I
        else:
            opcode = Opcode.INV_I
        t = F64 if value.type == F64 else I64
        dst = want if want is not None and want.type == t else None
        return self.move(want, self.compute(opcode, dst, t, (value,), loc), loc)

    def retyped(self, reg: Reg, t: Scalar, loc: Loc) -> Reg:
        """The value of a bool register as an int (same bits, but Python's type differs)."""
        if reg.type != BOOL or t == BOOL:
            return reg
        if reg.const is not None:
            return self.const(int(reg.const), I64)
        return self.compute(Opcode.MOV, None, I64, (reg,), loc)

    def simple_truth(self, node: cst.BaseExpression) -> bool:
        return not isinstance(node, (cst.BooleanOperation, cst.Comparison)) and not (
            isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not))

    def not_value(self, node: cst.UnaryOperation, want: Reg | None, loc: Loc) -> Reg:
        value = self.expr(node.expression, None)
        if value.type == F64:
            result = self.compute(Opcode.EQ_F, None, BOOL, (value, self.const(0.0)), loc)
        else:
            result = self.compute(Opcode.EQ_I, None, BOOL, (value, self.const(0, I64)), loc)
        return self.move(want, result, loc)

    def compare(self, op: type, left: Reg, right: Reg, want: Reg | None, loc: Loc,
                numpy_rules: bool = False) -> Reg:
        name = COMPARE_NAMES[op]
        if numpy_rules and (left.type == F64) != (right.type == F64):
            # NumPy compares an array element with a number of the other kind by converting
            # the int to float64 (CPython's own int/float comparison is exact).
            left, right = self.to_float(left, loc), self.to_float(right, loc)
        if left.type != F64 and right.type != F64:
            opcode = Opcode[f"{name}_I"]
        elif left.type == F64 and right.type == F64:
            opcode = Opcode[f"{name}_F"]
        elif right.type == F64:
            opcode = Opcode[f"{name}_IF"]
        else:
            opcode, left, right = Opcode[f"{MIRROR[name]}_IF"], right, left
        dst = want if want is not None and want.type == BOOL else None
        return self.move(want, self.compute(opcode, dst, BOOL, (left, right), loc), loc)

    def truth(self, reg: Reg, loc: Loc) -> Reg:
        if reg.type == F64:
            return self.compute(Opcode.NE_F, None, BOOL, (reg, self.const(0.0)), loc)
        return reg

    def branchy_value(self, node: cst.BaseExpression, want: Reg | None, loc: Loc) -> Reg:
        """and/or, conditional expressions, `not` of a condition and chained comparisons."""
        t = reg_type(self.node_type(node))
        result = self.new_reg(t)
        done = self.new_block("join")
        if isinstance(node, cst.IfExp):
            yes, no = self.new_block("ifexp_t"), self.new_block("ifexp_f")
            self.cond(node.test, yes, no)
            for block, branch in ((yes, node.body), (no, node.orelse)):
                self.start(block)
                self.expr(branch, result)
                self.jump(done, loc)
        elif isinstance(node, cst.BooleanOperation):
            self.expr(node.left, result)
            rest = self.new_block("rhs")
            truth = self.truth(result, loc)
            if isinstance(node.operator, cst.And):
                self.emit(Branch(truth, rest, done, loc))
            else:
                self.emit(Branch(truth, done, rest, loc))
            self.start(rest)
            self.expr(node.right, result)
            self.jump(done, loc)
        else:
            yes, no = self.new_block("true"), self.new_block("false")
            self.cond(node, yes, no)
            self.boolean(yes, no, result, done, loc)
            return self.move(want, result, loc)
        self.start(done)
        return self.move(want, result, loc)

    def boolean(self, yes: Block, no: Block, result: Reg, done: Block, loc: Loc) -> None:
        """result = True at yes, False at no; both go on at done, where code continues."""
        self.start(yes)
        self.move(result, self.const(True), loc)
        self.jump(done, loc)
        self.start(no)
        self.move(result, self.const(False), loc)
        self.jump(done, loc)
        self.start(done)

    def cond(self, node: cst.BaseExpression, yes: Block, no: Block) -> None:
        """Branch to ``yes`` or ``no`` on the truth of node, short-circuiting."""
        loc = self.loc(node)
        value = self.folded(node)
        if value is not None:
            self.jump(yes if value else no, loc)
            return
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            self.cond(node.expression, no, yes)
        elif isinstance(node, cst.BooleanOperation):
            mid = self.new_block("and" if isinstance(node.operator, cst.And) else "or")
            if isinstance(node.operator, cst.And):
                self.cond(node.left, mid, no)
            else:
                self.cond(node.left, yes, mid)
            self.start(mid)
            self.cond(node.right, yes, no)
        elif isinstance(node, cst.Comparison):
            left = self.expr(node.left, None)
            numpy_rules = isinstance(self.node_types_get(node), Raw)
            for i, target in enumerate(node.comparisons):
                right = self.expr(target.comparator, None)
                result = self.compare(type(target.operator), left, right, None, loc, numpy_rules)
                if i == len(node.comparisons) - 1:
                    self.emit(Branch(result, yes, no, loc))
                else:
                    nxt = self.new_block("chain")
                    self.emit(Branch(result, nxt, no, loc))
                    self.start(nxt)
                left = right
        else:
            reg = self.expr(node, None)
            self.emit(Branch(self.truth(reg, loc), yes, no, loc))

    def may_overlap(self, a: ArraySlot, b: ArraySlot) -> bool:
        """Whether two array arguments of the call may share memory (``ArrayType.shares``)."""
        if a is b:
            return True
        position = next((k for k, p in enumerate(self.fn.params) if p is b), None)
        if a.type.shares is None or b.type.shares is None or position is None:
            return True
        return position in a.type.shares

    def call(self, node: cst.Call, want: Reg | None, loc: Loc) -> Reg:
        check = self.scope.types.parallel.checks.get(node)
        if check is not None:
            return self.move(want, lower_independent(self, check, loc), loc)
        names = self.scope.types.parallel.dtype_checks.get(node)
        if names is not None:  # the dtypes are the signature's: a constant
            types = [self.scope.arrays[n].type for n in names]
            wide = all(t.is_list or (t.dtype == "int64" and t.ndim == 1) for t in types)
            return self.move(want, self.const(wide, BOOL), loc)
        if self.is_helper(node):
            (result,) = self.helper_call(node)
            return self.move(want, result, loc)
        kind = self.call_kind(node)
        math_fn = kind.removeprefix("math.") if kind.startswith("math.") else None
        if kind == "len":
            base = node.args[0].value
            assert isinstance(base, cst.Name)
            return self.move(want, self.scope.arrays[base.value].shape[0], loc)
        if kind in CONVERSIONS:
            arg_t = reg_type(self.node_type(node.args[0].value))
            if arg_t == CONVERSIONS[kind]:
                return self.expr(node.args[0].value, want)  # int(a[i]) of an int element: no op
        args = [self.expr(a.value, None) for a in node.args]
        if math_fn is not None:
            (arg,) = args
            if math_fn in ("floor", "ceil") and arg.type != F64:
                return self.move(want, arg, loc)  # math.floor of an int is the int
            return self.move(want, self.compute(MATH_OPS[math_fn], None, I64 if math_fn in ("floor", "ceil") else F64, (self.to_float(arg, loc),), loc), loc)
        fname = kind
        if fname in CONVERSIONS:
            (arg,) = args
            target = CONVERSIONS[fname]
            if target == F64:
                return self.move(want, self.to_float(arg, loc), loc)
            if target == I64:
                if arg.type == F64:
                    return self.move(want, self.compute(Opcode.F2I, None, I64, (arg,), loc), loc)
                return self.move(want, self.retyped(arg, I64, loc), loc)
            if arg.type == BOOL:
                return self.move(want, arg, loc)
            opcode = Opcode.NE_F if arg.type == F64 else Opcode.NE_I
            zero = self.const(0.0) if arg.type == F64 else self.const(0, I64)
            return self.move(want, self.compute(opcode, None, BOOL, (arg, zero), loc), loc)
        if fname == "abs":
            (arg,) = args
            opcode = Opcode.ABS_F if arg.type == F64 else Opcode.ABS_I
            return self.move(want, self.compute(opcode, None, F64 if arg.type == F64 else I64, (arg,), loc), loc)
        if fname in ("min", "max"):
            t = args[0].type
            opcode = Opcode[f"{fname.upper()}_{'F' if t == F64 else 'I'}"]
            acc = args[0]
            for i, nxt in enumerate(args[1:], 2):
                last = i == len(args) and want is not None and want.type == t
                acc = self.compute(opcode, want if last else None, t, (acc, nxt), loc)
            return self.move(want, acc, loc)
        raise LanguageError(f"call of '{fname}' is not supported in a kernel", loc)


def _may_raise(node: cst.BaseExpression) -> bool:
    """Whether evaluating an index expression could raise (anything beyond names and literals)."""
    return not isinstance(node, (cst.Name, cst.Integer))


def assigned_names(body: cst.CSTNode) -> set[str]:
    """Names assigned anywhere in a body (assignment targets and for-loop variables)."""
    names: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            names.update(_target_names(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            names.update(_target_names(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            names.update(_target_names(node.target))

        def visit_For(self, node: cst.For) -> None:
            names.update(_target_names(node.target))

    body.visit(Collect())
    return names


def _target_names(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in _target_names(e.value)]
    return []
