"""Bit-for-bit comparison of kernel results, and putting one run's argument state into another's.

Two runs of a kernel agree when their return values and every argument's final state are the
same bits: floats by their IEEE bit patterns (``-0.0`` is not ``0.0``; a nan equals only a nan
with the same bits), NumPy scalars as the Python scalars they stand for, arrays by dtype, shape
and contents. :func:`first_difference` names the first place two results part::

    >>> first_difference(np.array([1.0, 2.0]), np.array([1.0, 2.5]), "argument 1 (xs)")
    'argument 1 (xs)[1]: 2.0 vs 2.5'

With ``rtol`` floats (and float arrays) may differ by that relative tolerance instead:
``|a - b| <= rtol * max(|a|, |b|)``, the same test for scalars and elements.
"""

from __future__ import annotations

import copy
import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from helixrc.parallel import memory_extent, overlap_groups

__all__ = ["args_difference", "copy_args", "first_difference", "write_back"]


def _float_bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _scalar_key(value: Any) -> Any:
    """What a scalar is, for exact comparison: its kind and value (floats by their bits)."""
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, np.integer)):
        return ("int", int(value))
    if isinstance(value, (float, np.floating)):
        return ("float", _float_bits(float(value)))
    return ("other", value)


def _close(a: float, b: float, rtol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def _scalars_differ(a: Any, b: Any, rtol: float | None) -> bool:
    ka, kb = _scalar_key(a), _scalar_key(b)
    if rtol is not None and ka[0] == kb[0] == "float":
        return not _close(float(a), float(b), rtol)
    return ka != kb


def first_difference(expected: Any, got: Any, what: str = "result", rtol: float | None = None) -> str | None:
    """None when ``got`` is ``expected`` bit for bit (or within ``rtol``), else where and how they part."""
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        return _array_difference(expected, got, what, rtol)
    if isinstance(expected, (tuple, list)) or isinstance(got, (tuple, list)):
        if type(expected) is not type(got):
            return f"{what}: {type(expected).__name__} vs {type(got).__name__}"
        if len(expected) != len(got):
            return f"{what}: length {len(expected)} vs {len(got)}"
        for i, (a, b) in enumerate(zip(expected, got)):
            diff = first_difference(a, b, f"{what}[{i}]", rtol)
            if diff is not None:
                return diff
        return None
    if _scalars_differ(expected, got, rtol):
        return f"{what}: {expected!r} vs {got!r}"
    return None


def _array_difference(expected: Any, got: Any, what: str, rtol: float | None) -> str | None:
    if not (isinstance(expected, np.ndarray) and isinstance(got, np.ndarray)):
        return f"{what}: {type(expected).__name__} vs {type(got).__name__}"
    if expected.dtype != got.dtype or expected.shape != got.shape:
        return f"{what}: {expected.dtype}{list(expected.shape)} vs {got.dtype}{list(got.shape)}"
    if rtol is not None and expected.dtype.kind == "f":
        e, g = expected.astype(np.float64), got.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            near = np.abs(e - g) <= rtol * np.maximum(np.abs(e), np.abs(g))
        same = (e == g) | near | (np.isnan(e) & np.isnan(g))
    else:
        # compare the bytes of each element: exact for floats (-0.0, nan payloads) and ints alike
        width = expected.dtype.itemsize
        ea = np.ascontiguousarray(expected).view(np.uint8).reshape(-1, width)
        ga = np.ascontiguousarray(got).view(np.uint8).reshape(-1, width)
        same = (ea == ga).all(axis=1).reshape(expected.shape) if expected.size else np.ones(expected.shape, bool)
    if bool(np.all(same)):
        return None
    index = tuple(int(i) for i in np.argwhere(~same)[0])
    shown = ", ".join(map(str, index))
    return f"{what}[{shown}]: {expected[index].item()!r} vs {got[index].item()!r}"


def args_difference(expected: Sequence[Any], got: Sequence[Any], names: Sequence[str],
                    rtol: float | None = None) -> str | None:
    """The first argument whose final state differs between two runs, named by position and name."""
    for i, (a, b) in enumerate(zip(expected, got)):
        name = f" ({names[i]})" if i < len(names) else ""
        diff = first_difference(a, b, f"argument {i + 1}{name}", rtol)
        if diff is not None:
            return diff
    return None


def write_back(targets: Sequence[Any], sources: Sequence[Any]) -> None:
    """Give each mutable argument in ``targets`` the contents of its copy in ``sources``, in place.

    The caller's arrays and lists keep their identity, as they would after calling the kernel
    on them; scalars are immutable and need nothing.
    """
    for target, source in zip(targets, sources):
        if isinstance(target, np.ndarray):
            np.copyto(target, source, casting="no")
        elif isinstance(target, list):
            target[:] = source


def copy_args(args: Sequence[Any]) -> tuple[Any, ...]:
    """A deep copy of a call's arguments in which arrays that share memory still share it.

    ``copy.deepcopy`` gives two views of one buffer (``x[:-1]``, ``x[1:]``) memory of their own
    each, so a kernel run on the copy would not see the writes through one in the other: here each
    group of overlapping arrays gets one new buffer, laid out (and aligned) as the original memory.
    """
    # plain arrays of plain dtypes: a subclass or an object array is copied by deepcopy as before
    arrays = list({id(a): a for a in args if type(a) is np.ndarray and not a.dtype.hasobject}.values())
    extents = [memory_extent(a) for a in arrays]
    group_of = overlap_groups(extents)
    memo: dict[int, Any] = {}
    for g in sorted(set(group_of)):
        members = [k for k, h in enumerate(group_of) if h == g]
        lo = min(extents[k][0] for k in members)
        hi = max(extents[k][1] for k in members)
        raw = np.zeros(hi - lo + 64, dtype=np.uint8)
        shift = (lo - raw.__array_interface__["data"][0]) % 64  # the original's alignment
        buffer = raw[shift:shift + hi - lo]
        for k in members:
            a = arrays[k]
            offset = a.__array_interface__["data"][0] - lo
            new = np.ndarray(a.shape, a.dtype, buffer=buffer, offset=offset, strides=a.strides)
            np.copyto(new, a, casting="no")
            new.flags.writeable = a.flags.writeable
            memo[id(a)] = new
    return copy.deepcopy(tuple(args), memo)
