"""Loop selection on the loop forest, after HELIX's planner (NOELLE ``LoopSelector`` / ``evaluateSavings``).

Only one parallel loop runs at a time, so a chosen loop excludes every loop nested in it or
around it. On each tree of the forest, post-order::

    best(L) = max(saved(L), sum(best(C) for C in children(L)))

and L is chosen when its own saving wins (on a tie the outer loop wins: fewer loop start-ups).
A loop that is not eligible -- refused by the analysis, below the thresholds, or not saving
anything -- has saved(L) = 0, so it is never chosen and the kernel never gets slower.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """When a loop is too small to try (the defaults follow NOELLE's planner, see docs/adviser.md)."""

    #: mean iterations per invocation below which a loop is not tried: nothing to overlap
    min_trip: float = 2.0
    #: the cycles a loop saves, as a share of the sequential run, below which it is not chosen
    #: (NOELLE's 2%); a loop with a smaller share of the run is not tried
    min_saving: float = 0.02


def select_loops(parents: Mapping[str, str | None], saved: Mapping[str, int]) -> tuple[list[str], dict[str, int]]:
    """The loops to parallelize, in forest order, and best(L) of every loop.

    ``parents`` maps every loop id to its parent's id (None for an outermost loop), in forest order;
    ``saved`` holds the saving of each eligible loop (a missing or non-positive one counts 0).
    """
    children: dict[str | None, list[str]] = {}
    for lid, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(lid)
    best: dict[str, int] = {}
    chosen: set[str] = set()

    def visit(lid: str) -> set[str]:
        below: set[str] = set()
        total = 0
        for child in children.get(lid, []):
            below |= visit(child)
            total += best[child]
        own = max(saved.get(lid, 0), 0)
        if own > 0 and own >= total:
            best[lid] = own
            return {lid}
        best[lid] = total
        return below

    for root in children.get(None, []):
        chosen |= visit(root)
    return [lid for lid in parents if lid in chosen], best
