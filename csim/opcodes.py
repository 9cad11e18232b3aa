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
from enum import IntEnum
from pathlib import Path
from typing import Sequence

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
    #: latency class: INT, MUL, DIV, FADD, FMUL, FDIV, SQRT, MATH, MEM or CTRL
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
_API = (SRC_DIR / "api.h").read_text(encoding="utf-8")

#: csim_opcode, in table order.
Opcode = IntEnum("Opcode", [(info.name, i) for i, info in enumerate(OP_INFO)])  # type: ignore[misc]
#: csim_status without the CSIM_ prefix: OK, PAUSED, INDEX_ERROR, ...
Status = IntEnum("Status", parse_c_enum(_API, "csim_status", "CSIM_"))  # type: ignore[misc]
#: csim_dtype without the prefix: INT8, ..., FLOAT64, BOOL.
DType = IntEnum("DType", parse_c_enum(_API, "csim_dtype", "CSIM_"))  # type: ignore[misc]
#: csim_cat without the prefix: BUSY, MEM_L1, MEM_L2, MEM_DRAM, BRANCH, DEPENDENCE.
Cat = IntEnum(  # type: ignore[misc]
    "Cat", {k: v for k, v in parse_c_enum(_API, "csim_cat", "CSIM_CAT_").items() if k != "CSIM_NCAT"}
)
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
    if info.cls == "MEM":
        index = f"arr{aux}[{', '.join(srcs)}]"
        if info.name == "LOAD":
            return f"LOAD r{dst}, {index}"
        return f"{info.name} {index}, r{dst}"
    return f"{info.name} r{dst}" + "".join(f", {s}" for s in srcs)


def disassemble(code: Sequence[Sequence[int]]) -> str:
    """A listing of a program, one numbered instruction per line."""
    return "\n".join(f"{pc:5d}  {format_instr(instr)}" for pc, instr in enumerate(code))
