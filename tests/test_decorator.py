"""@helixrc.parallelize: results, planning once, the report, and the fallback and strict modes."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc import decorator
from helixrc.csim.errors import MachineError
from helixrc.resolve import import_file
from test_transform_api import COUNT

# count_hits of test_transform_api, under three decorators (and other names: see test_run.WRONG)
_HITS = COUNT.replace("count_hits", "{name}")
KERNELS = "import helixrc\n" + "".join(
    f"\n\n{deco}\n" + _HITS.format(name=name) for name, deco in [
        ("hits", '@helixrc.parallelize(machine="atom1", min_speedup=0.0)'),
        ("slow_hits", '@helixrc.parallelize(machine="atom1")'),
        ("strict_hits", '@helixrc.parallelize(machine="atom1", strict=True)'),
    ]
) + textwrap.dedent('''\


    def outside(xs):
        seen = {}
        for x in xs:
            seen[x] = 1
        return len(seen)


    def no_loop(xs):
        xs[0] = 7
        return xs[1]


    def chase(nxt, p, steps):
        for i in range(steps):
            p = nxt[p]
        return p
''')


@pytest.fixture
def kernels(tmp_path: Path) -> ModuleType:
    path = tmp_path / "deco_kernels.py"
    path.write_text(KERNELS)
    return import_file(str(path))


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    return np.array([3, -1, 2, 5, -7, 1]), np.full(6, -1, dtype=np.int64)


def test_wrapper_returns_what_the_original_returns(kernels: ModuleType) -> None:
    f = kernels.hits
    assert f.__name__ == "hits" and f.__module__ == f.__wrapped__.__module__
    xs, out = _inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(xs, out) == 4
    assert out.tolist() == [0, 2, 3, 5, -1, -1]
    res = f.last_result
    assert isinstance(res, helixrc.RunResult) and res.value == 4 and res.machine.name == "atom1"
    assert f.fallback is None and "prange(" in f.source
    assert "hits/L1" in f.plan.loops
    report = f.report
    assert "hits on atom1" in report and "hits/L1: HELIX, uncoupled" in report
    assert f"{res.cycles} parallel, {res.sequential_cycles} sequential" in report
    assert "parallelized on the simulator" in report
    xs2, out2 = np.array([-1, 4]), np.zeros(2, dtype=np.int64)
    assert f(xs2, out2) == 1 and out2.tolist() == [1, 0]
    assert f.last_result is not res and f.last_result.value == 1


def test_planning_happens_once(kernels: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = decorator.transform_for

    def counting(*a: Any, **k: Any) -> Any:
        calls.append("transform")
        return real(*a, **k)

    monkeypatch.setattr(decorator, "transform_for", counting)
    f = helixrc.parallelize(machine="atom1", min_speedup=0.0)(kernels.hits.__wrapped__)
    for _ in range(3):
        xs, out = _inputs()
        assert f(xs, out) == 4
    assert calls == ["transform"]


def test_profile_inputs_plan_before_the_first_call(kernels: ModuleType) -> None:
    f = helixrc.parallelize(machine="atom1", min_speedup=0.0, profile_inputs=_inputs())(
        kernels.hits.__wrapped__)
    assert "not planned yet" not in f.report and "on profile_inputs" in f.report
    planned = f.last_result
    xs, out = np.array([1, 1]), np.zeros(2, dtype=np.int64)
    assert f(xs, out) == 2 and out.tolist() == [0, 1]
    assert f.last_result is not planned


def test_slower_parallel_form_falls_back_with_a_warning(kernels: ModuleType) -> None:
    f = kernels.slow_hits
    xs, out = _inputs()
    with pytest.warns(helixrc.FallbackWarning, match=r"slow_hits runs as the original in CPython: "
                      r"the parallel form is not faster on atom1: \d+ cycles against \d+ sequential"):
        assert f(xs, out) == 4
    assert out.tolist() == [0, 2, 3, 5, -1, -1]
    assert f.fallback is not None and "as the original in CPython" in f.report
    xs, out = _inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(xs, out) == 4  # later calls run the original quietly


def test_strict_raises_instead(kernels: ModuleType) -> None:
    xs, out = _inputs()
    with pytest.raises(helixrc.ParallelizeError, match="strict_hits: the parallel form is not faster"):
        kernels.strict_hits(xs, out)
    assert out.tolist() == [-1] * 6  # nothing ran


def test_kernel_outside_the_language_falls_back(kernels: ModuleType) -> None:
    f = helixrc.parallelize(machine="atom1")(kernels.outside)
    with pytest.warns(helixrc.FallbackWarning, match="outside is outside the kernel language"):
        assert f([1, 2, 2]) == 2
    assert f.source is None and "outside the kernel language" in f.report
    strict = helixrc.parallelize(machine="atom1", strict=True)(kernels.outside)
    with pytest.raises(helixrc.ParallelizeError, match="outside the kernel language"):
        strict([1])


def test_nothing_to_transform_falls_back(kernels: ModuleType) -> None:
    f = helixrc.parallelize(machine="atom1")(kernels.no_loop)
    xs = np.array([1, 2])
    with pytest.warns(helixrc.FallbackWarning, match="no_loop has no loops"):
        assert f(xs) == 2
    assert xs.tolist() == [7, 2]


def test_a_refused_loop_falls_back_naming_the_dependence_and_line(kernels: ModuleType) -> None:
    f = helixrc.parallelize(machine="atom1")(kernels.chase)
    line = f.__wrapped__.__code__.co_firstlineno + 2
    with pytest.warns(helixrc.FallbackWarning, match=rf"chase/L1: refused: p carried on every path \(line {line}\)"):
        assert f(np.array([1, 2, 0]), 0, 5) == 2
    assert f"chase/L1: refused: p carried on every path (line {line})" in f.report


def test_bare_decorator_and_unknown_machine() -> None:
    assert callable(helixrc.parallelize(lambda x: x))        # on helixrc16, the default
    with pytest.raises(MachineError, match="nosuch"):
        helixrc.parallelize(machine="nosuch")
