"""The Relic task split (technique ``relic``): the transformed kernels run in CPython with the
original's results on every sample loop the plan can split, the chunk bounds are exact for any
range and step, and a plan that asks for an illegal split names the loop and the reason.

The golden before/after cases are in tests/golden/transform-relic.test (run by
test_transform_golden.py).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import math
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from equality import assert_same
from helixrc import parallel
from helixrc.csim.errors import PlanError
from helixrc.passes.frontend import KernelModule, load_file, load_module
from helixrc.passes.plan import parse_plan
from helixrc.passes.transform import loop_legality, transform_source
from helixrc.transform_api import load_function
from kernel_gen_carried import make_inputs, random_kernel
from test_transform_generated import load_source

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.py") if p.stem not in ("time_cpython",))


@functools.cache
def sample(name: str) -> tuple[KernelModule, ModuleType]:
    spec = importlib.util.spec_from_file_location(f"helixrc_relic_sample_{name}", SAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return load_file(SAMPLES / f"{name}.py"), mod


def splittable(km: KernelModule, name: str) -> list[str]:
    """The outermost loops of kernel ``name`` that technique relic may split."""
    chosen: list[str] = []
    for lid, legal in loop_legality(km, name).items():
        if legal["relic"] is None and not any(lid.startswith(c + ".") for c in chosen):
            chosen.append(lid)
    return chosen


def relic_plan(loop_ids: list[str], chunks: str, reassociate: bool = False) -> Any:
    body = {lid: {"technique": "relic", "chunks": chunks, **({"reassociate": True} if reassociate else {})}
            for lid in loop_ids}
    return parse_plan(json.dumps({"loops": body}), "relic.json", fmt="json")


def close(expected: Any, got: Any) -> None:
    """Equal, floats to rounding (for float sums the plan lets the split reassociate)."""
    if isinstance(expected, tuple):
        for e, g in zip(expected, got, strict=True):
            close(e, g)
    elif isinstance(expected, float):
        assert math.isclose(expected, got, rel_tol=1e-12, abs_tol=1e-300)
    elif isinstance(expected, np.ndarray) and expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    else:
        assert_same(expected, got)


SPLITS = [(n, c) for n in SAMPLE_NAMES if splittable(sample(n)[0], n) for c in ("blocked", "interleaved")]


def test_samples_with_a_loop_to_split() -> None:
    assert sorted({n for n, _ in SPLITS}) == [
        "art_f2_match", "gbdt_score_batch", "json_log_scan", "kv_tree_batch_get",
    ]


@pytest.mark.parametrize("name,chunks", SPLITS, ids=[f"{n}-{c}" for n, c in SPLITS])
def test_samples_split_run_like_the_original(name: str, chunks: str) -> None:
    km, mod = sample(name)
    loops = splittable(km, name)
    result = transform_source(km, name, plan=relic_plan(loops, chunks, reassociate=True))
    assert all(result.loops[lid] == f"Relic, {chunks} chunks, 2 tasks" for lid in loops)
    assert "spawn(" in result.source and "join(" in result.source
    keep = {*km.functions, *km.constants, *result.tasks}
    split = load_function(result.source, name, keep)
    swapped = load_function(result.source, name, keep)
    swapped.__globals__.update(swapped_runtime())
    reassociated = "reassociated as the plan allows" in result.source
    check = close if reassociated else assert_same
    for seed in (0, 1):
        args = mod.make_inputs("small", seed)
        a, b, c = copy.deepcopy(args), copy.deepcopy(args), copy.deepcopy(args)
        expected = getattr(mod, name)(*a)
        with parallel.checking():
            got = split(*b)
        check(expected, got)
        check(expected, swapped(*c))  # the continuation first: the parts are independent
        for x, y, z in zip(a, b, c):
            check(x, y)
            check(x, z)


def test_the_latency_critical_loops_that_split() -> None:
    """What a task split can reach in the latency-critical suite (the report lists the reasons)."""
    found = {n: splittable(sample(n)[0], n) for n in (
        "hash_join_probe", "huffman_decode", "json_log_scan", "bfs_frontier_step", "order_book_match",
        "gbdt_score_batch", "kv_tree_batch_get", "dfa_match_batch", "parser_memo_probe", "topk_bm25")}
    assert {n: ls for n, ls in found.items() if ls} == {
        "json_log_scan": ["json_log_scan/L1"], "gbdt_score_batch": ["gbdt_score_batch/L1"],
        "kv_tree_batch_get": ["kv_tree_batch_get/L1"],
    }


# ---------------------------------------------------------------------------------------------
# Chunk bounds, the loop variable after the loop, reductions
# ---------------------------------------------------------------------------------------------

VISIT = """
def visit(a, b, out):
    n = 0
    p = 1
    hi = -1000
    for i in range({start}, {stop}, {step}):
        out[i + 60] += 1
        n += i * 3 + 1
        p *= i % 3 + 1
        if i > hi:
            hi = i
    return n, p, hi, i
"""


@pytest.mark.parametrize("step", [1, -1, 2, -2, 3, -3, 7])
@pytest.mark.parametrize("chunks", ["blocked", "interleaved"])
@pytest.mark.parametrize("bounds", [("a", "b"), ("a + 0", "b - 0"), ("0", "b"), ("-3", "b")])
def test_chunks_cover_the_range_exactly(step: int, chunks: str, bounds: tuple[str, str]) -> None:
    source = VISIT.format(start=bounds[0], stop=bounds[1], step=step)
    km = load_module(source, "visit.py")
    result = transform_source(km, "visit", plan=relic_plan(["visit/L1"], chunks))
    assert result.loops["visit/L1"] == f"Relic, {chunks} chunks, 2 tasks"
    original, split = load_function(source, "visit", {"visit"}), load_function(result.source, "visit", {"visit", *result.tasks})
    for a in range(-9, 10):
        for b in range(-9, 10):
            x, y = np.zeros(130, dtype=np.int64), np.zeros(130, dtype=np.int64)
            try:
                expected: Any = original(a, b, x)
            except UnboundLocalError:  # an empty range leaves i unbound: the split raises too
                with pytest.raises(UnboundLocalError):
                    split(a, b, y)
            else:
                assert_same(expected, split(a, b, y), f"visit({a}, {b}) with step {step}")
            assert_same(x, y, f"out after visit({a}, {b}) with step {step}")


def test_spawned_task_is_the_first_part_in_sequential_order() -> None:
    """Under CPython the spawned part runs first, so a failing loop raises the original's exception."""
    source = """
def f(xs, out, k):
    for i in range(len(out)):
        out[i] = int(xs[i]) // int(k[i])
"""
    km = load_module(source, "f.py")
    result = transform_source(km, "f", plan=relic_plan(["f/L1"], "blocked"))
    split = load_function(result.source, "f", {"f", *result.tasks})
    xs, k = np.arange(8), np.array([1, 1, 0, 1, 1, 1, 0, 1])
    out = np.zeros(8, dtype=np.int64)
    with pytest.raises(ZeroDivisionError):
        split(xs, out, k)
    assert out.tolist() == [0, 1, 0, 0, 0, 0, 0, 0]  # as the original leaves it: stopped at i = 2


# ---------------------------------------------------------------------------------------------
# Plans that ask for an illegal split
# ---------------------------------------------------------------------------------------------

CARRIED = """
def prefix_sums(xs, out):
    acc = 0
    for i in range(len(xs)):
        acc += xs[i]
        out[i] = acc
    return acc
"""


def plan_error(source: str, name: str, plan: str) -> PlanError:
    with pytest.raises(PlanError) as info:
        transform_source(load_module(source, "k.py"), name, plan=parse_plan(plan, "plan.toml"))
    return info.value


def test_relic_on_a_loop_with_carried_state_names_the_dependence_and_line() -> None:
    err = plan_error(CARRIED, "prefix_sums", '[loops."prefix_sums/L1"]\ntechnique = "relic"\n')
    assert "loop 'prefix_sums/L1' cannot be relic" in str(err)
    assert "acc carried (line 5)" in str(err) and "legal here: helix" in str(err)
    assert err.loc is not None and err.loc.line == 2


@pytest.mark.parametrize("source,why", [
    ("def f(xs):\n    i = 0\n    t = 0\n    while i < len(xs):\n        t += xs[i]\n        i += 1\n    return t\n",
     "a while loop"),
    ("def f(xs, out):\n    last = 0\n    for i in range(len(xs)):\n        last = xs[i]\n        out[i] = last\n"
     "    return last\n", "last is read after the loop (line 6)"),
    ("def f(xs, s):\n    t = 0\n    for i in range(0, len(xs), s):\n        t += xs[i]\n    return t\n",
     "the range step is not an integer literal"),
    ("def f(xs):\n    best = 0\n    at = -1\n    for i in range(len(xs)):\n        if xs[i] > best:\n"
     "            best = xs[i]\n            at = i\n    return at\n", "argmax"),
    ("def f(xs):\n    t = 0\n    for i in range(len(xs)):\n        if xs[i] < 0:\n            break\n"
     "        t += xs[i]\n    return t\n", "cannot be relic"),
])
def test_loops_out_of_scope_are_refused_with_the_reason(source: str, why: str) -> None:
    err = plan_error(source, "f", '[loops."f/L1"]\ntechnique = "relic"\n')
    assert "loop 'f/L1' cannot be relic" in str(err) and why in str(err)


def test_float_sum_needs_reassociate() -> None:
    source = "def f(xs):\n    t = 0.0\n    for i in range(len(xs)):\n        t += xs[i] * 0.5\n    return t\n"
    err = plan_error(source, "f", '[loops."f/L1"]\ntechnique = "relic"\n')
    assert "without reassociation" in str(err) and "reassociate = true" in (err.hint or "")
    result = transform_source(load_module(source, "f.py"), "f", plan=parse_plan(
        '[loops."f/L1"]\ntechnique = "relic"\nreassociate = true\n', "plan.toml"))
    assert "t1 = _f_relic0(mid, stop, 0.0, xs)" in result.source


def test_plan_keys_of_the_relic_technique() -> None:
    plan = parse_plan('[loops."f/L1"]\ntechnique = "relic"\nchunks = "interleaved"\n', "p.toml")
    assert plan.loops["f/L1"].chunks == "interleaved"
    assert parse_plan(plan.to_toml(), "again.toml") == plan
    with pytest.raises(PlanError, match="unknown chunks 'interleave'") as info:
        parse_plan('[loops."f/L1"]\ntechnique = "relic"\nchunks = "interleave"\n', "p.toml")
    assert info.value.loc is not None and info.value.loc.line == 3
    with pytest.raises(PlanError, match="chunks applies only to relic loops"):
        parse_plan('[loops."f/L1"]\ntechnique = "doall"\nchunks = "blocked"\n', "p.toml")
    with pytest.raises(PlanError, match="assume_independent applies only to doall and helix"):
        parse_plan('[loops."f/L1"]\ntechnique = "relic"\nassume_independent = ["a"]\n', "p.toml")
    with pytest.raises(PlanError, match="a task split neither holds nor sits in a parallel loop"):
        parse_plan('[loops."f/L1"]\ntechnique = "helix"\n[loops."f/L1.1"]\ntechnique = "relic"\n', "p.toml")
    with pytest.raises(PlanError, match="a task split neither holds nor sits in a parallel loop"):
        parse_plan('[loops."f/L1"]\ntechnique = "relic"\n[loops."f/L1.2"]\ntechnique = "relic"\n', "p.toml")


# ---------------------------------------------------------------------------------------------
# Generated kernels (kernel_gen_carried.py): in order, and with the two parts swapped
# ---------------------------------------------------------------------------------------------

GENERATED = 300  # about one kernel in twenty has a loop the split takes


def swapped_runtime() -> dict[str, Any]:
    """``spawn``/``join`` that run the task at its join, after the continuation: parts that really
    are independent give the same results in either order."""

    def spawn(fn: Any, *args: Any) -> tuple[Any, tuple[Any, ...]]:
        return fn, args

    def join(handle: tuple[Any, tuple[Any, ...]]) -> Any:
        fn, args = handle
        return fn(*args)

    return {"spawn": spawn, "join": join}


def run(fn: Any, args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "value", fn(*args)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        return "raised", type(exc)


def test_generated_kernels_split_run_like_the_original() -> None:
    split_loops = 0
    for k in range(GENERATED):
        kern = random_kernel(random.Random(1000 + k))
        km = load_module(kern.source, "k.py")
        loops = splittable(km, kern.name)
        if not loops:
            continue
        chunks = ("blocked", "interleaved")[k % 2]
        try:
            result = transform_source(km, kern.name, plan=relic_plan(loops, chunks))
        except PlanError as err:
            assert "without reassociation" in str(err)  # a float sum: the only refusal left to the plan
            continue
        split_loops += len(loops)
        check_generated(kern, result.source, f"kernel {k} ({chunks})")
    assert split_loops >= 10


def check_generated(kern: Any, after: str, what: str) -> None:
    """The split source runs like the original (exceptions too), and with the parts swapped when
    the original returns (swapped, another part's exception may come first)."""
    original = getattr(load_source(kern.source, "before.py"), kern.name)
    in_order = getattr(load_source(after, "after.py"), kern.name)
    swapped = getattr(load_source(after, "swapped.py", swapped_runtime()), kern.name)
    for seed in range(3):
        args = make_inputs(kern, seed)
        a, b, c = copy.deepcopy(args), copy.deepcopy(args), copy.deepcopy(args)
        expected, got = run(original, a), run(in_order, b)
        where = f"{what}, seed {seed}:\n{kern.source}\n{after}"
        assert expected[0] == got[0], where
        assert_same(tuple(a), tuple(b), f"arguments after the call, {where}")
        if expected[0] == "raised":
            assert expected[1] is got[1], where
            continue
        assert_same(expected[1], got[1], where)
        assert_same(expected, run(swapped, c), f"parts swapped, {where}")
        assert_same(tuple(a), tuple(c), f"arguments, parts swapped, {where}")


# ---------------------------------------------------------------------------------------------
# Statement splits: a function's body (func/body) or a loop's body (split = "statements")
# ---------------------------------------------------------------------------------------------


def statement_plans(km: KernelModule, name: str) -> list[str]:
    """The plan entries that split statements of kernel ``name``: its body, then each loop's body."""
    return [f"{name}/body", *loop_legality(km, name)]


def statement_plan(entry: str) -> Any:
    split = {} if entry.endswith("/body") else {"split": "statements"}
    return parse_plan(json.dumps({"loops": {entry: {"technique": "relic", **split}}}), "s.json", fmt="json")


def test_generated_kernels_statement_splits_run_like_the_original() -> None:
    """In order, and with the continuation run before the task: independent groups give the same results."""
    splits = 0
    for k in range(GENERATED // 2):
        kern = random_kernel(random.Random(5000 + k))
        km = load_module(kern.source, "k.py")
        for entry in statement_plans(km, kern.name):
            try:
                result = transform_source(km, kern.name, plan=statement_plan(entry))
            except PlanError as err:
                assert "cannot be relic" in str(err), str(err)
                continue
            splits += 1
            check_generated(kern, result.source, f"kernel {k}, {entry}")
    assert splits >= 10


def test_dependent_groups_are_refused_with_the_dependence() -> None:
    source = "def f(xs, out):\n    t = 0\n    for i in range(len(xs)):\n        t += xs[i]\n    out[0] = t\n"
    err = plan_error(source, "f", '[loops."f/body"]\ntechnique = "relic"\n')
    assert "'f/body' cannot be relic" in str(err)
    assert "no two consecutive statement groups are independent (cut before line 3: t is assigned" in str(err)
    err = plan_error(source, "f", '[loops."f/L1"]\ntechnique = "relic"\nsplit = "statements"\n')
    assert "fewer than two statements" in str(err)


def test_statement_split_plan_errors() -> None:
    with pytest.raises(PlanError, match="names a function's body"):
        parse_plan('[loops."f/body"]\ntechnique = "doall"\n', "p.toml")
    with pytest.raises(PlanError, match="names a function's body"):
        parse_plan('[loops."f/body"]\ntechnique = "relic"\nsplit = "iterations"\n', "p.toml")
    with pytest.raises(PlanError, match="split applies only to relic loops"):
        parse_plan('[loops."f/L1"]\ntechnique = "helix"\nsplit = "statements"\n', "p.toml")
    with pytest.raises(PlanError, match="is nested in loop 'f/body'"):
        parse_plan('[loops."f/body"]\ntechnique = "relic"\n[loops."f/L2"]\ntechnique = "doall"\n', "p.toml")
    plan = parse_plan('[loops."f/L1"]\ntechnique = "relic"\nsplit = "statements"\n', "p.toml")
    assert parse_plan(plan.to_toml(), "again.toml") == plan


GROUPS = """
def bump(a, k):
    a[k] += 1


def f(xs, ys, grid, n):
{body}
    return 0
"""


@pytest.mark.parametrize("body,why", [
    ("    xs[0] = n\n    ys[1] = xs[0]", "xs is written by the first and used by the second"),
    ("    ys[1] = xs[0]\n    xs[0] = n", "xs is written by the second and used by the first"),
    ("    xs[0] = n\n    xs[1] = n", "xs is written by the first"),
    ("    bump(xs, 0)\n    ys[1] = xs[0]", "xs is written by the first and used by the second"),
    ("    row = grid[1]\n    row[0] = n\n    ys[0] = grid[1, 0]", "cannot be relic"),  # row stands for grid
    ("    t = n * 2\n    ys[0] = t", "t is assigned by the first and used by the second"),
    ("    t = n * 2\n    t = 5\n    ys[0] = t", "t is assigned by the first and used by the second"),
])
def test_groups_with_a_dependence_are_not_split(body: str, why: str) -> None:
    err = plan_error(GROUPS.format(body=body), "f", '[loops."f/body"]\ntechnique = "relic"\n')
    assert why in str(err)


def test_a_scalar_the_continuation_assigns_reaches_the_task_by_value() -> None:
    source = GROUPS.format(body="    ys[0] = n + 1\n    n = 7\n    xs[0] = n")
    result = transform_source(load_module(source, "g.py"), "f", plan=statement_plan("f/body"))
    assert "task = spawn(_f_relic0, ys, n)" in result.source
    split = load_function(result.source, "f", {"f", *result.tasks})
    xs, ys = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    split(xs, ys, np.zeros((2, 2)), 3)
    assert (xs[0], ys[0]) == (7, 4)
