"""Bit-exact comparison of kernel results: CPython's run against helixrc's.

Floats compare by their bit patterns (so -0.0 differs from 0.0 and nan matches only nan with
the same bits); NumPy scalars compare as the Python scalars they stand for; arrays compare by
dtype, shape and bytes.
"""

from __future__ import annotations

import copy
import struct
from typing import Any

import numpy as np


def normalize(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return ("float", struct.pack("<d", float(value)))
    if isinstance(value, tuple):
        return tuple(normalize(v) for v in value)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return value


def assert_same(expected: Any, got: Any, what: str = "result") -> None:
    e, g = normalize(expected), normalize(got)
    if e != g:
        raise AssertionError(f"{what} differs: CPython gave {_show(expected)}, helixrc gave {_show(got)}")


def _show(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"array({v.dtype}, shape={v.shape}, first values {v.ravel()[:8].tolist()})"
    return repr(v)


def run_both(kernel: Any, args: tuple[Any, ...], simulate: Any) -> tuple[Any, Any]:
    """Run the kernel in CPython and on the simulator on separate copies of the arguments;
    check the results and every argument's final state bit for bit; return both results."""
    py_args = copy.deepcopy(args)
    sim_args = copy.deepcopy(args)
    py_exc = sim_exc = None
    py_value = sim_value = None
    try:
        py_value = kernel(*py_args)
    except Exception as exc:  # noqa: BLE001 - the exception type is what we compare
        py_exc = exc
    try:
        sim_value = simulate(sim_args)
    except Exception as exc:  # noqa: BLE001
        sim_exc = exc
    if py_exc is not None or sim_exc is not None:
        if py_exc is None or sim_exc is None or not isinstance(sim_exc, type(py_exc)):
            raise AssertionError(f"CPython raised {py_exc!r}, helixrc raised {sim_exc!r}")
        return py_exc, sim_exc
    assert_same(py_value, sim_value)
    for i, (a, b) in enumerate(zip(py_args, sim_args)):
        assert_same(a, b, f"argument {i + 1} after the call")
    return py_value, sim_value
