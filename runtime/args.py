"""Marshal a kernel call's arguments for the simulator, and hand mutations back to the caller.

Scalars go into their parameter registers; NumPy arrays are used in place (the simulator reads
and writes their real memory, so in-place mutation is exactly the original call's); lists are
copied into arrays and copied back afterwards. Each array also gets a simulated address: arrays
that share memory share a region, so aliasing is seen by the cache model, and regions are laid
out in argument order, so the same call always gives the same cycles. The scratch memory a
lowered kernel declares (``Function.scratch``: the parallel form's cells) is one zeroed buffer per
call, laid out after the arguments' regions with each region word-aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from helixrc.csim.binding import ArrayArg
from helixrc.csim.errors import HelixError
from helixrc.csim.opcodes import dtype_code
from helixrc.parallel import may_overlap, memory_extent, overlap_groups
from helixrc.passes.ir import DTYPES, ArraySlot, ArrayType, Function, Reg, Scalar, Scratch

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
REGION_BASE = 0x1000_0000
PAGE = 4096
WORD = 8


def arg_type(value: Any, position: int) -> Scalar | ArrayType:
    """The kernel-language type of one argument."""
    if isinstance(value, np.generic):
        # CPython would compute with NumPy's scalar rules (wrapping ints, float32 rounding,
        # np.bool_ arithmetic); the simulator computes with Python's, so refuse rather than differ.
        kind = "int" if isinstance(value, np.integer) else "bool" if isinstance(value, np.bool_) else "float"
        raise HelixError(
            f"argument {position + 1}: a NumPy scalar ({type(value).__name__}) computes with "
            f"NumPy's rules in CPython; pass a Python {kind} instead ({kind}(x))"
        )
    if isinstance(value, (bool, np.bool_)):
        return Scalar.BOOL
    if isinstance(value, (int, np.integer)):
        if not INT64_MIN <= int(value) <= INT64_MAX:
            raise HelixError(f"argument {position + 1}: {value} does not fit in 64 bits")
        return Scalar.I64
    if isinstance(value, (float, np.floating)):
        return Scalar.F64
    if isinstance(value, np.ndarray):
        if value.dtype.name not in DTYPES:
            raise HelixError(
                f"argument {position + 1}: arrays of dtype {value.dtype} are not supported "
                f"(supported: {', '.join(DTYPES)})"
            )
        if not value.dtype.isnative:
            raise HelixError(f"argument {position + 1}: byte-swapped arrays are not supported")
        if not 1 <= value.ndim <= 3:
            raise HelixError(f"argument {position + 1}: arrays must have 1 to 3 dimensions, "
                             f"this one has {value.ndim}")
        return ArrayType(value.dtype.name, value.ndim)
    if isinstance(value, list):
        return ArrayType(_list_dtype(value, position), 1, is_list=True)
    raise HelixError(
        f"argument {position + 1}: {type(value).__name__} is not a kernel argument type "
        "(int, float, bool, NumPy array, or list of ints/floats/bools)"
    )


def _list_dtype(values: list[Any], position: int) -> str:
    kinds = {type(v) for v in values}
    if not kinds or kinds == {int}:
        return "int64"
    if kinds == {float}:
        return "float64"
    if kinds == {bool}:
        return "bool"
    names = ", ".join(sorted(k.__name__ for k in kinds))
    raise HelixError(f"argument {position + 1}: a list passed to a kernel must hold only ints, "
                     f"only floats or only bools; this one holds {names}")


def signature_of(args: Sequence[Any]) -> tuple[Scalar | ArrayType, ...]:
    """The arguments' types; each array's also says which array arguments may share its memory
    (``ArrayType.shares``), so a kernel compiled for disjoint arrays is never run on overlapping ones."""
    types = [arg_type(a, i) for i, a in enumerate(args)]
    arrays = [i for i, t in enumerate(types) if isinstance(t, ArrayType)]
    for i in arrays:
        shares = tuple(j for j in arrays if j == i or may_overlap(args[i], args[j]))
        types[i] = replace(types[i], shares=shares)  # type: ignore[type-var]
    return tuple(types)


@dataclass
class Marshalled:
    reg_init: list[tuple[int, int | float]]
    arrays: list[ArrayArg]
    #: run after the simulation, even when it failed: copy lists back
    finish: list[Callable[[], None]] = field(default_factory=list)
    #: the arrays whose memory the simulator uses; held here so they outlive the run
    buffers: list[np.ndarray] = field(default_factory=list)


def marshal(args: Sequence[Any], fn: Function) -> Marshalled:
    if len(args) != len(fn.params):
        raise HelixError(f"kernel '{fn.name}' takes {len(fn.params)} arguments, {len(args)} given")
    out = Marshalled([], [])
    buffers: list[np.ndarray] = []
    lists: dict[int, np.ndarray] = {}
    for value, param in zip(args, fn.params):
        if isinstance(param, Reg):
            out.reg_init.append((param.id, _scalar(value, param.type)))
            continue
        arr = _array_for(value, param, out.finish, lists)
        buffers.append(arr)
        for reg, extent in zip(param.shape, arr.shape):
            out.reg_init.append((reg.id, int(extent)))
    sim_bases, scratch_base = _sim_addresses(buffers)
    regions = _scratch_regions(fn.scratch, buffers)
    for arr, sim in zip(buffers, sim_bases):
        out.arrays.append(_array_arg(arr, sim))
    for region, (arr, offset) in zip(fn.scratch, regions):
        assert region.slot.slot == len(out.arrays), "scratch slots follow the argument arrays"
        out.arrays.append(_array_arg(arr, scratch_base + offset))
    out.buffers = buffers + [arr for arr, _ in regions]
    return out


def _array_arg(arr: np.ndarray, sim_addr: int) -> ArrayArg:
    return ArrayArg(
        host_addr=arr.__array_interface__["data"][0], sim_addr=sim_addr,
        dtype=dtype_code(arr.dtype), shape=tuple(arr.shape), strides=tuple(arr.strides),
        writable=bool(arr.flags.writeable),
    )


def _scratch_regions(scratch: list[Scratch], args: list[np.ndarray]) -> list[tuple[np.ndarray, int]]:
    """Each scratch region as a zeroed view of one buffer, and its byte offset in the buffer (a
    region sized like an argument array has as many elements as its first dimension)."""
    offsets: list[int] = []
    lengths = [len(args[r.like.slot]) if r.like is not None else r.length for r in scratch]
    size = 0
    for region, length in zip(scratch, lengths):
        offsets.append(size)
        nbytes = length * np.dtype(region.slot.type.dtype).itemsize
        size += (nbytes + WORD - 1) // WORD * WORD
    buffer = np.zeros(size, dtype=np.uint8)
    return [(buffer[off:off + n * np.dtype(r.slot.type.dtype).itemsize].view(r.slot.type.dtype), off)
            for r, off, n in zip(scratch, offsets, lengths)]


def _scalar(value: Any, t: Scalar) -> int | float:
    if t == Scalar.F64:
        return float(value)
    return int(value)


def _array_for(value: Any, slot: ArraySlot, finish: list[Callable[[], None]],
               lists: dict[int, np.ndarray]) -> np.ndarray:
    if isinstance(value, list):
        # The same list passed twice is one array, so writes through either name are seen.
        if id(value) in lists:
            return lists[id(value)]
        arr = np.array(value, dtype=slot.type.dtype) if value else np.zeros(0, dtype=slot.type.dtype)
        lists[id(value)] = arr

        def copy_back(lst: list[Any] = value, arr: np.ndarray = arr) -> None:
            lst[:] = arr.tolist()

        finish.append(copy_back)
        return arr
    assert isinstance(value, np.ndarray)
    return value


def _sim_addresses(arrays: list[np.ndarray]) -> tuple[list[int], int]:
    """Simulated address of element [0, ...] of each array (overlapping arrays share a region), and
    the first free page-aligned address after the regions."""
    extents = [memory_extent(a) for a in arrays]
    group_of = overlap_groups(extents)
    group_lo: dict[int, int] = {}
    group_hi: dict[int, int] = {}
    for g, (lo, hi) in zip(group_of, extents):
        group_lo[g] = min(group_lo.get(g, lo), lo)
        group_hi[g] = max(group_hi.get(g, hi), hi)
    region: dict[int, int] = {}
    cursor = REGION_BASE
    for g in sorted(group_lo):
        region[g] = cursor
        size = group_hi[g] - group_lo[g]
        cursor += (size + 2 * PAGE - 1) // PAGE * PAGE
    result = []
    for arr, g in zip(arrays, group_of):
        base = arr.__array_interface__["data"][0]
        result.append(region[g] + (base - group_lo[g]))
    return result, cursor
