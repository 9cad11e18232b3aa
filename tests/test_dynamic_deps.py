"""The dynamic dependence profiler against loops whose dependences and distances are known, and
its cross-check with the static analysis (every sample; a planted wrong static claim)."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helixrc
from helixrc import AnalysisBugError, AnalysisBugWarning, ProfileError, cross_check, profile_dependences
from helixrc.passes.analysis import ScalarClass
from helixrc.profile import DynamicDeps, crosscheck
from helixrc.resolve import import_file
from equality import assert_same
from kernel_gen import GenConfig, arguments, kernel_file
from kernel_gen import kernels as generated_kernels
from kernel_gen_carried import make_inputs, random_kernel

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def kinds(p: DynamicDeps, loop: str, target: str) -> dict[str, dict[int, int]]:
    """kind -> distance histogram (summed over line pairs) of the carried deps on ``target``."""
    out: dict[str, dict[int, int]] = {}
    for d in p.loops[loop].deps(target):
        hist = out.setdefault(d.kind, {})
        for k, v in d.distances.items():
            hist[k] = hist.get(k, 0) + v
    return out


# -- hand-made loops -------------------------------------------------------------------------------


def rare_path(a, flags, n):
    s = 0
    for i in range(1, n):
        a[i] = i
        if flags[i]:
            s += a[i - 1]
    return s


def test_dependence_only_on_a_rare_path() -> None:
    flags = np.zeros(50, dtype=bool)
    flags[[7, 31]] = True
    p = profile_dependences(rare_path, (np.zeros(50, dtype=np.int64), flags, 50))
    assert kinds(p, "rare_path/L1", "a") == {"RAW": {1: 2}}
    (dep,) = p.loops["rare_path/L1"].arrays["a"]
    first = rare_path.__code__.co_firstlineno
    assert (dep.src_line, dep.dst_line) == (first + 3, first + 5) and dep.count == 2
    assert p.value == 7 + 31 - 2
    quiet = profile_dependences(rare_path, (np.zeros(50, dtype=np.int64), np.zeros(50, dtype=bool), 50))
    assert quiet.loops["rare_path/L1"].arrays == {}


def shift2(a, n):
    for i in range(2, n):
        a[i] = a[i - 2] + 1
    return a[n - 1]


def test_dependence_only_at_distance_two() -> None:
    p = profile_dependences(shift2, (np.zeros(20), 20))
    assert kinds(p, "shift2/L1", "a") == {"RAW": {2: 16}}
    assert p.loops["shift2/L1"].iterations == 18
    assert p.value == shift2(np.zeros(20), 20)


def hist(h, idx):
    for i in range(len(idx)):
        h[idx[i]] += 1
    return int(h.sum())


def test_index_array_collides_only_for_some_inputs() -> None:
    perm = profile_dependences(hist, (np.zeros(8, dtype=np.int64), np.array([3, 1, 0, 7, 2, 6, 5, 4])))
    assert perm.loops["hist/L1"].arrays == {}
    dup = profile_dependences(hist, (np.zeros(8, dtype=np.int64), np.array([3, 1, 0, 1, 2, 6, 3, 4])))
    # h[1] at iterations 1 and 3, h[3] at 0 and 6; the read-modify-write leaves no pending read (no WAR)
    assert kinds(dup, "hist/L1", "h") == {"RAW": {2: 1, 6: 1}, "WAW": {2: 1, 6: 1}}
    assert dup.value == 8


def war_waw(a, b, n):
    for i in range(n - 1):
        a[i] = a[i + 1] * 2
        b[i % 3] = i
    return 0


def test_war_and_waw() -> None:
    p = profile_dependences(war_waw, (np.arange(10), np.zeros(3, dtype=np.int64), 10))
    assert kinds(p, "war_waw/L1", "a") == {"WAR": {1: 8}}
    assert kinds(p, "war_waw/L1", "b") == {"WAW": {3: 6}}


def scalars(a, b, n):
    s = 0.0
    last = -1
    for i in range(n):
        t = a[i] * 2.0
        b[i] = t + last
        if a[i] > 0.5:
            last = i
        s = s * 0.5 + t
    return s, last


def test_carried_scalars_and_private_ones() -> None:
    a = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.1])
    p = profile_dependences(scalars, (a, np.zeros(6), 6))
    loop = p.loops["scalars/L1"]
    assert loop.carried_scalars == ["last", "s"]
    assert kinds(p, "scalars/L1", "s")["RAW"] == {1: 5}
    # last is set at iterations 0 and 3 and read in every later iteration: distances 1, 2, 3 then 1, 2
    assert kinds(p, "scalars/L1", "last")["RAW"] == {1: 2, 2: 2, 3: 1}
    assert "RAW" not in kinds(p, "scalars/L1", "t") and "t" in loop.scalars  # WAW only: private
    assert p.value == scalars(a, np.zeros(6), 6)


def grid_walk(grid, n, m):
    for i in range(1, n):
        for j in range(1, m):
            grid[i, j] = grid[i - 1, j] + grid[i, j - 1]
    return grid[n - 1, m - 1]


def test_nested_loops_carry_at_their_own_level() -> None:
    p = profile_dependences(grid_walk, (np.ones((5, 4)), 5, 4))
    # grid[i-1, j] was written one outer iteration earlier (from i = 2 on); grid[i, j-1] one inner
    assert kinds(p, "grid_walk/L1", "grid") == {"RAW": {1: 3 * 3}}
    assert kinds(p, "grid_walk/L1.1", "grid") == {"RAW": {1: 4 * 2}}
    inner = p.loops["grid_walk/L1.1"]
    assert (inner.invocations, inner.iterations, inner.max_trip, inner.parent) == (4, 12, 3, "grid_walk/L1")
    assert p.value == grid_walk(np.ones((5, 4)), 5, 4)


def find_then_touch(a, key):
    i = 0
    pos = -1
    while i < len(a):
        if a[i] == key:
            pos = i
            break
        a[i] = a[i] + 1
        i += 1
    a[0] = a[0] + 100
    return pos


def test_while_loop_with_break() -> None:
    a = np.array([5, 6, 7, 8, 9])
    p = profile_dependences(find_then_touch, (a, 8))
    loop = p.loops["find_then_touch/L1"]
    assert loop.iterations == 4 and loop.kind == "while"
    assert loop.carried_scalars == ["i"]
    # iterations 1 and 2 read i four times before `i += 1` (if, a[i] twice, i += 1), iteration 3
    # twice (if, pos = i); the test at the bottom reads the same iteration's i
    assert kinds(p, "find_then_touch/L1", "i")["RAW"] == {1: 10}
    # the accesses after the loop are outside it: a[0] does not look carried
    assert loop.arrays == {}
    assert p.value == 3


def skip_negatives(a, n):
    s = 0
    i = 0
    while i < n:
        if a[i] < 0:
            i += 1
            continue
        s += a[i]
        i += 1
    return s


def test_while_loop_with_continue_counts_each_iteration_once() -> None:
    # 3.11 sends `continue` back to a copy of the test above the body: a second back edge
    p = profile_dependences(skip_negatives, ([1, -1, 2, -3, 4], 5))
    loop = p.loops["skip_negatives/L1"]
    assert (loop.invocations, loop.iterations) == (1, 5)
    # reads of i before `i += 1`: two on the negative path (iterations 1, 3), three on the other
    assert kinds(p, "skip_negatives/L1", "i")["RAW"] == {1: 2 + 3 + 2 + 3}
    assert kinds(p, "skip_negatives/L1", "s")["RAW"] == {2: 2}  # s += a[i] at 0, 2 and 4
    assert p.value == 7


def rows_with_break(rows, limit):
    total = 0
    for r in range(len(rows)):
        for c in range(len(rows[r])):
            if rows[r][c] > limit:
                break
            total += rows[r][c]
        rows[r][0] = total
    return total


def test_inner_break_then_outer_body() -> None:
    rows = [[1, 2, 9, 1], [3, 1, 1], [9], [1, 1]]
    p = profile_dependences(rows_with_break, (rows, 5))
    assert p.value == rows_with_break([list(r) for r in rows], 5)
    inner = p.loops["rows_with_break/L1.1"]
    assert inner.invocations == 4 and inner.iterations == 3 + 3 + 1 + 2
    assert inner.arrays == {}  # rows[r][0] = total runs after the inner loop, in the outer one
    assert p.loops["rows_with_break/L1"].arrays == {}
    assert p.loops["rows_with_break/L1"].carried_scalars == ["total"]


def fib_list(n):
    f = [0] * n
    f[1] = 1
    for i in range(2, n):
        f[i] = f[i - 1] + f[i - 2]
    return f[-1]


def memo_counts(words, seen):
    for w in words:
        seen[w] += 1
    return seen


def test_lists_and_dicts() -> None:
    p = profile_dependences(fib_list, (12,))
    assert kinds(p, "fib_list/L1", "f") == {"RAW": {1: 9, 2: 8}}
    assert p.value == 89
    d = profile_dependences(memo_counts, (["a", "b", "a", "c", "b", "a"], {"a": 0, "b": 0, "c": 0}))
    # a key's next use reads and rewrites what the previous one wrote: "a" at 0, 2, 5; "b" at 1, 4
    assert kinds(d, "memo_counts/L1", "seen") == {"RAW": {2: 1, 3: 2}, "WAW": {2: 1, 3: 2}}
    assert d.value == {"a": 3, "b": 2, "c": 1}


def scale(x, *, by=1):
    return x * by


def general_python(data, n):
    total = 0
    k = 0
    for i in range(n):
        try:
            v = data[i] // (i % 3)
        except ZeroDivisionError:
            v = -1
        finally:
            k += 1
        total += scale(v, by=2)
        sq = [data[j] * v for j in range(i)]
        bump = lambda z: z + total  # noqa: E731 -- a closure over a carried cell variable
        data[i] = bump(1) if v > 0 else sum(sq)
        while k > 3:
            k -= 2
            if k == 5:
                continue
    return total, k


def test_general_python_constructs() -> None:
    data = list(range(1, 30))
    p = profile_dependences(general_python, (data, 12), follow_calls=True)
    assert p.value == general_python(list(range(1, 30)), 12) and data == list(range(1, 30))
    loop = p.loops["general_python/L1"]
    assert loop.carried_scalars == ["k", "total"]
    # the comprehension reads the elements earlier iterations wrote: every distance 1 .. i
    (dep,) = loop.arrays["data"]
    assert dep.kind == "RAW" and dep.dst_via == f"<listcomp>:{general_python.__code__.co_firstlineno + 11}"
    assert dep.distances == {d: 12 - d for d in range(1, 12)}
    # the while loop is entered in every iteration, runs its body in 5 (a count of invocations
    # that ran at least one iteration)
    inner = p.loops["general_python/L1.1"]
    assert (inner.invocations, inner.iterations) == (5, 5)


COUNTER = 0


def bump_global(xs):
    global COUNTER
    out = []
    for x in xs:
        COUNTER += x
        out.append(COUNTER)
    return out


def test_globals_are_scalars_and_unobserved_writes_are_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.COUNTER", 0)
    p = profile_dependences(bump_global, ([1, 2, 3],))
    assert p.value == [1, 3, 6]
    assert p.loops["bump_global/L1"].carried_scalars == ["COUNTER"]
    line = bump_global.__code__.co_firstlineno + 5
    assert f"line {line}: .append() changes a container without a subscript: not observed" in p.notes


def raises_late(a, n):
    for i in range(n):
        a[i] = a[i + 1]
    return 0


def test_return_value_and_exceptions_as_uninstrumented() -> None:
    for fn, args in ((scalars, (np.linspace(0, 1, 7), np.zeros(7), 7)), (fib_list, (20,)),
                     (grid_walk, (np.arange(12.0).reshape(3, 4), 3, 4))):
        expected = fn(*[x.copy() if isinstance(x, np.ndarray) else x for x in args])
        got = profile_dependences(fn, args).value
        assert repr(got) == repr(expected)
    with pytest.raises(IndexError):
        profile_dependences(raises_late, (np.zeros(4), 4))


def test_arguments_are_not_mutated_unless_asked() -> None:
    a = np.zeros(10)
    before = a.copy()
    profile_dependences(shift2, (a, 10))
    assert np.array_equal(a, before)
    profile_dependences(shift2, (a, 10), copy_args=False)
    expected = before.copy()
    shift2(expected, 10)
    assert np.array_equal(a, expected)


def test_limits_truncate_with_a_note() -> None:
    p = profile_dependences(shift2, (np.zeros(1000), 1000), max_accesses=100)
    assert p.truncated is not None and "max_accesses=100" in p.truncated and "shift2/L1" in p.truncated
    assert p.value == shift2(np.zeros(1000), 1000)  # the run goes on unrecorded
    assert p.accesses <= 101
    q = profile_dependences(shift2, (np.zeros(1000), 1000), max_iterations=10)
    assert "max_iterations=10" in (q.truncated or "") and q.loops["shift2/L1"].iterations == 10
    assert "TRUNCATED" in q.format()


def scatter_helper(out, idx, i):
    out[idx[i]] = out[idx[i]] + i


def calls_helper(out, idx):
    for i in range(len(idx)):
        scatter_helper(out, idx, i)
    return 0


def test_follow_calls_attributes_helper_accesses_to_the_call() -> None:
    args = (np.zeros(4), np.array([0, 1, 0, 2]))
    assert profile_dependences(calls_helper, args).loops["calls_helper/L1"].arrays == {}
    p = profile_dependences(calls_helper, args, follow_calls=True)
    deps = p.loops["calls_helper/L1"].arrays["out"]
    assert {d.kind for d in deps} == {"RAW", "WAW"} and all(d.min_distance == 2 for d in deps)
    call, inside = calls_helper.__code__.co_firstlineno + 2, scatter_helper.__code__.co_firstlineno + 1
    assert all(d.dst_line == call and d.dst_via == f"scatter_helper:{inside}" for d in deps)


@settings(max_examples=40, deadline=None, derandomize=True, database=None, print_blob=False,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_instrumented_runs_as_the_original(data: st.DataObject) -> None:
    """Random kernels (kernel_gen's typed grammar: arrays, helpers, loops, early returns) give the
    original's result and final arguments, or raise the same exception type."""
    kern = data.draw(generated_kernels(GenConfig(arrays=True, helpers=1, numpy_bare=True)))
    args = data.draw(arguments(kern))
    fn = getattr(import_file(kernel_file(kern.source)), "k")
    expected_args = copy.deepcopy(args)
    got_args = copy.deepcopy(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected: Any = fn(*expected_args)
        except Exception as e:  # noqa: BLE001 - the kernel's own exception, compared by type
            expected = type(e)
        try:
            got: Any = profile_dependences(fn, got_args, copy_args=False, follow_calls=True).value
        except Exception as e:  # noqa: BLE001
            got = type(e)
    assert_same(expected, got)
    for before, after in zip(expected_args, got_args):
        assert_same(before, after, "argument")


def test_profile_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not a Python function"):
        profile_dependences(len, ([1],))
    ns: dict[str, Any] = {}
    exec(compile("def f(n):\n    for i in range(n):\n        pass\n", str(tmp_path / "gone.py"), "exec"), ns)
    with pytest.raises(ProfileError) as e:
        profile_dependences(ns["f"], (3,))
    assert e.value.loc is not None and e.value.loc.file.endswith("gone.py") and e.value.loc.line == 1

    def gen(n):
        yield from range(n)

    with pytest.raises(ProfileError, match="generator"):
        profile_dependences(gen, (3,))


def test_public_names() -> None:
    assert helixrc.profile_dependences is profile_dependences and helixrc.cross_check is cross_check
    assert issubclass(ProfileError, helixrc.HelixError) and issubclass(AnalysisBugError, helixrc.HelixError)


# -- cross-check -----------------------------------------------------------------------------------


def _sample_kernels() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SAMPLES.glob("*.py")):
        if path.stem == "time_cpython":
            continue
        module = import_file(str(path))
        out += [(path.stem, k) for k in dir(module) if k.startswith(path.stem) and callable(getattr(module, k))]
    return out


@pytest.mark.parametrize("sample,kernel", _sample_kernels())
def test_cross_check_samples_find_no_bug(sample: str, kernel: str) -> None:
    module = import_file(str(SAMPLES / f"{sample}.py"))
    fn = getattr(module, kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AnalysisBugWarning)
        cc = cross_check(fn, module.make_inputs("small", 0), strict=True)
    assert cc.bugs == []
    assert repr(cc.profile.value) == repr(fn(*module.make_inputs("small", 0)))
    assert all(f.severity in ("candidate", "assumption") for f in cc.findings)


def test_cross_check_generated_carried_kernels_find_no_bug(tmp_path: Path) -> None:
    """Random loops with carried scalars, memory dependences at distance 1 or 2, histograms and
    exits (kernel_gen_carried): the run never contradicts the analysis; candidates do come up."""
    candidates = 0
    for s in range(20):
        kern = random_kernel(random.Random(7000 + s))
        path = tmp_path / f"gen{s}.py"
        path.write_text(kern.source)
        fn = getattr(import_file(str(path)), kern.name)
        for seed in range(2):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", AnalysisBugWarning)
                    cc = cross_check(fn, make_inputs(kern, seed), strict=True)
            except ZeroDivisionError:
                continue  # the generator's rare `//` by zero: the kernel raises as in CPython
            candidates += len(cc.candidates)
    assert candidates > 0


KERNELS = '''
def hist(h, idx):
    for i in range(len(idx)):
        h[idx[i]] += 1
    return 0


def shift2(a, n):
    s = 0
    for i in range(2, n):
        a[i] = a[i - 2] + 1
        s += i
    return s


def copy_shift(dst, src, n):
    for i in range(1, n):
        dst[i] = src[i - 1] + 1
    return 0
'''


@pytest.fixture
def kernels(tmp_path: Path) -> Any:
    path = tmp_path / "kernels.py"
    path.write_text(textwrap.dedent(KERNELS))
    return import_file(str(path))


def test_candidate_with_its_run_time_check(kernels: Any) -> None:
    cc = cross_check(kernels.hist, (np.zeros(6), np.array([5, 3, 1, 0, 2, 4])))
    (cand,) = cc.candidates
    assert (cand.loop, cand.target, cand.checkable) == ("hist/L1", "h", True)
    assert cand.check is not None and cand.check.startswith("independent(h, 0, len(idx), 1")
    assert cand.predicted_gain is None
    data = json.loads(json.dumps(cc.to_dict()))
    assert data["findings"][0]["check"] == cand.check and data["findings"][0]["loc"] == str(cand.loc)
    assert data["profile"]["loops"]["hist/L1"]["iterations"] == 6
    collide = cross_check(kernels.hist, (np.zeros(6), np.array([5, 3, 1, 3, 2, 4])))
    assert collide.findings == []


def test_overlapping_arguments_break_an_assumption_not_the_analysis(kernels: Any) -> None:
    a = np.zeros(6)
    cc = cross_check(kernels.copy_shift, (a, a, 6))  # one array as both: copied as one
    (finding,) = cc.findings
    assert (finding.severity, finding.target) == ("assumption", "src") and "dst[]" in finding.message
    assert cross_check(kernels.copy_shift, (np.zeros(6), np.zeros(6), 6)).findings == []


def _planted(monkeypatch: pytest.MonkeyPatch, edit: Any) -> None:
    """Make the static analysis claim something wrong, through ``edit(loop_analysis)``."""
    real = crosscheck.static_analysis

    def wrong(fn: Any) -> Any:
        km, analysis = real(fn)
        for loop in analysis.loops.values():
            edit(loop)
        return km, analysis

    monkeypatch.setattr(crosscheck, "static_analysis", wrong)


def test_a_wrong_static_claim_is_a_bug(kernels: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _planted(monkeypatch, lambda loop: setattr(loop, "array_deps", []))
    args = (np.zeros(6), np.array([5, 3, 1, 3, 2, 4]))
    with pytest.warns(AnalysisBugWarning, match=r"h\[\] in hist/L1"):
        cc = cross_check(kernels.hist, args)
    assert {(b.target, b.severity) for b in cc.bugs} == {("h", "bug")}
    assert cc.bugs[0].loc.line == 4 and "BUG" in cc.format()
    with pytest.raises(AnalysisBugError) as e:
        cross_check(kernels.hist, args, strict=True)
    assert e.value.loc is not None and e.value.loc.line == 4


def test_a_wrong_distance_and_a_wrong_private_scalar_are_bugs(kernels: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(loop: Any) -> None:
        loop.array_deps = [dataclasses.replace(d, distance=1) for d in loop.array_deps]
        loop.scalars = {n: dataclasses.replace(i, cls=ScalarClass.PRIVATE) for n, i in loop.scalars.items()}

    _planted(monkeypatch, edit)
    with pytest.warns(AnalysisBugWarning):
        cc = cross_check(kernels.shift2, (np.zeros(10), 10))
    messages = {b.target: b.message for b in cc.bugs}
    assert set(messages) == {"a", "s"}
    assert "only at distance 1" in messages["a"] and "private" in messages["s"]
