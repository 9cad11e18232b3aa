"""Golden tests of lowering: kernel source in, pretty-printed IR out (tests/golden/lowering-*.test).

Run ``pytest tests/test_lowering_golden.py --update-golden`` to accept new output, then review
the diff of the .test files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_files import Case, check_golden, parse_signature, read_cases
from helixrc.passes.frontend import load_module
from helixrc.passes.ir import format_function, verify
from helixrc.passes.lower import lower_kernel

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("lowering-*.test"))
CASES = [(f, c) for f in FILES for c in read_cases(f)]


def lower_case(case: Case) -> str:
    module = load_module(case.source, f"<{case.name}>")
    kernel = list(module.functions)[-1]
    lowered = lower_kernel(module, kernel, parse_signature(case.args))
    problems = verify(lowered.function)
    assert not problems, "\n".join(problems)
    return format_function(lowered.function)


@pytest.mark.parametrize("path,case", CASES, ids=[f"{f.stem}:{c.name}" for f, c in CASES])
def test_lowering(path: Path, case: Case, update_golden: bool) -> None:
    check_golden(path, case, lower_case(case), update_golden)
