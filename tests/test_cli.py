"""The helixrc command: simulate and machines, exit codes, JSON output, error messages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from helixrc.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

KERNEL = textwrap.dedent("""
    import numpy as np

    def scale(a, k):
        for i in range(len(a)):
            a[i] = a[i] * k
        return a[0]

    def make_inputs(size, seed):
        n = {"small": 10, "medium": 1000, "large": 100000}[size]
        return (np.arange(n, dtype=np.int64) + seed, 3)

    def other_inputs(size, seed):
        return (np.arange(4, dtype=np.int64), 4 * 10 ** 18)
""")


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    path = tmp_path / "k.py"
    path.write_text(KERNEL)
    return path


def test_simulate_prints_a_report(kernel_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", f"{kernel_file}::scale", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "result   6" in out
    for heading in ("cycles", "IPC", "CPI stack", "loops", "hottest lines", "not a hardware measurement"):
        assert heading in out
    assert "a[i] = a[i] * k" in out


def test_simulate_can_show_the_ir(kernel_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", f"{kernel_file}::scale", "--ir"]) == 0
    out = capsys.readouterr().out
    assert "def scale(a: array[int64, 1d], k: i64) -> i64:" in out and "MUL_I" in out


def test_simulate_json_and_overrides(kernel_file: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "s.json"
    assert main(["simulate", f"{kernel_file}::scale", "--size", "medium",
                 "--set", "l1_size=4K", "--set", "dram_latency=300", "--json", str(out_json)]) == 0
    stats = json.loads(out_json.read_text())
    assert stats["machine"]["l1_size"] == 4096 and stats["machine"]["dram_latency"] == 300
    assert stats["loops"][0]["iterations"] == 1000


def test_kernel_error_exit_code(kernel_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", f"{kernel_file}::scale", "--inputs", "other_inputs"]) == 1
    err = capsys.readouterr().err
    assert "OverflowError" in err and "k.py:6" in err


def test_usage_errors_exit_2(kernel_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", f"{kernel_file}::nope"]) == 2
    assert main(["simulate", str(kernel_file)]) == 2
    assert main(["simulate", f"{kernel_file}::scale", "--machine", "cray1"]) == 2
    assert main(["simulate", f"{kernel_file}::scale", "--set", "bogus=1"]) == 2
    assert main(["simulate", "/no/such/file.py::f"]) == 2
    err = capsys.readouterr().err
    assert "cray1" in err and "bogus" in err


def test_language_error_names_file_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.py"
    path.write_text("def f(a):\n    print(a)\n\ndef make_inputs(size, seed):\n    return (1,)\n")
    assert main(["simulate", f"{path}::f"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and "hint" in err


def test_machines_lists_presets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["machines"]) == 0
    out = capsys.readouterr().out
    assert "atom1" in out and "L1D" in out
    assert main(["machines", "--json"]) == 0
    assert "atom1" in json.loads(capsys.readouterr().out)


def test_sample_runs_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", f"{SAMPLES / 'mcf_pricing.py'}::mcf_pricing", "--json", "-"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["instructions"] > 0 and stats["kernel"].endswith("::mcf_pricing")
