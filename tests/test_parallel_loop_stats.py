"""Per parallel loop and per sequential segment stats (stats["parallel_loops"], csim_loop_stats):
a loop's invocations, iterations and cycles, each segment's instances, mean lengths and wait
cycles, their relations to the run's other counters, and the CLI report's table."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc.cli import main
from helixrc.report import format_simulation
from helixrc.resolve import import_file

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "dfa_match_batch.py"


def simulate(signals: str, cores: int) -> tuple[Any, int]:
    """The sample's parallel form on cores, and its trip count (records)."""
    t = helixrc.transform(f"{SAMPLE}::dfa_match_batch", signals=signals)
    args = import_file(str(SAMPLE)).make_inputs("small", 1)
    return helixrc.simulate(t.function, copy.deepcopy(args), cores=cores), len(args[1]) - 1


@pytest.fixture(scope="module", params=("uncoupled", "coupled"))
def runs(request: pytest.FixtureRequest) -> tuple[str, Any, Any, int]:
    one, trip = simulate(request.param, 1)
    four, _ = simulate(request.param, 4)
    return request.param, one, four, trip


def test_one_invocation_of_trip_count_iterations(runs: tuple[str, Any, Any, int]) -> None:
    _, one, four, trip = runs
    for res in (one, four):
        (loop,) = res.stats["parallel_loops"]
        assert (loop["invocations"], loop["iterations"]) == (1, trip)
        assert sum(core["iterations"] for core in res.stats["cores"]) == trip
        assert 0 < loop["cycles"] <= res.cycles
        assert [s["segment"] for s in loop["segments"]] == list(range(len(loop["segments"])))
        assert loop["segments"]


def test_segment_instances_are_the_iterations_that_entered_it(runs: tuple[str, Any, Any, int]) -> None:
    signals, one, four, trip = runs
    hits = one.value                        # the iterations on the accept path
    for res in (one, four):
        (seg,) = res.stats["parallel_loops"][0]["segments"]
        # coupled: every iteration waits (the skip path too); uncoupled: only the accept path
        assert seg["instances"] == (trip if signals == "coupled" else hits)
        assert seg["mean_instructions"] > 0 and seg["mean_cycles"] >= 1
    seg1, seg4 = (r.stats["parallel_loops"][0]["segments"][0] for r in (one, four))
    assert seg1["mean_instructions"] == seg4["mean_instructions"]   # same code, same paths


def test_wait_cycles(runs: tuple[str, Any, Any, int]) -> None:
    _, one, four, _ = runs
    assert one.stats["parallel_loops"][0]["segments"][0]["wait_cycles"] == 0
    seg = four.stats["parallel_loops"][0]["segments"][0]
    assert 0 < seg["wait_cycles"] <= sum(core["wait"] for core in four.stats["cores"])


def test_sequential_loop_has_no_parallel_stats() -> None:
    args = import_file(str(SAMPLE)).make_inputs("small", 1)
    res = helixrc.simulate(import_file(str(SAMPLE)).dfa_match_batch, args)
    assert "parallel_loops" not in res.stats


def test_cli_report_shows_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parallel = tmp_path / "dfa_par.py"
    assert main(["transform", str(SAMPLE), "-o", str(parallel)]) == 0
    capsys.readouterr()
    assert main(["simulate", f"{parallel}::dfa_match_batch", "--set", "cores=4"]) == 0
    out = capsys.readouterr().out
    assert "parallel loops (segments:" in out
    head = out.index("parallel loops (segments:")
    table = out[head:].split("\n\n")[0].splitlines()
    assert table[1].split() == ["line", "invocations", "iterations", "cycles"]
    assert table[2].split()[1:3] == ["1", "150"]
    assert table[3].split() == ["segment", "instances", "mean", "inst", "mean", "cyc", "wait", "cyc"]


def test_a_break_counts_iterations_to_the_exit_and_invocations_add_up() -> None:
    # the parallel loop runs once per repetition and breaks at the first negative record
    source = textwrap.dedent("""
        from helixrc.parallel import prange, shared, signal, wait
        def first_negative(xs, reps):
            found = 0
            for r in range(reps):
                acc = shared(0, s=0)
                for i in prange(0, len(xs), 1, segments=1, signals="coupled"):
                    neg = bool(xs[i] < 0)
                    wait(0)
                    acc.s = acc.s + xs[i]
                    signal(0)
                    if neg:
                        break
                found += acc.s
            return found
        """)
    xs = np.array([5, 4, 3, -1, 2, 1, 3, 7, 8, 9], dtype=np.int64)
    res = helixrc.simulate(source, (xs, 3), func="first_negative", cores=4)
    assert res.value == 3 * (5 + 4 + 3 - 1)
    (loop,) = res.stats["parallel_loops"]
    assert (loop["invocations"], loop["iterations"]) == (3, 12)     # iterations 0..3, three times
    (seg,) = loop["segments"]
    # each run: the 4 iterations up to the exit enter, and the later ones that started before it
    assert 12 <= seg["instances"] <= 3 * len(xs)
    assert seg["mean_instructions"] > 0


def test_segments_past_the_limit_are_flagged_not_counted() -> None:
    source = textwrap.dedent("""
        from helixrc.parallel import prange, shared, signal, wait
        def last_segment(xs):
            acc = shared(0, s=0)
            for i in prange(0, len(xs), 1, segments=65, signals="coupled"):
                wait(64)
                acc.s = acc.s + xs[i]
                signal(64)
            return acc.s
        """)
    res = helixrc.simulate(source, (np.arange(6, dtype=np.int64),), func="last_segment", cores=2)
    assert res.value == 15
    assert res.stats["parallel_loops_overflow"] is True
    (loop,) = res.stats["parallel_loops"]
    assert loop["iterations"] == 6 and len(loop["segments"]) == 64
    assert all(seg["instances"] == 0 for seg in loop["segments"])
    assert "the rest are not counted" in format_simulation(res.stats)


# ---------------------------------------------------------------------------------------------
# helixrc.run: each parallel loop against its own sequential run
# ---------------------------------------------------------------------------------------------

VPR = SAMPLE.parent / "vpr_affected_nets.py"


def test_run_gives_each_parallel_loop_its_sequential_cycles_and_speedup() -> None:
    # the transform's default parallelizes two inner loops of vpr_affected_nets: one pays, one does not
    res = helixrc.run(f"{VPR}::vpr_affected_nets", import_file(str(VPR)).make_inputs("small", 0), "helixrc16")
    seq = {e["id"]: e for e in res.sequential_stats["loops"]}
    par_lines = {e["id"]: e["line"] for e in res.stats["loops"]}
    loops = res.stats["parallel_loops"]
    assert [e["id"] for e in loops] == ["vpr_affected_nets/L1.1", "vpr_affected_nets/L1.2"]
    for loop in loops:
        assert loop["line"] == par_lines[loop["id"]]  # named by its line in the transformed source
        assert loop["sequential_cycles"] == seq[loop["id"]]["cycles"] < res.sequential_cycles
        assert loop["speedup"] == round(loop["sequential_cycles"] / loop["cycles"], 4)
    assert loops[0]["speedup"] > 1 > loops[1]["speedup"]
    # a lone simulation of the parallel form has no sequential run to hold its loops against
    alone = helixrc.simulate(helixrc.transform(f"{VPR}::vpr_affected_nets", machine="helixrc16").function,
                             import_file(str(VPR)).make_inputs("small", 0), "helixrc16")
    assert [e["cycles"] for e in alone.stats["parallel_loops"]] == [e["cycles"] for e in loops]
    assert not any("speedup" in e or "sequential_cycles" in e for e in alone.stats["parallel_loops"])


def test_cli_simulate_parallel_reports_the_loops_speedups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('signals = "uncoupled"\n[loops."dfa_match_batch/L1"]\ntechnique = "helix"\n')
    for how in (["--parallel"], ["--plan", str(plan)]):
        assert main(["simulate", f"{SAMPLE}::dfa_match_batch", "--machine", "helixrc16", *how]) == 0
        out = capsys.readouterr().out
        cycles, seq = (int(out.split(f"\n{k}")[1].split()[0].replace(",", "")) for k in ("cycles", "sequential"))
        assert f"(the original on the same machine: {seq / cycles:.2f}x speedup)" in out
        table = out[out.index("parallel loops (segments:"):].split("\n\n")[0].splitlines()
        assert table[1].split() == ["line", "invocations", "iterations", "cycles", "sequential", "speedup", "loop"]
        row = table[2].split()
        assert row[1:3] == ["1", "150"] and row[-1] == "dfa_match_batch/L1"
        assert row[-2] == f"{int(row[4].replace(',', '')) / int(row[3].replace(',', '')):.2f}x"
    assert main(["simulate", f"{SAMPLE}::dfa_match_batch", "--parallel", "--trace", str(tmp_path / "t.json")]) == 2
    assert "not with --parallel" in capsys.readouterr().err
