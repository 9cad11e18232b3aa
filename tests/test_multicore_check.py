"""The samples on the multicore presets with the ring cache and the coherence baseline wired in,
under checking mode (docs/multicore.md sections 5 and 7): bit-identical to CPython with a clean
checker; a transform with a segment's synchronization removed is caught, naming both
iterations, the element and the source lines; a deadlock is reported on both presets."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc import CheckError
from helixrc.csim.errors import MachineError, SimulatorError
from helixrc.csim.machine import CHECK_ENV
from helixrc.resolve import import_file
from test_multicore_sim import CHAIN, STUCK, hand
from test_samples_sim import KERNELS as SAMPLE_KERNELS

PRESETS = ("helixrc16", "conventional16", "helixrc16-smt2")


@pytest.mark.parametrize("signals", ["uncoupled", "coupled"])
@pytest.mark.parametrize("path,name", SAMPLE_KERNELS, ids=[n for _, n in SAMPLE_KERNELS])
def test_transformed_sample_on_the_presets_with_a_clean_checker(path: Path, name: str, signals: str) -> None:
    t = helixrc.transform(f"{path}::{name}", signals=signals)
    module = import_file(str(path))
    args = module.make_inputs("small", 1)
    for preset in PRESETS:
        # the preset's own semantics, or the other one through signals=either
        run_both(getattr(module, name), args,
                 lambda a: helixrc.simulate(t.function, a, preset, signals=signals, check=True).value)


def test_the_presets_report_their_communication() -> None:
    path, name = next((p, n) for p, n in SAMPLE_KERNELS if n == "bzip2_mtf")
    module = import_file(str(path))
    rc = helixrc.simulate(helixrc.transform(f"{path}::{name}", machine="helixrc16").function,
                          module.make_inputs("small", 1), "helixrc16", check=True)
    conv = helixrc.simulate(helixrc.transform(f"{path}::{name}", machine="conventional16").function,
                            module.make_inputs("small", 1), "conventional16", check=True)
    assert rc.stats["checker"] == {"violations": 0} == conv.stats["checker"]
    ring = rc.stats["communication"]["ring"]
    assert ring["stores"] > 0 and ring["signals"] > 0 and ring["flushes"] == 1
    assert conv.stats["communication"]["coherence"]["flag_transfers"] > 0
    assert "ring" not in conv.stats["communication"]
    for res in (rc, conv):
        for stack, core in zip(res.stats["core_cpi_stacks"], res.stats["cores"]):
            assert sum(stack.values()) == res.cycles
            assert core["busy"] == sum(stack[k] for k in ("busy", "mem_l1", "mem_l2", "mem_dram", "branch",
                                                         "dependence", "comm"))


def _without_segment(source: str, k: int) -> str:
    """The transformed source with every wait(k) and signal(k) line of segment k removed."""
    pattern = re.compile(rf"^\s*(wait|signal)\({k}\)\s*$")
    kept = [line for line in source.splitlines() if not pattern.match(line)]
    assert len(kept) < len(source.splitlines())
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("preset", PRESETS)
def test_a_chain_without_its_segment_is_caught(preset: str) -> None:
    text, _ = hand(CHAIN.format(signals="uncoupled"))
    broken = _without_segment(text, 0)
    xs = np.arange(64, dtype=np.int64) % 13
    with pytest.raises(CheckError) as err:
        helixrc.simulate(broken, (xs, np.zeros(64, dtype=np.int64)), preset, func="chain", signals="either",
                         check=True)
    message = err.value.render()
    assert re.search(r"iteration \d+ (read|wrote) cell seg0\.acc after iteration \d+ (read|wrote) it", message)
    assert "seg0.acc = seg0.acc * 7 % 1000003 + v" in message


def test_a_sample_without_a_segment_is_caught() -> None:
    path, name = next((p, n) for p, n in SAMPLE_KERNELS if n == "bzip2_mtf")
    t = helixrc.transform(f"{path}::{name}", machine="helixrc16")
    module = import_file(str(path))
    with pytest.raises(CheckError, match="iteration"):
        helixrc.simulate(_without_segment(t.source, 0), module.make_inputs("small", 1), "helixrc16",
                         func=name, check=True)


def test_without_checking_the_broken_chain_just_runs() -> None:
    text, _ = hand(CHAIN.format(signals="uncoupled"))
    xs = np.arange(64, dtype=np.int64) % 13
    helixrc.simulate(_without_segment(text, 0), (xs, np.zeros(64, dtype=np.int64)), "helixrc16", func="chain",
                     check=False)


# ---------------------------------------------------------------------------------------------
# Checking mode on by default in the test suite (tests/conftest.py, HELIXRC_SIM_CHECK)
# ---------------------------------------------------------------------------------------------


def _broken_chain() -> tuple[str, tuple[np.ndarray, np.ndarray]]:
    text, _ = hand(CHAIN.format(signals="uncoupled"))
    return _without_segment(text, 0), (np.arange(64, dtype=np.int64) % 13, np.zeros(64, dtype=np.int64))


def test_the_variable_turns_checking_on_unless_a_call_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    broken, args = _broken_chain()
    monkeypatch.setenv(CHECK_ENV, "1")  # as tests/conftest.py sets it for the suite
    with pytest.raises(CheckError):
        helixrc.simulate(broken, args, "helixrc16", func="chain")
    assert helixrc.simulate(broken, args, "helixrc16", func="chain", check=0).machine.check == 0


@pytest.mark.sim_check_off
def test_a_test_marked_sim_check_off_simulates_without_it() -> None:
    broken, args = _broken_chain()
    assert helixrc.simulate(broken, args, "helixrc16", func="chain").machine.check == 0


def test_users_default_stays_off_and_a_bad_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    broken, args = _broken_chain()
    monkeypatch.delenv(CHECK_ENV)
    assert not helixrc.PRESETS["helixrc16"].check
    assert helixrc.simulate(broken, args, "helixrc16", func="chain").machine.check == 0
    monkeypatch.setenv(CHECK_ENV, "yes")
    with pytest.raises(MachineError, match="HELIXRC_SIM_CHECK must be 0 or 1 .got 'yes'"):
        helixrc.simulate(broken, args, "helixrc16", func="chain")


@pytest.mark.parametrize("preset", PRESETS)
def test_checking_mode_does_not_change_the_simulated_cycles(preset: str) -> None:
    # the checker shadows memory beside the model: every counter of every sample's run is the same
    for path, name in SAMPLE_KERNELS:
        t = helixrc.transform(f"{path}::{name}", machine=preset)
        args = import_file(str(path)).make_inputs("small", 1)
        off, on = (helixrc.simulate(t.function, copy.deepcopy(args), preset, check=c) for c in (False, True))
        assert on.stats.pop("checker") == {"violations": 0} and "checker" not in off.stats
        for stats in (off.stats, on.stats):
            for key in ("machine", "host_seconds", "host_inst_rate", "compile_seconds", "compile_cached"):
                stats.pop(key)
        assert on.stats == off.stats, name


@pytest.mark.parametrize("preset", PRESETS)
def test_a_deadlock_is_reported_on_the_presets(preset: str) -> None:
    text, _ = hand(STUCK)
    with pytest.raises(SimulatorError, match="DEADLOCK.*segment 0"):
        helixrc.simulate(text, (np.arange(40, dtype=np.int64),), preset, func="stuck", signals="either", check=True)
