"""Hotspots: where the sequential run spends its cycles, per loop and per line.

Everything comes from one sequential simulation's statistics (:mod:`helixrc.stats`): loop cycles
are inclusive (an outer loop's share holds its inner loops'), and a loop of a helper kernel is
listed under the helper's name (``helper/L1``) with the cycles of every call.
"""

from __future__ import annotations

from typing import Any

#: how many lines the hotspot list keeps (the hottest first)
TOP_LINES = 10


def loop_hotspots(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Per loop: cycles, share of the total, invocations, iterations, trip count and iteration length."""
    out = []
    for loop in stats["loops"]:
        inv, its = loop["invocations"], loop["iterations"]
        out.append({
            "id": loop["id"],
            "line": loop["line"],
            "parent": loop["parent"],
            "cycles": loop["cycles"],
            "share": loop["share"],
            "invocations": inv,
            "iterations": its,
            "mean_trip": round(its / inv, 3) if inv else 0.0,
            "cycles_per_iteration": loop["cycles_per_iteration"],
            "cycles_per_invocation": round(loop["cycles"] / inv, 3) if inv else 0.0,
            "cpi_stack": loop["cpi_stack"],
        })
    return sorted(out, key=lambda e: (-e["cycles"], e["id"]))


def line_hotspots(stats: dict[str, Any], top: int = TOP_LINES) -> list[dict[str, Any]]:
    """The ``top`` lines with the most cycles: file, line, cycles, share, instructions executed."""
    hot = sorted(stats["lines"], key=lambda e: (-e["cycles"], e["file"], e["line"]))[:top]
    return [{"file": e["file"], "line": e["line"], "cycles": e["cycles"], "share": e["share"],
             "instructions": e["instructions"]} for e in hot if e["cycles"] > 0]
