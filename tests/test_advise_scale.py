"""Advice.predict_for's arithmetic (helixrc.advise.scale): per-invocation costs apart from the work."""

from __future__ import annotations

from typing import Any

import pytest

import helixrc
from helixrc.advise.scale import fixed_cost, scale_to, scaling_entry


def seq_stats(cycles: int, loops: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """A sequential run's statistics as predict_for reads them: {id: (cycles, invocations)}."""
    return {"cycles": cycles, "loops": [{"id": k, "cycles": c, "invocations": n} for k, (c, n) in loops.items()]}


def test_fixed_cost_is_what_the_machine_config_charges_each_invocation() -> None:
    big = helixrc.resolve_machine("big1-smt2").to_dict()
    assert fixed_cost(big, "relic") == big["relic_submit_cost"] + big["relic_wake_cost"] + big["relic_join_cost"] > 0
    assert fixed_cost(big, "doall") == fixed_cost(big, "helix") == big["loop_start_cost"] + big["loop_end_cost"] > 0
    # one context: a task runs inline at its spawn, free
    assert fixed_cost(helixrc.resolve_machine("big1").to_dict(), "relic") == 0
    changed = helixrc.resolve_machine("helixrc16", loop_start_cost=7, loop_end_cost=5).to_dict()
    assert fixed_cost(changed, "doall") == 12


# on the profiling inputs: 10 invocations, 10,000 cycles, 4,000 saved, 50 cycles charged per invocation
PROFILE = [scaling_entry("k/L1", {"cycles": 10_000, "invocations": 10}, 4_000, 50)]


def test_on_the_profiling_inputs_the_prediction_is_the_simulated_saving() -> None:
    got = scale_to(PROFILE, seq_stats(12_000, {"k/L1": (10_000, 10)}), "make_inputs('small', 0)")
    assert got == {"predicted_from": "make_inputs('small', 0)", "sequential_cycles": 12_000, "cycles": 8_000,
                   "speedup": 1.5, "loops": [{"id": "k/L1", "sequential_cycles": 10_000, "invocations": 10,
                                              "saved_fraction": 0.4, "saved": 4_000, "scale": 1.0}], "notes": []}


@pytest.mark.parametrize("cycles, invocations, saved", [
    (40_000, 40, 16_000),          # 4x the invocations of the same length: 4x the saving, the same share
    (40_000, 10, 16_000 + 1_500),  # 4x longer invocations: the 10 x 50 fixed cycles are paid once, not 4x
    (10_000, 40, 4_000 - 1_500),   # 4x shorter ones: 40 invocations pay the fixed cost
    (0, 0, 0),                     # a loop these inputs never run saves nothing
])
def test_work_scales_with_the_loop_cycles_and_fixed_costs_with_its_invocations(
        cycles: int, invocations: int, saved: int) -> None:
    got = scale_to(PROFILE, seq_stats(cycles + 2_000, {"k/L1": (cycles, invocations)} if cycles else {}), "p")
    (loop,) = got["loops"]
    assert loop["saved"] == saved and got["cycles"] == cycles + 2_000 - saved


def test_a_loop_far_from_its_profiled_size_is_flagged_as_extrapolated() -> None:
    near = scale_to(PROFILE, seq_stats(22_000, {"k/L1": (20_000, 20)}), "p")
    far = scale_to(PROFILE, seq_stats(402_000, {"k/L1": (400_000, 400)}), "p")
    assert near["notes"] == [] and near["loops"][0]["scale"] == 2.0
    (note,) = far["notes"]
    assert far["loops"][0]["scale"] == 40.0 and note.startswith("k/L1 runs 40x its cycles on the profiling inputs")
