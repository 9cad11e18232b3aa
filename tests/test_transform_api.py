"""helixrc.transform: kernel inputs, the runnable result, plans (objects, files, dicts), errors.

Tests marked ``needs_plan`` exercise plan semantics of ``transform_source(..., plan=...)``.
"""

from __future__ import annotations

import copy
import inspect
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import assert_same
from helixrc import parallel
from helixrc.csim.errors import HelixError, LanguageError, PlanError
from helixrc.passes.plan import LoopPlan, Plan, parse_plan
from helixrc.resolve import import_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DFA = SAMPLES / "dfa_match_batch.py"

COUNT = textwrap.dedent("""\
    def count_hits(xs, out):
        n = 0
        for i in range(len(xs)):
            if xs[i] > 0:
                out[n] = i
                n += 1
        return n
""")

# a helper kernel and its caller: the caller is the one kernel no other calls
WITH_HELPER = textwrap.dedent("""\
    LIMIT = 3


    def clamp(x):
        return min(x, LIMIT)


    def clamp_all(xs):
        for i in range(len(xs)):
            xs[i] = clamp(xs[i])
""")

TWO_KERNELS = COUNT + textwrap.dedent("""\


    def scale(xs, c):
        for i in range(len(xs)):
            xs[i] = xs[i] * c
""")


def count_args() -> tuple[np.ndarray, np.ndarray]:
    return np.array([3, -1, 2, 0, 5, -7, 1]), np.zeros(7, dtype=np.int64)


def check_same(original: Any, transformed: Any, args: tuple[Any, ...]) -> None:
    """Same value and same argument mutations; the transformed kernel runs in checking mode."""
    a, b = copy.deepcopy(args), copy.deepcopy(args)
    expected = original(*a)
    with parallel.checking():
        got = transformed(*b)
    assert_same(expected, got)
    for i, (x, y) in enumerate(zip(a, b)):
        assert_same(x, y, f"argument {i + 1} after the call")


# ---------------------------------------------------------------------------------------------
# Kernel inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_function_object_runs_like_the_original(seed: int) -> None:
    sample = import_file(str(DFA))
    t = helixrc.transform(sample.dfa_match_batch)
    assert t.name == "dfa_match_batch"
    assert t.loops["dfa_match_batch/L1"] == "HELIX, uncoupled, 1 segment"
    assert "prange(" in t.source and "from helixrc.parallel import" in t.source
    check_same(sample.dfa_match_batch, t.function, sample.make_inputs("small", seed))


def test_source_text_picks_its_only_kernel() -> None:
    t = helixrc.transform(COUNT)
    assert t.name == "count_hits" and t.loops == {"count_hits/L1": "HELIX, uncoupled, 1 segment"}
    assert t.function(*count_args()) == 4
    check_same(_exec(COUNT)["count_hits"], t.function, count_args())


def test_source_text_with_a_helper_picks_the_caller() -> None:
    t = helixrc.transform(WITH_HELPER)
    assert t.name == "clamp_all" and t.loops == {"clamp_all/L1": "DOALL, uncoupled, 0 segments"}
    xs = np.array([1, 5, 2, 9])
    t.function(xs)  # the helper and the constant are in the function's namespace
    assert xs.tolist() == [1, 3, 2, 3]


def test_source_text_with_several_kernels_needs_a_name() -> None:
    with pytest.raises(HelixError, match=r"2 kernels \(count_hits, scale\).*functions: count_hits, scale"):
        helixrc.transform(TWO_KERNELS)
    t = helixrc.transform(TWO_KERNELS, name="scale")
    assert t.name == "scale" and list(t.loops) == ["scale/L1"]


def test_file_spec_and_path_with_name() -> None:
    by_spec = helixrc.transform(f"{DFA}::dfa_match_batch")
    by_path = helixrc.transform(DFA, name="dfa_match_batch")
    assert by_spec.source == by_path.source
    assert by_spec.report.splitlines()[0] == f"{DFA}::dfa_match_batch"


def test_unknown_kernel_name_lists_the_functions() -> None:
    with pytest.raises(HelixError, match=r"no function 'count_hit' \(functions: count_hits, scale\)") as err:
        helixrc.transform(TWO_KERNELS, name="count_hit")
    assert err.value.hint == "did you mean 'count_hits'?"


def test_a_function_outside_the_kernel_language_is_a_language_error() -> None:
    with pytest.raises(LanguageError, match="print"):
        helixrc.transform("def show(xs):\n    print(xs)\n")


def test_the_rest_of_a_script_does_not_run_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A script that transforms its own kernel at top level: running its module again would
    # repeat the script (here, append to the trace) and transform again.
    script = tmp_path / "script.py"
    script.write_text(COUNT + textwrap.dedent("""\

        import sys
        import helixrc

        sys.helixrc_test_trace.append("ran")
        T = helixrc.transform(count_hits)
    """))
    monkeypatch.setattr(sys, "helixrc_test_trace", [], raising=False)
    module = import_file(str(script))
    assert sys.helixrc_test_trace == ["ran"]  # type: ignore[attr-defined]
    assert module.T.function(*count_args()) == 4
    assert sys.helixrc_test_trace == ["ran"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# The result: function, source lines, report, repr
# ---------------------------------------------------------------------------------------------


def test_source_lines_for_inspect_and_tracebacks() -> None:
    t = helixrc.transform(COUNT)
    assert inspect.getsource(t.function).startswith("def count_hits(xs, out):")
    assert "seg0 = shared(0, n=n)" in inspect.getsource(t.function)
    xs, _ = count_args()
    with pytest.raises(IndexError) as err:
        t.function(xs, np.zeros(2, dtype=np.int64))  # too small for the hits
    text = "".join(traceback.format_exception(err.value))
    assert 'File "<helixrc transform of count_hits>"' in text and "out[seg0.n] = i" in text


def test_equal_sources_share_a_filename_and_different_ones_do_not() -> None:
    a, b = helixrc.transform(COUNT), helixrc.transform(COUNT)
    coupled = helixrc.transform(COUNT, signals="coupled")
    assert a.function is not b.function and a.function.__module__ != b.function.__module__
    assert a.function.__code__.co_filename == b.function.__code__.co_filename
    assert coupled.function.__code__.co_filename != a.function.__code__.co_filename
    assert "wait(0)\n                signal(0)" in inspect.getsource(coupled.function)
    assert "wait(0)\n                signal(0)" not in inspect.getsource(a.function)


def test_report_has_the_verdict_table_and_each_outcome_with_its_line() -> None:
    t = helixrc.transform(DFA, name="dfa_match_batch")
    lines = t.report.splitlines()
    assert lines[1].split()[:5] == ["loop", "line", "kind", "verdict", "segs"]
    assert "transform (outermost parallelizable loop, uncoupled):" in lines
    assert "  dfa_match_batch/L1 (line 27): HELIX, uncoupled, 1 segment" in lines
    assert any(line.startswith("  dfa_match_batch/L1.1 (line 31): refused: ") for line in lines)


def test_repr_is_short() -> None:
    t = helixrc.transform(DFA, name="dfa_match_batch")
    assert repr(t) == "<Transformed dfa_match_batch: L1 HELIX uncoupled, L1.1 sequential>"


def test_bad_signals() -> None:
    with pytest.raises(HelixError, match="signals must be one of coupled, uncoupled, not 'copuled'") as err:
        helixrc.transform(COUNT, signals="copuled")
    assert err.value.hint == "did you mean 'coupled'?"
    with pytest.raises(HelixError, match="signals or a plan, not both"):
        helixrc.transform(COUNT, signals="coupled", plan={"loops": {}})


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------


def test_default_plan_records_the_choices() -> None:
    t = helixrc.transform(DFA, name="dfa_match_batch", signals="coupled")
    assert t.plan == Plan({"dfa_match_batch/L1": LoopPlan("helix", "coupled")}, "coupled")
    doall = helixrc.transform(WITH_HELPER)
    assert doall.plan == Plan({"clamp_all/L1": LoopPlan("doall", "uncoupled")})


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
def test_plan_round_trip_through_toml(signals: str, tmp_path: Path) -> None:
    sample = import_file(str(DFA))
    t = helixrc.transform(sample.dfa_match_batch, signals=signals)
    path = tmp_path / "plan.toml"
    path.write_text(t.plan.to_toml())
    again = helixrc.transform(sample.dfa_match_batch, plan=path)
    assert again.source == t.source
    assert again.plan == t.plan and again.plan.source == str(path)
    assert again.loops["dfa_match_batch/L1"] == t.loops["dfa_match_batch/L1"]
    assert again.loops["dfa_match_batch/L1.1"].startswith("refused: nested")
    assert f"transform (plan {path}):" in again.report
    assert helixrc.transform(sample.dfa_match_batch, plan=str(path)).source == t.source
    assert helixrc.transform(sample.dfa_match_batch, plan=t.plan).source == t.source
    check_same(sample.dfa_match_batch, again.function, sample.make_inputs("small", 4))


FSUM = textwrap.dedent("""\
    def total(xs):
        s = 0.0
        for i in range(len(xs)):
            s += xs[i] * 0.5
        return s
""")


def test_a_float_sum_kept_in_order_is_a_helix_loop_in_the_plan() -> None:
    t = helixrc.transform(FSUM)
    assert t.loops == {"total/L1": "DOALL, uncoupled, 1 segment"}
    assert t.plan == Plan({"total/L1": LoopPlan("helix", "uncoupled")})
    assert helixrc.transform(FSUM, plan=t.plan.to_dict()).source == t.source
    with pytest.raises(PlanError, match="reassociat"):  # doall would combine the sum out of order
        helixrc.transform(FSUM, plan={"loops": {"total/L1": {"technique": "doall"}}})


def test_dict_plan() -> None:
    plan = {"signals": "coupled", "loops": {"count_hits/L1": {"technique": "helix"}}}
    t = helixrc.transform(COUNT, plan=plan)
    assert t.loops == {"count_hits/L1": "HELIX, coupled, 1 segment"}
    assert 'signals="coupled"' in t.source
    assert t.plan == parse_plan('signals = "coupled"\n[loops."count_hits/L1"]\ntechnique = "helix"\n')
    assert t.plan.source == "<plan dict>"
    check_same(_exec(COUNT)["count_hits"], t.function, count_args())


def test_plan_keeping_every_loop_sequential_changes_nothing() -> None:
    t = helixrc.transform(COUNT, plan={"loops": {"count_hits/L1": {"technique": "sequential"}}})
    assert t.source == COUNT and t.loops == {"count_hits/L1": "sequential (plan)"}
    assert helixrc.transform(COUNT, plan={}).source == COUNT


def test_plan_loops_of_other_kernels_are_ignored() -> None:
    plan = {"loops": {"scale/L1": {"technique": "doall"}}}
    t = helixrc.transform(TWO_KERNELS, name="count_hits", plan=plan)
    assert t.loops == {"count_hits/L1": "sequential (plan)"}
    assert t.source == TWO_KERNELS


def test_plan_naming_an_unknown_loop_of_the_kernel(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('signals = "uncoupled"\n\n[loops."count_hits/L2"]\ntechnique = "helix"\n')
    with pytest.raises(PlanError, match=r"count_hits/L2") as err:
        helixrc.transform(COUNT, plan=path)
    assert str(err.value).startswith(f"{path}:3:")


def test_plan_with_an_illegal_technique() -> None:
    with pytest.raises(PlanError, match=r"count_hits/L1.*doall"):
        helixrc.transform(COUNT, plan={"loops": {"count_hits/L1": {"technique": "doall"}}})


def test_plan_naming_a_function_the_module_does_not_have(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('[loops."count_hit/L1"]\ntechnique = "helix"\n')
    with pytest.raises(PlanError, match=r"'count_hit/L1'.*'count_hit'.*functions: count_hits") as err:
        helixrc.transform(COUNT, plan=path)
    assert str(err.value).startswith(f"{path}:1:7: ")


def test_malformed_plans() -> None:
    with pytest.raises(PlanError, match=r"<plan dict>:\d+:\d+: unknown technique 'hilex'") as err:
        helixrc.transform(COUNT, plan={"loops": {"count_hits/L1": {"technique": "hilex"}}})
    assert err.value.hint == "did you mean 'helix'?"
    with pytest.raises(PlanError, match="only strings, booleans, lists and dicts"):
        helixrc.transform(COUNT, plan={"loops": {"count_hits/L1": {"technique": {"helix"}}}})
    with pytest.raises(PlanError, match="cannot read plan file"):
        helixrc.transform(COUNT, plan="/no/such/plan.toml")
    with pytest.raises(PlanError, match="not int"):
        helixrc.transform(COUNT, plan=3)  # type: ignore[arg-type]


def _exec(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "original.py", "exec"), namespace)
    return namespace
