"""The parallel form on the modeled multicore (docs/multicore.md sections 2-4): iterations spread
over the cores in global time order give CPython's results bit for bit; deadlocks are reported,
the sequentially first exception wins, break/return end the loop with no effect past the exit,
reduction copies combine exactly, and every core's cycles are accounted for."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc.csim.errors import (
    KernelIndexError, KernelZeroDivisionError, MachineError, SimulatorError,
)
from helixrc.resolve import import_file
from test_samples_sim import KERNELS as SAMPLE_KERNELS
from test_transform_golden import load

CORES = (1, 2, 4, 16)
RUNTIME = "from helixrc.parallel import lastprivate, prange, prange_while, reduction, shared, signal, wait\n"


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("path,name", SAMPLE_KERNELS, ids=[n for _, n in SAMPLE_KERNELS])
def test_transformed_sample_on_cores_gives_cpython_results(path: Path, name: str, signals: str) -> None:
    t = helixrc.transform(f"{path}::{name}", signals=signals)
    module = import_file(str(path))
    args = module.make_inputs("small", 1)
    for cores in CORES:
        run_both(getattr(module, name), args, lambda a: helixrc.simulate(t.function, a, cores=cores).value)


def hand(source: str) -> tuple[str, Any]:
    text = RUNTIME + textwrap.dedent(source)
    return text, load(text, "hand.py")


def both(source: str, name: str, *args: Any, cores: int = 4) -> tuple[Any, Any]:
    """CPython and the simulator on cores on a parallel-form source written by hand."""
    text, module = hand(source)
    return run_both(getattr(module, name), args,
                    lambda a: helixrc.simulate(text, a, func=name, cores=cores).value)


CHAIN = """
    def chain(xs, out):
        seg0 = shared(0, acc=0)
        for i in prange(0, len(xs), 1, segments=1, signals="{signals}"):
            v = xs[i] * 3 + 1
            wait(0)
            seg0.acc = seg0.acc * 7 % 1000003 + v
            out[i] = seg0.acc
            signal(0)
        return seg0.acc
    """


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("cores", CORES)
def test_a_carried_chain_through_a_segment(signals: str, cores: int) -> None:
    xs = np.arange(50, dtype=np.int64) % 13
    both(CHAIN.format(signals=signals), "chain", xs, np.zeros(50, dtype=np.int64), cores=cores)


def test_more_cores_run_a_loop_with_private_work_faster() -> None:
    source = RUNTIME + textwrap.dedent(CHAIN.format(signals="uncoupled"))
    xs, out = np.arange(400, dtype=np.int64), np.zeros(400, dtype=np.int64)
    one = helixrc.simulate(source, (xs, out), func="chain", cores=1)
    # The segment's cell moves between cores every iteration: with the ring cache that is a few
    # cycles, through coherence 2 x 75 (the data and the flag line), which a short loop body
    # cannot pay for.
    four = helixrc.simulate(source, (xs, out), func="chain", cores=4, ring_cache=1)
    coherent = helixrc.simulate(source, (xs, out), func="chain", cores=4)
    assert one.value == four.value == coherent.value
    assert four.cycles < one.cycles < coherent.cycles
    assert coherent.stats["communication"]["coherence"]["c2c_transfers"] > 0
    assert four.stats["communication"]["ring"]["signals"] == 400


# Iteration 2 never signals: every later iteration waits for it.
STUCK = """
    def stuck(xs):
        seg0 = shared(0, n=0)
        for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
            wait(0)
            seg0.n += xs[i]
            if i != 2:
                signal(0)
        return seg0.n
    """


def test_a_missing_signal_deadlocks_with_the_iterations_named() -> None:
    text, _ = hand(STUCK)
    with pytest.raises(SimulatorError) as err:
        helixrc.simulate(text, (np.arange(8, dtype=np.int64),), func="stuck", cores=4)
    message = str(err.value)
    assert "DEADLOCK" in message and "segment 0" in message
    assert "iteration 3 waits" in message and "for iteration 2" in message
    assert err.value.loc is not None and err.value.loc.line == 6


@pytest.mark.sim_check_off  # iteration 3 reads out[0] before iteration 0 writes it: a race on purpose
def test_the_sequentially_first_exception_is_reported() -> None:
    # Iteration 5 divides by zero early (little work); iteration 1 indexes out of bounds late.
    source = """
        def first(xs, idx, out):
            for i in prange(0, len(xs), 1, segments=0, signals="uncoupled"):
                t = 0
                for k in range(xs[i]):
                    t += k
                out[i] = 100 // (i - 5) + t + out[idx[i]]
            return 0
        """
    xs = np.array([0, 300, 0, 0, 0, 0, 0, 0], dtype=np.int64)
    idx = np.array([0, 99, 0, 0, 0, 0, 0, 0], dtype=np.int64)
    for cores in CORES:
        py, sim = both(source, "first", xs, idx, np.zeros(8, dtype=np.int64), cores=cores)
        assert isinstance(py, IndexError) and isinstance(sim, KernelIndexError)


def test_an_exception_past_a_break_is_not_raised_and_stores_past_it_are_undone() -> None:
    source = """
        def stop(xs, out):
            for i in prange(0, len(xs), 1, segments=0, signals="uncoupled"):
                out[i] = 1
                if xs[i] < 0:
                    break
                out[i] = 10 // xs[i]
            return 0
        """
    xs = np.array([5, 4, -1, 0, 2, 1, 3, 0], dtype=np.int64)
    for cores in CORES:
        both(source, "stop", xs, np.zeros(8, dtype=np.int64), cores=cores)
    with pytest.raises(KernelZeroDivisionError):
        helixrc.simulate(RUNTIME + textwrap.dedent(source), (np.array([1, 0, -1]), np.zeros(3, dtype=np.int64)),
                         func="stop", cores=2)


def test_return_inside_the_loop_returns_the_first_iterations_value() -> None:
    source = """
        def find(xs, key, marks):
            for i in prange(0, len(xs), 1, segments=0, signals="uncoupled"):
                marks[i] = 1
                if xs[i] == key:
                    return i * 10
            return -1
        """
    xs = np.array([4, 7, 1, 7, 9, 7, 2, 3, 7, 0], dtype=np.int64)
    for cores in CORES:
        assert both(source, "find", xs, 7, np.zeros(10, dtype=np.int64), cores=cores)[1] == 10
        assert both(source, "find", xs, 8, np.zeros(10, dtype=np.int64), cores=cores)[1] == -1


def test_prange_while_break_and_reductions_combine_exactly() -> None:
    source = """
        def k(xs, step):
            big = reduction("max", "first", m=-1.0)
            bits = reduction("^", b=0)
            low = reduction("argmin", "last", v=1000.0, at=-1)
            prod = reduction("*", p=1)
            last = lastprivate(j=-1)
            for it in prange_while(segments=0, signals="uncoupled"):
                j = it * step
                if j >= len(xs):
                    break
                bits.b ^= j * 5
                big.m = max(big.m, xs[j])
                last.j = j
                if xs[j] <= low.v:
                    low.at = j
                    low.v = xs[j]
                prod.p *= 3
            return low.v, low.at, big.m, prod.p, bits.b, last.j
        """
    xs = np.array([3.0, 1.0, 4.0, -0.0, 5.0, 0.0, 1.0, 5.0, 2.0, -0.0, 0.0, 1.0])
    for cores in CORES:
        _, got = both(source, "k", xs, 1, cores=cores)
        assert got[1] == 10 and got[5] == 11      # ties "last": the latest -0.0/0.0 minimum
        both(source, "k", xs, 2, cores=cores)
        both(source, "k", xs, 20, cores=cores)


def test_per_core_stats_account_for_every_cycle() -> None:
    source = RUNTIME + textwrap.dedent(CHAIN.format(signals="coupled"))
    xs, out = np.arange(200, dtype=np.int64), np.zeros(200, dtype=np.int64)
    res = helixrc.simulate(source, (xs, out), func="chain", cores=4)
    cores = res.stats["cores"]
    assert len(cores) == 4
    assert sum(c["iterations"] for c in cores) == 200
    assert [c["iterations"] for c in cores] == [50, 50, 50, 50]
    assert sum(c["instructions"] for c in cores) == res.instructions
    for c in cores:
        assert c["busy"] + c["wait"] + c["dispatch"] + c["idle"] == res.cycles
    assert all(c["wait"] > 0 for c in cores[1:])


def test_machine_fields_are_checked_by_the_core_too() -> None:
    from helixrc.csim import binding
    from helixrc.csim.machine import PRESETS

    config = PRESETS["atom1"]
    bad = object.__new__(type(config))
    for field, value in config.to_dict().items():
        object.__setattr__(bad, field, value)
    object.__setattr__(bad, "cores", 65)
    program = binding.Program([(0, 0, 0, 0, -1, -1), (binding.OP_INFO.index(
        next(i for i in binding.OP_INFO if i.name == "RET")), 0, -1, -1, -1, -1)], 1)
    with pytest.raises(MachineError, match="cores must be from 1 to 64"):
        binding.run(program, [], [], bad)


def test_the_report_shows_the_cores_of_a_parallel_run() -> None:
    from helixrc.report import format_simulation

    source = RUNTIME + textwrap.dedent(CHAIN.format(signals="uncoupled"))
    xs, out = np.arange(40, dtype=np.int64), np.zeros(40, dtype=np.int64)
    res = helixrc.simulate(source, (xs, out), func="chain", cores=2)
    text = format_simulation(res.stats, res.value)
    assert "CPI stack (cycles of every context)" in text
    lines = text.splitlines()
    at = lines.index("cores (cycles; core 0 also runs the code outside parallel loops)")
    rows = [line.split() for line in lines[at + 2:at + 4]]
    assert [row[0] for row in rows] == ["0", "1"] and [row[5] for row in rows] == ["20", "20"]
    assert sum(loop["share"] for loop in res.stats["loops"]) <= 1.0


def test_a_core_stalls_on_a_third_signal_in_flight() -> None:
    # Iteration 0 works long before it signals; worker 1's iterations only signal (skip paths):
    # two of its signals may wait for the watermark, the third stalls its core until iteration 0's.
    source = """
        def skip(xs, out):
            seg0 = shared(0, n=0)
            for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
                if i == 0:
                    t = 0
                    for k in range(xs[0]):
                        t += k * k % 7
                    wait(0)
                    seg0.n += t
                    signal(0)
                else:
                    out[i] = i
                    signal(0)
            return seg0.n
        """
    xs = np.full(12, 300, dtype=np.int64)
    both(source, "skip", xs, np.zeros(12, dtype=np.int64), cores=2)
    text, _ = hand(source)
    res = helixrc.simulate(text, (xs, np.zeros(12, dtype=np.int64)), func="skip", cores=2)
    zero_work = res.stats["cores"][0]["busy"]
    assert res.stats["cores"][1]["wait"] > zero_work // 2
