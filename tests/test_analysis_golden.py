"""Golden tests of the loop analysis: kernel source in, the per-loop details out
(tests/golden/analysis-*.test). The last function of a case is the kernel; ``[args]`` may give its
signature (else types come from literals and usage).

Run ``pytest tests/test_analysis_golden.py --update-golden`` to accept new output, then review
the diff of the .test files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_files import Case, check_golden, parse_signature, read_cases
from helixrc.passes.analysis import analyze_kernel, format_details, format_explain
from helixrc.passes.frontend import load_module

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("analysis-*.test"))
CASES = [(f, c) for f in FILES for c in read_cases(f)]


def analyze_case(case: Case) -> str:
    module = load_module(case.source, f"{case.name}.py")
    kernel = list(module.functions)[-1]
    types = parse_signature(case.args) if case.args else None
    analysis = analyze_kernel(module, kernel, types)
    return format_details(analysis) + "\n--\n" + format_explain(analysis, details=False) + "\n"


@pytest.mark.parametrize("path,case", CASES, ids=[f"{f.stem}:{c.name}" for f, c in CASES])
def test_analysis(path: Path, case: Case, update_golden: bool) -> None:
    check_golden(path, case, analyze_case(case), update_golden)
