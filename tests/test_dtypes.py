"""Every supported dtype, in 1-D, 2-D and 3-D arrays: loads, stores and conversions match CPython."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import helixrc
from equality import run_both

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOAT_DTYPES = ["float32", "float64"]

KERNELS = textwrap.dedent("""
    def ints1(a, out):
        s = 0
        for i in range(len(a)):
            s += int(a[i]) * (i + 1)
            if a[i] > 3:
                out[i] = int(a[i]) - 1
        out[-1] = s % 100
        return s

    def floats2(a, out):
        s = 0.0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                s += float(a[i, j]) * 0.5
                out[i, j] = float(a[i, j]) / 3.0
        return s

    def bools3(a, out):
        n = 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                for k in range(a.shape[2]):
                    if a[i, j, k]:
                        n += 1
                    out[i, j, k] = not a[i, j, k]
        return n
""")


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_int_dtypes(dtype: str) -> None:
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    hi = min(int(info.max), 100)
    a = rng.integers(0 if info.min == 0 else -50, hi, size=17).astype(dtype)
    out = np.zeros(17, dtype=dtype)
    ns: dict[str, object] = {}
    exec(KERNELS, ns)
    run_both(ns["ints1"], (a, out), lambda args: helixrc.simulate(KERNELS, args, func="ints1").value)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_dtypes(dtype: str) -> None:
    rng = np.random.default_rng(8)
    a = rng.standard_normal((5, 7)).astype(dtype)
    out = np.zeros((5, 7), dtype=dtype)
    ns: dict[str, object] = {}
    exec(KERNELS, ns)
    run_both(ns["floats2"], (a, out), lambda args: helixrc.simulate(KERNELS, args, func="floats2").value)


def test_bool_3d() -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(0, 2, size=(3, 4, 5)).astype(bool)
    out = np.zeros((3, 4, 5), dtype=bool)
    ns: dict[str, object] = {}
    exec(KERNELS, ns)
    run_both(ns["bools3"], (a, out), lambda args: helixrc.simulate(KERNELS, args, func="bools3").value)


@pytest.mark.parametrize("dtype,value", [("int8", 128), ("uint8", -1), ("int16", 40000), ("uint32", 2**32)])
def test_out_of_range_store_raises_overflow_like_numpy(dtype: str, value: int) -> None:
    code = "def f(a, v):\n    a[0] = v\n"
    ns: dict[str, object] = {}
    exec(code, ns)
    a = np.zeros(2, dtype=dtype)
    run_both(ns["f"], (a, value), lambda args: helixrc.simulate(code, args).value)
