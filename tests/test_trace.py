"""The Chrome/Perfetto trace of a simulation (runtime/trace.py, csim/src/trace.h): one slice per
iteration on worker it mod W, segments and wait stalls nested in their iterations, flow arrows
from each signal to the wait it releases, the machine named, a bounded buffer that says when it
was cut, and no effect on the simulated cycles."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc.cli import main
from helixrc.csim.errors import HelixError, SimulatorError
from helixrc.resolve import import_file

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "dfa_match_batch.py"
CORES = 4


def slices(trace: dict[str, Any], cat: str) -> list[dict[str, Any]]:
    return [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == cat]


def thread_names(trace: dict[str, Any]) -> dict[tuple[int, int], str]:
    return {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"]
            if e["ph"] == "M" and e["name"] == "thread_name"}


SIGNALS = ("uncoupled", "coupled")


def transformed(signals: str) -> tuple[Any, tuple[Any, ...]]:
    """The sample's parallel form with signals, and its small inputs."""
    t = helixrc.transform(f"{SAMPLE}::dfa_match_batch", signals=signals)
    return t.function, import_file(str(SAMPLE)).make_inputs("small", 1)


@pytest.fixture(scope="module", params=SIGNALS)
def runs(request: pytest.FixtureRequest) -> tuple[Any, Any, int]:
    """The transformed sample on 4 cores without and with a trace, and its trip count."""
    fn, args = transformed(request.param)
    plain = helixrc.simulate(fn, copy.deepcopy(args), cores=CORES)
    traced = helixrc.simulate(fn, copy.deepcopy(args), cores=CORES, trace=True)
    return plain, traced, len(args[1]) - 1


def test_tracing_changes_no_cycle_count(runs: tuple[Any, Any, int]) -> None:
    plain, traced, _ = runs
    assert plain.trace is None and traced.trace is not None
    assert (traced.value, traced.cycles, traced.instructions) == (plain.value, plain.cycles, plain.instructions)
    assert traced.stats["cores"] == plain.stats["cores"]


def test_valid_json_with_one_iteration_slice_per_iteration(runs: tuple[Any, Any, int]) -> None:
    _, traced, trip = runs
    trace = json.loads(json.dumps(traced.trace))
    iterations = sorted(e["args"]["iteration"] for e in slices(trace, "iteration"))
    assert iterations == list(range(trip))
    assert all(e["dur"] >= 0 for e in trace["traceEvents"] if e["ph"] == "X")
    (loop,) = slices(trace, "loop")
    assert loop["args"]["trip_count"] == trip
    assert loop["ts"] + loop["dur"] <= traced.cycles
    assert not trace["otherData"]["truncated"]


def test_iterations_run_on_worker_it_mod_w(runs: tuple[Any, Any, int]) -> None:
    _, traced, _ = runs
    names = thread_names(traced.trace)
    assert set(names.values()) == {"main context"} | {f"worker {w}" for w in range(CORES)}
    for e in slices(traced.trace, "iteration"):
        w = e["args"]["iteration"] % CORES
        assert names[(e["pid"], e["tid"])] == f"worker {w}" and e["args"]["worker"] == w
    processes = {e["pid"]: e["args"]["name"] for e in traced.trace["traceEvents"]
                 if e["ph"] == "M" and e["name"] == "process_name"}
    assert set(processes.values()) == {f"core {c}" for c in range(CORES)}


def test_segments_and_stalls_nest_within_their_iterations(runs: tuple[Any, Any, int]) -> None:
    _, traced, _ = runs
    iters = {e["args"]["iteration"]: e for e in slices(traced.trace, "iteration")}
    segments = {e["args"]["iteration"]: e for e in slices(traced.trace, "segment")}
    assert segments and slices(traced.trace, "wait")

    def inside(inner: dict[str, Any], outer: dict[str, Any]) -> bool:
        return (inner["tid"] == outer["tid"] and outer["ts"] <= inner["ts"]
                and inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"])

    for it, seg in segments.items():
        assert inside(seg, iters[it])
    for stall in slices(traced.trace, "wait"):
        assert stall["dur"] > 0 and inside(stall, segments[stall["args"]["iteration"]])


def test_each_flow_starts_at_a_signal_no_later_than_the_release(runs: tuple[Any, Any, int]) -> None:
    _, traced, _ = runs
    events = traced.trace["traceEvents"]
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    assert starts and starts.keys() == ends.keys()
    segment_ends = {(e["tid"], e["ts"] + e["dur"]) for e in slices(traced.trace, "segment")}
    skips = {(e["tid"], e["ts"]) for e in events if e["ph"] == "i"}
    for fid, s in starts.items():
        assert s["ts"] <= ends[fid]["ts"]
        assert (s["tid"], s["ts"]) in segment_ends | skips     # it leaves a SIGNAL
    # every segment's WAIT but iteration 0's is released by the previous iteration's signal
    assert len(starts) == sum(e["args"]["iteration"] > 0 for e in slices(traced.trace, "segment"))


def test_metadata_names_the_machine_and_the_time_unit(runs: tuple[Any, Any, int]) -> None:
    _, traced, _ = runs
    meta = traced.trace["otherData"]
    assert meta["machine"] == traced.machine.name == "atom1"
    assert meta["time_unit"] == "1 us = 1 cycle of machine config 'atom1'"
    assert meta["cores"] == CORES and meta["cycles"] == traced.cycles
    assert traced.trace["displayTimeUnit"] in ("ms", "ns")


def test_the_limit_cuts_the_trace_and_says_so(tmp_path: Path) -> None:
    fn, args = transformed("uncoupled")
    full = helixrc.simulate(fn, copy.deepcopy(args), cores=CORES, trace=True)
    cut = helixrc.simulate(fn, args, cores=CORES, trace=tmp_path / "cut.json", trace_limit=40)
    meta = cut.trace["otherData"]
    assert meta["events"] == 40 and meta["truncated"] and meta["dropped_events"] > 0
    assert meta["events"] + meta["dropped_events"] == full.trace["otherData"]["events"]
    assert cut.cycles == full.cycles
    assert 0 < len(slices(cut.trace, "iteration")) < len(slices(full.trace, "iteration"))
    assert json.loads((tmp_path / "cut.json").read_text())["otherData"]["truncated"]
    with pytest.raises(SimulatorError, match="at least 1"):
        helixrc.simulate(fn, args, cores=CORES, trace=True, trace_limit=0)


def test_the_buffer_grows_past_its_first_block_and_stops_at_the_limit() -> None:
    fn, _ = transformed("uncoupled")
    args = import_file(str(SAMPLE)).make_inputs("medium", 1)
    full = helixrc.simulate(fn, copy.deepcopy(args), cores=CORES, trace=True)
    cut = helixrc.simulate(fn, args, cores=CORES, trace=True, trace_limit=1500)
    total = full.trace["otherData"]["events"]
    assert total > 2048 and not full.trace["otherData"]["truncated"]     # grew twice from 1024
    assert len(slices(full.trace, "iteration")) == len(args[1]) - 1
    assert (cut.trace["otherData"]["events"], cut.trace["otherData"]["dropped_events"]) == (1500, total - 1500)


def test_write_trace_needs_a_traced_run(runs: tuple[Any, Any, int], tmp_path: Path) -> None:
    plain, traced, _ = runs
    with pytest.raises(HelixError, match="no trace"):
        plain.write_trace(tmp_path / "none.json")
    traced.write_trace(tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text()) == traced.trace


def test_a_break_ends_its_iteration_as_the_exit_and_squashes_running_later_ones() -> None:
    source = textwrap.dedent("""
        from helixrc.parallel import prange, shared, signal, wait
        def stop(xs, out):
            seg0 = shared(0, n=0)
            for i in prange(0, len(xs), 1, segments=1, signals="coupled"):
                v = xs[i]
                wait(0)
                seg0.n += 1
                signal(0)
                if v < 0:
                    break
                out[i] = v * 2
            return seg0.n
        """)
    xs = np.array([5, 4, 3, -1, 2, 1, 3, 7, 8, 9], dtype=np.int64)
    res = helixrc.simulate(source, (xs, np.zeros(10, dtype=np.int64)), func="stop", cores=CORES, trace=True)
    assert res.value == 4
    iters = {e["args"]["iteration"]: e for e in slices(res.trace, "iteration")}
    ends = {i: e["args"]["end"] for i, e in iters.items()}
    assert ends[3] == "exit"
    assert all(ends[i] == "end" for i in range(3))
    # later iterations finished before the break (their stores are undone) or were cut short;
    # none starts once the exit is known
    assert {ends[i] for i in ends if i > 3} <= {"end", "squashed"}
    exit_at = iters[3]["ts"] + iters[3]["dur"]
    assert all(iters[i]["ts"] <= exit_at for i in iters if i > 3)
    (loop,) = slices(res.trace, "loop")
    assert loop["args"]["exit_iteration"] == 3


def test_cli_writes_the_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parallel = tmp_path / "dfa_par.py"
    assert main(["transform", str(SAMPLE), "-o", str(parallel)]) == 0
    out = tmp_path / "out.json"
    assert main(["simulate", f"{parallel}::dfa_match_batch", "--set", "cores=4", "--trace", str(out)]) == 0
    assert f"trace written to {out}" in capsys.readouterr().out
    trace = json.loads(out.read_text())
    assert trace["otherData"]["machine"] == "atom1" and slices(trace, "iteration")
