"""Float opcodes against CPython, bit for bit (signed zeros, nan, inf), and exceptions by type."""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_csim_asm import I, RET, check, eval_op, run_code
from test_csim_int_ops import SPECIAL as SPECIAL_INTS

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5, 2.0, -2.0, 3.0, -3.0, 7.0, 1e-300, -1e-300, 5e-324,
           1e300, -1e300, 1.7976931348623157e308, 2.0**53, 2.0**63, -(2.0**63), 2.0**64, 0.1, 1 / 3, 709.78,
           710.0, -745.2, INF, -INF, NAN, 1e16, 123456.789]
floats = st.one_of(st.floats(), st.sampled_from(SPECIAL), st.floats(-100.0, 100.0))
ints = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(SPECIAL_INTS))

BINARY: dict[str, Callable[[float, float], Any]] = {
    "ADD_F": lambda a, b: a + b,
    "SUB_F": lambda a, b: a - b,
    "MUL_F": lambda a, b: a * b,
    "DIV_F": lambda a, b: a / b,
    "FLOORDIV_F": lambda a, b: a // b,
    "MOD_F": lambda a, b: a % b,
    "POW_F": lambda a, b: a**b,
    "MIN_F": min,
    "MAX_F": max,
    "EQ_F": lambda a, b: a == b,
    "NE_F": lambda a, b: a != b,
    "LT_F": lambda a, b: a < b,
    "LE_F": lambda a, b: a <= b,
    "GT_F": lambda a, b: a > b,
    "GE_F": lambda a, b: a >= b,
}
UNARY: dict[str, Callable[[float], Any]] = {
    "NEG_F": lambda a: -a,
    "ABS_F": abs,
    "SQRT_F": math.sqrt,
    "EXP_F": math.exp,
    "LOG_F": math.log,
    "FLOOR_F": math.floor,
    "CEIL_F": math.ceil,
    "F2I": int,
}
# int a against float b, compared exactly.
MIXED: dict[str, Callable[[int, float], Any]] = {
    "EQ_IF": lambda a, b: a == b,
    "NE_IF": lambda a, b: a != b,
    "LT_IF": lambda a, b: a < b,
    "LE_IF": lambda a, b: a <= b,
    "GT_IF": lambda a, b: a > b,
    "GE_IF": lambda a, b: a >= b,
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_corner_cases(op: str) -> None:
    for a, b in itertools.product(SPECIAL, repeat=2):
        check(op, BINARY[op], a, b)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_corner_cases(op: str) -> None:
    for a in SPECIAL:
        check(op, UNARY[op], a)


@pytest.mark.parametrize("op", sorted(MIXED))
def test_mixed_corner_cases(op: str) -> None:
    near = [2**53 + 1, 2**63 - 1, -(2**63), 2**62 + 1, -(2**53) - 1]
    cases = itertools.product(SPECIAL_INTS + near, SPECIAL + [float(n) for n in near] + [2.0**63 - 1024])
    for a, b in cases:
        check(op, MIXED[op], a, b)


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=150, deadline=None)
@given(a=floats, b=floats)
def test_binary_random(op: str, a: float, b: float) -> None:
    check(op, BINARY[op], a, b)


@pytest.mark.parametrize("op", sorted(UNARY))
@settings(max_examples=150, deadline=None)
@given(a=floats)
def test_unary_random(op: str, a: float) -> None:
    check(op, UNARY[op], a)


@pytest.mark.parametrize("op", sorted(MIXED))
@settings(max_examples=150, deadline=None)
@given(a=ints, b=st.one_of(floats, ints.map(float)))
def test_mixed_random(op: str, a: int, b: float) -> None:
    check(op, MIXED[op], a, b)


@settings(max_examples=300, deadline=None)
@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6).filter(lambda x: x != 0.0))
def test_divmod_identity_regime(a: float, b: float) -> None:
    # Ordinary magnitudes, where the 0.5 correction and the sign fixes of float divmod matter.
    check("FLOORDIV_F", lambda x, y: x // y, a, b)
    check("MOD_F", lambda x, y: x % y, a, b)


@settings(max_examples=300, deadline=None)
@given(a=st.floats(-10.0, 10.0), b=st.one_of(st.integers(-400, 400).map(float), st.floats(-400.0, 400.0)))
def test_pow_regime(a: float, b: float) -> None:
    check("POW_F", lambda x, y: x**y, a, b)


def test_error_messages() -> None:
    cases = [
        ("SQRT_F", (-1.0,), "VALUE_ERROR", "math domain error"),
        ("LOG_F", (0.0,), "VALUE_ERROR", "math domain error"),
        ("EXP_F", (1000.0,), "OVERFLOW", "math range error"),
        ("F2I", (NAN,), "VALUE_ERROR", "cannot convert float NaN to integer"),
        ("FLOOR_F", (INF,), "OVERFLOW", "cannot convert float infinity to integer"),
        ("POW_F", (0.0, -1.0), "ZERO_DIVISION", "0.0 cannot be raised to a negative power"),
        ("DIV_F", (1.0, 0.0), "ZERO_DIVISION", "float division by zero"),
    ]
    for op, args, status, message in cases:
        out = run_code([I(op, 3, *range(len(args))), RET], list(enumerate(args)), nregs=4)
        assert (out.status_name, out.message) == (status, message), op
    out = run_code([I("POW_F", 3, 0, 1), RET], [(0, -8.0), (1, 1 / 3)], nregs=4)
    assert out.status_name == "VALUE_ERROR" and "complex" in out.message


def test_min_max_keep_the_first_of_equals() -> None:
    # min(0.0, -0.0) is 0.0 and max(nan, 1.0) is nan in Python: the operand order decides.
    assert eval_op("MIN_F", 0.0, -0.0) == ("OK", 0.0)
    assert str(eval_op("MIN_F", -0.0, 0.0)[1]) == "-0.0"
    assert math.isnan(eval_op("MAX_F", NAN, 1.0)[1])
    assert eval_op("MAX_F", 1.0, NAN) == ("OK", 1.0)
