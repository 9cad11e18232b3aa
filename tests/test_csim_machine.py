"""Machine configs: the atom1 preset, overrides with size suffixes, and MachineError messages."""

from __future__ import annotations

import dataclasses

import pytest

from helixrc.csim import PRESETS, MachineConfig, resolve_machine
from helixrc.csim import binding
from helixrc.csim.errors import MachineError
from helixrc.csim.machine import CSIM_FIELDS, FIELDS, parse_override


def test_atom1_defaults() -> None:
    atom = PRESETS["atom1"]
    assert atom.name == "atom1" and atom.description
    assert (atom.issue_width, atom.l1_size, atom.l1_assoc, atom.l1_line, atom.l1_latency) == (2, 32768, 8, 64, 3)
    assert (atom.l2_size, atom.l2_assoc, atom.l2_latency, atom.dram_latency) == (8 << 20, 16, 17, 180)
    assert (atom.bpred_kind, atom.mispredict_penalty, atom.max_instructions) == (1, 13, 2_000_000_000)
    assert (atom.cores, atom.dispatch_cost, atom.loop_start_cost, atom.loop_end_cost, atom.signal_latency) == (1, 4, 20, 20, 10)
    assert resolve_machine() is atom


def test_the_presets_are_the_single_core_the_two_multicores_and_the_smt_one() -> None:
    assert set(PRESETS) == {"atom1", "helixrc16", "conventional16", "helixrc16-smt2", "big1", "big1-smt2"}
    smt2, rc = PRESETS["helixrc16-smt2"], PRESETS["helixrc16"]
    assert (smt2.smt, smt2.smt_policy, rc.smt) == (2, 1, 1)
    differ = {f for f in FIELDS if getattr(smt2, f) != getattr(rc, f)}
    assert differ == {"name", "description", "smt", "smt_policy"}


def test_fields_mirror_csim_config() -> None:
    c_fields = [name for name, _ in binding.ffi.typeof("csim_config").fields]
    assert list(CSIM_FIELDS) == c_fields
    assert set(FIELDS) == set(c_fields) | {"name", "description"}
    assert list(PRESETS["atom1"].to_dict()) == list(FIELDS)


@pytest.mark.parametrize(
    "text,expected",
    [("l1_size=64K", ("l1_size", 65536)), ("l2_size = 4M", ("l2_size", 4 << 20)), ("l2_size=1GiB", ("l2_size", 1 << 30)),
     ("max_instructions=2_000", ("max_instructions", 2000)), ("bpred_kind=bimodal", ("bpred_kind", 0)),
     ("issue_width=-1", ("issue_width", -1)), ("name=mine", ("name", "mine"))],
)
def test_parse_override(text: str, expected: tuple[str, object]) -> None:
    assert parse_override(text) == expected


@pytest.mark.parametrize("text,words", [("l1_size", "key=value"), ("l1_sise=4", "unknown machine config field 'l1_sise'"),
                                        ("l1_size=4X", "K, M or G"), ("l1_size=", "must be an integer")])
def test_parse_override_errors(text: str, words: str) -> None:
    with pytest.raises(MachineError, match=words):
        parse_override(text)


def test_resolve_with_overrides() -> None:
    cfg = resolve_machine("atom1", l1_size="64K", bpred_kind="gshare", lat_div=20)
    assert (cfg.l1_size, cfg.bpred_kind, cfg.lat_div) == (65536, 1, 20)
    assert resolve_machine(cfg, issue_width=1).issue_width == 1
    assert PRESETS["atom1"].l1_size == 32768           # presets are not modified


@pytest.mark.parametrize(
    "machine,overrides,words",
    [("atom9", {}, r"unknown machine preset 'atom9' \(valid: atom1, big1-smt2, big1, conventional16, helixrc16-smt2, helixrc16\)"),
     ("atom1", {"l1_sise": 1}, r"valid: name, description, issue_width"),
     ("atom1", {"l1_size": 0}, "l1_size must be"),
     ("atom1", {"l1_size": 3 * 1024 * 8 * 64}, "power of two"),
     ("atom1", {"l2_line": 48}, "l2_line must be a power of two"),
     ("atom1", {"l1_assoc": 0}, "l1_assoc must be from 1"),
     ("atom1", {"lat_int": 0}, "lat_int must be from 1"),
     ("atom1", {"bpred_kind": 2}, "bpred_kind must be from 0 to 1"),
     ("atom1", {"bpred_kind": "perceptron"}, "bimodal, gshare"),
     ("atom1", {"max_instructions": -5}, "max_instructions"),
     ("atom1", {"cores": 0}, "cores must be from 1 to 64"),
     ("atom1", {"cores": 65}, "cores must be from 1 to 64"),
     ("atom1", {"signal_latency": -1}, "signal_latency must be from 0"),
     ("atom1", {"dispatch_cost": -1}, "dispatch_cost must be from 0"),
     ("atom1", {"issue_width": 2.0}, "must be an int"),
     ("atom1", {"issue_width": True}, "must be an int")],
)
def test_resolve_errors(machine: str, overrides: dict[str, object], words: str) -> None:
    with pytest.raises(MachineError, match=words):
        resolve_machine(machine, **overrides)


def test_config_is_frozen_and_validated_on_construction() -> None:
    atom = PRESETS["atom1"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(atom, "l1_size", 1)
    with pytest.raises(MachineError):
        MachineConfig(**{**atom.to_dict(), "l2_assoc": 5})
