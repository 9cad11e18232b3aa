"""LOAD and STORE_* against NumPy: every dtype, 1 to 3 dims, strided and reversed views, negative
indices, NumPy's IndexError text, and OverflowError for values that do not fit."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_csim_asm import HI, LO, I, RET, float_bits, run_code
from helixrc.csim import binding

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"]
FLOAT_DTYPES = ["float32", "float64"]
IDX = (0, 1, 2)  # index registers; r3 is the value


def load(arr: np.ndarray, idx: tuple[int, ...]) -> binding.RunOutcome:
    regs = list(zip(IDX, idx))
    a, b, c = list(IDX[: len(idx)]) + [-1] * (3 - len(idx))
    return run_code([I("LOAD", 3, a, b, c, aux=0), RET], regs, [arr], nregs=4)


def store(arr: np.ndarray, idx: tuple[int, ...], value: int | float) -> binding.RunOutcome:
    op = "STORE_F" if isinstance(value, float) else "STORE_I"
    a, b, c = list(IDX[: len(idx)]) + [-1] * (3 - len(idx))
    return run_code([I(op, 3, a, b, c, aux=0), RET], [*zip(IDX, idx), (3, value)], [arr], nregs=4)


def numpy_error(fn: Any) -> tuple[type[Exception], str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fn()
    except (IndexError, OverflowError, RuntimeWarning) as e:
        return type(e), str(e)
    return None


def sample_array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(7)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        return (rng.standard_normal(shape) * 1e3).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_load_every_dtype(dtype: str) -> None:
    arr = sample_array(dtype, (40,))
    if dtype == "uint64":
        arr[arr > HI] //= 2           # the too-big ones are tested below
    for i in range(-40, 40):
        out = load(arr, (i,))
        assert out.ok, out.message
        if dtype.startswith("float"):
            assert float_bits(out.reg_float(3)) == float_bits(float(arr[i]))
        else:
            assert out.reg_int(3) == int(arr[i])


def test_load_uint64_past_int64_overflows() -> None:
    out = load(np.array([2**63, 5], dtype=np.uint64), (0,))
    assert out.status_name == "OVERFLOW" and str(2**63) in out.message


VIEWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "3d": lambda b: b,
    "3d reversed": lambda b: b[::-1, :, ::-1],
    "3d transposed": lambda b: b.transpose(2, 0, 1),
    "2d strided": lambda b: b[1, ::-2, 1:],
    "2d fortran": lambda b: np.asfortranarray(b[2]),
    "1d reversed": lambda b: b[2, ::-1, 3],
    "1d stride 3": lambda b: b[:, 1, ::3].ravel()[::-1],
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_load_views_and_negative_indices(view: str) -> None:
    base = np.arange(4 * 5 * 6, dtype=np.int32).reshape(4, 5, 6)
    arr = VIEWS[view](base)
    ranges = [range(-n - 1, n + 1) for n in arr.shape]
    for idx in itertools.product(*ranges):
        out = load(arr, idx)
        err = numpy_error(lambda: arr[idx])
        if err is None:
            assert out.ok and out.reg_int(3) == int(arr[idx]), (view, idx)
        else:
            assert (out.status_name, out.message) == ("INDEX_ERROR", err[1]), (view, idx)


def test_index_error_message() -> None:
    out = load(np.zeros(10), (10,))
    assert out.status_name == "INDEX_ERROR"
    assert out.message == "index 10 is out of bounds for axis 0 with size 10"
    assert out.pc == 0
    out = load(np.zeros((3, 4)), (1, -5))
    assert out.message == "index -5 is out of bounds for axis 1 with size 4"


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_store_through_views(view: str) -> None:
    ours = np.zeros((4, 5, 6), dtype=np.int16)
    theirs = ours.copy()
    mine, ref = VIEWS[view](ours), VIEWS[view](theirs)
    for k, idx in enumerate(itertools.product(*[range(-n, n) for n in mine.shape])):
        assert store(mine, idx, k).ok
        ref[idx] = k
    assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.integers(LO, HI), st.sampled_from([0, 1, -1, 127, 128, -129, 255, 256, 2**31, 2**32, -(2**63), HI])))
def test_store_int_like_numpy(dtype: str, value: int) -> None:
    ours, ref = np.zeros(3, dtype=dtype), np.zeros(3, dtype=dtype)
    out = store(ours, (1,), value)
    err = numpy_error(lambda: ref.__setitem__(1, value))
    if err is None:
        assert out.ok, out.message
        assert ours.tobytes() == ref.tobytes()
    else:
        assert (out.status_name, out.message) == ("OVERFLOW", err[1])
        assert not ours.any()


@pytest.mark.parametrize("dtype", ["float32", "float64", "bool"])
@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.floats(), st.sampled_from([-0.0, 3.4028235e38, 3.4028236e38, 1e39, math.nan, -math.inf])))
def test_store_float_like_numpy(dtype: str, value: float) -> None:
    ours, ref = np.zeros(3, dtype=dtype), np.zeros(3, dtype=dtype)
    out = store(ours, (-2,), value)
    err = numpy_error(lambda: ref.__setitem__(-2, value))
    if err is None:
        assert out.ok, out.message
        assert ours.tobytes() == ref.tobytes()
    else:
        # NumPy warns and stores inf; the simulator refuses to be silently wrong.
        assert err[0] is RuntimeWarning and dtype == "float32"
        assert out.status_name == "OVERFLOW" and "float32" in out.message


def test_narrow_store_message() -> None:
    out = store(np.zeros(4, dtype=np.int8), (0,), 300)
    assert (out.status_name, out.message) == ("OVERFLOW", "Python integer 300 out of bounds for int8")
    out = store(np.zeros(4, dtype=np.uint64), (0,), -1)
    assert out.message == "Python integer -1 out of bounds for uint64"


def test_store_float_into_int_array_is_a_value_error() -> None:
    arr = np.zeros(4, dtype=np.int64)
    out = store(arr, (0,), 1.5)
    assert out.status_name == "VALUE_ERROR" and not arr.any()


def test_store_index_error_writes_nothing() -> None:
    arr = np.zeros(4)
    out = store(arr, (4,), 1.0)
    assert out.status_name == "INDEX_ERROR" and not arr.any()


def test_empty_array_any_index_is_an_error() -> None:
    out = load(np.zeros((0,)), (0,))
    assert out.message == "index 0 is out of bounds for axis 0 with size 0"
