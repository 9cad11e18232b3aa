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
    assert diff.startswith("---") and "+    for i in prange(" in diff
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
    assert "else:\n            wait(0)\n            signal(0)" in out


def test_explain_prints_the_verdict_table(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::count_hits", "--explain", "--check"]) == 1
    err = capsys.readouterr().err
    assert "count_hits/L1" in err and "HELIX" in err and "n carried" in err


def test_errors_exit_2(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", f"{src}::not_a_kernel"]) == 2
    assert "print" in capsys.readouterr().err
    assert main(["transform", f"{src}::missing"]) == 2
    assert main(["transform", "/no/such.py"]) == 2
