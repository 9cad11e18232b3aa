"""Malformed programs and configs are refused with a message, and no program crashes the core."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_csim_asm import FAST, RET, I, Instr, array_arg, run_code
from helixrc.csim import binding
from helixrc.csim.errors import MachineError, SimulatorError
from helixrc.csim.machine import CSIM_FIELDS, MachineConfig, resolve_machine
from helixrc.csim.opcodes import MAX_SEGMENTS, OP_INFO, Opcode, Status

A1 = np.zeros(4, dtype=np.int64)
A2 = np.zeros((2, 3))

BAD_PROGRAMS = {
    "register out of range": ([I("ADD_I", 16, 0, 1), RET], "pc 0: ADD_I register dst=16 is out of range"),
    "negative register": ([I("ADD_I", 1, -2, 1), RET], "register a=-2"),
    "missing operand": ([I("ADD_I", 1, 0), RET], "register b=-1"),
    "unused operand set": ([I("NEG_I", 1, 0, 2), RET], "NEG_I does not use b"),
    "bad target": ([I("JMP", 2), RET], "pc 0: JMP target 2 is not a pc"),
    "missing terminator": ([I("ADD_I", 1, 0, 0)], "pc 0: the last instruction is ADD_I"),
    "falls off after a branch": ([RET, I("BRT", 0, 1)], "the last instruction is BRT"),
    "too few indices": ([I("LOAD", 1, 0, aux=1), RET], "LOAD register b=-1"),
    "too many indices": ([I("LOAD", 1, 0, 0, aux=0), RET], "LOAD does not use b"),
    "no such array": ([I("STORE_I", 1, 0, aux=2), RET], "names array 2 but there are 2"),
    "raise of a non-exception": ([I("RAISE", aux=int(Status.BUDGET))], "not an exception status"),
    "ret with dst": ([I("RET", 3)], "RET does not use dst"),
    "unknown opcode": ([(len(OP_INFO), 0, -1, -1, -1, -1), RET], "opcode"),
    "too many segments": ([I("PAR_BEGIN", 0, aux=MAX_SEGMENTS + 1), RET], "PAR_BEGIN declares 257 segments"),
    "signals neither coupled nor uncoupled": ([I("PAR_BEGIN", 2, aux=1), RET], "signals dst=2"),
    "segment past the limit": ([I("WAIT", aux=MAX_SEGMENTS), RET], "WAIT segment 256"),
    "signal with a register": ([I("SIGNAL", 3, aux=0), RET], "SIGNAL does not use dst"),
    "par_end with an operand": ([I("PAR_END", a=1), RET], "PAR_END does not use a"),
    "empty": ([], "no code"),
}


@pytest.mark.parametrize("name", sorted(BAD_PROGRAMS))
def test_bad_program(name: str) -> None:
    code, words = BAD_PROGRAMS[name]
    with pytest.raises(SimulatorError) as info:
        run_code(code, arrays=[A1, A2])
    assert words in str(info.value)


def test_bad_array_table() -> None:
    prog = binding.Program([I("LOAD", 1, 0, aux=0), RET], 4)
    bad_dtype = dataclasses.replace(array_arg(A1), dtype=99)
    with pytest.raises(SimulatorError, match="dtype 99"):
        binding.run(prog, [], [bad_dtype], FAST)
    null = dataclasses.replace(array_arg(A1), host_addr=0)
    with pytest.raises(SimulatorError, match="NULL"):
        binding.run(prog, [], [null], FAST)
    four_d = dataclasses.replace(array_arg(A1), shape=(1, 1, 1, 4), strides=(8, 8, 8, 8))
    with pytest.raises(SimulatorError, match="1 to 3"):
        binding.run(prog, [], [four_d], FAST)


def test_register_init_errors() -> None:
    with pytest.raises(SimulatorError, match="r9"):
        run_code([RET], [(9, 1)], nregs=4)
    with pytest.raises(OverflowError):
        run_code([RET], [(0, 2**63)], nregs=4)


def unchecked(config: MachineConfig, **fields: int) -> MachineConfig:
    """A copy of config with fields replaced, skipping Python's validation (to reach C's)."""
    copy = object.__new__(MachineConfig)
    for name, value in {**config.to_dict(), **fields}.items():
        object.__setattr__(copy, name, value)
    return copy


def test_bad_config_from_c_is_a_machine_error() -> None:
    with pytest.raises(MachineError, match="l1_size"):
        run_code([RET], config=unchecked(FAST, l1_size=3000))
    with pytest.raises(MachineError, match="issue_width"):
        run_code([RET], config=unchecked(FAST, issue_width=0))


# Values around every bound the validators check.
FIELD_VALUES = st.sampled_from([-1, 0, 1, 2, 3, 4, 8, 24, 25, 32, 33, 48, 64, 65, 1024, 1025, 4096, 8192,
                                3 * 1024, 32 * 1024, 2**20, 10**6, 10**6 + 1])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(CSIM_FIELDS), FIELD_VALUES, min_size=1, max_size=3))
def test_python_and_c_validate_configs_alike(changes: dict[str, int]) -> None:
    try:
        resolve_machine(FAST, **changes)
        python_ok = True
    except MachineError:
        python_ok = False
    try:
        run_code([RET], config=unchecked(FAST, **changes))
        c_ok = True
    except MachineError:
        c_ok = False
    assert python_ok == c_ok, changes


# --- fuzzing: random programs either fail validation or run to a status, never crash ----------

NREGS = 6


@st.composite
def instructions(draw: st.DrawFn, ncode: int) -> Instr:
    op = draw(st.sampled_from(list(Opcode)))
    info = OP_INFO[op]
    reg = st.integers(0, NREGS - 1)
    wild = st.integers(-3, NREGS + 1)
    aux = draw(st.integers(0, 2)) if info.cls == "MEM" else 0
    if op == Opcode.RAISE:
        aux = draw(st.integers(0, 12))
    nsrc = info.nsrcs if info.cls != "MEM" else (1, 2)[aux] if aux < 2 else 3
    srcs = [draw(reg) if k < nsrc else -1 for k in range(3)]
    if info.name in ("JMP", "BRT", "BRF"):
        dst = draw(st.integers(0, ncode - 1))
    elif info.name == "PAR_BEGIN":
        dst, aux = draw(st.integers(0, 1)), draw(st.integers(0, MAX_SEGMENTS))
    elif info.cls == "SYNC":
        dst, aux = -1, draw(st.integers(0, MAX_SEGMENTS - 1))
    elif info.name in ("RET", "RAISE"):
        dst = -1
    else:
        dst = draw(reg)
    instr = [int(op), aux, dst, *srcs]
    if draw(st.integers(0, 9)) == 0:           # now and then, break one field
        k = draw(st.integers(0, 5))
        instr[k] = draw(wild) if k >= 2 else draw(st.integers(0, 70))
    return tuple(instr)  # type: ignore[return-value]


@st.composite
def programs(draw: st.DrawFn) -> list[Instr]:
    n = draw(st.integers(1, 12))
    code = [draw(instructions(n + 1)) for _ in range(n)]
    return code + [RET]


values = st.one_of(st.integers(-5, 5), st.integers(-(2**63), 2**63 - 1), st.floats())


@settings(max_examples=1500, deadline=None)
@given(code=programs(), regs=st.lists(values, min_size=NREGS, max_size=NREGS))
def test_random_programs_never_crash(code: list[Instr], regs: list[int | float]) -> None:
    config = resolve_machine(FAST, max_instructions=300)
    a1, a2 = A1.copy(), A2.copy()
    try:
        out = run_code(code, list(enumerate(regs)), [a1, a2], nregs=NREGS, config=config)
    except SimulatorError as e:
        assert "pc " in str(e) or "program" in str(e)
        return
    assert out.status_name in {s.name for s in Status} - {"PAUSED", "BAD_PROGRAM", "BAD_CONFIG", "NO_MEMORY"}
    assert 0 <= out.pc < len(code)
    assert out.totals["instructions"] <= 300
