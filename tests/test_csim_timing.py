"""The timing model: issue width, dependences, load latency by cache level, mispredicts, caches,
the branch predictor, determinism, slicing and the instruction budget."""

from __future__ import annotations

from typing import Any

import numpy as np

from test_csim_asm import RET, I, Instr, run_code
from helixrc.csim.binding import RunOutcome
from helixrc.csim.machine import MachineConfig, resolve_machine

ATOM = resolve_machine("atom1")   # L1 3, L2 +20, DRAM +200 cycles; lat_mul 4; penalty 13
BUSY, L1, L2, DRAM, BRANCH, DEP = range(1, 7)  # pc_stats columns after exec


def test_two_wide_issue() -> None:
    code = [I("ADD_I", 2, 0, 1), I("ADD_I", 3, 0, 1), I("ADD_I", 4, 0, 1), RET]
    assert run_code(code, config=ATOM).totals["cycles"] == 2
    narrow = resolve_machine(ATOM, issue_width=1)
    assert run_code(code, config=narrow).totals["cycles"] == 4


def test_dependence_stall_is_charged_to_the_consumer() -> None:
    out = run_code([I("MUL_I", 1, 0, 0), I("MUL_I", 2, 1, 1), RET], [(0, 3)], config=ATOM)
    # MUL at cycle 1, its result at 5: the second MUL waits 3 cycles, RET shares its cycle.
    assert out.totals["cycles"] == 5
    assert list(out.pc_stats[1]) == [1, 1, 0, 0, 0, 0, 3, 0]
    assert out.totals["cat"] == {"busy": 2, "mem_l1": 0, "mem_l2": 0, "mem_dram": 0, "branch": 0, "dependence": 3, "comm": 0}


def test_load_latency_by_level() -> None:
    arr = np.arange(16.0)
    code = [
        I("LOAD", 1, 0, aux=0), I("ADD_F", 2, 1, 1),     # cold: DRAM, 200 cycles
        I("LOAD", 3, 0, aux=0), I("ADD_F", 4, 3, 3),     # same line: L1 hit, 3 cycles
        RET,
    ]
    out = run_code(code, [(0, 0)], [arr], config=ATOM)
    assert out.pc_stats[1, DRAM] == 199 and out.pc_stats[3, L1] == 2
    assert out.totals["cycles"] == 1 + 199 + 1 + 2 + 1
    assert (out.totals["l1_misses"], out.totals["l2_misses"], out.totals["l1_hits"]) == (1, 1, 1)


def test_l2_hit_latency() -> None:
    arr = np.zeros(8192)   # 64 KB: twice L1
    # Touch every line once, then reload element 0: evicted from L1, still in L2.
    code = sweep_code()
    code[7:] = [I("LOAD", 9, 10, aux=0), I("ADD_F", 11, 9, 9), RET]   # the loop exits to pc 7
    out = run_code(code, [(0, 0), (1, 8192), (2, 1), (6, -1), (8, 1), (10, 0)], [arr], config=ATOM)
    assert out.ok
    assert out.pc_stats[8, L2] == 3 + 17 - 1


#: range(r0, r1, r2) with one segment: each iteration is ITER_BEGIN, WAIT 0, SIGNAL 0, ITER_END
PAR_LOOP = [I("PAR_BEGIN", 0, 0, 1, 2, aux=1), I("PAR_END", 6), I("ITER_BEGIN", 3), I("WAIT", aux=0),
            I("SIGNAL", aux=0), I("ITER_END"), RET]


def test_a_parallel_loop_on_one_core_runs_its_iterations_in_order() -> None:
    # PAR_BEGIN at 1, iterations start 20 later and each fills two cycles of the 2-wide core
    # (22-23, 28-29, 34-35: 4 cycles of dispatch between), the loop ends 20 after the last one
    # and RET issues in the next cycle.
    out = run_code(PAR_LOOP, [(0, 0), (1, 3), (2, 1)], config=ATOM)
    assert out.ok and out.totals["cycles"] == 35 + 20 + 1 and out.totals["instructions"] == 15
    assert list(out.pc_stats[:7, 0]) == [1, 1, 3, 3, 3, 3, 1]
    assert out.cores == [{"busy": 1 + 3 * 2 + 1, "issue": 1 + 3 * 2 + 1, "mem_l1": 0, "mem_l2": 0, "mem_dram": 0,
                          "branch": 0, "dependence": 0, "comm": 0, "wait": 0, "dispatch": 20 + 2 * 4 + 20,
                          "idle": 0, "iterations": 3, "instructions": 15}]


def test_signals_reach_other_cores_after_the_flag_transfer() -> None:
    # Three cores start the three iterations at 21. Iteration 0 signals at 23; iteration 1's
    # WAIT (issued at 22) is released when the flag line arrives, 23 + c2c_latency (10), it
    # signals at 34; iteration 2 signals at 45.
    out = run_code(PAR_LOOP, [(0, 0), (1, 3), (2, 1)], config=resolve_machine(ATOM, cores=3, c2c_latency=10))
    assert out.ok and out.totals["cycles"] == 45 + 20 + 1
    assert [c["wait"] for c in out.cores] == [0, 33 - 22, 44 - 22]
    assert [c["iterations"] for c in out.cores] == [1, 1, 1]


def test_a_segment_with_no_signal_deadlocks() -> None:
    code = [*PAR_LOOP[:4], I("ITER_END"), I("ITER_END"), RET]
    out = run_code(code, [(0, 0), (1, 3), (2, 1)], config=resolve_machine(ATOM, cores=2))
    assert out.status_name == "DEADLOCK" and out.pc == 3
    assert "segment 0: iteration 1 waits at pc 3 for iteration 0" in out.message


def test_a_parallel_loop_inside_an_iteration_is_refused_at_run_time() -> None:
    nested = [I("PAR_BEGIN", 0, 0, 1, 2), I("PAR_END", 7), I("ITER_BEGIN", 3), I("PAR_BEGIN", 0, 0, 1, 2),
              I("PAR_END", 6), I("ITER_END"), I("ITER_END"), RET]
    out = run_code(nested, [(0, 0), (1, 3), (2, 1)], config=ATOM)
    assert out.status_name == "BAD_PARALLEL" and out.pc == 3
    assert "PAR_BEGIN inside iteration 0 of the parallel loop at pc 0" in out.message


def test_a_worker_runs_code_outside_its_loop_body_with_every_register() -> None:
    # The body (pc 2-4) jumps to pc 6, which reads r5: a register no body instruction names. A
    # worker copies only the body's registers when control cannot leave it; here it can, so the
    # worker gets them all and stores r5 + r5 for each iteration.
    code = [I("PAR_BEGIN", 0, 0, 1, 2), I("PAR_END", 5), I("ITER_BEGIN", 3), I("JMP", 6), I("ITER_END"), RET,
            I("ADD_I", 4, 5, 5), I("STORE_I", 4, 3, aux=0), I("JMP", 4)]
    out_arr = np.zeros(3, dtype=np.int64)
    for config in (ATOM, resolve_machine(ATOM, cores=3)):
        out_arr[:] = 0
        out = run_code(code, [(0, 0), (1, 3), (2, 1), (5, 7)], [out_arr], config=config)
        assert out.ok and list(out_arr) == [14, 14, 14]


def test_a_second_loop_sees_registers_set_between_loops() -> None:
    # Each loop's workers copy only that loop's registers: r6, set by the main context after the
    # first loop and never named by it, must reach the second loop's workers.
    code = [I("PAR_BEGIN", 0, 0, 1, 2), I("PAR_END", 5), I("ITER_BEGIN", 3), I("STORE_I", 3, 3, aux=0),
            I("ITER_END"), I("ADD_I", 6, 1, 1), I("PAR_BEGIN", 0, 0, 1, 2), I("PAR_END", 11), I("ITER_BEGIN", 3),
            I("STORE_I", 6, 3, aux=0), I("ITER_END"), RET]
    out_arr = np.zeros(3, dtype=np.int64)
    for config in (ATOM, resolve_machine(ATOM, cores=2)):
        out_arr[:] = 0
        out = run_code(code, [(0, 0), (1, 3), (2, 1)], [out_arr], config=config)
        assert out.ok and list(out_arr) == [6, 6, 6]


def test_mispredict_penalty() -> None:
    # BRT taken the first time it is seen: the predictor starts weakly not-taken.
    out = run_code([I("BRT", 2, 0), RET, RET], [(0, 1)], config=ATOM)
    assert out.totals["mispredicts"] == 1 and out.pc == 2
    assert out.pc_stats[2, BRANCH] == 13
    assert out.totals["cycles"] == 1 + 13 + 1


def test_stores_expose_no_latency() -> None:
    arr = np.zeros(4)
    out = run_code([I("STORE_F", 1, 0, aux=0), I("ADD_I", 2, 3, 3), RET], [(0, 0), (1, 2.5)], [arr], config=ATOM)
    assert out.totals["cycles"] == 2 and arr[0] == 2.5
    assert (out.totals["stores"], out.totals["l1_misses"]) == (1, 1)


def sweep_code() -> list[Instr]:
    """for i in range(r1): load arr0[(i * r2) & r6]  (r0 = i)."""
    return [
        I("LT_I", 4, 0, 1),
        I("BRF", 7, 4),
        I("MUL_I", 5, 0, 2),
        I("AND_I", 3, 5, 6),
        I("LOAD", 7, 3, aux=0),
        I("ADD_I", 0, 0, 8),
        I("JMP", 0),
        RET,
    ]


def sweep(n_elems: int, iters: int, stride: int = 1, config: MachineConfig = ATOM, **kw: Any) -> RunOutcome:
    arr = np.zeros(n_elems)
    regs = [(0, 0), (1, iters), (2, stride), (6, n_elems - 1), (8, 1)]
    return run_code(sweep_code(), regs, [arr], config=config, **kw)


def test_sequential_sweep_misses_once_per_line() -> None:
    out = sweep(2048, 2048)                    # 16 KB, 256 lines
    t = out.totals
    assert (t["loads"], t["l1_misses"], t["l2_misses"]) == (2048, 256, 256)


def test_working_set_within_l1_hits_on_the_second_pass() -> None:
    t = sweep(2048, 4096).totals
    assert (t["l1_misses"], t["l1_hits"]) == (256, 4096 - 256)


def test_working_set_larger_than_l1_thrashes() -> None:
    t = sweep(8192, 16384).totals              # 64 KB, LRU: every line misses L1 on each pass
    assert t["l1_misses"] == 2 * 1024
    assert (t["l2_misses"], t["l2_hits"]) == (1024, 1024)


def test_associativity() -> None:
    # A stride of one set-size maps every access to set 0 (64 sets * 64 B = 512 doubles).
    eight = sweep(8 * 512, 800, stride=512).totals
    nine = sweep(16 * 512, 900, stride=512).totals  # 16 distinct lines, 8 ways: LRU misses all
    assert eight["l1_misses"] == 8
    assert nine["l1_misses"] == 900


def branchy_code() -> list[Instr]:
    """do { i += 1; if bits[i]: x += 1 } while i < n."""
    return [
        I("ADD_I", 0, 0, 2),
        I("LOAD", 3, 0, aux=0),
        I("BRF", 4, 3),
        I("ADD_I", 5, 5, 2),
        I("LT_I", 4, 0, 1),
        I("BRT", 0, 4),
        RET,
    ]


def run_branchy(bits: np.ndarray, config: MachineConfig = ATOM, **kw: Any) -> RunOutcome:
    return run_code(branchy_code(), [(0, -1), (1, len(bits) - 1), (2, 1)], [bits], config=config, **kw)


def test_loop_branch_is_learned() -> None:
    ones = np.ones(1000, dtype=np.int64)
    bimodal = run_branchy(ones, config=resolve_machine(ATOM, bpred_kind="bimodal"))
    assert bimodal.ok and bimodal.reg_int(5) == 1000
    # pc 2 falls through and pc 5 is taken 999 times: one miss to learn pc 5, one at the exit.
    assert bimodal.totals["mispredicts"] == 2
    gshare = run_branchy(ones)
    assert gshare.totals["branches"] == 2000
    assert gshare.totals["mispredicts"] <= 2 * ATOM.bpred_history_bits + 2


def test_random_branches_mispredict_about_half() -> None:
    bits = np.random.default_rng(1).integers(0, 2, 4000)
    out = run_branchy(bits)
    assert out.reg_int(5) == int(bits.sum())
    assert 1500 < out.totals["mispredicts"] < 2500
    assert out.totals["cat"]["branch"] == 13 * out.totals["mispredicts"]


def test_deterministic_and_slice_independent() -> None:
    bits = np.random.default_rng(2).integers(0, 2, 3000)
    whole = run_branchy(bits)
    for steps in (1, 7, 1000):
        part = run_branchy(bits, slice_steps=steps)
        assert part.totals == whole.totals
        assert np.array_equal(part.pc_stats, whole.pc_stats)
        assert part.reg_int(5) == whole.reg_int(5)


def test_budget() -> None:
    config = resolve_machine(ATOM, max_instructions=1000)
    out = run_code([I("ADD_I", 0, 0, 1), I("JMP", 0)], [(1, 1)], config=config, slice_steps=64)
    assert out.status_name == "BUDGET" and "1000" in out.message
    assert out.totals["instructions"] == 1000 and out.reg_int(0) == 500
    exact = run_code([I("ADD_I", 0, 0, 1), RET], [(1, 1)], config=resolve_machine(ATOM, max_instructions=2))
    assert exact.ok


def test_raise() -> None:
    out = run_code([I("ADD_I", 0, 0, 0), I("RAISE", aux=6)], config=ATOM)
    assert (out.status_name, out.pc, out.message) == ("ASSERTION", 1, "")
    assert out.totals["instructions"] == 2
