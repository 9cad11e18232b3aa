"""Relic task splits on the simulator (docs/multicore.md section 15): ``spawn``/``join`` in
hand-written parallel-form kernels give CPython's results on one core with an SMT sibling and on
one core without (the task runs inline), overlap a miss-bound task with its continuation, report
the sequentially first exception, and the checker catches a task and continuation that are not
independent."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc.csim.check_report import CheckError
from helixrc.csim.errors import LanguageError, MachineError
from helixrc.csim.machine import resolve_machine
from helixrc.csim.opcodes import disassemble
from helixrc.passes.frontend import check_kernel, load_module
from test_csim_asm import I, RET, run_code
from test_multicore_sim import load

RUNTIME = "from helixrc.parallel import join, prange, spawn\n"
SIBLING = {"machine": "atom1", "smt": 2}          # one core, the main context and its sibling
INLINE = {"machine": "atom1"}                     # smt 1: each task runs at its spawn


def hand(source: str) -> tuple[str, Any]:
    text = RUNTIME + textwrap.dedent(source)
    return text, load(text, "relic_hand.py")


def simulate(text: str, name: str, args: tuple, machine: dict[str, Any] = SIBLING,
             **overrides: Any) -> helixrc.Result:
    return helixrc.simulate(text, args, func=name, **machine, **overrides)


# Two independent pointer chases: the task walks one permutation, the continuation the other.
CHASES = """
    def _walk(nxt, start, steps):
        p = start
        for k in range(steps):
            p = nxt[p]
        return p

    def chases(nxt, other, steps, out):
        t0 = spawn(_walk, nxt, 3, steps)
        out[1] = _walk(other, 5, steps)
        out[0] = join(t0)
        return out[0] + out[1]
    """

# A blocked split of a loop with an integer sum: the sibling takes the second half.
BLOCKED = """
    def _part(a, out, lo, hi):
        total = 0
        for i in range(lo, hi):
            out[i] = a[i] * 3 + 1
            total += out[i]
        return total

    def blocked(a, out):
        n = len(a)
        t0 = spawn(_part, a, out, n // 2, n)
        total0 = _part(a, out, 0, n // 2)
        total1 = join(t0)
        return total0 + total1
    """

TUPLE = """
    def _extremes(a, lo, hi):
        small = a[lo]
        big = a[lo]
        for i in range(lo, hi):
            small = min(small, a[i])
            big = max(big, a[i])
        return small, big

    def extremes(a):
        n = len(a)
        t0 = spawn(_extremes, a, n // 2, n)
        small, big = _extremes(a, 0, n // 2)
        small1, big1 = join(t0)
        return min(small, small1) * 1000 + max(big, big1)
    """

# The task reads past its array when bad is 1; the continuation divides by zero when zero is 0.
RAISES = """
    def _fill(out, n, bad):
        for i in range(n + bad):
            out[i] = i * 2
        return n

    def raises(out, other, bad, zero):
        n = len(out)
        t0 = spawn(_fill, out, n, bad)
        for i in range(len(other)):
            other[i] = i // zero
        m = join(t0)
        return m
    """

# The continuation reads what the task writes: not independent.
DEPENDENT = """
    def _write(out, n):
        for i in range(n):
            out[i] = i + 1
        return n

    def dependent(out, res):
        n = len(out)
        t0 = spawn(_write, out, n)
        s = 0
        for i in range(n):
            s += out[i]
        res[0] = s
        join(t0)
        return s
    """

# Three tasks outstanding at once (a queue of one entry stalls the second spawn).
THREE = """
    def _sum(a, lo, hi):
        s = 0
        for i in range(lo, hi):
            s += a[i] * a[i]
        return s

    def three(a):
        n = len(a)
        t0 = spawn(_sum, a, 0, n // 4)
        t1 = spawn(_sum, a, n // 4, n // 2)
        t2 = spawn(_sum, a, n // 2, 3 * n // 4)
        s = _sum(a, 3 * n // 4, n)
        s0 = join(t0)
        s1 = join(t1)
        s2 = join(t2)
        return s0 + s1 + s2 + s
    """


@pytest.mark.parametrize("machine", [SIBLING, INLINE], ids=["smt2", "inline"])
def test_blocked_split_gives_cpythons_results(machine: dict[str, Any]) -> None:
    text, module = hand(BLOCKED)
    a = np.random.default_rng(3).integers(-1000, 1000, 4001)
    want_out = np.zeros(4001, np.int64)
    want = module.blocked(a, want_out)
    out = np.zeros(4001, np.int64)
    res = simulate(text, "blocked", (a, out), machine)
    assert res.value == want and np.array_equal(out, want_out)
    tasks = res.stats["tasks"]
    assert tasks["spawned"] == tasks["joined"] == 1
    assert tasks["inline_tasks"] == (1 if machine is INLINE else 0)
    smt = 1 if machine is INLINE else 2
    assert sum(res.stats["core_cpi_stacks"][0].values()) == res.cycles * smt
    for stack in res.stats.get("context_cpi_stacks", []):
        assert sum(stack.values()) == res.cycles


def test_a_task_returns_a_tuple() -> None:
    text, module = hand(TUPLE)
    a = np.random.default_rng(4).integers(-10**6, 10**6, 999)
    for machine in (SIBLING, INLINE):
        assert simulate(text, "extremes", (a,), machine).value == module.extremes(a)


def test_three_tasks_through_a_queue_of_one() -> None:
    text, module = hand(THREE)
    a = np.arange(4000, dtype=np.int64)
    res = simulate(text, "three", (a,), relic_queue=1)
    assert res.value == module.three(a)
    tasks = res.stats["tasks"]
    assert tasks["spawned"] == 3 and tasks["queue_full_cycles"] > 0


def test_a_miss_bound_task_overlaps_its_continuation() -> None:
    text, module = hand(CHASES)
    n = 1 << 21                                  # 16 MB of int64 each: beyond the L2
    rng = np.random.default_rng(1)
    nxt, other = rng.permutation(n).astype(np.int64), rng.permutation(n).astype(np.int64)
    want = module.chases(nxt, other, 300, np.zeros(2, np.int64))
    inline = simulate(text, "chases", (nxt, other, 300, np.zeros(2, np.int64)), INLINE)
    out = np.zeros(2, np.int64)
    sibling = simulate(text, "chases", (nxt, other, 300, out))
    assert inline.value == sibling.value == want
    assert sibling.cycles < 0.65 * inline.cycles, (sibling.cycles, inline.cycles)
    tasks = sibling.stats["tasks"]
    assert tasks["join_wait_cycles"] >= 0 and tasks["task_cycles"] > 0
    # every context's CPI stack still accounts for each of the run's cycles
    for stack in sibling.stats["context_cpi_stacks"]:
        assert sum(stack.values()) == sibling.cycles
    main, sib = sibling.stats["contexts"]
    assert main["dispatch"] >= 20 and sib["dispatch"] >= 30     # submit; wake-up
    assert tasks["sibling_idle_cycles"] == sib["idle"]


@pytest.mark.parametrize("machine", [SIBLING, INLINE], ids=["smt2", "inline"])
@pytest.mark.parametrize("bad,zero,error", [(1, 1, IndexError), (1, 0, IndexError), (0, 0, ZeroDivisionError)],
                         ids=["task", "both-the-task-first", "continuation"])
def test_the_sequentially_first_exception_is_reported(machine: dict[str, Any], bad: int, zero: int,
                                                      error: type) -> None:
    text, module = hand(RAISES)
    want_arrays = (np.zeros(50, np.int64), np.zeros(3000, np.int64))
    with pytest.raises(error) as want:
        module.raises(*want_arrays, bad, zero)
    arrays = (np.zeros(50, np.int64), np.zeros(3000, np.int64))
    with pytest.raises(error) as got:
        simulate(text, "raises", (*arrays, bad, zero), machine)
    assert str(want.value) in str(got.value)
    # memory as CPython leaves it: a raising task's continuation never ran, sequentially
    assert all(np.array_equal(a, b) for a, b in zip(arrays, want_arrays))
    line = 5 if error is IndexError else 12          # the task's store, the continuation's division
    assert got.value.loc is not None and got.value.loc.line == line, got.value.loc  # type: ignore[attr-defined]


def test_a_continuation_that_raises_waits_for_its_task() -> None:
    text, module = hand(RAISES)
    out = np.zeros(50, np.int64)
    with pytest.raises(ZeroDivisionError):
        simulate(text, "raises", (out, np.zeros(3000, np.int64), 0, 0))
    assert np.array_equal(out, np.arange(50) * 2)     # the task ran to its end first


def test_the_checker_catches_a_dependent_task_and_continuation() -> None:
    text, module = hand(DEPENDENT)
    args = (np.zeros(200, np.int64), np.zeros(1, np.int64))
    module.dependent(*args)                           # CPython runs it (the task first)
    with pytest.raises(CheckError) as err:
        simulate(text, "dependent", (np.zeros(200, np.int64), np.zeros(1, np.int64)), check=True)
    message = str(err.value)
    assert "the task" in message and "the continuation" in message, message
    assert message.startswith("<kernel>:5:8: the task wrote out[0] after the continuation read it")
    assert "the continuation reads at <kernel>:13: s += out[i]" in message, message


def test_independent_tasks_are_clean_in_checking_mode() -> None:
    text, module = hand(BLOCKED)
    a = np.arange(1000, dtype=np.int64)
    res = simulate(text, "blocked", (a, np.zeros(1000, np.int64)), check=True)
    assert res.value == module.blocked(a, np.zeros(1000, np.int64))
    assert res.stats["checker"] == {"violations": 0}


@pytest.mark.parametrize("body,message", [
    pytest.param("""\
        def _inner(a):
            a[0] = 1
            return 0

        def _outer(a):
            t = spawn(_inner, a)
            r = join(t)
            return r

        def k(a):
            t0 = spawn(_outer, a)
            r = join(t0)
            return r
        """, "the task _outer spawns tasks", id="nested-spawn"),
    pytest.param("""\
        def _task(a, i):
            return a[i]

        def k(a):
            s = 0
            for i in prange(0, len(a), 1, segments=0, signals="uncoupled"):
                t = spawn(_task, a, i)
                a[i] = join(t)
            return s
        """, r"spawn\(\) inside the parallel loop", id="spawn-in-prange"),
])
def test_nested_spawns_are_refused(body: str, message: str) -> None:
    km = load_module(RUNTIME + textwrap.dedent(body), "t.py")
    with pytest.raises(LanguageError, match=message):
        check_kernel(km, "k")


TASK = """\
    def _t(a, i):
        a[i] = i
        return i

    """

REFUSALS = [
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            return 0
        """, "the task t = spawn(_t, ...) is never joined in this block", 7, 4, id="never-joined"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            x = join(t)
            y = join(t)
            return x + y
        """, "join(t): no spawn of it comes earlier in this block, or its task was already joined", 9, 8,
        id="joined-twice"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            if a[0] > 0:
                x = join(t)
            return 0
        """, "join(t): no spawn of it comes earlier in this block", 9, 12, id="join-in-another-block"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            if a[0] > 0:
                return 1
            x = join(t)
            return x
        """, "this return leaves the block between t = spawn(...) (line 7) and its join", 9, 8,
        id="return-between"),
    pytest.param("""\
        def k(a):
            for j in range(3):
                t = spawn(_t, a, j)
                if j == 1:
                    break
                x = join(t)
            return 0
        """, "this break leaves the block between", 10, 12, id="break-between"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            x = t + 1
            join(t)
            return x
        """, "t is a task handle; a kernel uses it only in join(t)", 8, 8, id="handle-used"),
    pytest.param("""\
        def k(a):
            t = spawn(k, a)
            join(t)
            return 0
        """, "k spawns itself", 7, 14, id="spawns-itself"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a)
            join(t)
            return 0
        """, "the task _t() takes 2 arguments but 1 was given", 7, 8, id="task-arity"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            x = join(t) + 1
            return x
        """, "join(h) can only be a statement of its own or assigned in one", 8, 8, id="join-in-expression"),
    pytest.param("""\
        def k(a):
            x = spawn(_t, a, 0) + 1
            return x
        """, "spawn(...) can only be assigned to a task handle", 7, 8, id="spawn-in-expression"),
    pytest.param("""\
        def k(a):
            t = spawn(_t, a, 0)
            join(t)
            t = 3
            return t
        """, "t is a task handle; only t = spawn(...) assigns it", 9, 4, id="handle-reassigned"),
]


@pytest.mark.parametrize("body,message,line,col", REFUSALS)
def test_task_misuse_is_refused_with_its_line(body: str, message: str, line: int, col: int) -> None:
    km = load_module(RUNTIME + textwrap.dedent(TASK) + textwrap.dedent(body), "t.py")
    with pytest.raises(LanguageError) as err:
        check_kernel(km, "k")
    assert message in str(err.value)
    assert err.value.loc is not None and (err.value.loc.line, err.value.loc.col) == (line, col), err.value.loc


def test_a_task_that_runs_a_parallel_loop_is_refused() -> None:
    body = """\
        def _loop(a):
            for i in prange(0, len(a), 1, segments=0, signals="uncoupled"):
                a[i] = 0
            return 0

        def k(a):
            t = spawn(_loop, a)
            join(t)
            return 0
        """
    km = load_module(RUNTIME + textwrap.dedent(body), "t.py")
    with pytest.raises(LanguageError, match="the task _loop runs a parallel loop"):
        check_kernel(km, "k")


# -- the engine on hand-assembled programs -----------------------------------------------------

SMT2 = resolve_machine("atom1", smt=2, l2_size="256K")


def test_a_join_of_a_handle_never_spawned_is_bad_parallel() -> None:
    out = run_code([I("JOIN", a=0), RET], [(0, 5)], config=SMT2)
    assert out.status_name == "BAD_PARALLEL" and out.pc == 0
    assert "JOIN of handle 5, which no SPAWN gave or which was already joined" in out.message


def test_a_task_joined_twice_is_bad_parallel() -> None:
    # SPAWN r1 (task at pc 1, main at pc 3); task: r2 = r0 + r0, TASK_END r2; JOIN twice
    code = [I("SPAWN", 3, 1), I("ADD_I", 2, 0, 0), I("TASK_END", 2, aux=1),
            I("JOIN", 2, 1, aux=1), I("JOIN", 2, 1, aux=1), RET]
    out = run_code(code, [(0, 21)], config=SMT2)
    assert out.status_name == "BAD_PARALLEL" and out.pc == 4


@pytest.mark.parametrize("config", [SMT2, resolve_machine("atom1", l2_size="256K")], ids=["smt2", "inline"])
def test_join_copies_the_results_and_the_task_sees_the_registers_at_the_spawn(config: Any) -> None:
    # the main context changes r0 after the spawn; the task computed with the old value
    code = [I("SPAWN", 3, 1), I("ADD_I", 2, 0, 0), I("TASK_END", 2, aux=1),
            I("MOV", 0, 4), I("JOIN", 2, 1, aux=1), RET]
    out = run_code(code, [(0, 21), (4, 1000)], config=config)
    assert out.ok and out.reg_int(2) == 42 and out.reg_int(0) == 1000 and out.reg_int(1) == 1


def test_costs_follow_the_machine_fields() -> None:
    code = [I("SPAWN", 3, 1), I("MOV", 2, 0), I("TASK_END", 2, aux=1), I("JOIN", 2, 1, aux=1), RET]
    base = run_code(code, [(0, 1)], config=SMT2)
    slow = run_code(code, [(0, 1)], config=resolve_machine("atom1", smt=2, l2_size="256K", relic_submit_cost=120,
                                                         relic_wake_cost=130, relic_join_cost=140))
    assert base.ok and slow.ok
    # submit + wake + join are on the critical path of a task longer than its continuation
    assert slow.totals["cycles"] - base.totals["cycles"] == (120 + 130 + 140) - (20 + 30 + 20)
    assert slow.tasks["submit_cycles"] == 120 and slow.tasks["wake_cycles"] == 130


def test_a_spawn_inside_a_parallel_loop_iteration_is_bad_parallel() -> None:
    code = [I("PAR_BEGIN", 0, 0, 1, 2), I("PAR_END", 7), I("ITER_BEGIN", 3), I("SPAWN", 6, 4),
            I("TASK_END"), I("ITER_END"), I("ITER_END"), RET]
    out = run_code(code, [(0, 0), (1, 2), (2, 1)], config=SMT2)
    assert out.status_name == "BAD_PARALLEL" and out.pc == 3
    assert "SPAWN inside iteration" in out.message


@pytest.mark.parametrize("field,value", [("relic_queue", 0), ("relic_wake_cost", -1), ("relic_join_cost", 10**7)])
def test_bad_relic_fields_are_machine_errors(field: str, value: int) -> None:
    with pytest.raises(MachineError, match=field):
        resolve_machine("atom1", **{field: value})


TWO_TASKS = """
    def _sq(a, i):
        return a[i] * a[i]

    def two_tasks(a, out):
        t = spawn(_sq, a, 1)
        u = spawn(_sq, a, 2)
        out[1] = join(u)
        out[0] = join(t)
        return out[0] + out[1]
    """


@pytest.mark.parametrize("machine", [SIBLING, INLINE], ids=["smt2", "inline"])
def test_tasks_join_in_any_order_into_elements(machine: dict[str, Any]) -> None:
    text, module = hand(TWO_TASKS)
    a, want, out = np.arange(5, dtype=np.int64), np.zeros(2, np.int64), np.zeros(2, np.int64)
    assert simulate(text, "two_tasks", (a, out), machine).value == module.two_tasks(a, want)
    assert np.array_equal(out, want)


def test_a_task_whose_helper_runs_a_parallel_loop_is_refused() -> None:
    text, _ = hand("""
        def _inner(a):
            for i in prange(0, len(a), 1, segments=0, signals="uncoupled"):
                a[i] = 1
            return 0

        def _mid(a):
            x = _inner(a)
            return x

        def k(a):
            t = spawn(_mid, a)
            n = len(a)
            x = join(t)
            return x + n
        """)
    with pytest.raises(LanguageError, match="inside the task spawned at line 13"):
        simulate(text, "k", (np.zeros(4, np.int64),))


def test_the_report_shows_the_tasks() -> None:
    from helixrc.report import format_simulation

    text, _ = hand(BLOCKED)
    res = simulate(text, "blocked", (np.arange(100, dtype=np.int64), np.zeros(100, np.int64)))
    assert "tasks  1 spawned, 1 joined" in format_simulation(res.stats)


@pytest.mark.parametrize("machine", [{"machine": "helixrc16-smt2"}, {"machine": "helixrc16-smt2", "cores": 1}],
                         ids=["16-cores", "1-core"])
def test_tasks_on_the_smt2_preset(machine: dict[str, Any]) -> None:
    text, module = hand(BLOCKED)
    a = np.arange(3000, dtype=np.int64)
    want_out, out = np.zeros(3000, np.int64), np.zeros(3000, np.int64)
    res = simulate(text, "blocked", (a, out), machine, check=True)
    assert res.value == module.blocked(a, want_out) and np.array_equal(out, want_out)
    assert res.stats["tasks"]["inline_tasks"] == 0


def test_a_run_in_small_slices_and_traced_gives_the_same_cycles() -> None:
    code = [I("SPAWN", 3, 1), I("ADD_I", 2, 0, 0), I("TASK_END", 2, aux=1),
            I("MOV", 0, 4), I("JOIN", 2, 1, aux=1), RET]
    whole = run_code(code, [(0, 21), (4, 1000)], config=SMT2)
    sliced = run_code(code, [(0, 21), (4, 1000)], config=SMT2, slice_steps=1, trace_limit=100)
    assert sliced.ok and sliced.reg_int(2) == 42
    assert sliced.totals["cycles"] == whole.totals["cycles"]


def test_the_trace_shows_tasks_spawns_and_joins() -> None:
    text, _ = hand(CHASES)
    n = 1 << 16
    rng = np.random.default_rng(2)
    nxt, other = rng.permutation(n).astype(np.int64), rng.permutation(n).astype(np.int64)
    plain = simulate(text, "chases", (nxt, other, 200, np.zeros(2, np.int64)))
    traced = simulate(text, "chases", (nxt, other, 200, np.zeros(2, np.int64)), trace=True)
    assert traced.cycles == plain.cycles
    events = traced.trace["traceEvents"]
    (task,) = [e for e in events if e["ph"] == "X" and e["cat"] == "task"]
    assert task["name"] == "task 1" and (task["pid"], task["tid"]) == (1, 3)    # core 0, worker 1
    assert task["args"]["end"] == "end" and task["ts"] + task["dur"] <= traced.cycles
    flows = [e for e in events if e.get("cat") == "task" and e["ph"] in "sf"]
    assert sorted(e["name"] for e in flows) == ["join", "join", "spawn", "spawn"]


FLOATS = """
    def _scale(xs, out, f, lo, hi):
        for i in range(lo, hi):
            out[i] = xs[i] * f

    def _norm(xs, lo, hi):
        s = 0.0
        for i in range(lo, hi):
            s += xs[i] * xs[i]
        return s, s > 1.0

    def floats(xs, out, f):
        n = len(xs)
        t0 = spawn(_scale, xs, out, f, 0, n)
        t1 = spawn(_norm, xs, 0, n // 2)
        s = 0.0
        for i in range(n // 2, n):
            s += xs[i] * xs[i]
        join(t0)
        s1, big = join(t1)
        return s1 + s if big else s
    """


@pytest.mark.parametrize("machine", [SIBLING, INLINE], ids=["smt2", "inline"])
def test_float_arguments_results_and_a_task_that_returns_nothing(machine: dict[str, Any]) -> None:
    text, module = hand(FLOATS)
    xs = np.random.default_rng(5).standard_normal(777)
    want_out, out = np.zeros(777), np.zeros(777)
    want = module.floats(xs, want_out, 0.37)
    got = simulate(text, "floats", (xs, out, 0.37), machine).value
    assert got == want and np.array_equal(out, want_out)        # bit for bit: same order of adds


def test_the_disassembler_shows_the_task_opcodes() -> None:
    code = [I("SPAWN", 3, 1), I("TASK_END", 2, aux=1), I("JOIN", 2, 1, aux=1), I("JOIN", a=1)]
    assert [line.split(None, 1)[1] for line in disassemble(code).splitlines()] == [
        "SPAWN r1 -> 3", "TASK_END r2", "JOIN r1 -> r2", "JOIN r1"]
