"""The instruction set and the C enums, read from the C sources so that both sides share them.

``src/opcodes.def`` is the single source of truth of the instruction set: each row
``OP(name, dst, srcs, class, "meaning")`` becomes a member of :class:`Opcode` (numbered in table
order, as C numbers ``csim_opcode``) and an :class:`OpInfo`. The status codes, dtypes and CPI
categories come from the enums in ``src/api.h``. ``helixrc.csim.binding`` checks at import that
the compiled core agrees with what this module parsed.

    >>> Opcode.ADD_I, OP_INFO[Opcode.ADD_I].srcs
    (<Opcode.ADD_I: 3>, 'II')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import EnumMeta, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

SRC_DIR = Path(__file__).resolve().parent / "src"

_ROW = re.compile(r'^OP\(\s*(\w+),\s*([IFD-]),\s*([IF]+|-),\s*(\w+),\s*"((?:[^"\\]|\\.)*)"\s*\)\s*$')


@dataclass(frozen=True, slots=True)
class OpInfo:
    """One row of opcodes.def."""

    name: str
    #: type written to reg[dst]: "I", "F", "D" (the array's), or "-" (nothing written)
    dst: str
    #: types of reg[a], reg[b], reg[c] in order ("II", "IF", ...), or "-" for none
    srcs: str
    #: latency class: INT, MUL, DIV, FADD, FMUL, FDIV, SQRT, MATH, MEM, CTRL or SYNC
    cls: str
    doc: str

    @property
    def nsrcs(self) -> int:
        return 0 if self.srcs == "-" else len(self.srcs)


def parse_opcodes(text: str) -> tuple[OpInfo, ...]:
    """The rows of an opcodes.def text, in order; raises ValueError on a line it cannot read."""
    rows: list[OpInfo] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("OP("):
            continue
        m = _ROW.match(line.strip())
        if m is None:
            raise ValueError(f"opcodes.def:{lineno}: cannot parse {line.strip()!r}")
        rows.append(OpInfo(*m.groups()))
    return tuple(rows)


def parse_c_enum(text: str, enum: str, prefix: str) -> dict[str, int]:
    """Members of ``typedef enum <enum> {...}`` in a C header, with prefix removed from names."""
    m = re.search(r"typedef\s+enum\s+" + enum + r"\s*\{(.*?)\}", text, re.S)
    if m is None:
        raise ValueError(f"api.h has no enum {enum}")
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    members: dict[str, int] = {}
    value = 0
    for item in (part.strip() for part in body.split(",")):
        if not item:
            continue
        name, _, explicit = (s.strip() for s in item.partition("="))
        value = int(explicit, 0) if explicit else value
        members[name.removeprefix(prefix)] = value
        value += 1
    return members


OP_INFO: tuple[OpInfo, ...] = parse_opcodes((SRC_DIR / "opcodes.def").read_text(encoding="utf-8"))

if TYPE_CHECKING:
    class _TableEnum(EnumMeta):
        def __getattr__(cls, name: str) -> Opcode: ...

    class Opcode(IntEnum, metaclass=_TableEnum):
        """csim_opcode: its members come from opcodes.def at run time."""
else:
    #: csim_opcode, in table order.
    Opcode = IntEnum("Opcode", [(info.name, i) for i, info in enumerate(OP_INFO)])


class Status(IntEnum):
    """csim_status (api.h), without the CSIM_ prefix."""

    OK = 0
    PAUSED = 1
    INDEX_ERROR = 2
    ZERO_DIVISION = 3
    OVERFLOW = 4
    VALUE_ERROR = 5
    ASSERTION = 6
    UNBOUND_LOCAL = 7
    BUDGET = 8
    BAD_PROGRAM = 9
    BAD_CONFIG = 10
    NO_MEMORY = 11
    DEADLOCK = 12
    BAD_PARALLEL = 13
    CHECK_VIOLATION = 14


class DType(IntEnum):
    """csim_dtype (api.h): array element types."""

    INT8 = 0
    INT16 = 1
    INT32 = 2
    INT64 = 3
    UINT8 = 4
    UINT16 = 5
    UINT32 = 6
    UINT64 = 7
    FLOAT32 = 8
    FLOAT64 = 9
    BOOL = 10


class Cat(IntEnum):
    """csim_cat (api.h): where cycles went."""

    BUSY = 0
    MEM_L1 = 1
    MEM_L2 = 2
    MEM_DRAM = 3
    BRANCH = 4
    DEPENDENCE = 5
    COMM = 6


def _check_enums() -> None:
    """These enums are spelled out for type checkers; api.h stays the reference."""
    api = (SRC_DIR / "api.h").read_text(encoding="utf-8")
    for enum, c_name, prefix in ((Status, "csim_status", "CSIM_"), (DType, "csim_dtype", "CSIM_"),
                                 (Cat, "csim_cat", "CSIM_CAT_")):
        in_c = {k: v for k, v in parse_c_enum(api, c_name, prefix).items() if k != "CSIM_NCAT"}
        if in_c != {m.name: m.value for m in enum}:
            raise ImportError(f"helixrc.csim.opcodes.{enum.__name__} disagrees with {c_name} in api.h: {in_c}")


_check_enums()

#: Sequential segments one parallel loop may declare (csim_limit in api.h).
MAX_SEGMENTS: int = parse_c_enum((SRC_DIR / "api.h").read_text(encoding="utf-8"), "csim_limit", "CSIM_")[
    "MAX_SEGMENTS"
]

#: Cores a machine may have, and the per-context copies of a reduction (csim_limit in api.h).
MAX_CORES: int = parse_c_enum((SRC_DIR / "api.h").read_text(encoding="utf-8"), "csim_limit", "CSIM_")["MAX_CORES"]

#: The CPI-stack category names as results spell them ("busy", "mem_l1", ...), in csim_cat order.
CAT_NAMES: tuple[str, ...] = tuple(c.name.lower() for c in Cat)

#: NumPy dtype -> csim_dtype.
DTYPES: dict[np.dtype, int] = {np.dtype(d.name.lower()): int(d) for d in DType}


def dtype_code(dtype: np.dtype | type | str) -> int:
    """The csim_dtype of a NumPy dtype (native byte order only); ValueError for others."""
    dt = np.dtype(dtype)
    code = DTYPES.get(dt)
    if code is None:
        valid = ", ".join(str(d) for d in DTYPES)
        raise ValueError(f"arrays of dtype {dt} are not supported by the simulator (valid: {valid})")
    return code


def format_instr(instr: Sequence[int]) -> str:
    """One (op, aux, dst, a, b, c) tuple as text, e.g. ``ADD_I r3, r1, r2`` or ``BRF r4 -> 7``."""
    op, aux, dst, a, b, c = instr
    info = OP_INFO[op]
    srcs = [f"r{r}" for r in (a, b, c) if r >= 0]
    if info.name in ("JMP", "BRT", "BRF"):
        return " ".join([info.name, *srcs, "->", str(dst)])
    if info.name == "RAISE":
        return f"RAISE {Status(aux).name}"
    if info.name == "RET":
        return "RET"
    if info.name == "PAR_BEGIN":
        bounds = f" range({', '.join(srcs)})" if srcs else ""
        return f"PAR_BEGIN segments={aux} {('uncoupled', 'coupled')[dst] if dst in (0, 1) else dst}{bounds}"
    if info.name == "PAR_END":
        return f"PAR_END -> {dst}"
    if info.name in ("WAIT", "SIGNAL"):
        return f"{info.name} {aux}"
    if info.name == "SPAWN":
        return f"SPAWN r{a} -> {dst}"
    if info.name in ("TASK_END", "JOIN"):
        results = ", ".join(f"r{dst + k}" for k in range(aux))
        if info.name == "JOIN":
            return f"JOIN r{a}" + (f" -> {results}" if results else "")
        return f"TASK_END {results}".rstrip()
    if info.cls == "SYNC":
        return info.name
    if info.cls == "MEM":
        index = f"arr{aux}[{', '.join(srcs)}]"
        if info.name in ("LOAD", "LOAD_RO"):
            return f"{info.name} r{dst}, {index}"
        return f"{info.name} {index}, r{dst}"
    return f"{info.name} r{dst}" + "".join(f", {s}" for s in srcs)


def disassemble(code: Sequence[Sequence[int]]) -> str:
    """A listing of a program, one numbered instruction per line."""
    return "\n".join(f"{pc:5d}  {format_instr(instr)}" for pc, instr in enumerate(code))
