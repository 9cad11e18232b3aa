"""helixrc transform: output modes, exit codes, --explain, files with several functions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from helixrc.cli import main

SOURCE = textwrap.dedent('''
    import numpy as np

    def count_hits(xs, out):
        n = 0
        for i in range(len(xs)):
            if xs[i] > 0:
                out[n] = i
                n += 1
        return n

    def not_a_kernel(xs):
        print(xs)
''')


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "k.py"
    path.write_text(SOURCE)
    return path


def test_prints_the_transformed_source_that_cpython_runs(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::count_hits"]) == 0
    out = capsys.readouterr().out
    assert "prange(" in out and "wait(0)" in out and "signal(0)" in out
    assert "def not_a_kernel(xs):\n    print(xs)" in out      # untouched
    ns: dict[str, object] = {}
    exec(compile(out, str(src), "exec"), ns)
    xs = np.array([3, -1, 2, 0, 5])
    out_arr = np.zeros(5, dtype=np.int64)
    assert ns["count_hits"](xs, out_arr) == 3 and out_arr[:3].tolist() == [0, 2, 4]


def test_check_diff_write_and_output(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", str(src), "--check"]) == 1
    assert capsys.readouterr().out == ""
    assert main(["transform", str(src), "--diff"]) == 0
    diff = capsys.readouterr().out
    assert diff.startswith("---") and "+        for i in prange(" in diff  # under the disjoint(...) guard
    out = tmp_path / "out.py"
    assert main(["transform", str(src), "-o", str(out)]) == 0
    assert "prange(" in out.read_text() and src.read_text() == SOURCE
    assert main(["transform", str(src), "--write"]) == 0
    assert src.read_text() == out.read_text()
    # already in parallel form: nothing left to change, whatever the mode
    assert main(["transform", str(src), "--check"]) == 0


def test_coupled_signals_wait_on_the_skip_path(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::count_hits", "--signals", "coupled"]) == 0
    out = capsys.readouterr().out
    assert 'signals="coupled"' in out
    assert "else:\n                wait(0)\n                signal(0)" in out


def test_explain_prints_the_verdict_table(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::count_hits", "--explain", "--check"]) == 1
    err = capsys.readouterr().err
    assert "count_hits/L1" in err and "HELIX" in err and "n carried" in err


def test_errors_exit_2(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::not_a_kernel"]) == 2
    assert "print" in capsys.readouterr().err
    assert main(["transform", f"{src}::missing"]) == 2
    assert main(["transform", "/no/such.py"]) == 2


# ---------------------------------------------------------------------------------------------
# --plan
# ---------------------------------------------------------------------------------------------


def write_plan(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_plan_sets_technique_and_signals(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(tmp_path, '''\
        signals = "coupled"

        [loops."count_hits/L1"]
        technique = "helix"
    ''')
    assert main(["transform", str(src), "--plan", str(plan), "--explain"]) == 0
    captured = capsys.readouterr()
    assert 'signals="coupled"' in captured.out and "else:\n                wait(0)\n                signal(0)" in captured.out
    assert f"transform (plan {plan}):" in captured.err
    assert "count_hits/L1 (line 6): HELIX, coupled, 1 segment" in captured.err


def test_json_plan(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(tmp_path, '{"loops": {"count_hits/L1": {"technique": "helix"}}}', "plan.json")
    assert main(["transform", f"{src}::count_hits", "--plan", str(plan)]) == 0
    assert 'signals="uncoupled"' in capsys.readouterr().out


def test_plan_keeping_loops_sequential_changes_nothing(src: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(tmp_path, '''\
        [loops."count_hits/L1"]
        technique = "sequential"
    ''')
    assert main(["transform", str(src), "--plan", str(plan), "--check"]) == 0
    empty = write_plan(tmp_path, 'signals = "coupled"\n', "empty.toml")
    assert main(["transform", str(src), "--plan", str(empty), "--check"]) == 0


def test_plan_errors_exit_2_with_the_plan_position(src: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    unknown = write_plan(tmp_path, '''\
        signals = "uncoupled"

        [loops."count_hits/L7"]
        technique = "helix"
    ''')
    assert main(["transform", str(src), "--plan", str(unknown)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"helixrc: error: {unknown}:3:") and "count_hits/L7" in err
    for mode in (["--check"], ["--diff"], ["-o", str(tmp_path / "out.py")]):
        assert main(["transform", str(src), "--plan", str(unknown), *mode]) == 2  # whatever the output mode
    capsys.readouterr()
    malformed = write_plan(tmp_path, '[loops."count_hits/L1"]\ntechnique = "hilex"\n', "bad.toml")
    assert main(["transform", str(src), "--plan", str(malformed)]) == 2
    assert f"{malformed}:2:0: unknown technique 'hilex'" in capsys.readouterr().err
    other = write_plan(tmp_path, '[loops."count_hit/L1"]\ntechnique = "helix"\n', "other.toml")
    assert main(["transform", str(src), "--plan", str(other)]) == 2
    assert "count_hit/L1" in capsys.readouterr().err
    assert main(["transform", str(src), "--plan", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read plan file" in capsys.readouterr().err


def test_plan_and_signals_together_is_a_usage_error(src: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(tmp_path, '[loops."count_hits/L1"]\ntechnique = "helix"\n')
    assert main(["transform", str(src), "--plan", str(plan), "--signals", "coupled"]) == 2
    assert "the plan sets the signals" in capsys.readouterr().err


def test_help_mentions_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["transform", "--help"])
    out = capsys.readouterr().out
    assert "--plan PLAN" in out and "stay sequential" in out


HELPER_AND_CALLER = textwrap.dedent('''
    def count_pos(xs, out):
        n = 0
        for i in range(len(xs)):
            if xs[i] > 0:
                out[n] = i
                n += 1
        return n


    def double_then_count(xs, out):
        for i in range(len(xs)):
            xs[i] = xs[i] * 2
        return count_pos(xs, out)
''')


@pytest.mark.parametrize("use_plan", [False, True])
def test_a_kernel_calling_a_transformed_helper(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               use_plan: bool) -> None:
    # each kernel is transformed against the original module: the caller's analysis still
    # sees the helper in the kernel language, and each loop comment gives the original line
    path = tmp_path / "k.py"
    path.write_text(HELPER_AND_CALLER)
    plan = write_plan(tmp_path, '''\
        [loops."count_pos/L1"]
        technique = "helix"

        [loops."double_then_count/L1"]
        technique = "doall"
    ''')
    assert main(["transform", str(path), *(["--plan", str(plan)] if use_plan else [])]) == 0
    out = capsys.readouterr().out
    assert "# helixrc: loop count_pos/L1 (line 4): HELIX" in out
    assert "# helixrc: loop double_then_count/L1 (line 12): DOALL" in out
    assert out.count("from helixrc.parallel import") == 1
    ns: dict[str, object] = {}
    exec(compile(out, str(path), "exec"), ns)
    xs, out_arr = np.array([3, -1, 2, 0]), np.zeros(4, dtype=np.int64)
    assert ns["double_then_count"](xs, out_arr) == 2
    assert xs.tolist() == [6, -2, 4, 0] and out_arr[:2].tolist() == [0, 2]


def test_the_transformed_file_simulates_with_the_original_result(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "k.py"
    src.write_text(SOURCE + textwrap.dedent('''
        def make_inputs(size, seed):
            xs = np.random.default_rng(seed).integers(-5, 5, 50)
            return xs, np.zeros(50, dtype=np.int64)
    '''))
    out = tmp_path / "k_parallel.py"
    assert main(["transform", f"{src}::count_hits", "-o", str(out)]) == 0
    capsys.readouterr()
    results = []
    for path in (src, out):
        assert main(["simulate", f"{path}::count_hits", "--seed", "3"]) == 0
        results.append([line for line in capsys.readouterr().out.splitlines() if line.startswith("result")])
    assert results[0] == results[1] and len(results[0]) == 1


# technique relic: the task functions come with the kernel
# ---------------------------------------------------------------------------------------------

RELIC_SOURCE = textwrap.dedent('''
    import numpy as np


    def total_pos(xs):
        t = 0
        for i in range(len(xs)):
            if xs[i] > 0:
                t += xs[i]
        return t


    def squares(xs, out):
        for i in range(len(xs)):
            out[i] = xs[i] * xs[i]
''')


def test_relic_plan_writes_tasks_that_cpython_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "r.py"
    src.write_text(RELIC_SOURCE)
    plan = write_plan(tmp_path, '''\
        [loops."total_pos/L1"]
        technique = "relic"

        [loops."squares/L1"]
        technique = "relic"
        chunks = "interleaved"
    ''')
    assert main(["transform", f"{src}::total_pos", "--plan", str(plan), "--explain"]) == 0
    captured = capsys.readouterr()
    assert "total_pos/L1 (line 7): Relic, blocked chunks, 2 tasks" in captured.err
    assert "def _total_pos_relic0(lo, hi, t, xs):" in captured.out
    assert "from helixrc.parallel import join, spawn\n" in captured.out

    out = tmp_path / "out.py"
    assert main(["transform", str(src), "--plan", str(plan), "-o", str(out)]) == 0  # both kernels
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)
    assert {"_total_pos_relic0", "_squares_relic0"} <= set(namespace)
    xs = np.array([3, -1, 4, -1, 5, 9, -2])
    assert namespace["total_pos"](xs) == 21  # type: ignore[operator]
    got = np.zeros(7, dtype=np.int64)
    namespace["squares"](xs, got)  # type: ignore[operator]
    assert got.tolist() == (xs * xs).tolist()


def test_relic_plan_on_a_loop_with_a_carried_counter_exits_2(src: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(tmp_path, '[loops."count_hits/L1"]\ntechnique = "relic"\n')
    assert main(["transform", str(src), "--plan", str(plan)]) == 2
    err = capsys.readouterr().err
    assert "plan.toml:2:" in err and "loop 'count_hits/L1' cannot be relic" in err and "n carried (line 9)" in err
