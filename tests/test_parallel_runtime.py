"""The CPython runtime of the parallel form: same results, and checking mode catches protocol errors.

Each kernel below is a small hand-written parallel form. Correct ones must give the original's
results with checking on and off; each broken one makes one protocol mistake, and the test checks
the message names the segment and the iteration and that the error points at the offending line
(marked ``# <name>`` in this file).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import helixrc
from helixrc.csim.errors import HelixError
from helixrc.parallel import (
    ProtocolError, checking, is_checking, lastprivate, prange, prange_while, reduction, shared, signal, wait,
)

_SOURCE = Path(__file__).read_text().splitlines()
TRACED = sys.gettrace() is not None  # coverage or a debugger: errors after a break come late


def line_of(marker: str) -> int:
    """The line of this file that ends with the comment ``# <marker>``."""
    return next(i + 1 for i, text in enumerate(_SOURCE) if text.rstrip().endswith(f"# <{marker}>"))


@pytest.fixture
def check() -> Iterator[None]:
    with checking():
        yield


def protocol_error(kernel: Callable[..., Any], *args: Any) -> ProtocolError:
    # pytest.raises outside checking(): with a tracer installed (coverage, a debugger) an error
    # found after a break is raised when the checking block is left (see test_pending_error_...).
    with pytest.raises(ProtocolError) as info:
        with checking():
            kernel(*args)
    return info.value


# ---------------------------------------------------------------------------------------------
# Correct parallel forms, each next to its sequential original
# ---------------------------------------------------------------------------------------------

BASIC, LOWER, UPPER = 0, 1, 2


def doall_orig(a: list[int]) -> list[int]:
    out = [0] * len(a)
    for i in range(len(a)):
        out[i] = a[i] * 2 + 1
    return out


def doall_par(a: list[int]) -> list[int]:
    out = [0] * len(a)
    for i in prange(0, len(a), 1, segments=0):
        out[i] = a[i] * 2 + 1
    return out


def mcf_orig(state, cost, pot, tail, head, bask_arc, bask_rc, group_start, n_groups):  # type: ignore[no-untyped-def]
    nb = 0
    n_arcs = len(state)
    a = group_start
    while a < n_arcs:
        if state[a] != BASIC:
            rc = cost[a] - pot[tail[a]] + pot[head[a]]
            if (rc < 0 and state[a] == LOWER) or (rc > 0 and state[a] == UPPER):
                nb += 1
                bask_arc[nb] = a
                bask_rc[nb] = rc
        a += n_groups
    return nb


def mcf_par(state, cost, pot, tail, head, bask_arc, bask_rc, group_start, n_groups):  # type: ignore[no-untyped-def]
    # The example of docs/parallel-form.md, verbatim: one segment, uncoupled, skip paths signal.
    nb = 0
    n_arcs = len(state)
    a = group_start
    seg0 = shared(0, nb=nb)
    trips = max(0, (n_arcs - a + n_groups - 1) // n_groups)
    for it in prange(0, trips, 1, segments=1, signals="uncoupled"):
        a_it = a + it * n_groups
        if state[a_it] != BASIC:
            rc = cost[a_it] - pot[tail[a_it]] + pot[head[a_it]]
            if (rc < 0 and state[a_it] == LOWER) or (rc > 0 and state[a_it] == UPPER):
                wait(0)
                seg0.nb += 1
                bask_arc[seg0.nb] = a_it
                bask_rc[seg0.nb] = rc
                signal(0)
            else:
                signal(0)
        else:
            signal(0)
    a = a + trips * n_groups
    nb = seg0.nb
    return nb


def mcf_inputs() -> tuple[Any, ...]:
    n = 40
    state = [(i * 7) % 3 for i in range(n)]
    cost = [(i * 13) % 11 - 5 for i in range(n)]
    pot = [(i * 5) % 9 - 4 for i in range(n)]
    tail = [(i * 3) % n for i in range(n)]
    head = [(i * 17 + 1) % n for i in range(n)]
    return state, cost, pot, tail, head, [0] * (n + 1), [0] * (n + 1), 1, 3


def coupled_orig(a: list[int]) -> int:
    best = -1
    for i in range(len(a)):
        if a[i] % 3 == 0:
            best = max(best, a[i])
    return best


def coupled_par(a: list[int]) -> int:
    seg0 = shared(0, best=-1)
    for i in prange(len(a), segments=1, signals="coupled"):
        if a[i] % 3 == 0:
            wait(0)
            seg0.best = max(seg0.best, a[i])
            signal(0)
        else:
            wait(0)  # coupled: the skip path waits too
            signal(0)
    return seg0.best


def walk_orig(nxt: list[int], val: list[int], head: int) -> int:
    total = 0
    p = head
    while p != -1:
        total = total * 3 + val[p]
        p = nxt[p]
    return total


def walk_par(nxt: list[int], val: list[int], head: int, signals: str = "uncoupled") -> int:
    # Segment 0 is the prologue that walks the list and owns the loop-is-over flag; segment 1 the
    # ordered (non-reassociable) accumulation.
    seg0 = shared(0, p=head, over=False)
    seg1 = shared(1, total=0)
    for it in prange_while(segments=2, signals=signals):
        wait(0)
        if seg0.over or seg0.p == -1:
            seg0.over = True
            signal(0)
            if signals == "coupled":
                wait(1)
            signal(1)
            break
        p = seg0.p
        seg0.p = nxt[p]
        signal(0)
        v = val[p]
        wait(1)
        seg1.total = seg1.total * 3 + v
        signal(1)
    return seg1.total


def walk_coupled(nxt: list[int], val: list[int], head: int) -> int:
    return walk_par(nxt, val, head, "coupled")


def two_orig(a: list[int]) -> tuple[int, int]:
    evens = odds = 0
    for i in range(3, len(a)):
        if a[i] % 2 == 0:
            evens = evens * 2 + a[i]
        else:
            odds = odds * 5 + a[i]
    return evens, odds


def two_par(a: list[int]) -> tuple[int, int]:
    seg0 = shared(0, evens=0)
    seg1 = shared(1, odds=0)
    for i in prange(3, len(a), segments=2):
        if a[i] % 2 == 0:
            signal(1)  # segments may be signalled in any order
            wait(0)
            seg0.evens = seg0.evens * 2 + a[i]
            signal(0)
        else:
            wait(1)
            seg1.odds = seg1.odds * 5 + a[i]
            signal(1)
            signal(0)
    return seg0.evens, seg1.odds


LIST_NEXT = [3, 5, -1, 2, 1, 0]  # 4 -> 1 -> 5 -> 0 -> 3 -> 2
LIST_VAL = [7, 1, 4, 2, 9, 6]
NUMBERS = [5, 12, 7, 9, 30, 2, 21, 8, 15, 11]

CORRECT = [
    pytest.param(doall_orig, doall_par, (NUMBERS,), id="doall"),
    pytest.param(mcf_orig, mcf_par, None, id="one-segment-skip-path"),
    pytest.param(coupled_orig, coupled_par, (NUMBERS,), id="coupled"),
    pytest.param(walk_orig, walk_par, (LIST_NEXT, LIST_VAL, 4), id="while-break"),
    pytest.param(walk_orig, walk_coupled, (LIST_NEXT, LIST_VAL, 4), id="while-break-coupled"),
    pytest.param(walk_orig, walk_par, (LIST_NEXT, LIST_VAL, -1), id="while-zero-trips"),
    pytest.param(two_orig, two_par, (NUMBERS,), id="two-segments"),
    pytest.param(doall_orig, doall_par, ([],), id="empty"),
]


@pytest.mark.parametrize("orig, par, args", CORRECT)
def test_correct_forms_give_the_originals_results(orig: Callable[..., Any], par: Callable[..., Any],
                                                  args: tuple[Any, ...] | None) -> None:
    def run(f: Callable[..., Any]) -> tuple[Any, tuple[Any, ...]]:
        call_args = args if args is not None else mcf_inputs()
        call_args = tuple(list(x) if isinstance(x, list) else x for x in call_args)
        return f(*call_args), call_args  # the mutated arguments count too

    expected = run(orig)
    assert not is_checking()
    assert run(par) == expected
    with checking():
        assert is_checking()
        assert run(par) == expected
    assert not is_checking()


def test_mcf_sample_finds_arcs() -> None:
    # Guard against a vacuous comparison: the inputs exercise both paths.
    args = mcf_inputs()
    assert 0 < mcf_orig(*args) < len(args[0]) // 3


def test_cells_are_free_before_and_after_the_loop(check: None) -> None:
    seg0 = shared(0, x=1)
    seg0.x += 1  # before the loop
    for i in prange(4, segments=1):
        if i == 2:
            wait(0)
            seg0.x *= 10
            signal(0)
            break
        signal(0)
    seg0.x += 1  # after a loop left by break
    assert seg0.x == 21


def test_iterations_of_a_stepped_range(check: None) -> None:
    assert list(prange(5, 20, 3)) == [5, 8, 11, 14, 17]
    assert list(prange(10, 0, -4)) == [10, 6, 2]
    assert list(prange(3)) == [0, 1, 2]


def test_a_loop_may_follow_a_loop(check: None) -> None:
    for _ in range(3):
        assert doall_par([1, 2]) == [3, 5]
        assert walk_par(LIST_NEXT, LIST_VAL, 4) == walk_orig(LIST_NEXT, LIST_VAL, 4)


# ---------------------------------------------------------------------------------------------
# Violations
# ---------------------------------------------------------------------------------------------


def missing_signal(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1):  # <missing-loop>
        if a[i] > 0:
            wait(0)
            seg0.n += 1
            signal(0)
        # the skip path forgets signal(0)
    return seg0.n


def test_missing_signal_on_a_path() -> None:
    err = protocol_error(missing_signal, [1, -1, 2])
    assert "iteration 1 ended without signalling segment 0" in err.message
    assert err.loc is not None and err.loc.line == line_of("missing-loop")
    assert err.loc.file == __file__
    assert f"{__file__}:{line_of('missing-loop')}:" in str(err)
    assert err.hint and "signal(0)" in err.hint


def test_missing_signal_in_the_last_iteration() -> None:
    err = protocol_error(missing_signal, [1, 2, -3])
    assert "iteration 2 ended without signalling segment 0" in err.message


def half_waited(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1):
        wait(0)  # <half-waited-wait>
        seg0.n += a[i]
        if a[i] > 0:
            signal(0)
    return seg0.n


def test_missing_signal_names_the_wait() -> None:
    err = protocol_error(half_waited, [1, -1, 2])
    assert "iteration 1 ended without signalling segment 0" in err.message
    assert f"it waited for it at {__file__}:{line_of('half-waited-wait')}" in err.message


def break_without_signal(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1):  # <break-loop>
        if a[i] < 0:
            break  # <break>
        wait(0)
        seg0.n += a[i]
        signal(0)
    n = seg0.n  # <after-break>
    return n


def test_missing_signal_when_left_by_break() -> None:
    err = protocol_error(break_without_signal, [1, 2, -3, 4])
    assert "iteration 2 left the loop without signalling segment 0" in err.message
    assert f"parallel loop at {__file__}:{line_of('break-loop')}" in err.message
    assert err.loc is not None and err.loc.line == line_of("break")
    if not TRACED:  # raised in the kernel's frame right after the loop, not somewhere later
        frames = [tb.tb_lineno for tb in _traceback(err)]
        assert line_of("after-break") in frames


def _traceback(err: BaseException) -> Iterator[Any]:
    tb = err.__traceback__
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_break_check_leaves_no_tracer_behind() -> None:
    before = sys.gettrace()
    protocol_error(break_without_signal, [-1])
    assert sys.gettrace() is before


def return_inside_loop(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for it in prange_while(segments=2):
        wait(0)
        if it == len(a):  # the exit path forgets segment 1
            n = seg0.n
            signal(0)
            return n  # <return-in-loop>
        seg0.n += a[it]
        signal(0)
        signal(1)
    return -1


def test_missing_signal_when_left_by_return() -> None:
    err = protocol_error(return_inside_loop, [4, 5])
    assert "iteration 2 left the loop without signalling segment 1" in err.message
    assert err.loc is not None and err.loc.line == line_of("return-in-loop")


def test_a_correct_break_is_quiet(check: None) -> None:
    before = sys.gettrace()
    assert walk_par(LIST_NEXT, LIST_VAL, 4) == walk_orig(LIST_NEXT, LIST_VAL, 4)
    assert sys.gettrace() is before


def double_signal(a: list[int]) -> None:
    for i in prange(len(a), segments=1):
        signal(0)
        if a[i] == 7:
            signal(0)  # <double-signal>


def test_double_signal() -> None:
    err = protocol_error(double_signal, [1, 7])
    assert "iteration 1 signals segment 0 twice" in err.message
    assert err.loc is not None and err.loc.line == line_of("double-signal")


def wait_after_signal(a: list[int]) -> None:
    for i in prange(len(a), segments=2):
        signal(1)
        wait(0)
        signal(0)
        if a[i]:
            wait(1)  # <wait-after-signal>


def test_wait_after_signal() -> None:
    err = protocol_error(wait_after_signal, [0, 0, 1])
    assert "iteration 2 waits for segment 1 after signalling it" in err.message
    assert err.loc is not None and err.loc.line == line_of("wait-after-signal")


def double_wait(a: list[int]) -> None:
    for i in prange(len(a), segments=1):
        wait(0)
        wait(0)  # <double-wait>
        signal(0)


def test_double_wait() -> None:
    err = protocol_error(double_wait, [0])
    assert "iteration 0 waits for segment 0 twice" in err.message
    assert err.loc is not None and err.loc.line == line_of("double-wait")


def cell_before_wait(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1):
        if a[i] > 0:
            seg0.n += 1  # <cell-before-wait>
            wait(0)
            signal(0)
        else:
            signal(0)
    return seg0.n


def test_cell_access_outside_its_segment() -> None:
    err = protocol_error(cell_before_wait, [0, 3])
    assert "read of shared cell 'n' (segment 0) in iteration 1 outside segment 0" in err.message
    assert "wait(0) was not called" in err.message
    assert err.loc is not None and err.loc.line == line_of("cell-before-wait")
    assert err.loc.col > 0


def cell_after_signal(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1):
        wait(0)
        signal(0)
        seg0.n = a[i]  # <cell-after-signal>
    return seg0.n


def test_cell_write_after_signal() -> None:
    err = protocol_error(cell_after_signal, [5])
    assert "write of shared cell 'n' (segment 0) in iteration 0 after signal(0)" in err.message
    assert err.loc is not None and err.loc.line == line_of("cell-after-signal")


def cell_in_wrong_segment(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    seg1 = shared(1, m=0)
    for i in prange(len(a), segments=2):
        wait(1)
        seg1.m += a[i]
        seg0.n += a[i]  # <wrong-segment>
        signal(1)
        signal(0)
    return seg0.n


def test_cell_access_in_the_wrong_segment() -> None:
    err = protocol_error(cell_in_wrong_segment, [5])
    assert "shared cell 'n' (segment 0) in iteration 0 inside segment 1 (not segment 0)" in err.message
    assert err.loc is not None and err.loc.line == line_of("wrong-segment")


def cell_of_undeclared_segment(a: list[int]) -> None:
    seg2 = shared(2, z=0)
    for i in prange(len(a), segments=1):
        wait(0)
        seg2.z = 1  # <undeclared-cell>
        signal(0)


def test_cell_of_an_undeclared_segment() -> None:
    err = protocol_error(cell_of_undeclared_segment, [5])
    assert "shared cell 'z' (segment 2)" in err.message and "declares only 1 segment" in err.message


def coupled_skip_without_wait(a: list[int]) -> int:
    seg0 = shared(0, n=0)
    for i in prange(len(a), segments=1, signals="coupled"):
        if a[i] > 0:
            wait(0)
            seg0.n += 1
            signal(0)
        else:
            signal(0)  # <coupled-skip>
    return seg0.n


def test_coupled_skip_path_without_wait() -> None:
    err = protocol_error(coupled_skip_without_wait, [1, 2, 0])
    assert "iteration 2 signals segment 0 without waiting for it, in a coupled loop" in err.message
    assert err.loc is not None and err.loc.line == line_of("coupled-skip")
    assert err.hint and "wait(0); signal(0)" in err.hint


def inner(n: int) -> int:
    s = 0
    for j in prange(n):  # <inner-prange>
        s += j
    return s


def nested(a: list[int]) -> int:
    total = 0
    for i in prange(len(a)):  # <outer-prange>
        total += inner(a[i])
    return total


def test_nested_prange() -> None:
    err = protocol_error(nested, [2, 3])
    assert "nested parallel loop" in err.message
    assert f"prange at {__file__}:{line_of('inner-prange')}" in err.message
    assert f"parallel loop at {__file__}:{line_of('outer-prange')} is in iteration 0" in err.message
    assert err.loc is not None and err.loc.line == line_of("inner-prange")
    with checking():  # the failed loop does not linger: a new one starts cleanly
        assert inner(3) == 3


def test_wait_and_signal_outside_a_loop(check: None) -> None:
    with pytest.raises(ProtocolError) as info:
        wait(0)  # <wait-outside>
    assert "wait(0) outside a parallel loop" in info.value.message
    assert info.value.loc is not None and info.value.loc.line == line_of("wait-outside")
    with pytest.raises(ProtocolError, match=r"signal\(1\) outside a parallel loop"):
        signal(1)
    doall_par([1])
    with pytest.raises(ProtocolError, match="outside a parallel loop"):
        signal(0)  # after a loop has ended


def test_segment_out_of_range(check: None) -> None:
    with pytest.raises(ProtocolError, match=r"wait\(1\) in iteration 0: .* declares segments 0\.\.0"):
        for _ in prange(2, segments=1):
            wait(1)
    with pytest.raises(ProtocolError, match=r"signal\(0\) in iteration 0 \(value 5\): .* declares no segments"):
        for _ in prange(5, 9):
            signal(0)


def test_exception_in_the_body_is_not_masked() -> None:
    def boom(a: list[int]) -> int:
        seg0 = shared(0, n=0)
        for i in prange(len(a), segments=1):
            wait(0)
            seg0.n += 10 // a[i]  # raises for 0, between wait and signal
            signal(0)
        return seg0.n

    with checking():
        with pytest.raises(ZeroDivisionError):
            boom([1, 0, 2])
        assert boom([1, 2]) == 15  # no stale loop: not reported as nested


def test_a_loop_kept_alive_after_its_frame_is_gone_does_not_linger() -> None:
    kept: list[Any] = []

    def leaky() -> None:
        loop = prange(3, segments=1)
        kept.append(loop)  # the iterator outlives the loop: __del__ cannot mark its end
        for _ in loop:
            wait(0)
            raise KeyError("left")

    with checking():
        with pytest.raises(KeyError):
            leaky()
        with pytest.raises(ProtocolError, match="outside a parallel loop"):
            signal(0)
        assert inner(3) == 3  # not reported as nested


def test_exception_handled_in_the_same_frame() -> None:
    def caught(a: list[int]) -> str:
        try:
            for i in prange(len(a), segments=1):
                wait(0)
                _ = 1 // a[i]
                signal(0)
        except ZeroDivisionError:
            return "caught"
        return "done"

    with checking():
        assert caught([1, 0]) == "caught"
        assert caught([1]) == "done"


def test_pending_error_when_a_tracer_is_installed() -> None:
    # With a debugger or coverage tracing, the runtime does not replace the tracer: the error of a
    # loop left by break surfaces at the next checking call instead.
    def quiet_break(a: list[int]) -> None:
        for i in prange(len(a), segments=1):
            if a[i] < 0:
                break
            signal(0)

    previous = sys.gettrace()

    def tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    sys.settrace(tracer)
    try:
        with pytest.raises(ProtocolError, match="iteration 1 left the loop without signalling segment 0"):
            with checking():
                quiet_break([1, -1])
                assert sys.gettrace() is tracer
            # raised when the with block is left
    finally:
        sys.settrace(previous)
    with pytest.raises(ProtocolError, match="left the loop"):
        with checking():
            sys.settrace(tracer)
            try:
                quiet_break([-1])
            finally:
                sys.settrace(previous)
            shared(0, x=1)  # the next checking call raises it
    with pytest.raises(KeyError) as info:  # another exception on its way: the error becomes a note
        with checking():
            sys.settrace(tracer)
            try:
                quiet_break([-1])
            finally:
                sys.settrace(previous)
            raise KeyError("original")
    assert "original" in str(info.value)
    assert any("left the loop" in note for note in info.value.__notes__)
    with checking():  # nothing left pending
        shared(0, x=1)


def test_shared_inside_the_loop(check: None) -> None:
    with pytest.raises(ProtocolError, match=r"shared\(0, \.\.\.\) called inside the parallel loop"):
        for _ in prange(1):
            shared(0, x=1)


def test_results_with_checking_equal_without() -> None:
    args = mcf_inputs()
    plain = mcf_par(*args), args
    with checking():
        checked_args = mcf_inputs()
        assert (mcf_par(*checked_args), checked_args) == plain


def test_protocol_error_is_a_helix_error() -> None:
    err = protocol_error(double_wait, [0])
    assert isinstance(err, HelixError) and isinstance(err, RuntimeError)
    assert str(err).startswith(f"{__file__}:{line_of('double-wait')}:")


# ---------------------------------------------------------------------------------------------
# Shared cells, switches, fast path
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [False, True], ids=["fast", "checking"])
def test_cell_typos_name_the_valid_cells(mode: bool) -> None:
    with checking(mode):
        cells = shared(0, nb=1, total=2.5)
        assert (cells.nb, cells.total) == (1, 2.5)
        cells.nb = 4
        assert cells.nb == 4
        with pytest.raises(AttributeError, match=r"no cell 'nbb' \(cells: nb, total\)"):
            _ = cells.nbb
        with pytest.raises(AttributeError, match=r"cells: nb, total"):
            cells.nbb = 1
        assert repr(cells) == "shared(0, nb=4, total=2.5)"


def test_cell_names_are_checked() -> None:
    with pytest.raises(ValueError, match="cannot be a cell name"):
        shared(0, **{"__class__": 1})
    with pytest.raises(ValueError, match="segment must be an int"):
        shared(-1, x=1)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="signals must be 'coupled' or 'uncoupled'"):
        prange(3, signals="couple")
    with pytest.raises(ValueError, match="segments must be an int >= 0"):
        prange_while(segments=-1)


def test_fast_path_is_plain_range() -> None:
    assert not is_checking()
    assert prange(2, 10, 3) == range(2, 10, 3)
    assert prange(4) == range(4)
    assert wait(0) is None and signal(7) is None  # no-ops, even outside a loop
    it = prange_while(segments=1)
    assert [next(it) for _ in range(3)] == [0, 1, 2]


def test_checking_switch() -> None:
    assert not is_checking()
    try:
        checking(True)
        assert is_checking()
        with checking(False):
            assert not is_checking()
        assert is_checking()
    finally:
        checking(False)
    assert not is_checking()


def test_environment_switch(tmp_path: Path) -> None:
    script = tmp_path / "k.py"
    script.write_text(textwrap.dedent("""
        from helixrc.parallel import ProtocolError, is_checking, prange, signal
        print(is_checking())
        try:
            for i in prange(2, segments=1):
                pass
        except ProtocolError as e:
            print(e.message)
    """))
    root = str(Path(helixrc.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    for value, expected in [("1", "True\niteration 0 ended without signalling segment 0"), ("0", "False")]:
        out = subprocess.run([sys.executable, str(script)], env={**env, "HELIXRC_CHECK": value},
                             capture_output=True, text=True, check=True).stdout
        assert out.startswith(expected), out


# ---------------------------------------------------------------------------------------------
# reduction() and lastprivate(): plain bags under CPython, with clear errors
# ---------------------------------------------------------------------------------------------


def test_reduction_and_lastprivate_are_attribute_bags() -> None:
    acc = reduction("argmax", "last", best=-1.0, at=-1)
    acc.best, acc.at = 2.5, 7
    assert (acc.best, acc.at) == (2.5, 7)
    last = lastprivate(i=0)
    last.i = 9
    assert last.i == 9 and repr(last) == "lastprivate(i=9)"
    with pytest.raises(AttributeError, match=r"live-outs have no 'j' \(live-outs: i\)"):
        last.j  # noqa: B018


@pytest.mark.parametrize("args,kwargs,message", [
    (("%",), {"x": 0}, "unknown operator '%'"),
    (("+", "first"), {"x": 0}, "ties must be .first. or .last. for min/max/argmax/argmin"),
    (("argmax", "middle"), {"x": 0}, "ties must be"),
    (("+",), {}, "no variables"),
])
def test_reduction_rejects_bad_arguments(args: tuple[str, ...], kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reduction(*args, **kwargs)


def test_independent_checks_overlap_between_iterations() -> None:
    import numpy as np

    from helixrc.parallel import independent

    hist = np.zeros(8)
    perm = np.array([3, 1, 0, 2])
    assert independent(hist, 0, 4, 1, (perm, 0, "w"))
    assert not independent(hist, 0, 4, 1, (np.array([0, 1, 2, 1]), 0, "w"))
    # the same element read and written by one iteration is fine; by two it is not
    assert independent(hist, 0, 4, 1, (perm, 0, "w"), (perm, 0, "r"))
    assert not independent(hist, 0, 4, 1, (perm, 0, "w"), (perm, 1, "r"))
    assert independent(hist, 0, 8, 2, (None, 0, "w"), (None, 1, "r"))
    assert not independent(hist, 0, 8, 1, (None, 0, "w"), (None, 1, "r"))
    # negative subscripts wrap as in Python; out-of-range ones fail the check (sequential run raises)
    assert not independent(hist, 0, 2, 1, (np.array([-1, 7]), 0, "w"))
    assert not independent(hist, 0, 2, 1, (np.array([0, 8]), 0, "w"))
    assert independent(hist, 0, 1, 1, (np.array([5]), 0, "w"))  # one iteration: nothing to overlap
    assert independent(hist, 0, 4, 1, (perm, 0, "r"))  # reads only


def test_spawn_runs_the_task_at_once_and_join_returns_its_result() -> None:
    from helixrc.parallel import ProtocolError, join, spawn

    order: list[str] = []

    def task(xs: list[int], k: int) -> int:
        order.append("task")
        xs[0] = k
        return k * 2

    xs = [0]
    handle = spawn(task, xs, 7)
    order.append("continuation")
    assert xs == [7] and order == ["task", "continuation"]  # the task's place in sequential order
    assert join(handle) == 14
    with pytest.raises(ProtocolError, match="already joined"):
        join(handle)
    with pytest.raises(TypeError, match="handle spawn"):
        join(14)


def test_an_exception_in_a_spawned_task_propagates_from_spawn() -> None:
    from helixrc.parallel import spawn

    def task(xs: list[int]) -> int:
        return xs[5]

    with pytest.raises(IndexError):
        spawn(task, [1])
