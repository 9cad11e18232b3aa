"""Golden before/after tests of the HELIX transform (tests/golden/transform-*.test), one case per
pattern of the parallel form, each also run under CPython with the checking runtime on.

A case holds the kernel source (it may define helper kernels and must define ``inputs(rng)``, the
kernel's arguments for one seed), an ``[args]`` line ``kernel=NAME [signals=coupled|uncoupled]
[plan={...JSON...}]`` (the plan last: it takes the rest of the line), and the expected ``[out]``:
the transformed source, ``--``, then one ``loop id: outcome`` line per loop.

Run ``pytest tests/test_transform_golden.py --update-golden`` to accept new output, then review
the diff of the .test files.
"""

from __future__ import annotations

import copy
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from equality import assert_same
from golden_files import Case, check_golden, read_cases
from helixrc import parallel
from helixrc.passes.frontend import load_module
from helixrc.passes.plan import parse_plan
from helixrc.passes.transform import transform_source

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("transform-*.test"))
CASES = [(f, c) for f in FILES for c in read_cases(f)]


def options(case: Case) -> dict[str, Any]:
    text = case.args
    plan = None
    if " plan=" in f" {text}":
        text, plan_text = f" {text}".split(" plan=", 1)
        plan = parse_plan(plan_text, f"{case.name}.plan.json", fmt="json")
    opts: dict[str, Any] = dict(kv.split("=", 1) for kv in text.split())
    return {"name": opts["kernel"], "signals": opts.get("signals", "uncoupled"), "plan": plan}


def transform_case(case: Case) -> str:
    opts = options(case)
    result = transform_source(load_module(case.source, f"{case.name}.py"), **opts)
    outcomes = "".join(f"{lid}: {what}\n" for lid, what in result.loops.items())
    return f"{result.source}--\n{outcomes}"


def load(source: str, filename: str) -> ModuleType:
    mod = ModuleType(filename.removesuffix(".py"))
    exec(compile(source, filename, "exec"), mod.__dict__)
    return mod


@pytest.mark.parametrize("path,case", CASES, ids=[f"{f.stem}:{c.name}" for f, c in CASES])
def test_transform(path: Path, case: Case, update_golden: bool) -> None:
    check_golden(path, case, transform_case(case), update_golden)


@pytest.mark.parametrize("path,case", CASES, ids=[f"{f.stem}:{c.name}" for f, c in CASES])
def test_transformed_case_runs_like_the_original(path: Path, case: Case) -> None:
    name = options(case)["name"]
    after = transform_case(case).split("--\n")[0]
    original, transformed = load(case.source, "before.py"), load(after, "after.py")
    for seed in range(4):
        args = original.inputs(np.random.default_rng(seed))
        a, b = copy.deepcopy(args), copy.deepcopy(args)
        expected = getattr(original, name)(*a)
        with parallel.checking():
            got = getattr(transformed, name)(*b)
        assert_same(expected, got)
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"argument {i + 1} after the call (seed {seed})")
