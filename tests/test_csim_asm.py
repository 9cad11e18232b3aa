"""A tiny assembler for hand-written simulator programs, and smoke tests of the binding.

Other test_csim_* modules import the helpers: ``I(op, dst, a, b, c, aux=0)`` builds one
instruction tuple; :func:`run_code` runs a list of them; :func:`eval_op` runs one opcode on given
inputs and reports ``("OK", value)`` or ``("ERR", status_name)``; :func:`check` compares that with
what CPython gives (floats bit for bit, exceptions by type, ints past 64 bits as OverflowError).
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Sequence

import numpy as np

from helixrc.csim import binding
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.csim.opcodes import OP_INFO, Opcode, disassemble, dtype_code

Instr = tuple[int, int, int, int, int, int]

# A small L2 keeps the many one-instruction runs cheap; timing tests pass their own config.
FAST = resolve_machine("atom1", l2_size="256K")


def I(op: str | int, dst: int = -1, a: int = -1, b: int = -1, c: int = -1, aux: int = 0) -> Instr:
    """One instruction; op by name or number. Control ops put their target in dst."""
    code = Opcode[op] if isinstance(op, str) else Opcode(op)
    return (int(code), aux, dst, a, b, c)


RET = I("RET")


def array_arg(arr: np.ndarray, sim_addr: int = 1 << 24) -> binding.ArrayArg:
    """An ArrayArg for a NumPy array (or a view: strides and offsets are taken as they are)."""
    return binding.ArrayArg(
        host_addr=arr.__array_interface__["data"][0],
        sim_addr=sim_addr,
        dtype=dtype_code(arr.dtype),
        shape=tuple(arr.shape),
        strides=tuple(arr.strides),
    )


def run_code(
    code: Sequence[Instr],
    regs: Sequence[tuple[int, int | float]] = (),
    arrays: Sequence[np.ndarray] = (),
    nregs: int = 16,
    config: MachineConfig = FAST,
    **kwargs: Any,
) -> binding.RunOutcome:
    """Run code; arrays are NumPy arrays, modified in place."""
    args = [array_arg(a, sim_addr=(1 << 24) * (k + 1)) for k, a in enumerate(arrays)]
    return binding.run(binding.Program(code, nregs), regs, args, config, **kwargs)


def eval_op(op: str, *inputs: int | float) -> tuple[str, Any]:
    """Run one opcode on inputs in r0.. (result in r3): ("OK", int or float) or ("ERR", status)."""
    info = OP_INFO[Opcode[op]]
    srcs = list(range(len(inputs))) + [-1] * (3 - len(inputs))
    out = run_code([I(op, 3, *srcs), RET], list(enumerate(inputs)), nregs=4)
    if not out.ok:
        return ("ERR", out.status_name)
    return ("OK", out.reg_float(3) if info.dst == "F" else out.reg_int(3))


def float_bits(x: float) -> int:
    return int(struct.unpack("<q", struct.pack("<d", x))[0])


LO, HI = -(2**63), 2**63 - 1

EXCEPTIONS = {ZeroDivisionError: "ZERO_DIVISION", OverflowError: "OVERFLOW", ValueError: "VALUE_ERROR"}


def expect(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What the simulator must give: CPython's result, or the status of CPython's exception."""
    try:
        r = fn(*args)
    except tuple(EXCEPTIONS) as e:
        return ("ERR", next(v for k, v in EXCEPTIONS.items() if isinstance(e, k)))
    if isinstance(r, complex):       # the kernel language has no complex: ValueError
        return ("ERR", "VALUE_ERROR")
    if isinstance(r, bool):
        r = int(r)
    if isinstance(r, int) and not LO <= r <= HI:
        return ("ERR", "OVERFLOW")
    return ("OK", r)


def check(op: str, fn: Callable[..., Any], *args: Any) -> None:
    got, want = eval_op(op, *args), expect(fn, *args)
    if want[0] == "OK" and isinstance(want[1], float):
        assert got[0] == "OK" and float_bits(got[1]) == float_bits(want[1]), (op, args, got, want)
    else:
        assert got == want, (op, args)


# --- smoke tests of the binding itself ---------------------------------------------------------

def test_add_and_return() -> None:
    out = run_code([I("ADD_I", 2, 0, 1), RET], [(0, 40), (1, 2)])
    assert out.ok and out.status_name == "OK"
    assert out.reg_int(2) == 42
    assert out.pc == 1
    assert out.message == ""


def test_float_registers_round_trip_bits() -> None:
    for x in (-0.0, float("inf"), 5e-324, float("nan")):
        out = run_code([I("MOV", 1, 0), RET], [(0, x)])
        assert float_bits(out.reg_float(1)) == float_bits(x)


def test_outcome_shapes() -> None:
    code = [I("ADD_I", 2, 0, 1), I("MUL_I", 3, 2, 2), RET]
    out = run_code(code, [(0, 1), (1, 2)])
    assert out.pc_stats.shape == (3, 8) and out.pc_stats.dtype == np.uint64
    assert list(out.pc_stats[:, 0]) == [1, 1, 1]
    assert out.totals["instructions"] == 3
    assert sum(out.totals["cat"].values()) == out.totals["cycles"] == int(out.pc_stats[:, 1:].sum())
    assert set(out.totals["cat"]) == {"busy", "mem_l1", "mem_l2", "mem_dram", "branch", "dependence", "comm"}
    assert out.host_seconds >= 0.0


def test_program_is_reusable() -> None:
    prog = binding.Program([I("MUL_I", 1, 0, 0), RET], 2)
    for x in (3, -7):
        out = binding.run(prog, [(0, x)], [], FAST)
        assert out.reg_int(1) == x * x


def test_disassemble() -> None:
    text = disassemble([I("LOAD", 2, 0, 1, aux=1), I("BRF", 5, 2), I("JMP", 0), RET])
    assert text.splitlines() == [
        "    0  LOAD r2, arr1[r0, r1]",
        "    1  BRF r2 -> 5",
        "    2  JMP -> 0",
        "    3  RET",
    ]


def test_disassemble_parallel_markers() -> None:
    text = disassemble([I("PAR_BEGIN", 0, 1, 2, 3, aux=3), I("PAR_END", 6), I("ITER_BEGIN", 4), I("WAIT", aux=2),
                        I("SIGNAL", aux=2), I("ITER_END"), RET])
    assert text.splitlines() == [
        "    0  PAR_BEGIN segments=3 uncoupled range(r1, r2, r3)",
        "    1  PAR_END -> 6",
        "    2  ITER_BEGIN r4",
        "    3  WAIT 2",
        "    4  SIGNAL 2",
        "    5  ITER_END",
        "    6  RET",
    ]
