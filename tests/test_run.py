"""helixrc.run: the parallel form against the sequential run, argument write-back, notes, errors;
and helixrc.compare, the bit-for-bit comparison it uses."""

from __future__ import annotations

import copy
import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest

import helixrc
from equality import assert_same
from helixrc.compare import args_difference, first_difference, write_back
from helixrc.csim.errors import MachineError
from helixrc.csim.machine import resolve_machine
from helixrc.resolve import import_file
from helixrc.run import ResultMismatchError, run_transformed, signals_for
from test_transform_api import COUNT

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# the same signature, a different answer: stands in for a wrongly transformed kernel (another
# name, so that the transformed count_hits keeps its linecache filename for test_transform_api)
WRONG = COUNT.replace("out[n] = i", "out[n] = i + 1").replace("count_hits", "count_hits_wrong")

NO_LOOP = textwrap.dedent("""\
    def pick(xs, k):
        xs[0] = xs[k]
        return xs[k] * 2
""")


def test_run_gives_the_originals_results_and_mutations() -> None:
    dfa = import_file(str(SAMPLES / "dfa_match_batch.py"))
    args = dfa.make_inputs("small", 0)
    expected = copy.deepcopy(args)
    want = dfa.dfa_match_batch(*expected)
    out = args[3]
    res = helixrc.run(dfa.dfa_match_batch, args, machine="atom1")
    assert res.value == want
    assert args[3] is out  # mutated in place, as the original call would
    for a, b in zip(expected, args):
        assert_same(a, b)
    assert res.note is None and res.transformed
    assert res.stats["machine"]["name"] == "atom1" and res.machine.name == "atom1"
    assert res.cycles == res.stats["cycles"] and res.sequential_cycles == res.sequential_stats["cycles"]
    assert res.speedup == res.sequential_cycles / res.cycles
    assert "prange(" in res.source
    assert "dfa_match_batch/L1" in res.plan.loops
    assert res.loops["dfa_match_batch/L1"].startswith("HELIX")


def test_lists_are_written_back_in_place() -> None:
    xs = [3, -1, 2, 5]
    out = [0, 0, 0, 0]
    res = helixrc.run(COUNT, (xs, out), machine="atom1")
    assert res.value == 3 and out == [0, 2, 3, 0] and xs == [3, -1, 2, 5]


def test_nothing_transformed_runs_once_with_a_note() -> None:
    xs = np.array([1, 2, 3])
    res = helixrc.run(NO_LOOP, (xs, 2), machine="atom1")
    assert res.value == 6 and xs.tolist() == [3, 2, 3]
    assert res.speedup == 1.0 and res.cycles == res.sequential_cycles
    assert res.note == "nothing was transformed: pick has no loops" and not res.transformed


def test_a_plan_that_keeps_every_loop_sequential_is_noted() -> None:
    plan = {"loops": {"count_hits/L1": {"technique": "sequential"}}}
    res = helixrc.run(COUNT, (np.array([1, -2]), np.zeros(2, np.int64)), machine="atom1", plan=plan)
    assert res.value == 1 and res.speedup == 1.0
    assert res.note is not None and "count_hits/L1" in res.note


def test_the_default_machine_is_helixrc16_and_an_unknown_one_the_usual_error() -> None:
    res = helixrc.run(COUNT, (np.array([1, -2, 3]), np.zeros(3, np.int64)))
    assert res.value == 2 and res.machine.name == "helixrc16"
    with pytest.raises(MachineError, match="unknown machine preset 'nosuch'"):
        helixrc.run(COUNT, (np.array([1]), np.zeros(1, np.int64)), machine="nosuch")


def test_overrides_reach_both_runs() -> None:
    res = helixrc.run(COUNT, (np.array([1, -2]), np.zeros(2, np.int64)), machine="atom1", dram_latency=700)
    assert res.stats["machine"]["dram_latency"] == 700 == res.sequential_stats["machine"]["dram_latency"]


def test_kernel_exception_leaves_args_as_the_original_does() -> None:
    source = textwrap.dedent("""\
        def fill(xs, n):
            for i in range(n):
                xs[i] = i + 10
            return n
    """)
    xs = np.zeros(3, np.int64)
    with pytest.raises(IndexError, match="out of bounds"):
        helixrc.run(source, (xs, 5), machine="atom1")
    assert xs.tolist() == [10, 11, 12]


def test_mismatch_names_the_kernel_line_and_the_first_differing_element() -> None:
    config = resolve_machine("atom1")
    good = helixrc.transform(COUNT)
    wrong = dataclasses.replace(good, function=helixrc.transform(WRONG).function)
    xs, out = np.array([3, -1, 2]), np.zeros(3, np.int64)
    with pytest.raises(ResultMismatchError) as info:
        run_transformed(COUNT, wrong, (xs, out), config)
    err = info.value
    assert isinstance(err, helixrc.HelixError) and err.loc is not None and err.loc.line == 1
    assert "argument 2 (out)[0]: 0 vs 1" in str(err) and str(err).startswith("<kernel>:1:")
    assert out.tolist() == [0, 0, 0]  # nothing written back from a run that failed the check


def test_signals_come_from_the_machine_config() -> None:
    atom = resolve_machine("atom1")
    assert signals_for(atom) == "uncoupled"                 # atom1 runs either
    coupled = resolve_machine("conventional16")
    assert signals_for(coupled) == "coupled" == signals_for(resolve_machine(atom, signals="coupled"))
    res = helixrc.run(COUNT, (np.array([1, -2, 3]), np.zeros(3, np.int64)), machine=coupled)
    assert res.value == 2 and res.loops["count_hits/L1"].startswith("HELIX, coupled")


# ---------------------------------------------------------------------------------------------
# helixrc.compare
# ---------------------------------------------------------------------------------------------


def test_floats_compare_by_bits() -> None:
    assert first_difference(0.0, -0.0) == "result: 0.0 vs -0.0"
    assert first_difference(float("nan"), float("nan")) is None
    assert first_difference(1.0, 1.0 + 1e-15) is not None
    assert first_difference(1.0, 1.0 + 1e-15, rtol=1e-12) is None
    assert first_difference(np.float64(2.5), 2.5) is None
    assert first_difference(1, True) == "result: 1 vs True"


def test_arrays_report_their_first_differing_element() -> None:
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = a.copy()
    b[2, 1] = -0.0 if a[2, 1] == 0 else a[2, 1] + 1
    b[2, 3] = 99
    assert first_difference(a, b, "grid") == "grid[2, 1]: 9.0 vs 10.0"
    assert first_difference(a, a.astype(np.float32)) == "result: float64[3, 4] vs float32[3, 4]"
    z = np.zeros(2)
    assert first_difference(z, -z) == "result[0]: 0.0 vs -0.0"
    assert first_difference(a, b, rtol=0.2) is not None and first_difference(a, a * (1 + 1e-13), rtol=1e-9) is None


def test_tuples_and_arguments() -> None:
    assert first_difference((1, 2.0), (1, 2.5), "return value") == "return value[1]: 2.0 vs 2.5"
    assert first_difference((1,), (1, 2)) == "result: length 1 vs 2"
    diff = args_difference([np.array([1, 2]), 3], [np.array([1, 2]), 4], ["xs", "n"])
    assert diff == "argument 2 (n): 3 vs 4"


def test_write_back_keeps_identity() -> None:
    arr, lst = np.zeros(3), [0, 0]
    write_back((arr, lst, 5), (np.ones(3), [1, 2], 6))
    assert arr.tolist() == [1.0, 1.0, 1.0] and lst == [1, 2]
