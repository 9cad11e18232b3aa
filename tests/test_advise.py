"""The adviser: loop selection on the forest, predictions by simulation, the plan, the report, the CLI.

Golden reports (tests/golden/advise-samples.test) hold the JSON of ``helixrc.advise`` on samples at
size small on helixrc16 (or the machine a case names after its core counts: big1-smt2 for the
SMT candidates); ``pytest tests/test_advise.py --update-golden`` accepts new
output (review the diff: cycles move whenever the machine model does).
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import helixrc
from golden_files import Case, check_golden, read_cases
from helixrc.advise import SCHEMA_VERSION, select_loops
from helixrc.advise.report import cores_text
from helixrc.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "advise-samples.test"
MACHINE = helixrc.PRESETS["helixrc16"]

NEST = textwrap.dedent('''
    def rows(a, b):
        for i in range(1, a.shape[0]):
            for j in range(a.shape[1]):
                a[i, j] = a[i - 1, j] * 3 + b[j] % 7
        return a[a.shape[0] - 1, 0]


    def chain(x):
        s = 1
        for i in range(x.shape[0]):
            t = x[i] + 1
            if t > 0:
                s = (s * 31 + t) % 1000003
        return s


    def make_inputs(size, seed):
        n = {"small": 64, "medium": 512}[size]
        rng = np.random.default_rng(seed)
        return rng.integers(0, 9, (8, n)), rng.integers(0, 9, n)
''')


@pytest.fixture
def nest(tmp_path: Path) -> Path:
    path = tmp_path / "nest.py"
    path.write_text("import numpy as np\n" + NEST)
    return path


def rows_args() -> tuple[Any, ...]:
    return np.arange(8 * 64, dtype=np.int64).reshape(8, 64) % 5, np.arange(64, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Selection on the loop forest
# ---------------------------------------------------------------------------------------------


def test_select_takes_the_inner_loops_when_they_save_more_than_the_outer() -> None:
    parents = {"f/L1": None, "f/L1.1": "f/L1", "f/L1.2": "f/L1", "f/L2": None}
    chosen, best = select_loops(parents, {"f/L1": 100, "f/L1.1": 70, "f/L1.2": 50, "f/L2": 5})
    assert chosen == ["f/L1.1", "f/L1.2", "f/L2"]
    assert best == {"f/L1": 120, "f/L1.1": 70, "f/L1.2": 50, "f/L2": 5}


def test_select_prefers_the_outer_loop_on_a_tie_and_never_a_loop_that_does_not_pay() -> None:
    parents = {"f/L1": None, "f/L1.1": "f/L1", "f/L1.1.1": "f/L1.1"}
    assert select_loops(parents, {"f/L1": 40, "f/L1.1.1": 40})[0] == ["f/L1"]
    assert select_loops(parents, {"f/L1": -5, "f/L1.1": 0})[0] == []
    assert select_loops(parents, {})[0] == []


# ---------------------------------------------------------------------------------------------
# advise on hand-made kernels
# ---------------------------------------------------------------------------------------------


def test_inner_loop_chosen_when_the_outer_is_not_parallel(nest: Path) -> None:
    advice = helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(1, 16))
    loops = {e["id"]: e for e in advice.to_dict()["loops"]}
    assert loops["rows/L1"]["verdict"] == "REFUSED" and loops["rows/L1"]["status"] == "refused by the analysis"
    assert loops["rows/L1.1"]["status"] == "chosen" and loops["rows/L1.1"]["saved"] > 0
    assert dict(advice.plan.loops) == {"rows/L1.1": helixrc.passes.plan.LoopPlan("doall", "uncoupled")}
    assert advice.predicted_speedup > 2
    assert set(advice.speedups) == {1, 16} and advice.speedups[1] < advice.speedups[16]


def test_a_loop_that_does_not_pay_stays_sequential(nest: Path) -> None:
    x = np.arange(64, dtype=np.int64)
    # a segment with nearly all the work, coupled signals through 75-cycle coherence
    advice = helixrc.advise(f"{nest}::chain", (x,), "conventional16", cores=(16,))
    (loop,) = advice.to_dict()["loops"]
    assert advice.to_dict()["signals"] == "coupled"
    assert loop["verdict"] == "HELIX" and loop["saved"] < 0
    assert loop["status"].startswith("does not pay on 16 cores")
    assert not advice.plan.loops and advice.predicted_speedup == 1.0
    assert "no loop pays" in advice.format()
    assert np.array_equal(x, np.arange(64))  # the arguments are not modified


def test_the_report_notes_when_fewer_cores_run_the_plan_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    spec = "samples/topk_bm25.py::topk_bm25"  # a tail segment, coupled through coherence: peaks early
    advice = helixrc.advise(spec, machine="conventional16", size="small", cores=(4, 16), profile=False)
    assert advice.plan.loops and 1.0 < advice.speedups[16] < advice.speedups[4]
    (note,) = advice.to_dict()["notes"]
    assert note.startswith("the plan runs fastest on 4 cores")


def test_thresholds_leave_tiny_loops_untried(nest: Path) -> None:
    strict = helixrc.Thresholds(min_trip=100.0)
    advice = helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(16,), thresholds=strict)
    loops = {e["id"]: e for e in advice.to_dict()["loops"]}
    assert loops["rows/L1.1"]["status"].startswith("not tried: 64 iterations per invocation < 100")
    assert loops["rows/L1.1"]["prediction"] is None and not advice.plan.loops


def test_plan_round_trips_into_transform(nest: Path, tmp_path: Path) -> None:
    advice = helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(16,), profile=False)
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(advice.plan.to_toml())
    t = helixrc.transform(f"{nest}::rows", plan=str(plan_file))
    assert t.plan == advice.plan and t.loops["rows/L1.1"].startswith("DOALL")
    a, b = rows_args()
    want = helixrc.simulate(f"{nest}::rows", rows_args(), MACHINE)
    got = helixrc.simulate(t.function, (a, b), MACHINE)
    assert got.value == want.value
    assert got.cycles == advice.to_dict()["prediction"][0]["cycles"]


def test_predict_for_scales_the_profiling_inputs_savings_to_other_inputs(nest: Path) -> None:
    spec = f"{nest}::rows"
    advice = helixrc.advise(spec, machine=MACHINE, size="small", cores=(16,), profile=False)
    (scaling,) = advice.to_dict()["scaling"]
    assert scaling["id"] == "rows/L1.1" and scaling["saved_fraction"] == round(scaling["saved"] / scaling["cycles"], 6)
    # a parallel loop's start and end, from the machine config, once per invocation (7 rows after the first)
    assert scaling["fixed_cycles"] == MACHINE.loop_start_cost + MACHINE.loop_end_cost and scaling["invocations"] == 7
    assert "simulated on make_inputs('small', 0)" in advice.format()
    module = helixrc.resolve.import_file(str(nest))
    # on the profiling inputs themselves, the scaled prediction is the simulated one (up to rounding)
    small = helixrc.simulate(spec, helixrc.resolve.build_inputs(module, "make_inputs", "small", 0), MACHINE)
    on_small = advice.predict_for(small.stats)
    assert abs(on_small["cycles"] - advice.to_dict()["prediction"][0]["cycles"]) <= 1 and on_small["notes"] == []
    # on 8x longer rows: only their sequential run goes into the prediction
    res = helixrc.run(spec, helixrc.resolve.build_inputs(module, "make_inputs", "medium", 0), MACHINE,
                      plan=advice.plan)
    pred = advice.predict_for(res.sequential_stats)
    (loop,) = pred["loops"]
    seq_loop = next(e for e in res.sequential_stats["loops"] if e["id"] == "rows/L1.1")
    assert pred["predicted_from"] == "make_inputs('small', 0)" and pred["sequential_cycles"] == res.sequential_cycles
    fixed = scaling["fixed_cycles"] * 7
    variable = (scaling["cycles"] - scaling["saved"] - fixed) / scaling["cycles"]
    saved = round(seq_loop["cycles"] - fixed - variable * seq_loop["cycles"])
    assert loop == {"id": "rows/L1.1", "sequential_cycles": seq_loop["cycles"], "invocations": 7,
                    "saved_fraction": round(saved / seq_loop["cycles"], 6), "saved": saved,
                    "scale": round(seq_loop["cycles"] / scaling["cycles"], 3)}
    assert pred["cycles"] == res.sequential_cycles - saved
    assert pred["speedup"] == round(res.sequential_cycles / pred["cycles"], 4)
    # the same invocations with 8x the work: the start and end costs weigh less, so the loop saves a
    # larger share than on the small inputs, and the prediction is still conservative here
    same_share = res.sequential_cycles / (res.sequential_cycles - scaling["saved_fraction"] * seq_loop["cycles"])
    assert loop["saved_fraction"] > scaling["saved_fraction"] and same_share < pred["speedup"] < res.speedup
    (note,) = pred["notes"]
    assert note.startswith(f"rows/L1.1 runs {loop['scale']:.3g}x its cycles on the profiling inputs")


def test_predict_for_a_plan_that_parallelizes_nothing_is_the_sequential_run(nest: Path) -> None:
    x = np.arange(64, dtype=np.int64)
    advice = helixrc.advise(f"{nest}::chain", (x,), "conventional16", cores=(16,), profile=False)
    seq = helixrc.simulate(f"{nest}::chain", (np.arange(512, dtype=np.int64),), "conventional16")
    assert advice.predict_for(seq.stats) == {"predicted_from": "the arguments given", "sequential_cycles": seq.cycles,
                                             "cycles": seq.cycles, "speedup": 1.0, "loops": [], "notes": []}


def test_profile_off_has_no_cross_check_and_the_report_says_why_loops_were_refused(nest: Path) -> None:
    advice = helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(16,), profile=False)
    assert advice.to_dict()["cross_check"] is None
    text = advice.format()
    assert "REFUSED: a[] carried" in text and "static vs observed" not in text
    assert '[loops."rows/L1.1"]' in text


def test_inputs_from_make_inputs_and_errors(nest: Path) -> None:
    advice = helixrc.advise(f"{nest}::rows", machine=MACHINE, size="small", cores=(16,), profile=False)
    assert advice.to_dict()["inputs"] == {"given": False, "builder": "make_inputs", "size": "small", "seed": 0}
    assert "inputs   make_inputs('small', 0)" in advice.format()
    with pytest.raises(helixrc.HelixError, match=r"make_inputs\('huge', 0\) failed"):
        helixrc.advise(f"{nest}::rows", machine=MACHINE, size="huge")
    with pytest.raises(helixrc.AdviseError, match="not both"):
        helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, size="small")
    with pytest.raises(helixrc.HelixError, match="no function 'nope'"):
        helixrc.advise(f"{nest}::nope", rows_args(), MACHINE)
    with pytest.raises(helixrc.AdviseError, match="core counts"):
        helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(0,))


def test_a_wrong_parallel_result_rejects_the_loop_loudly(nest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helixrc.advise import predict

    real = predict.simulate

    def corrupting(kernel: Any, args: Any, machine: Any) -> Any:
        result = real(kernel, args, machine)
        if not isinstance(kernel, str):  # the parallel form: spoil one element of its output
            args[0][7, 3] += 1
        return result

    monkeypatch.setattr(predict, "simulate", corrupting)
    expected = r"rows/L1.1 on 16 cores rejected: results differ .*arguments\[0\]\[451\]"
    with pytest.warns(helixrc.ParallelMismatchWarning, match=expected):
        advice = helixrc.advise(f"{nest}::rows", rows_args(), MACHINE, cores=(16,), profile=False)
    loops = {e["id"]: e for e in advice.to_dict()["loops"]}
    assert loops["rows/L1.1"]["status"].startswith("rejected: results differ")
    assert not advice.plan.loops


def test_an_assume_independent_candidate_gets_its_check_and_gain(tmp_path: Path) -> None:
    path = tmp_path / "scatter.py"
    path.write_text(textwrap.dedent('''
        def scatter_add(xs, idx, out):
            for i in range(xs.shape[0]):
                out[idx[i]] += xs[i] * 3 % 11
            return out[0]
    '''))
    idx = np.random.default_rng(0).permutation(64).astype(np.int64)
    args = (np.arange(64, dtype=np.int64), idx, np.zeros(64, dtype=np.int64))
    advice = helixrc.advise(f"{path}::scatter_add", args, MACHINE, cores=(16,))
    (finding,) = advice.to_dict()["cross_check"]["findings"]
    assert finding["severity"] == "candidate" and finding["target"] == "out"
    assert finding["check"] == 'independent(out, 0, xs.shape[0], 1, (idx, 0, "w"))'
    # the simulator runs the check (an inspector loop): the gain is predicted, not left out
    assert finding["predicted_gain"] is not None
    assert "more cycles on 16 cores" in advice.format()


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


def test_cli_writes_the_report_json_and_the_plan(nest: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out_json, out_plan = tmp_path / "r.json", tmp_path / "p.toml"
    rc = main(["advise", f"{nest}::rows", "--machine", "helixrc16", "--cores", "16",
               "--no-profile", "--json", str(out_json), "--plan-out", str(out_plan)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "rows/L1.1" in text and "recommended plan" in text
    data = json.loads(out_json.read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["plan"]["loops"] == {"rows/L1.1": {"technique": "doall"}}
    assert data["inputs"] == {"given": False, "builder": "make_inputs", "size": "small", "seed": 0}
    assert helixrc.load_plan(out_plan).loops.keys() == {"rows/L1.1"}
    assert main(["transform", f"{nest}::rows", "--plan", str(out_plan)]) == 0
    assert "prange(" in capsys.readouterr().out


def test_smt_machine_weighs_relic_splits_and_the_plan_runs_through_transform(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # named as the golden case names it (modules are cached by their file name)
    kernel = "samples/kv_tree_batch_get.py::kv_tree_batch_get"
    out_json, out_plan = tmp_path / "r.json", tmp_path / "p.toml"
    assert main(["advise", kernel, "--machine", "big1-smt2", "--no-profile", "--json", str(out_json),
                 "--plan-out", str(out_plan)]) == 0
    text = capsys.readouterr().out
    assert "relic blocked alone" in text and "relic interleaved alone" in text and "single-thread CPI stack" in text
    # the header names the core and its contexts, not "1 cores"
    assert "machine  big1-smt2, 1 core x 2 SMT contexts, uncoupled signals" in text
    assert "prediction on 1 core x 2 SMT contexts" in text and "1 cores" not in text
    data = json.loads(out_json.read_text())
    assert data["cores"] == [1]  # an SMT machine is predicted on its own core count only
    top = data["loops"][0]
    assert [(c["technique"], c["chunks"]) for c in top["candidates"]] == [
        ("doall", None), ("relic", "blocked"), ("relic", "interleaved")]
    best = max(top["candidates"], key=lambda c: c["saved"])
    assert (top["technique"], top["chunks"], top["saved"]) == (best["technique"], best["chunks"], best["saved"])
    assert top["technique"] == "relic" and abs(sum(top["cpi_stack"].values()) - 1) < 1e-3
    plan = helixrc.load_plan(out_plan)
    assert plan.loops[top["id"]].technique == "relic" and plan.loops[top["id"]].chunks == top["chunks"]
    t = helixrc.transform(kernel, plan=str(out_plan))
    module = helixrc.resolve.import_file("samples/kv_tree_batch_get.py")
    args = helixrc.resolve.build_inputs(module, "make_inputs", "small", 0)
    want = helixrc.simulate(kernel, args, "big1-smt2")
    got = helixrc.simulate(t.function, helixrc.resolve.build_inputs(module, "make_inputs", "small", 0), "big1-smt2")
    assert repr(got.value) == repr(want.value) and got.stats["tasks"]
    assert got.cycles == data["prediction"][0]["cycles"] < want.cycles == data["sequential"]["single_thread_cycles"]


def test_cores_text_names_cores_and_smt_contexts() -> None:
    assert [cores_text(c, smt) for c, smt in ((1, 1), (16, 1), (1, 2), (4, 4))] == [
        "1 core", "16 cores", "1 core x 2 SMT contexts", "4 cores x 4 SMT contexts"]


def test_cli_json_to_stdout_and_errors(nest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", f"{nest}::chain", "--machine", "atom1", "--cores", "1", "--no-profile",
                 "--inputs", "chain_inputs", "--json", "-"]) == 2
    assert "no function 'chain_inputs'" in capsys.readouterr().err
    assert main(["advise", f"{nest}::rows", "--machine", "helixrc16", "--set", "cores=4", "--cores", "4",
                 "--no-profile", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["target_cores"] == 4
    assert main(["advise", f"{nest}::rows", "--profile-size", "huge", "--machine", "atom1"]) == 2
    assert "make_inputs('huge', 0) failed" in capsys.readouterr().err
    assert main(["advise", f"{nest}::nope", "--machine", "atom1"]) == 2
    assert "no function 'nope'" in capsys.readouterr().err
    assert main(["advise", f"{nest}::rows", "--machine", "atom1", "--cores", "x"]) == 2
    assert "--cores" in capsys.readouterr().err
    assert main(["advise", str(nest)]) == 2


# ---------------------------------------------------------------------------------------------
# Golden reports of samples
# ---------------------------------------------------------------------------------------------

CASES = read_cases(GOLDEN)


def golden_report(case: Case) -> str:
    """The advice as JSON, the machine echo cut to its name and cores (the rest is the preset's)."""
    spec = case.source.strip()
    size, seed, cores, *machine = case.args.split()  # the machine is helixrc16 unless named
    path = ROOT / spec.split("::")[0]
    module = helixrc.resolve.import_file(str(path))
    args = helixrc.resolve.build_inputs(module, "make_inputs", size, int(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an AnalysisBugWarning or a rejected loop fails the test
        data = helixrc.advise(spec, args, machine[0] if machine else MACHINE, cores=tuple(int(c) for c in cores.split(","))).to_dict()
    data["machine"] = {"name": data["machine"]["name"], "cores": data["machine"]["cores"]}
    return json.dumps(data, indent=1) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_report(case: Case, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the report names files as given: relative to the repository
    check_golden(GOLDEN, case, golden_report(case), update_golden)
