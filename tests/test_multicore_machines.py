"""The multicore machine fields and presets (issue 4): signals, the ring cache and coherence
parameters, validation naming the field, and the signal semantics shared by the machine and
the transform."""

from __future__ import annotations

import numpy as np
import pytest

import helixrc
from helixrc.cli import main as cli_main
from helixrc.csim.errors import HelixError, MachineError, SimulatorError
from helixrc.csim.machine import PRESETS, SIGNAL_KINDS, parse_override, resolve_machine
from test_transform_api import COUNT



def test_the_multicore_presets() -> None:
    rc, conv = PRESETS["helixrc16"], PRESETS["conventional16"]
    assert (rc.cores, rc.ring_cache, rc.signal_semantics) == (16, 1, "uncoupled")
    assert (conv.cores, conv.ring_cache, conv.signal_semantics, conv.c2c_latency) == (16, 0, "coupled", 75)
    assert (rc.ring_size, rc.ring_ways, rc.ring_inject_latency, rc.ring_hop_latency) == (1024, 8, 2, 1)
    assert (rc.ring_data_bandwidth, rc.ring_signal_bandwidth) == (1, 5)
    assert PRESETS["atom1"].signal_semantics is None        # "either"


def test_signals_by_name_and_overrides() -> None:
    assert parse_override("signals=coupled") == ("signals", SIGNAL_KINDS["coupled"])
    cfg = resolve_machine("helixrc16", signals="coupled", ring_size="2K", c2c_latency=10)
    assert (cfg.signal_semantics, cfg.ring_size, cfg.c2c_latency) == ("coupled", 2048, 10)
    assert cfg.to_dict()["ring_cache"] == 1


@pytest.mark.parametrize("override,field", [
    ({"signals": "sometimes"}, "signals"),
    ({"ring_ways": 0}, "ring_ways"),
    ({"ring_size": 1000}, "ring_size"),
    ({"ring_owner_line_bytes": 48}, "ring_owner_line_bytes"),
    ({"ring_inject_queue": 0}, "ring_inject_queue"),
    ({"c2c_latency": -1}, "c2c_latency"),
    ({"ring_cache": 2}, "ring_cache"),
    ({"check": 3}, "check"),
])
def test_invalid_fields_are_named(override: dict[str, object], field: str) -> None:
    with pytest.raises(MachineError, match=field):
        resolve_machine("helixrc16", **override)


def test_transform_reads_the_machines_signals() -> None:
    assert "uncoupled" in repr(helixrc.transform(COUNT, machine="helixrc16"))
    assert "coupled" in repr(helixrc.transform(COUNT, machine="conventional16"))
    assert "coupled" in repr(helixrc.transform(COUNT, machine="atom1", signals="coupled"))
    with pytest.raises(HelixError, match="conventional16.*coupled"):
        helixrc.transform(COUNT, machine="conventional16", signals="uncoupled")


def test_simulating_a_loop_transformed_for_the_other_semantics_is_an_error() -> None:
    xs = np.array([3, -1, 2, 5, -4, 6], dtype=np.int64)
    t = helixrc.transform(COUNT, signals="uncoupled")
    with pytest.raises(SimulatorError, match="transformed with uncoupled signals.*coupled") as e:
        helixrc.simulate(t.function, (xs, np.zeros(6, dtype=np.int64)), "conventional16")
    assert e.value.loc is not None
    out = np.zeros(6, dtype=np.int64)
    assert helixrc.simulate(t.function, (xs, out), "helixrc16").value == 4
    assert helixrc.simulate(t.function, (xs, out), "conventional16", signals="either").value == 4


def test_cli_lists_the_presets_and_echoes_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["machines"]) == 0
    text = capsys.readouterr().out
    assert "helixrc16" in text and "conventional16" in text and "ring" in text
