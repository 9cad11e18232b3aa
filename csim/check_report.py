"""Messages for the checker's violations: both iterations, the array element, the source lines.

The checking mode (``src/check.h``) reports the first access that broke sequential order as a
record of addresses and pcs; this module turns it into words a user can act on::

    kernel.py:14:8: iteration 3 read a[5] after iteration 7 wrote it (sequentially, iteration 3
    reads it first)
      iteration 3 reads at kernel.py:14:    s += a[i + 2]
      iteration 7 writes at kernel.py:12:   a[i - 2] = v
      hint: order these accesses with a sequential segment (wait/signal) ...

The address is found in the array table the run used (arguments, then scratch regions), the pcs
through the encoded program's line table (``Encoded.locs``), as the kernel errors of
``helixrc.api`` find theirs.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Collection, Protocol, Sequence

from .errors import HelixError, Loc
from .opcodes import DTYPES, SRC_DIR, parse_c_enum

#: csim_dtype -> element size in bytes.
_ITEMSIZE: dict[int, int] = {code: dt.itemsize for dt, code in DTYPES.items()}

class ViolationKind(IntEnum):
    """check_kind in src/check.h (checked at import)."""

    OK = 0
    READ_OF_LATER_WRITE = 1
    WRITE_AFTER_LATER_READ = 2
    WRITE_AFTER_LATER_WRITE = 3
    READ_BEFORE_WRITE = 4


if parse_c_enum((SRC_DIR / "check.h").read_text(encoding="utf-8"), "check_kind", "CHECK_") != {
        k.name: k.value for k in ViolationKind}:
    raise ImportError("helixrc.csim.check_report.ViolationKind disagrees with check_kind in check.h")


class ArrayLike(Protocol):
    """Where an array lives in simulated memory (``binding.ArrayArg`` is one)."""

    sim_addr: int
    dtype: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One violation, detached from the C memory it was read from.

    The functions below take this or anything with its fields, such as the C ``check_violation``
    through cffi.
    """

    kind: int
    pc: int
    iter: int
    other_pc: int
    other_iter: int
    addr: int
    #: 1: between a Relic task (an even iter) and its continuation (odd), not loop iterations
    tasks: int = 0

    @classmethod
    def of(cls, v: Any) -> Violation:
        return cls(int(v.kind), int(v.pc), int(v.iter), int(v.other_pc), int(v.other_iter), int(v.addr),
                   int(getattr(v, "tasks", 0)))


class CheckError(HelixError):
    """A parallel loop broke sequential order (checking mode); located at the violating access."""


#: per kind: (what the violating iteration did, what the other one did, why it is wrong)
_WORDING: dict[int, tuple[str, str, str]] = {
    ViolationKind.READ_OF_LATER_WRITE: (
        "read", "wrote", "sequentially, {i} reads it before {j} writes it"),
    ViolationKind.WRITE_AFTER_LATER_READ: (
        "wrote", "read", "that read missed the value of {i}"),
    ViolationKind.WRITE_AFTER_LATER_WRITE: (
        "wrote", "wrote", "sequentially, the value of {j} is the one that stays"),
    ViolationKind.READ_BEFORE_WRITE: (
        "read", "wrote", "but the read issued in an earlier cycle than that write: no wait released "
        "after the write ordered them"),
}

_HINT = ("the two iterations touch the same element without a sequential segment ordering them: "
         "it needs a wait(k)/signal(k) segment around both accesses")
_TASK_HINT = ("a task and its continuation (the code from its spawn to its join) must be independent: "
              "keep both accesses on one side of the split, or do not split here")


def element_index(addr: int, array: ArrayLike) -> tuple[int, ...] | None:
    """The index of the element of array that holds the byte at addr, or None if none does."""
    itemsize = _ITEMSIZE[array.dtype]
    if any(n == 0 for n in array.shape):
        return None
    # Walk from the lowest address, largest stride first (the layouts NumPy makes never let a
    # smaller stride's dimension reach past a larger one's step).
    low = array.sim_addr + sum((n - 1) * s for n, s in zip(array.shape, array.strides) if s < 0)
    offset = addr - low
    if offset < 0:
        return None
    index = [0] * len(array.shape)
    for d in sorted(range(len(array.shape)), key=lambda d: -abs(array.strides[d])):
        n, step = array.shape[d], abs(array.strides[d])
        k = min(offset // step, n - 1) if step else 0
        offset -= k * step
        index[d] = k if array.strides[d] >= 0 else n - 1 - k
    return tuple(index) if offset < itemsize else None


def describe_address(addr: int, arrays: Sequence[ArrayLike], names: Sequence[str],
                     cells: Collection[int] = ()) -> str:
    """``a[5]``, ``b[2, 3]``, ``cell seg1.total``, or the bare address when no array holds it."""
    for slot, (array, name) in enumerate(zip(arrays, names)):
        index = element_index(addr, array)
        if index is None:
            continue
        if slot in cells:
            return f"cell {name}"
        return f"{name}[{', '.join(str(i) for i in index)}]"
    return f"address {addr:#x}"


def violation_error(violation: Any, arrays: Sequence[ArrayLike], names: Sequence[str],
                    locs: Sequence[Loc], cells: Collection[int] = (), code: str | None = None) -> CheckError:
    """The :class:`CheckError` for a violation (see :func:`format_violation`)."""
    v = Violation.of(violation)
    if v.kind not in _WORDING:
        raise ValueError(f"not a violation: kind {v.kind}")
    did, other_did, why = _WORDING[v.kind]
    what = describe_address(v.addr, arrays, names, cells)
    i, j = _who(v.iter, v.tasks), _who(v.other_iter, v.tasks)
    message = f"{i} {did} {what} after {j} {other_did} it ({why.format(i=i, j=j)})"
    for who, verb, pc in ((i, did, v.pc), (j, other_did, v.other_pc)):
        message += f"\n  {who} {_present(verb)} {_where(pc, locs, code)}"
    loc = locs[v.pc] if 0 <= v.pc < len(locs) else None
    return CheckError(message, loc, _TASK_HINT if v.tasks else _HINT)


def _who(iteration: int, tasks: int) -> str:
    """``iteration 3``; between tasks, ``the task`` or ``the continuation`` (odd numbers)."""
    if tasks:
        return "the continuation" if iteration % 2 else "the task"
    return f"iteration {iteration}"


def format_violation(violation: Any, arrays: Sequence[ArrayLike], names: Sequence[str],
                     locs: Sequence[Loc], cells: Collection[int] = (), code: str | None = None) -> str:
    """A message naming both iterations, the array and index of the address, and both source lines.

    ``arrays`` and ``names`` are the run's array table and its slot names (arguments, then
    scratch regions; ``cells`` are the slots that hold parallel-form cells); ``locs`` maps pcs to
    source locations. The source lines are quoted from ``code`` (the kernel's source text) when
    given, otherwise from linecache, which also holds the source of transformed kernels.
    """
    return violation_error(violation, arrays, names, locs, cells, code).render()


def _present(verb: str) -> str:
    return {"read": "reads", "wrote": "writes"}[verb]


def _where(pc: int, locs: Sequence[Loc], code: str | None) -> str:
    if not 0 <= pc < len(locs):
        return f"at pc {pc}"
    loc = locs[pc]
    text = _source_line(loc, code)
    return f"at {loc.file}:{loc.line}" + (f": {text}" if text else "")


def _source_line(loc: Loc, code: str | None) -> str:
    if code is None:
        return linecache.getline(loc.file, loc.line).strip()
    lines = code.splitlines()
    return lines[loc.line - 1].strip() if 0 < loc.line <= len(lines) else ""
