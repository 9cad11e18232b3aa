"""Predictions for other inputs: the chosen loops' savings on the profiling inputs, scaled to another run.

A chosen loop L ran alone on the profiling inputs in ``parallel = cycles - saved`` cycles. Part of
that is what the machine config charges each invocation of a parallel loop or task split,
whatever its length (:func:`fixed_cost`); the rest grows with the loop's work. So on inputs whose
sequential run gives L ``cycles'`` cycles in ``invocations'`` invocations:

    variable  = (parallel - invocations x fixed) / cycles        (parallel cycles per sequential cycle)
    parallel' = invocations' x fixed + variable x cycles'
    saved'    = cycles' - parallel'

With the invocations growing as the cycles do this is ``saved x cycles' / cycles``: the same share.
What it cannot see is how the work's cost changes with the size: cache footprint against the L1
and L2, the share of cold misses, the balance of few iterations over the contexts, misprediction
rates. Each loop's ``scale`` (cycles' / cycles) says how far the prediction reaches; a note flags
scales beyond :data:`EXTRAPOLATION`.
"""

from __future__ import annotations

from typing import Any

#: a loop running more than this factor more (or less) than on the profiling inputs is extrapolated
EXTRAPOLATION = 2.0


def fixed_cost(machine: dict[str, Any], technique: str) -> int:
    """Cycles the machine config charges one invocation of a loop run with ``technique``,
    independent of its iterations: a parallel loop's start and end (``loop_start_cost`` +
    ``loop_end_cost``); a task split's spawn, the sibling's wake-up and the join (none with
    ``smt`` 1, where the task runs inline)."""
    if technique == "relic":
        if machine["smt"] < 2:
            return 0
        return machine["relic_submit_cost"] + machine["relic_wake_cost"] + machine["relic_join_cost"]
    return machine["loop_start_cost"] + machine["loop_end_cost"]


def scaling_entry(lid: str, hot: dict[str, Any], saved: int, fixed: int) -> dict[str, Any]:
    """What :func:`scale_to` needs of a chosen loop, from its hotspot entry on the profiling inputs."""
    return {"id": lid, "cycles": hot["cycles"], "invocations": hot["invocations"], "saved": saved,
            "saved_fraction": round(saved / hot["cycles"], 6), "fixed_cycles": fixed}


def scale_to(scaling: list[dict[str, Any]], sequential: dict[str, Any], predicted_from: str) -> dict[str, Any]:
    """The plan's cycles on the inputs of ``sequential`` (a sequential run's statistics), scaled
    from the profiling inputs' ``scaling`` entries; no parallel run on those inputs goes into it."""
    target = {e["id"]: e for e in sequential["loops"]}
    loops, notes = [], []
    for s in scaling:
        t = target.get(s["id"])
        cycles, invocations = (t["cycles"], t["invocations"]) if t else (0, 0)  # not run: saves nothing
        variable = (s["cycles"] - s["saved"] - s["invocations"] * s["fixed_cycles"]) / s["cycles"]
        saved = round(cycles - invocations * s["fixed_cycles"] - variable * cycles) if cycles else 0
        scale = cycles / s["cycles"]
        loops.append({"id": s["id"], "sequential_cycles": cycles, "invocations": invocations,
                      "saved_fraction": round(saved / cycles, 6) if cycles else 0.0, "saved": saved,
                      "scale": round(scale, 3)})
        if cycles and not 1 / EXTRAPOLATION <= scale <= EXTRAPOLATION:
            notes.append(f"{s['id']} runs {scale:.3g}x its cycles on the profiling inputs: its saving is "
                         "extrapolated; how the cache footprint, cold misses and the balance of iterations "
                         "change with the size is not in it (profile on inputs of this size)")
    seq_cycles = sequential["cycles"]
    cycles = max(seq_cycles - sum(e["saved"] for e in loops), 1)
    return {"predicted_from": predicted_from, "sequential_cycles": seq_cycles, "cycles": cycles,
            "speedup": round(seq_cycles / cycles, 4), "loops": loops, "notes": notes}
