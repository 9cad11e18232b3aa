"""The out-of-order core (docs/multicore.md section 13), validated on microkernels whose behaviour
is known: a pointer chase pays one DRAM latency per load (nothing to overlap); independent loads
overlap their misses up to the window; random branches are mispredict-bound; dense arithmetic is
issue-bound, so a second SMT context gains nothing, while two pointer chases overlap. Every sample
runs on big1 and big1-smt2 with CPython's results, and the CPI stacks account for every cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc.csim.errors import MachineError
from helixrc.passes.plan import parse_plan
from helixrc.resolve import import_file
from test_samples_sim import KERNELS as SAMPLE_KERNELS

BENCH = import_file(str(Path(__file__).resolve().parent.parent / "benchmarks" / "ooo_microkernels.py"))
BIG = helixrc.PRESETS["big1"]
#: load-to-use cycles of a load that misses both caches
DRAM = BIG.l1_latency + BIG.l2_latency + BIG.dram_latency
N = BENCH.N
_perm = BENCH.perm
_run = BENCH.run


def _share(res: helixrc.Result, cat: str) -> float:
    return res.stats["cpi_stack"][cat] / res.cycles


def test_pointer_chase_pays_one_dram_latency_per_load() -> None:
    steps = 2000
    res = _run("chase", (_perm(N), steps))
    per_load = res.cycles / steps
    assert 0.95 * DRAM < per_load < 1.1 * DRAM, per_load
    assert _share(res, "mem_dram") > 0.9


def test_independent_loads_overlap_up_to_the_window() -> None:
    steps = 20000
    vals = np.random.default_rng(2).integers(0, 1000, N, dtype=np.int64)
    big = _run("independent", (vals, steps, N - 1))
    per_load = big.cycles / steps
    assert per_load < DRAM / 15, per_load    # 224 entries hold ~35 iterations of ~6 instructions
    small = _run("independent", (vals, steps, N - 1), rob_size=32)
    assert small.cycles > 4 * big.cycles     # a 32-entry ROB holds ~5 loads
    inorder = _run("independent", (vals, steps, N - 1), core_model="inorder")
    assert inorder.cycles / steps > 0.95 * DRAM   # in order: every miss stalls the core


def test_random_branches_are_mispredict_bound() -> None:
    steps = 20000
    res = _run("branchy", (BENCH.random_signs(), steps))
    stack = res.stats["cpi_stack"]
    assert max(stack, key=stack.get) == "branch"
    assert _share(res, "branch") > 0.45
    mispredicts = res.stats["branches"]["mispredicts"]
    assert mispredicts > 0.4 * steps         # random outcomes: about half the ifs mispredict
    # each one costs the penalty plus resolving the branch (an L1 load and a compare)
    per_mispredict = res.cycles / mispredicts
    assert BIG.mispredict_penalty < per_mispredict < BIG.mispredict_penalty + 15, per_mispredict


def test_dense_arithmetic_is_issue_bound() -> None:
    res = _run("dense", (20000,))
    assert res.stats["ipc"] > 0.85 * BIG.issue_width
    assert _share(res, "busy") > 0.95


def test_dense_arithmetic_gains_nothing_from_a_second_context() -> None:
    args = (np.zeros(2, dtype=np.int64), 5000)
    one = _run("dense2", args)
    two = _run("dense2", args, machine="big1-smt2")
    assert two.cycles > 0.95 * one.cycles, two.cycles / one.cycles


def test_two_pointer_chases_overlap_on_two_contexts() -> None:
    args = (_perm(N), np.zeros(2, dtype=np.int64), 500)
    one = _run("chase2", args)
    two = _run("chase2", args, machine="big1-smt2")
    assert two.cycles < 0.6 * one.cycles, two.cycles / one.cycles


@pytest.mark.parametrize("name,args", [
    ("chase", (_perm(1 << 14), 3000)),
    ("branchy", (np.arange(4096, dtype=np.int8) % 3 - 1, 5000)),
    ("dense", (3000,)),
])
def test_cpi_stack_sums_to_the_cycles(name: str, args: tuple) -> None:
    res = _run(name, args)
    assert sum(res.stats["cpi_stack"].values()) == res.cycles
    core = res.stats["cores"][0]
    assert core["busy"] + core["wait"] + core["dispatch"] + core["idle"] == res.cycles


def test_each_smt_context_accounts_for_every_cycle() -> None:
    res = _run("chase2", (_perm(1 << 14), np.zeros(2, dtype=np.int64), 300), machine="big1-smt2")
    assert [c["iterations"] for c in res.stats["contexts"]] == [1, 1]
    for ctx, stack in zip(res.stats["contexts"], res.stats["context_cpi_stacks"]):
        assert sum(stack.values()) == res.cycles
        assert ctx["busy"] + ctx["wait"] + ctx["dispatch"] + ctx["idle"] == res.cycles


@pytest.mark.parametrize("machine", ["big1", "big1-smt2"])
@pytest.mark.parametrize("path,name", SAMPLE_KERNELS, ids=[n for _, n in SAMPLE_KERNELS])
def test_sample_on_the_big_core_matches_cpython(path: Path, name: str, machine: str) -> None:
    module = import_file(str(path))
    args = module.make_inputs("small", 1)
    run_both(getattr(module, name), args, lambda a: helixrc.simulate(f"{path}::{name}", a, machine=machine).value)


def test_presets() -> None:
    big, smt2 = helixrc.PRESETS["big1"], helixrc.PRESETS["big1-smt2"]
    assert (big.core_model, big.issue_width, big.cores, big.smt) == (1, 4, 1, 1)
    assert (smt2.smt, smt2.smt_policy, smt2.smt_rob, smt2.smt_iq, smt2.smt_lsq) == (2, 1, 1, 0, 1)
    same = {k: v for k, v in big.to_dict().items() if k not in ("name", "description", "smt", "smt_rob", "smt_iq", "smt_lsq")}
    assert same == {k: v for k, v in smt2.to_dict().items() if k in same}


@pytest.mark.parametrize("field,value,match", [
    ("core_model", "fast", "core_model"),
    ("core_model", 2, "core_model"),
    ("rob_size", 0, "rob_size"),
    ("iq_size", 5000, "iq_size"),
    ("smt_lsq", "halves", "smt_lsq"),
])
def test_bad_ooo_field_is_a_machine_error(field: str, value: Any, match: str) -> None:
    with pytest.raises(MachineError, match=match):
        helixrc.resolve_machine("big1", **{field: value})


def test_a_partition_needs_an_entry_per_context() -> None:
    with pytest.raises(MachineError, match="lsq_size must be at least smt"):
        helixrc.resolve_machine("big1-smt2", lsq_size=1)
    assert helixrc.resolve_machine("big1-smt2", lsq_size=1, smt_lsq="shared").lsq_size == 1


def test_c_core_checks_the_fields_too() -> None:
    """The C validator names the field even when a config bypasses MachineConfig's checks."""
    from helixrc.csim import binding
    cfg = binding.ffi.new("csim_config *")
    for field, value in helixrc.PRESETS["big1-smt2"].csim_fields().items():
        setattr(cfg, field, value)
    cfg.rob_size = 1
    err = binding.ffi.new("char[256]")
    status = binding.ffi.new("int *")
    prog = binding.ffi.new("csim_program *")
    sim = binding.lib.csim_new(cfg, prog, binding.ffi.NULL, status, err, 256)
    assert sim == binding.ffi.NULL
    assert "rob_size must be at least smt" in binding.ffi.string(err).decode()


@pytest.mark.parametrize("path,name", SAMPLE_KERNELS, ids=[n for _, n in SAMPLE_KERNELS])
def test_transformed_sample_on_two_contexts_matches_cpython(path: Path, name: str) -> None:
    """The parallel form on big1-smt2 (ooo_wait_policy acquire), checking mode on: no segment's
    access is timed before the write it reads, and the contexts' accesses stay in dispatch order."""
    t = helixrc.transform(f"{path}::{name}", signals="uncoupled")
    module = import_file(str(path))
    args = module.make_inputs("small", 1)
    run_both(getattr(module, name), args,
             lambda a: helixrc.simulate(t.function, a, machine="big1-smt2", check=True).value)


def test_machines_lists_the_big_presets(capsys: pytest.CaptureFixture[str]) -> None:
    from helixrc.cli import main
    assert main(["machines"]) == 0
    out = capsys.readouterr().out
    big1 = out.split("\nbig1:")[1]
    assert "out-of-order, 4-wide" in big1 and "ROB 224, IQ 97, LSQ 128" in big1
    assert "ROB 224 partitioned (112 each), IQ 97 shared, LSQ 128 partitioned (64 each)" in out


@pytest.mark.parametrize("machine,signals", [("helixrc16", "uncoupled"), ("conventional16", "coupled")])
@pytest.mark.parametrize("name", ["hash_join_probe", "order_book_match", "bzip2_bigram_hist"])
def test_out_of_order_multicore_matches_cpython(name: str, machine: str, signals: str) -> None:
    """Sixteen out-of-order cores with the ring cache or coherence: accesses reach the memory
    models in dispatch order, and checking mode finds no order violation."""
    path = next(p for p, n in SAMPLE_KERNELS if n == name)
    t = helixrc.transform(f"{path}::{name}", signals=signals)
    module = import_file(str(path))
    args = module.make_inputs("small", 1)
    run_both(getattr(module, name), args,
             lambda a: helixrc.simulate(t.function, a, machine=machine, core_model="ooo", check=True).value)


# -- ooo_wait_policy (docs/multicore.md section 13) --

CARRIED = """
from helixrc.parallel import prange, shared, signal, wait

def carried(idx, data):
    s = 0
    seg0 = shared(0, s=s)
    for i in prange(0, len(idx), 1, segments=1, signals="uncoupled"):
        v = data[idx[i]]
        wait(0)
        seg0.s = (seg0.s * 3 + v) & 65535
        signal(0)
    s = seg0.s
    return s
"""

RACY = """
from helixrc.parallel import prange

def racy(idx, data, out):
    for i in prange(0, len(idx), 1, segments=0, signals="uncoupled"):
        out[i] = data[idx[i]]
        j = (i * 7 + 3) // 7 - 1
        if j >= 0:
            out[i] += out[j] & 0
"""


def _carried_inputs() -> tuple[np.ndarray, np.ndarray]:
    """400 loads of random elements of a 16 MB array: each a DRAM miss on big1-smt2."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 100, size=1 << 21)
    return rng.integers(0, len(data), size=400), data


def _carried_value(idx: np.ndarray, data: np.ndarray) -> int:
    s = 0
    for i in range(len(idx)):
        s = (s * 3 + int(data[idx[i]])) & 65535
    return s


@pytest.mark.parametrize("policy", ["drain", "acquire"])
def test_a_segment_never_reads_before_its_release(policy: str) -> None:
    """Each iteration's segment stores a value that waits for a DRAM miss; the next one, on the other
    context, reads it. Checking mode times every read against the write it sees
    (CHECK_READ_BEFORE_WRITE): a segment load issued before its WAIT's release would be reported."""
    idx, data = _carried_inputs()
    res = helixrc.simulate(CARRIED, [idx, data], machine="big1-smt2", check=True, ooo_wait_policy=policy)
    assert res.value == _carried_value(idx, data)


def test_private_work_overlaps_the_wait() -> None:
    """The private miss before the WAIT issues while the wait is unresolved, so the misses of
    successive iterations overlap; draining the window at every WAIT, SIGNAL and ITER_END
    serializes them (about one DRAM latency per iteration)."""
    idx, data = _carried_inputs()
    cycles = {p: helixrc.simulate(CARRIED, [idx, data], machine="big1-smt2", ooo_wait_policy=p).cycles
              for p in ("drain", "acquire")}
    assert cycles["drain"] > len(idx) * DRAM / 2      # at most two misses in flight
    assert cycles["acquire"] < cycles["drain"] / 3


def test_each_context_accounts_for_every_cycle_with_acquire() -> None:
    """The cycles a WAIT holds retirement for its release are the context's wait, the rest its
    CPI stack: per context they still sum to the run's cycles."""
    idx, data = _carried_inputs()
    res = helixrc.simulate(CARRIED, [idx, data], machine="big1-smt2")
    for ctx, stack in zip(res.stats["contexts"], res.stats["context_cpi_stacks"]):
        assert ctx["wait"] > 0
        assert sum(stack.values()) == res.cycles
        assert ctx["busy"] + ctx["wait"] + ctx["dispatch"] + ctx["idle"] == res.cycles


def test_the_checker_times_reads_against_writes() -> None:
    """A racy DOALL loop: iteration 1 reads out[0] after iteration 0's store dispatched, but
    before it issued (it waits for a miss). The order holds; the timing does not."""
    idx, data = _carried_inputs()
    with pytest.raises(helixrc.CheckError, match="iteration 1 read out\\[0\\] after iteration 0 wrote it "
                       "\\(but the read issued in an earlier cycle"):
        helixrc.simulate(RACY, [idx, data, np.zeros(len(idx), dtype=np.int64)], machine="big1-smt2", check=True)


@pytest.mark.parametrize("machine", ["helixrc16", "conventional16", "atom1"])
def test_the_wait_policy_leaves_in_order_machines_alone(machine: str) -> None:
    idx, data = _carried_inputs()
    signals = "coupled" if machine == "conventional16" else "uncoupled"
    source = CARRIED.replace('signals="uncoupled"', f'signals="{signals}"')
    runs = [helixrc.simulate(source, [idx, data], machine=machine, ooo_wait_policy=p) for p in ("drain", "acquire")]
    assert runs[0].cycles == runs[1].cycles
    assert runs[0].stats["cores"] == runs[1].stats["cores"]


def test_the_wait_policy_is_a_named_field() -> None:
    assert helixrc.PRESETS["big1-smt2"].ooo_wait_policy == 1
    assert helixrc.resolve_machine("big1-smt2", ooo_wait_policy="drain").ooo_wait_policy == 0
    with pytest.raises(MachineError, match="ooo_wait_policy"):
        helixrc.resolve_machine("big1-smt2", ooo_wait_policy="spin")


def test_a_wait_holding_the_window_keeps_the_stats_in_bounds() -> None:
    """gbdt_score_batch's tree loop as HELIX across the two contexts: an iteration's WAIT (for the
    float sum) holds the ROB while the next iteration's tree descent dispatches behind it, so later
    dispatches stall on that entry. Its cause must be a real CPI category: the release's own
    marker once went into the ROB and, as a stall cause, indexed past the context's CPI stack
    into the next context's register pointer (a KernelIndexError at the 9th request)."""
    path = next(p for p, n in SAMPLE_KERNELS if n == "gbdt_score_batch")
    plan = parse_plan('[loops."gbdt_score_batch/L1.1"]\ntechnique = "helix"\n')
    t = helixrc.transform(f"{path}::gbdt_score_batch", plan=plan, machine="big1-smt2")
    module = import_file(str(path))
    args = list(module.make_inputs("medium", 0))
    args[0], args[-1] = args[0][:10], args[-1][:10]     # x and score: the first 10 requests
    results: list[helixrc.SimResult] = []

    def simulate(a: list[Any]) -> Any:
        results.append(helixrc.simulate(t.function, a, machine="big1-smt2"))
        return results[-1].value

    run_both(module.gbdt_score_batch, tuple(args), simulate)
    stats = results[0].stats
    for ctx, stack in zip(stats["contexts"], stats["context_cpi_stacks"]):
        assert sum(stack.values()) == results[0].cycles
        assert ctx["busy"] + ctx["wait"] + ctx["dispatch"] + ctx["idle"] == results[0].cycles


LATENCY_HELIX = ("parser_memo_probe", "hash_join_probe", "topk_bm25", "order_book_match", "bfs_frontier_step",
                 "dfa_match_batch")


@pytest.mark.parametrize("policy", ["drain", "acquire"])
@pytest.mark.parametrize("name", LATENCY_HELIX)
def test_latency_critical_helix_on_two_contexts(name: str, policy: str) -> None:
    """Issue 6's latency-critical kernels with a HELIX loop (huffman_decode has none: its segment
    would span the whole iteration), on big1-smt2 with checking on: CPython's results."""
    path = next(p for p, n in SAMPLE_KERNELS if n == name)
    t = helixrc.transform(f"{path}::{name}", machine="big1-smt2")
    assert any(lp.technique == "helix" for lp in t.plan.loops.values())
    module = import_file(str(path))
    args = module.make_inputs("small", 0)
    run_both(getattr(module, name), args,
             lambda a: helixrc.simulate(t.function, a, machine="big1-smt2", check=True,
                                        ooo_wait_policy=policy).value)
