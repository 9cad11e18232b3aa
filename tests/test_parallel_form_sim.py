"""The parallel form on the single-core simulator (docs/multicore.md §1): ``helixrc.simulate`` of a
transformed kernel gives CPython's results for the original, bit for bit, on every pattern of
tests/golden/transform-patterns.test and every sample, with both signal semantics."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc.args import signature_of
from helixrc.csim.errors import LanguageError
from helixrc.csim.opcodes import Opcode
from helixrc.passes.frontend import load_module
from helixrc.passes.pipeline import compile_kernel
from helixrc.passes.transform import transform_source
from helixrc.resolve import import_file, resolve_kernel
from kernel_gen_carried import make_inputs, random_kernel
from test_samples_sim import KERNELS as SAMPLE_KERNELS
from test_transform_generated import load_source
from test_transform_golden import CASES, load, options, transform_case

PATTERNS = CASES


def parallel_ops(kernel: Any, args: tuple[Any, ...], func: str | None = None) -> dict[str, int]:
    """How many of each parallel-form opcode the compiled kernel holds."""
    module, name = resolve_kernel(kernel, func)
    compiled, _ = compile_kernel(module, name, signature_of(args))
    names = [Opcode(instr[0]).name for instr in compiled.encoded.code]
    return {op: names.count(op) for op in ("PAR_BEGIN", "PAR_END", "WAIT", "SIGNAL", "SPAWN", "JOIN")}


def transformed_loops(loops: dict[str, str]) -> int:
    return sum(outcome.startswith(("DOALL", "HELIX")) for outcome in loops.values())


@pytest.mark.parametrize("path,case", PATTERNS, ids=[c.name for _, c in PATTERNS])
def test_transform_pattern_simulates_like_the_original(path: Path, case: Any) -> None:
    name = options(case)["name"]
    out = transform_case(case)
    after, outcomes = out.split("--\n")
    original = load(case.source, "before.py")
    for seed in range(4):
        args = original.inputs(np.random.default_rng(seed))
        run_both(getattr(original, name), args, lambda a: helixrc.simulate(after, a, func=name).value)
    verdicts = [line.split(": ", 1)[1] for line in outcomes.splitlines()]
    tasks = sum(v.startswith("Relic") for v in verdicts)
    if tasks:  # task splits also on a machine with an SMT sibling that runs them
        run_both(getattr(original, name), args,
                 lambda a: helixrc.simulate(after, a, func=name, machine="big1-smt2").value)
    ops = parallel_ops(after, args, name)
    loops = sum(v.startswith(("DOALL", "HELIX")) for v in verdicts)
    if loops:  # parallel loops also across the two contexts of an out-of-order core (acquire waits)
        run_both(getattr(original, name), args,
                 lambda a: helixrc.simulate(after, a, func=name, machine="big1-smt2").value)
    assert ops["PAR_BEGIN"] == ops["PAR_END"] == loops
    assert ops["SPAWN"] == ops["JOIN"] >= tasks and loops + tasks >= 1
    assert ops["WAIT"] <= ops["SIGNAL"] and (ops["SIGNAL"] > 0) == (loops > 0 and "segments=0" not in after)


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("path,name", SAMPLE_KERNELS, ids=[n for _, n in SAMPLE_KERNELS])
def test_transformed_sample_simulates_like_the_original(path: Path, name: str, signals: str) -> None:
    t = helixrc.transform(f"{path}::{name}", signals=signals)
    module = import_file(str(path))
    for seed in (1, 2):
        args = module.make_inputs("small", seed)
        run_both(getattr(module, name), args, lambda a: helixrc.simulate(t.function, a).value)
    assert parallel_ops(t.function, args)["PAR_BEGIN"] == transformed_loops(t.loops)


GENERATED_SEED = 4_400_000
GENERATED = 30


def test_generated_carried_kernels_transformed_simulate_like_the_original() -> None:
    """A fixed sample of kernel_gen_carried's kernels: the transform's output on the simulator."""
    parallel = 0
    for k in range(GENERATED):
        rnd = random.Random(GENERATED_SEED + k)
        kern = random_kernel(rnd)
        original = getattr(load_source(kern.source, "before.py"), kern.name)
        seeds = [rnd.randrange(2**32) for _ in range(2)]
        for signals in ("uncoupled", "coupled"):
            result = transform_source(load_module(kern.source, "k.py"), kern.name, signals)
            parallel += transformed_loops(result.loops) > 0
            for seed in seeds:
                try:
                    run_both(original, make_inputs(kern, seed),
                             lambda a: helixrc.simulate(result.source, a, func=kern.name).value)
                except AssertionError as exc:
                    raise AssertionError(f"{exc}\nsignals={signals}, make_inputs seed {seed}, "
                                         f"kernel {k}:\n{result.source}") from None
    assert parallel >= GENERATED  # most of the sample is really in parallel form


def test_a_return_of_a_tuple_from_inside_the_loop() -> None:
    # the transform computes the value inside the prologue segment: result = seg0.bi, seg0.best
    t = helixrc.transform(textwrap.dedent("""\
        def best_before_zero(x, o):
            best = -1000
            bi = -1
            for i in range(len(x)):
                v = int(x[i])
                o[i] = (v * 7 + 3) % 101
                if v > best:
                    best = v
                    bi = i
                if v == 0:
                    return bi, best
            return bi, best
        """))
    assert "result = seg0.bi, seg0.best" in t.source and "return result" in t.source
    for xs, expected in (([3, 5, 0, 9], (1, 5)), ([3, 5, 2, 9], (3, 9))):
        args = (np.array(xs), np.zeros(4, dtype=np.int64))
        assert run_both(t.function, args, lambda a: helixrc.simulate(t.function, a).value)[0] == expected


def test_transformed_function_reports_its_own_lines() -> None:
    t = helixrc.transform(textwrap.dedent("""\
        def scatter(idx, out):
            n = 0
            for i in range(len(idx)):
                if idx[i] >= 0:
                    out[idx[i]] = n
                    n += 1
            return n
        """))
    with pytest.raises(IndexError) as err:
        helixrc.simulate(t.function, (np.array([0, 7]), np.zeros(2, dtype=np.int64)))
    loc = err.value.loc  # type: ignore[attr-defined]
    assert loc.file == "<helixrc transform of scatter>"
    assert t.source.splitlines()[loc.line - 1].strip() == "out[idx[i]] = seg0.n"


RUNTIME = "from helixrc.parallel import lastprivate, prange, prange_while, reduction, shared, signal, wait\n"


def both(source: str, name: str, *args: Any) -> tuple[Any, Any]:
    """CPython and the simulator on a parallel-form source written by hand."""
    text = RUNTIME + textwrap.dedent(source)
    return run_both(getattr(load(text, "hand.py"), name), args,
                    lambda a: helixrc.simulate(text, a, func=name).value)


def test_object_used_before_its_statement_is_unbound_as_in_cpython() -> None:
    source = """
        def k(xs):
            if xs[0] > 0:
                seg0 = shared(0, n=0)
            return seg0.n
        """
    assert both(source, "k", np.array([1])) == (0, 0)
    py, sim = both(source, "k", np.array([-1]))
    assert isinstance(py, UnboundLocalError) and "'seg0'" in str(sim)


def test_cells_keep_their_types_and_numpy_origin() -> None:
    # a bool cell, a float cell fed by array elements, and a tuple assignment into cells
    source = """
        def k(xs):
            seg0 = shared(0, over=False, s=0.0, lo=0, hi=0)
            for i in prange(0, len(xs), 1, segments=1, signals="coupled"):
                wait(0)
                if seg0.over:
                    signal(0)
                    break
                seg0.s += xs[i]
                seg0.lo, seg0.hi = seg0.hi, i
                if seg0.s > 2.0:
                    seg0.over = True
                signal(0)
            return seg0.over, seg0.s, seg0.lo, seg0.hi
        """
    xs = np.array([0.5, 1.25, -0.0, 0.75, 3.0])
    py, sim = both(source, "k", xs)
    assert py == (True, 2.5, 2, 3)
    assert type(sim[0]) is bool


def test_prange_while_counter_and_reductions_with_ties() -> None:
    source = """
        def k(xs, step):
            acc = reduction("argmin", "last", v=1000.0, at=-1)
            tot = reduction("*", p=1)
            last = lastprivate(j=-1)
            for it in prange_while(segments=0, signals="uncoupled"):
                j = it * step
                if not (j < len(xs)):
                    break
                if xs[j] <= acc.v:
                    acc.v = xs[j]
                    acc.at = j
                tot.p *= 2
                last.j = j
            return acc.v, acc.at, tot.p, last.j
        """
    xs = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 1.0, 2.0])
    assert both(source, "k", xs, 1)[1] == (1.0, 5, 128, 6)
    assert both(source, "k", xs, 9)[1] == (3.0, 0, 2, 0)


def test_parallel_loop_in_a_helper_called_inside_a_parallel_loop_is_refused() -> None:
    source = RUNTIME + textwrap.dedent("""
        def inner(xs):
            for j in prange(0, len(xs), 1, segments=0, signals="uncoupled"):
                xs[j] += 1

        def outer(xs):
            for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
                inner(xs)
        """)
    with pytest.raises(LanguageError) as err:
        helixrc.simulate(source, (np.zeros(3, dtype=np.int64),), func="outer")
    assert err.value.loc is not None and err.value.loc.line == 9
    assert "inside the parallel loop of line 8" in err.value.message


def test_helper_with_a_parallel_loop_inlined_twice_gets_its_own_cells() -> None:
    source = """
        def count(xs, key):
            seg0 = shared(0, n=0)
            for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
                wait(0)
                if xs[i] == key:
                    seg0.n += 1
                signal(0)
            return seg0.n

        def k(xs):
            return count(xs, 1) * 10 + count(xs, 2)
        """
    assert both(source, "k", np.array([1, 2, 2, 1, 2]))[1] == 23
    module = load_module(RUNTIME + textwrap.dedent(source), "hand.py")
    compiled, _ = compile_kernel(module, "k", signature_of((np.array([1]),)))
    assert [str(r) for r in compiled.lowered.function.scratch] == ["count.seg0.n: int64[1]"] * 2


def test_scratch_addresses_follow_the_arguments_deterministically() -> None:
    from helixrc.args import marshal

    t = helixrc.transform(textwrap.dedent("""\
        def stats(xs):
            total = 0
            found = False
            for i in range(len(xs)):
                total += xs[i]
                if xs[i] == 0:
                    found = True
            return total, found
        """), plan={"loops": {"stats/L1": {"technique": "helix"}}})
    args = (np.arange(1000),)
    fn = compile_kernel(*resolve_kernel(t.function), signature_of(args))[0].lowered.function
    first, second = marshal(args, fn), marshal(args, fn)
    scratch = first.arrays[len(fn.params):]
    assert len(scratch) == len(fn.scratch) >= 2
    assert [a.sim_addr for a in scratch] == [a.sim_addr for a in second.arrays[len(fn.params):]]
    assert scratch[0].sim_addr % 4096 == 0 and scratch[0].sim_addr > first.arrays[0].sim_addr + 8000
    # packed back to back, each region rounded up to whole words (a reduction: one copy per context)
    sizes = [-(-r.length * np.dtype(r.slot.type.dtype).itemsize // 8) * 8 for r in fn.scratch]
    assert [b.sim_addr - a.sim_addr for a, b in zip(scratch, scratch[1:])] == sizes[:-1]
