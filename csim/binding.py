"""The thin layer over the compiled core ``helixrc.csim._core``: encode, run, decode.

:class:`Program` encodes instructions once; :func:`run` builds the register file, the array table
and the config, runs the simulator in slices (so Ctrl-C works between them) and returns a
:class:`RunOutcome`. Kernel exceptions (IndexError and friends) are *results* here, not raised:
the caller maps ``status`` and ``pc`` to a source line (:data:`KERNEL_EXCEPTIONS` gives the class).
Only problems with the machine or the program itself raise: :class:`MachineError` for an invalid
config, :class:`SimulatorError` for an invalid program or a failed allocation.

At import, this module checks that the compiled core and the Python side agree on the opcode
table, the enums and the fields of ``csim_config``, and raises ImportError if not (a stale build).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ._core import ffi, lib
from .errors import (
    KernelAssertionError,
    KernelError,
    KernelIndexError,
    KernelOverflowError,
    KernelUnboundLocalError,
    KernelValueError,
    KernelZeroDivisionError,
    MachineError,
    SimulatorError,
)
from .machine import CSIM_FIELDS, MachineConfig
from .opcodes import CAT_NAMES, MAX_SEGMENTS, OP_INFO, Cat, DType, Status

_ERR_SIZE = 512


def _check_core() -> None:
    """Raise ImportError if the compiled core disagrees with opcodes.def, api.h or MachineConfig."""
    rebuild = "the compiled core is stale: rebuild it (python csim/_build.py, or reinstall)"
    c_names = [ffi.string(lib.csim_opcode_name(i)).decode() for i in range(lib.csim_opcode_count())]
    py_names = [info.name for info in OP_INFO]
    if c_names != py_names:
        raise ImportError(f"opcode tables differ: C has {c_names}, opcodes.def has {py_names}; {rebuild}")
    for enum, prefix in ((Status, "CSIM_"), (DType, "CSIM_"), (Cat, "CSIM_CAT_")):
        for member in enum:
            c_value = getattr(lib, prefix + member.name, None)
            if c_value != member.value:
                raise ImportError(f"{prefix}{member.name} is {c_value} in C but {member.value} in api.h; {rebuild}")
    if lib.CSIM_MAX_SEGMENTS != MAX_SEGMENTS:
        raise ImportError(f"CSIM_MAX_SEGMENTS is {lib.CSIM_MAX_SEGMENTS} in C but {MAX_SEGMENTS} in api.h; {rebuild}")
    c_fields = {name for name, _ in ffi.typeof("csim_config").fields}
    if c_fields != set(CSIM_FIELDS):
        raise ImportError(
            f"MachineConfig and csim_config disagree: only in C {sorted(c_fields - set(CSIM_FIELDS))}, "
            f"only in Python {sorted(set(CSIM_FIELDS) - c_fields)}"
        )
    if ffi.sizeof("csim_pc_stats") != 8 * (1 + len(CAT_NAMES)):
        raise ImportError("csim_pc_stats is not one exec counter plus one counter per csim_cat")


_check_core()

#: The exception a kernel raised, by status (the caller adds the source location).
KERNEL_EXCEPTIONS: dict[int, type[KernelError]] = {
    Status.INDEX_ERROR: KernelIndexError,
    Status.ZERO_DIVISION: KernelZeroDivisionError,
    Status.OVERFLOW: KernelOverflowError,
    Status.VALUE_ERROR: KernelValueError,
    Status.ASSERTION: KernelAssertionError,
    Status.UNBOUND_LOCAL: KernelUnboundLocalError,
}

_INSTR_FIELDS = ("op", "aux", "dst", "a", "b", "c")
_INSTR_DTYPE = np.dtype([("op", "<u2"), ("aux", "<u2"), ("dst", "<i4"), ("a", "<i4"), ("b", "<i4"), ("c", "<i4")])
if _INSTR_DTYPE.itemsize != ffi.sizeof("csim_instr"):
    raise ImportError("csim_instr is not laid out as (u16 op, u16 aux, i32 dst, a, b, c)")

#: csim_trace_event as NumPy sees it (one row per event, in the scheduler's order)
TRACE_DTYPE = np.dtype([("cycle", "<u8"), ("iteration", "<i8"), ("arg", "<i8"), ("kind", "<i4"),
                        ("core", "<i4"), ("worker", "<i4"), ("seg", "<i4")])
if TRACE_DTYPE.itemsize != ffi.sizeof("csim_trace_event"):
    raise ImportError("csim_trace_event is not laid out as (u64 cycle, i64 iteration, arg, i32 kind, core, worker, seg)")


@dataclass(frozen=True)
class ArrayArg:
    """One array argument: where its element [0, 0, 0] lives on the host and in simulated memory."""

    host_addr: int
    sim_addr: int
    dtype: int                   # csim_dtype (opcodes.dtype_code(array.dtype))
    shape: tuple[int, ...]
    strides: tuple[int, ...]     # in bytes; may be negative
    writable: bool = True        # False: stores raise ValueError (a read-only NumPy array)


#: csim_reduce_op by the parallel form's operator name ("last": lastprivate)
REDUCE_OPS: dict[str, int] = {"+": 0, "*": 1, "&": 2, "|": 3, "^": 4, "min": 5, "max": 6, "argmin": 7,
                              "argmax": 8, "last": 9}


@dataclass(frozen=True)
class Reduction:
    """A reduction or lastprivate object: how the engine combines its per-context copies.

    Its cells are the ``ncells`` array slots from ``first_slot``, each CSIM_MAX_CORES copies long;
    ``tag_slot`` holds the iteration of each copy's last write.
    """

    op: int                      # REDUCE_OPS[...]
    ties: str                    # "first" or "last"
    first_slot: int
    ncells: int
    tag_slot: int


class Program:
    """A program encoded for the core once, reusable across runs.

    ``code`` holds (op, aux, dst, a, b, c) tuples as opcodes.def describes them; ``nregs`` is the
    size of the register file. The core validates the program when a run starts.
    """

    def __init__(self, code: Sequence[tuple[int, int, int, int, int, int]], nregs: int,
                 reductions: Sequence[Reduction] = ()) -> None:
        table = np.array(code, dtype=np.int64).reshape(-1, 6)
        lo = np.array([0, 0, -(2**31), -(2**31), -(2**31), -(2**31)])
        hi = np.array([2**16 - 1, 2**16 - 1, 2**31 - 1, 2**31 - 1, 2**31 - 1, 2**31 - 1])
        bad = np.argwhere((table < lo) | (table > hi))
        if len(bad):
            pc, col = bad[0]
            field = _INSTR_FIELDS[col]
            raise SimulatorError(f"pc {pc}: {field}={table[pc, col]} does not fit csim_instr.{field}")
        if not 0 <= nregs < 2**31:
            raise SimulatorError(f"nregs must be from 0 to 2**31-1 (got {nregs})")
        packed = np.zeros(len(table), dtype=_INSTR_DTYPE)
        for col, field in enumerate(_INSTR_FIELDS):
            packed[field] = table[:, col]
        self.ncode: int = len(table)
        self.nregs: int = nregs
        self.code: tuple[tuple[int, ...], ...] = tuple(tuple(int(x) for x in row) for row in table)
        self._instrs = ffi.new("csim_instr[]", max(1, self.ncode))
        ffi.memmove(self._instrs, packed.tobytes(), packed.nbytes)
        self.reductions: tuple[Reduction, ...] = tuple(reductions)
        self._reductions = ffi.new("csim_reduction[]", max(1, len(self.reductions)))
        for k, red in enumerate(self.reductions):
            entry = self._reductions[k]
            entry.op, entry.ties, entry.first_slot = red.op, int(red.ties == "last"), red.first_slot
            entry.ncells, entry.tag_slot = red.ncells, red.tag_slot

    def __len__(self) -> int:
        return self.ncode


class Registers:
    """The final register file, readable as ints or floats (a register holds either)."""

    def __init__(self, raw: np.ndarray) -> None:
        self._ints = raw
        self._floats = raw.view(np.float64)

    def reg_int(self, i: int) -> int:
        return int(self._ints[i])

    def reg_float(self, i: int) -> float:
        return float(self._floats[i])

    def __len__(self) -> int:
        return len(self._ints)


@dataclass
class RunOutcome:
    """What a run produced: how it stopped, the final registers, and where the cycles went."""

    status: int                  # csim_status: OK, or the exception the kernel raised, or BUDGET
    status_name: str             # Status(status).name: "OK", "INDEX_ERROR", ...
    pc: int                      # the RET pc, or the faulting one
    message: str                 # the exception's text (empty for OK and RAISE)
    regs: Registers
    totals: dict[str, Any]       # csim_totals; "cat" is {"busy": .., "mem_l1": .., ...}
    trace: np.ndarray | None     # the trace events (TRACE_DTYPE rows) of a traced run, else None
    trace_dropped: int           # events past the trace limit, not kept
    pc_stats: np.ndarray         # (ncode, 1 + ncat) uint64: exec count, then cycles per csim_cat
    host_seconds: float
    #: per core: busy (issue and stalls per category), wait, dispatch, idle, iterations,
    #: instructions (csim_core_stats)
    cores: list[dict[str, int]]
    #: the same counters per worker context (cores * smt, core-major; the main context's with
    #: context 0's)
    contexts: list[dict[str, int]]
    #: the ring cache's and the coherence directory's counters (csim_comm_stats)
    comm: dict[str, int]
    #: the DRAM controller's counters (csim_dram_stats; zeros with dram_line_cycles 0)
    dram: dict[str, int] = field(default_factory=dict)
    #: after a CHECK_VIOLATION status: the first violation (csim_violation's fields)
    violation: dict[str, int] | None = None
    #: per parallel loop run (csim_loop_stats, first-run order): pc, segments, invocations,
    #: iterations, cycles, and "seg", one csim_segment_stats dict per declared segment (at most 64)
    parallel_loops: list[dict[str, Any]] = field(default_factory=list)
    #: some loop or segment past csim's limits (16 loops, 64 segments) was not counted
    parallel_loops_overflow: bool = False
    #: Relic tasks (csim_task_stats): spawned, joined, queue-full and join-wait cycles, ...
    tasks: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def reg_int(self, i: int) -> int:
        return self.regs.reg_int(i)

    def reg_float(self, i: int) -> float:
        return self.regs.reg_float(i)


def _counters(sim: Any, ctype: str, getter: Any) -> dict[str, int]:
    """A counters struct the simulator fills (getter(sim, out)) as a dict by field name."""
    out = ffi.new(f"{ctype} *")
    getter(sim, out)
    return {name: int(getattr(out, name)) for name, _ in ffi.typeof(ctype).fields}


def _config_struct(config: MachineConfig) -> Any:
    cfg = ffi.new("csim_config *")
    for field, value in config.csim_fields().items():
        setattr(cfg, field, value)
    return cfg


def _array_table(arrays: Sequence[ArrayArg]) -> Any:
    table = ffi.new("csim_array[]", max(1, len(arrays)))
    for k, arr in enumerate(arrays):
        if not 1 <= len(arr.shape) <= 3 or len(arr.strides) != len(arr.shape):
            raise SimulatorError(f"array {k}: shape {arr.shape} and strides {arr.strides} must both have 1 to 3 entries")
        entry = table[k]
        entry.host_addr = arr.host_addr
        entry.sim_addr = arr.sim_addr
        entry.dtype = arr.dtype
        entry.ndim = len(arr.shape)
        entry.writable = int(arr.writable)
        for d, (n, s) in enumerate(zip(arr.shape, arr.strides)):
            entry.shape[d] = n
            entry.strides[d] = s
    return table


def _register_file(nregs: int, reg_init: Sequence[tuple[int, int | float]]) -> Any:
    regs = ffi.new("csim_value[]", max(1, nregs))
    for index, value in reg_init:
        if not 0 <= index < nregs:
            raise SimulatorError(f"register r{index} is out of range for {nregs} registers")
        if isinstance(value, float):
            regs[index].f = value
        elif isinstance(value, (int, np.integer)):  # bools included: True is 1
            if not -(2**63) <= value < 2**63:
                raise KernelOverflowError(f"the int {value} does not fit in the simulator's 64-bit ints")
            regs[index].i = int(value)
        else:
            raise TypeError(f"register r{index}: expected an int or a float, got {type(value).__name__}")
    return regs


def run(
    program: Program,
    reg_init: Sequence[tuple[int, int | float]],
    arrays: Sequence[ArrayArg],
    config: MachineConfig,
    slice_steps: int = 50_000_000,
    trace_limit: int | None = None,
) -> RunOutcome:
    """Run program on the machine config from the given registers and arrays.

    Array memory is read and written in place. Returns the outcome whatever the kernel did;
    raises MachineError for an invalid config, SimulatorError for an invalid program.
    ``trace_limit`` (at least 1) records the scheduler's events, keeping at most that many.
    """
    if trace_limit is not None and trace_limit < 1:
        raise SimulatorError(f"the trace limit must be at least 1 (got {trace_limit})")
    regs = _register_file(program.nregs, reg_init)
    table = _array_table(arrays)
    prog = ffi.new(
        "csim_program *",
        {"code": program._instrs, "ncode": program.ncode, "nregs": program.nregs, "regs": regs,
         "arrays": table, "narrays": len(arrays), "reductions": program._reductions,
         "nreductions": len(program.reductions)},
    )
    cfg = _config_struct(config)
    pc_stats = np.zeros((program.ncode, 1 + len(CAT_NAMES)), dtype=np.uint64)
    stats_ptr = ffi.cast("csim_pc_stats *", ffi.from_buffer(pc_stats))
    status = ffi.new("int *")
    err = ffi.new("char[]", _ERR_SIZE)

    sim = lib.csim_new(cfg, prog, stats_ptr, status, err, _ERR_SIZE)
    if sim == ffi.NULL:
        text = ffi.string(err).decode()
        if status[0] == Status.BAD_CONFIG:
            raise MachineError(f"machine {config.name!r}: {text}")
        raise SimulatorError(f"{Status(status[0]).name.lower().replace('_', ' ')}: {text}")
    try:
        if trace_limit is not None:
            lib.csim_trace_enable(sim, trace_limit)
        start = time.perf_counter()
        # Python runs signal handlers between the slices, so Ctrl-C interrupts a long run.
        code = lib.csim_run(sim, slice_steps)
        while code == Status.PAUSED:
            code = lib.csim_run(sim, slice_steps)
        host_seconds = time.perf_counter() - start
        pc = lib.csim_fault_pc(sim)
        message = ffi.string(lib.csim_message(sim)).decode()
        events, dropped = _trace_events(sim) if trace_limit is not None else (None, 0)
        totals = ffi.new("csim_totals *")
        lib.csim_get_totals(sim, totals)
        cores = _unit_stats(sim, lib.csim_core_count(sim), lib.csim_get_core_stats)
        contexts = _unit_stats(sim, lib.csim_context_count(sim), lib.csim_get_context_stats)
        comm = _counters(sim, "csim_comm_stats", lib.csim_get_comm_stats)
        dram = _counters(sim, "csim_dram_stats", lib.csim_get_dram_stats)
        parallel_loops, overflow = _loop_stats(sim)
        task_struct = ffi.new("csim_task_stats *")
        lib.csim_get_task_stats(sim, task_struct)
        tasks = {name: int(getattr(task_struct, name)) for name, _ in ffi.typeof("csim_task_stats").fields}
        violation = None
        if code == Status.CHECK_VIOLATION:
            v = ffi.new("csim_violation *")
            lib.csim_get_violation(sim, v)
            violation = {name: int(getattr(v, name)) for name, _ in ffi.typeof("csim_violation").fields}
    finally:
        lib.csim_free(sim)

    raw = np.frombuffer(ffi.buffer(regs), dtype=np.int64)[: program.nregs].copy()
    return RunOutcome(
        status=code,
        status_name=Status(code).name,
        pc=pc,
        message=message,
        regs=Registers(raw),
        totals=_totals_dict(totals),
        trace=events,
        trace_dropped=dropped,
        pc_stats=pc_stats,
        host_seconds=host_seconds,
        cores=cores,
        contexts=contexts,
        comm=comm,
        dram=dram,
        violation=violation,
        parallel_loops=parallel_loops,
        parallel_loops_overflow=overflow,
        tasks=tasks,
    )


def _unit_stats(sim: Any, count: int, get: Any) -> list[dict[str, int]]:
    """csim_core_stats of each of count cores or contexts, as get (a csim_get_*_stats) gives them."""
    one = ffi.new("csim_core_stats *")
    out = []
    for k in range(count):
        get(sim, k, one)
        out.append({name: int(getattr(one, name)) for name, _ in ffi.typeof("csim_core_stats").fields})
    return out


def _loop_stats(sim: Any) -> tuple[list[dict[str, Any]], bool]:
    """csim_loop_stats of each parallel loop run, and whether any loop or segment was left out."""
    overflow = ffi.new("int *")
    one = ffi.new("csim_loop_stats *")
    seg_fields = [name for name, _ in ffi.typeof("csim_segment_stats").fields]
    out = []
    for k in range(lib.csim_loop_count(sim, overflow)):
        lib.csim_get_loop_stats(sim, k, one)
        entry: dict[str, Any] = {name: int(getattr(one, name))
                                 for name, _ in ffi.typeof("csim_loop_stats").fields if name != "seg"}
        kept = min(one.segments, len(one.seg))
        entry["seg"] = [{name: int(getattr(one.seg[j], name)) for name in seg_fields} for j in range(kept)]
        out.append(entry)
    return out, bool(overflow[0])


def _trace_events(sim: Any) -> tuple[np.ndarray, int]:
    """A copy of the run's trace events (the core frees its buffer) and the dropped count."""
    count, dropped = ffi.new("int64_t *"), ffi.new("int64_t *")
    ptr = lib.csim_trace_events(sim, count, dropped)
    if count[0] == 0:
        return np.zeros(0, dtype=TRACE_DTYPE), int(dropped[0])
    raw = ffi.buffer(ptr, count[0] * TRACE_DTYPE.itemsize)
    return np.frombuffer(raw, dtype=TRACE_DTYPE).copy(), int(dropped[0])


def _totals_dict(t: Any) -> dict[str, Any]:
    out: dict[str, Any] = {name: int(getattr(t, name)) for name, _ in ffi.typeof("csim_totals").fields if name != "cat"}
    out["cat"] = {name: int(t.cat[k]) for k, name in enumerate(CAT_NAMES)}
    return out
