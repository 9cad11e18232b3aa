"""Golden data files: ``[case name]`` / source / ``[args]`` / signature / ``[out]`` / expected.

A file holds many cases; ``--update-golden`` rewrites every ``[out]`` section with the current
output, so a reviewed diff of the file is the review of a lowering change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helixrc.passes.ir import ArrayType, Scalar

_HEADER = re.compile(r"^\[(case|args|out)(?: (\S+))?\]\s*$")


@dataclass
class Case:
    name: str
    source: str
    args: str
    out: str
    line: int  # where the case starts in its file, for failure reports


def read_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    section = None
    current: dict[str, list[str]] = {}
    name, start = "", 0
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            if m.group(1) == "case":
                if current:
                    cases.append(_finish(name, start, current))
                name, start, current = m.group(2), lineno, {"case": [], "args": [], "out": []}
            section = m.group(1)
            continue
        if section is not None:
            current[section].append(line)
    if current:
        cases.append(_finish(name, start, current))
    return cases


def _finish(name: str, start: int, parts: dict[str, list[str]]) -> Case:
    def text(lines: list[str]) -> str:
        return "\n".join(lines).strip("\n") + "\n"
    return Case(name, text(parts["case"]), " ".join(parts["args"]).strip(), text(parts["out"]), start)


def write_cases(path: Path, cases: list[Case]) -> None:
    chunks = []
    for c in cases:
        chunks.append(f"[case {c.name}]\n{c.source}[args]\n{c.args}\n[out]\n{c.out}")
    path.write_text("\n".join(chunks))


def parse_signature(text: str) -> tuple[Scalar | ArrayType, ...]:
    """``"float64[1], i64, list[int64]"`` -> argument types."""
    result: list[Scalar | ArrayType] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in ("i64", "f64", "bool"):
            result.append(Scalar(part))
        elif part.startswith("list["):
            result.append(ArrayType(part[5:-1], 1, is_list=True))
        else:
            dtype, ndim = part[:-1].split("[")
            result.append(ArrayType(dtype, int(ndim)))
    return tuple(result)


def check_golden(path: Path, case: Case, got: str, update: bool) -> None:
    """Compare one case's output with its ``[out]``, or rewrite it when ``update`` is set."""
    if update:
        cases = read_cases(path)
        for c in cases:
            if c.name == case.name:
                c.out = got
        write_cases(path, cases)
        return
    assert got == case.out, f"{path.name}:{case.line}: [case {case.name}] differs:\n{got}"
