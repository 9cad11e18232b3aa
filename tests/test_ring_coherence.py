"""The ring's owners are cores of the coherent hierarchy (docs/multicore.md sections 5 and 12): an
owner's fetch after a ring miss is a load of that core through the directory, and every word it
writes back (an eviction, or the flush at the loop's end) is a store of that core, which
invalidates the other cores' copies. Without this the main context's copies stayed valid across
a loop that rewrote them, and segments read lines the main context had just written at L1 cost."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

import helixrc
from equality import run_both
from test_transform_golden import load

# 16 int64 words 64 bytes apart: one L1 line each, so one line per owner node on helixrc16.
SPREAD = "from helixrc.parallel import prange, shared, signal, wait\n" + textwrap.dedent("""
    def spread(acc, n, before):
        total = 0
        for j in range(16):
            if before == 1:
                acc[8 * j] = j
            else:
                total += acc[8 * j]
        for i in prange(0, n, 1, segments=1, signals="uncoupled"):
            wait(0)
            acc[8 * (i % 16)] = acc[8 * (i % 16)] + i
            signal(0)
        for j in range(16):
            total += acc[8 * j]
        return total
""")


def _coherence(before: int) -> dict[str, Any]:
    kernel = getattr(load(SPREAD, "spread.py"), "spread")
    stats: dict[str, Any] = {}

    def sim(a: tuple[Any, ...]) -> Any:
        res = helixrc.simulate(SPREAD, a, machine="helixrc16", func="spread", check=1)
        stats.update(res.stats["communication"])
        return res.value

    run_both(kernel, (np.zeros(128, dtype=np.int64), 64, before), sim)
    assert stats["ring"]["misses"] == 16 and stats["ring"]["writebacks"] == 16
    return stats["coherence"]


def test_the_flush_invalidates_the_main_contexts_copies() -> None:
    """The main context reads the 16 lines, the loop rewrites them in segments, the flush writes
    them back at their owners: the main context's reads after the loop fetch the 15 lines whose
    owner is another core."""
    coh = _coherence(before=0)
    assert coh["invalidations"] == 15
    assert coh["c2c_transfers"] == 15


def test_an_owners_fetch_sees_the_main_contexts_writes() -> None:
    """The main context writes the 16 lines before the loop: each segment's first load misses in
    the ring, and the owner fetches the line from core 0's L1 (15 transfers), then the reads
    after the loop fetch them back (15 more)."""
    assert _coherence(before=1)["c2c_transfers"] == 30

