"""What the ring cache serves (docs/multicore.md section 5): shared data only. A load of an array
that no store of the parallel loop may write (helpers' stores included) is lowered to LOAD_RO and
goes to the core's private L1 even inside a segment; a load of an array the loop writes, of a
cell, or of an array that overlaps another argument in memory stays on the ring. Routing changes
timing only: the results are CPython's with the ring on or off."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

import helixrc
from equality import run_both
from helixrc.args import signature_of
from helixrc.csim.opcodes import Opcode
from helixrc.passes.pipeline import compile_kernel
from helixrc.resolve import resolve_kernel
from test_transform_golden import load

RUNTIME = "from helixrc.parallel import prange, shared, signal, wait\n"

# w[] is read inside the segment and written nowhere in the loop; out[] is written.
READ_ONLY = """
    def weigh(w, xs, out):
        seg0 = shared(0, acc=0.0)
        for i in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
            v = xs[i] * 2.0
            wait(0)
            seg0.acc = seg0.acc + v * w[i % 8]
            out[i] = seg0.acc
            signal(0)
        return seg0.acc
"""
# the same, with w[] also written later in the iteration
WRITTEN = READ_ONLY.replace("            signal(0)\n", "            w[i % 8] = v\n            signal(0)\n")
# the same, with w[] written by a helper the loop calls
HELPER = "def put(a, i, v):\n    a[i] = v\n\n\n" + textwrap.dedent(READ_ONLY).replace(
    "        signal(0)\n", "        put(w, i % 8, v)\n        signal(0)\n")


def _args(n: int = 64) -> tuple[Any, ...]:
    rng = np.random.default_rng(3)
    return rng.random(8), rng.random(n), np.zeros(n)


def _loads(source: str, args: tuple[Any, ...]) -> dict[str, set[str]]:
    """Per array name: the load opcodes the kernel ``weigh`` is encoded with."""
    module, name = resolve_kernel(RUNTIME + textwrap.dedent(source), "weigh")
    compiled, _ = compile_kernel(module, name, signature_of(args))
    names = [slot.name for slot in compiled.lowered.function.arrays]
    out: dict[str, set[str]] = {}
    for ins in compiled.encoded.code:
        if ins[0] in (Opcode.LOAD, Opcode.LOAD_RO):
            out.setdefault(names[ins[1]], set()).add(Opcode(ins[0]).name)
    return out


def _run(source: str, args: tuple[Any, ...], **overrides: Any) -> dict[str, int]:
    """Run on helixrc16 (checked against CPython bit for bit); return the ring's counters."""
    text = RUNTIME + textwrap.dedent(source)
    kernel = getattr(load(text, "hand.py"), "weigh")
    stats: dict[str, Any] = {}

    def sim(a: tuple[Any, ...]) -> Any:
        res = helixrc.simulate(text, a, machine="helixrc16", func="weigh", check=1, **overrides)
        stats.update(res.stats["communication"].get("ring", {}))
        return res.value

    run_both(kernel, args, sim)
    return stats


def test_a_read_only_array_is_lowered_to_load_ro_and_cells_are_not() -> None:
    loads = _loads(READ_ONLY, _args())
    assert loads["w"] == {"LOAD_RO"} and loads["xs"] == {"LOAD_RO"}
    assert loads["seg0.acc"] == {"LOAD"}


@pytest.mark.parametrize("source", [WRITTEN, HELPER], ids=["written in the loop", "written by a helper"])
def test_an_array_the_loop_writes_keeps_load(source: str) -> None:
    loads = _loads(source, _args())
    assert loads["w"] == {"LOAD"} and loads["xs"] == {"LOAD_RO"}


def test_a_read_only_load_in_a_segment_goes_to_the_l1() -> None:
    ring = _run(READ_ONLY, _args())
    assert ring["private_loads"] == 64  # one w[] load per iteration, all inside the segment
    written = _run(WRITTEN, _args())
    assert written["private_loads"] == 0
    assert written["misses"] > ring["misses"]  # w[] is fetched through the ring there


def test_a_read_only_array_that_overlaps_a_written_one_stays_on_the_ring() -> None:
    # w and out are one buffer: the loop writes out[] and reads w[] in the segment
    n = 64
    buf = np.zeros(n)
    args = (buf, np.random.default_rng(4).random(n), buf)
    assert _loads(READ_ONLY, args)["w"] == {"LOAD_RO"}  # the lowering sees two names
    assert _run(READ_ONLY, args)["private_loads"] == 0  # the engine sees one memory


def test_routing_changes_timing_only() -> None:
    args = _args()
    cycles = {}
    for ring in (0, 1):
        text = RUNTIME + textwrap.dedent(READ_ONLY)
        kernel = getattr(load(text, "hand.py"), "weigh")
        run_both(kernel, args, lambda a: helixrc.simulate(text, a, machine="helixrc16", func="weigh",
                                                          ring_cache=ring).value)
        cycles[ring] = helixrc.simulate(text, tuple(np.copy(x) for x in args), machine="helixrc16",
                                        func="weigh", ring_cache=ring).cycles
    assert cycles[0] != cycles[1]
