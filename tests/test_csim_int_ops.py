"""Integer opcodes against CPython: results, and exceptions by type, on corner cases and at random.

A result CPython would make beyond 64 bits must be an OverflowError in the simulator.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_csim_asm import HI, LO, check

SPECIAL = [0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 2**31, -(2**31), 2**53, 2**53 + 1, -(2**53) - 1,
           2**62, HI, HI - 1, LO, LO + 1, 3037000499, 3037000500, -3037000500]
ints = st.one_of(st.integers(LO, HI), st.sampled_from(SPECIAL), st.integers(-300, 300))


def py_pow(a: int, b: int) -> int:
    if b < 0:
        raise ValueError("negative exponent")
    if abs(a) >= 2 and b >= 64:      # surely past 64 bits; do not build the big int
        raise OverflowError
    result: int = a**b
    return result


def py_shl(a: int, b: int) -> int:
    if b >= 64:                      # past 64 bits unless a is 0; do not build the big int
        if a != 0:
            raise OverflowError
        return 0
    return a << b


BINARY: dict[str, Callable[[int, int], Any]] = {
    "ADD_I": lambda a, b: a + b,
    "SUB_I": lambda a, b: a - b,
    "MUL_I": lambda a, b: a * b,
    "FLOORDIV_I": lambda a, b: a // b,
    "MOD_I": lambda a, b: a % b,
    "TRUEDIV_I": lambda a, b: a / b,
    "AND_I": lambda a, b: a & b,
    "OR_I": lambda a, b: a | b,
    "XOR_I": lambda a, b: a ^ b,
    "SHR_I": lambda a, b: a >> b,
    "SHL_I": py_shl,
    "POW_I": py_pow,
    "MIN_I": min,
    "MAX_I": max,
    "EQ_I": lambda a, b: a == b,
    "NE_I": lambda a, b: a != b,
    "LT_I": lambda a, b: a < b,
    "LE_I": lambda a, b: a <= b,
    "GT_I": lambda a, b: a > b,
    "GE_I": lambda a, b: a >= b,
}
UNARY: dict[str, Callable[[int], Any]] = {
    "NEG_I": lambda a: -a,
    "ABS_I": abs,
    "INV_I": lambda a: ~a,
    "I2F": float,
    "MOV": lambda a: a,
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_corner_cases(op: str) -> None:
    for a, b in itertools.product(SPECIAL, repeat=2):
        check(op, BINARY[op], a, b)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_corner_cases(op: str) -> None:
    for a in SPECIAL:
        check(op, UNARY[op], a)


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=150, deadline=None)
@given(a=ints, b=ints)
def test_binary_random(op: str, a: int, b: int) -> None:
    check(op, BINARY[op], a, b)


@settings(max_examples=300, deadline=None)
@given(a=ints, b=st.integers(-3, 70))
def test_small_powers_and_shifts(a: int, b: int) -> None:
    check("POW_I", py_pow, a, b)
    check("SHL_I", py_shl, a, b)
    check("SHR_I", lambda x, y: x >> y, a, b)


@settings(max_examples=300, deadline=None)
@given(a=ints, b=ints)
def test_true_division_is_correctly_rounded(a: int, b: int) -> None:
    # Large operands take the long-division path; CPython rounds exactly.
    check("TRUEDIV_I", lambda x, y: x / y, a, b)
    check("TRUEDIV_I", lambda x, y: x / y, a, b >> 9 or 1)


@settings(max_examples=200, deadline=None)
@given(a=ints, b=ints, c=ints)
def test_range_cont(a: int, b: int, c: int) -> None:
    check("RANGE_CONT", lambda x, y, z: x < y if z > 0 else x > y, a, b, c)


@pytest.mark.parametrize("op", sorted(UNARY))
@given(a=ints)
def test_unary_random(op: str, a: int) -> None:
    check(op, UNARY[op], a)


def test_messages() -> None:
    from test_csim_asm import I, RET, run_code

    out = run_code([I("SHL_I", 2, 0, 1), RET], [(0, 1), (1, -1)])
    assert (out.status_name, out.message) == ("VALUE_ERROR", "negative shift count")
    out = run_code([I("ADD_I", 2, 0, 1), RET], [(0, HI), (1, 1)])
    assert out.status_name == "OVERFLOW" and str(HI) in out.message and "64-bit" in out.message
    out = run_code([I("FLOORDIV_I", 2, 0, 1), RET], [(0, 1), (1, 0)])
    assert (out.status_name, out.pc) == ("ZERO_DIVISION", 0)
