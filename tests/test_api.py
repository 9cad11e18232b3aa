"""helixrc.simulate: results, argument mutation, errors with locations, stats, caching."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import helixrc
from helixrc.csim.errors import HelixError, KernelError, MachineError


def src(text: str) -> str:
    return textwrap.dedent(text)


SUM = src("""
    def total(a, n):
        s = 0.0
        for i in range(n):
            s += a[i]
        return s
""")


def test_value_and_stats_are_consistent() -> None:
    a = np.linspace(0.0, 1.0, 1000)
    res = helixrc.simulate(SUM, (a, 1000))
    assert res.value == sum(a.tolist())
    st = res.stats
    assert st["cycles"] == res.cycles == sum(st["cpi_stack"].values())
    assert sum(e["cycles"] for e in st["lines"]) == res.cycles
    assert sum(e["instructions"] for e in st["lines"]) == res.instructions
    (loop,) = st["loops"]
    assert loop["id"] == "total/L1" and loop["line"] == 4
    assert loop["invocations"] == 1 and loop["iterations"] == 1000
    assert st["machine"]["name"] == "atom1" and st["machine"]["l1_size"] == 32 * 1024


def test_deterministic_cycles() -> None:
    a = np.arange(5000, dtype=np.float64)
    runs = {helixrc.simulate(SUM, (a, 5000)).cycles for _ in range(3)}
    assert len(runs) == 1


def test_second_call_uses_the_compiled_program() -> None:
    a = np.arange(10, dtype=np.float64)
    helixrc.simulate(SUM, (a, 10))
    again = helixrc.simulate(SUM, (a, 10))
    assert again.stats["compile_cached"] is True


def test_overrides_change_the_model_not_the_result() -> None:
    a = np.arange(20000, dtype=np.float64)
    base = helixrc.simulate(SUM, (a, 20000))
    slow = helixrc.simulate(SUM, (a, 20000), dram_latency=800)
    assert slow.value == base.value and slow.cycles > base.cycles
    assert slow.stats["machine"]["dram_latency"] == 800


def test_unknown_machine_and_field() -> None:
    a = np.zeros(1)
    with pytest.raises(MachineError):
        helixrc.simulate(SUM, (a, 1), machine="nope")
    with pytest.raises(MachineError):
        helixrc.simulate(SUM, (a, 1), l3_size=5)


def test_lists_are_mutated_in_place_like_cpython() -> None:
    code = src("""
        def bump(xs, ys):
            for i in range(len(xs)):
                xs[i] = xs[i] * 2 + 1
                ys[-1 - i] += 0.5
    """)
    xs, ys = [1, 2, 3], [0.0, 1.0, 2.0]
    assert helixrc.simulate(code, (xs, ys)).value is None
    assert xs == [3, 5, 7] and all(type(x) is int for x in xs)
    assert ys == [0.5, 1.5, 2.5]


def test_index_error_names_the_line_and_array() -> None:
    code = src("""
        def f(a, n):
            s = 0
            for i in range(n):
                s += a[i]
            return s
    """)
    with pytest.raises(IndexError) as err:
        helixrc.simulate(code, (np.arange(3), 4))
    assert isinstance(err.value, KernelError)
    assert err.value.loc.line == 5
    assert "index 3 is out of bounds for axis 0 with size 3" in str(err.value)
    assert "'a'" in str(err.value)


def test_list_index_error_reads_like_python() -> None:
    code = src("""
        def f(xs):
            xs[5] = 1
    """)
    with pytest.raises(IndexError, match="list assignment index out of range"):
        helixrc.simulate(code, ([1, 2],))


def test_zero_division_and_assert() -> None:
    code = src("""
        def f(a, b):
            assert b != 1, "b must not be one"
            return a // b
    """)
    with pytest.raises(ZeroDivisionError) as err:
        helixrc.simulate(code, (7, 0))
    assert err.value.loc.line == 4
    with pytest.raises(AssertionError, match="b must not be one"):
        helixrc.simulate(code, (7, 1))


def test_overflow_past_64_bits() -> None:
    code = src("""
        def f(x):
            return x * x
    """)
    assert helixrc.simulate(code, (3037000499,)).value == 3037000499 ** 2
    with pytest.raises(OverflowError):
        helixrc.simulate(code, (3037000500,))


def test_unbound_local_after_empty_loop() -> None:
    code = src("""
        def f(n):
            for i in range(n):
                last = i
            return last
    """)
    assert helixrc.simulate(code, (3,)).value == 2
    with pytest.raises(UnboundLocalError):
        helixrc.simulate(code, (0,))


def test_helper_locals_are_fresh_each_call() -> None:
    code = src("""
        def pick(k):
            if k > 0:
                v = k
            return v

        def f(n):
            s = 0
            for k in range(n, -1, -1):
                s += pick(k)
            return s
    """)
    with pytest.raises(UnboundLocalError):
        helixrc.simulate(code, (3,))


def test_read_only_array_write_is_reported() -> None:
    code = src("""
        def f(a):
            a[0] = 1
    """)
    a = np.zeros(3, dtype=np.int64)
    a.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        helixrc.simulate(code, (a,))
    assert a[0] == 0


def test_aliased_arrays_see_each_other() -> None:
    code = src("""
        def f(a, b):
            a[1] = 5
            return b[0]
    """)
    base = np.zeros(4, dtype=np.int64)
    assert helixrc.simulate(code, (base, base[1:])).value == 5


def test_strided_and_reversed_views() -> None:
    code = src("""
        def f(m, r):
            s = 0.0
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    s += m[i, j] * r[j]
            return s
    """)
    m = np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2]
    r = np.arange(3, dtype=np.float64)[::-1]
    expected = sum(m[i, j] * r[j] for i in range(4) for j in range(3))
    assert helixrc.simulate(code, (m, r)).value == expected


def test_function_object_and_file_spec(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.py"
    path.write_text(SUM)
    a = np.ones(4)
    assert helixrc.simulate(f"{path}::total", (a, 4)).value == 4.0


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(HelixError, match="argument 1"):
        helixrc.simulate(SUM, ("abc", 1))
    with pytest.raises(HelixError, match="complex128"):
        helixrc.simulate(SUM, (np.zeros(2, dtype=complex), 1))
    with pytest.raises(HelixError, match="takes 2 arguments"):
        helixrc.simulate(SUM, (np.zeros(2),))


def test_instruction_budget_stops_a_runaway_loop() -> None:
    code = src("""
        def spin(n):
            while n > 0:
                n = n + 1
            return n
    """)
    with pytest.raises(HelixError, match="budget|max_instructions"):
        helixrc.simulate(code, (1,), max_instructions=100_000)


def test_chained_assignment_and_negative_shape_index() -> None:
    code = src("""
        def f(m):
            i = j = m.shape[-1]
            m[0, 0] = m[1, 0] = i + j
            return i
    """)
    m = np.zeros((2, 3), dtype=np.int64)
    assert helixrc.simulate(code, (m,)).value == 3
    assert m[0, 0] == 6 and m[1, 0] == 6
