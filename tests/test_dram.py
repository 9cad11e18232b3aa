"""The DRAM controller (csim/src/dram.c): alone, through its own cffi module, then in the engine
(a streaming loop on 16 cores becomes bandwidth-bound, a compute loop does not notice).

The cycle numbers follow from the parameters each test sets: a channel serves one line per
line_cycles cycles in slots [k * line_cycles, (k + 1) * line_cycles), and a line is back latency
cycles after its service starts.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import csim_units
import helixrc
from helixrc.csim.errors import MachineError
from helixrc.csim.machine import resolve_machine

LINE = 64


@pytest.fixture(scope="session")
def units(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    tmpdir: Path = tmp_path_factory.mktemp("dram_units")
    return csim_units.build("_dram_units", ["dram.h"], ["dram.c"], tmpdir)


class Dram:
    """A controller built with the defaults plus overrides."""

    def __init__(self, units: ModuleType, **overrides: int) -> None:
        self.ffi, self.lib = units.ffi, units.lib
        params = self.ffi.new("dram_params *")
        self.lib.dram_default_params(params)
        for name, value in overrides.items():
            setattr(params, name, value)
        self.d = self.ffi.new("dram *")
        msg = self.ffi.new("char[256]")
        self.status = self.lib.dram_init(self.d, params, msg, 256)
        self.message = self.ffi.string(msg).decode()

    def read(self, addr: int, t: int) -> int:
        return int(self.lib.dram_read(self.d, addr, t))

    def pending(self, addr: int, t: int) -> int:
        return int(self.lib.dram_pending(self.d, addr, t))

    @property
    def stats(self) -> dict[str, int]:
        s = self.d.stats
        return {name: int(getattr(s, name)) for name in dir(s)}


@pytest.fixture
def make_dram(units: ModuleType) -> Iterator[Any]:
    made: list[Dram] = []

    def make(**overrides: int) -> Dram:
        d = Dram(units, **overrides)
        assert d.status == units.lib.CSIM_OK, d.message
        made.append(d)
        return d

    yield make
    for d in made:
        units.lib.dram_free(d.d)


def test_defaults(units: ModuleType) -> None:
    p = units.ffi.new("dram_params *")
    units.lib.dram_default_params(p)
    assert (p.channels, p.line_cycles, p.line_bytes, p.latency) == (2, 8, 64, 180)


def test_an_idle_channel_serves_at_once(make_dram: Any) -> None:
    d = make_dram(channels=1, line_cycles=8, latency=100)
    assert d.read(0, 1000) == 1100
    assert d.read(LINE, 2000) == 2100
    assert d.stats["accesses"] == 2 and d.stats["queue_cycles"] == 0


def test_concurrent_misses_queue_one_line_per_line_cycles(make_dram: Any) -> None:
    d = make_dram(channels=1, line_cycles=8, latency=100)
    # Ten lines requested in the same cycle leave one per 8 cycles.
    readies = [d.read(k * LINE, 800) for k in range(10)]
    assert readies == [900 + 8 * k for k in range(10)]
    s = d.stats
    assert s["queue_cycles"] == sum(8 * k for k in range(10))
    assert s["max_queue"] == 72


def test_channels_interleave_lines(make_dram: Any) -> None:
    d = make_dram(channels=4, line_cycles=8, latency=100)
    # Lines 0..3 go to four channels: no queue; line 4 shares channel 0 with line 0.
    assert [d.read(k * LINE, 800) for k in range(4)] == [900] * 4
    assert d.read(4 * LINE, 800) == 908
    # Two addresses of one line are one channel's (the second is a new request: the caches
    # decide what reaches DRAM).
    assert d.read(4 * LINE + 8, 800) == 916


def test_a_request_takes_a_free_slot_before_later_bookings(make_dram: Any) -> None:
    d = make_dram(channels=1, line_cycles=10, latency=0)
    assert d.read(0, 500) == 500          # slot 50
    assert d.read(LINE, 520) == 520       # slot 52
    # Arriving at 505 (slot 50, taken) it takes slot 51, between the two.
    assert d.read(2 * LINE, 505) == 510
    assert d.read(3 * LINE, 505) == 530  # 50, 51, 52 taken: slot 53


def test_bandwidth_bound_over_a_long_stream(make_dram: Any) -> None:
    """However the requests arrive, a channel never serves two lines in one slot, and a request
    is never served before it arrives: so n lines take at least (n - 1) slots."""
    rng = random.Random(7)
    d = make_dram(channels=1, line_cycles=6, latency=0)
    t, arrivals, starts = 0, [], []
    for k in range(3000):
        t += rng.choice((0, 0, 1, 2, 10))
        arrivals.append(t)
        starts.append(d.read(k * LINE, t))
    assert all(s >= a for s, a in zip(starts, arrivals))
    slots = [s // 6 for s in starts]
    assert len(set(slots)) == len(slots)
    assert max(starts) - min(starts) >= 6 * (len(starts) - 1) - 5
    assert d.stats["queue_cycles"] == sum(s - a for s, a in zip(starts, arrivals))
    assert d.stats["max_queue"] == max(s - a for s, a in zip(starts, arrivals))


def test_a_hit_on_a_line_in_flight_waits_for_its_fill(make_dram: Any) -> None:
    d = make_dram(channels=1, line_cycles=8, latency=100)
    ready = d.read(5 * LINE, 1000)
    assert ready == 1100
    assert d.pending(5 * LINE + 24, 1020) == 1100   # same line, fill not back: wait for it
    assert d.pending(5 * LINE, 1100) == 0           # back: an ordinary L2 hit
    assert d.pending(6 * LINE, 1020) == 0           # another line: nothing in flight
    s = d.stats
    assert s["pending_hits"] == 1 and s["pending_cycles"] == 80


def test_a_colliding_fill_replaces_the_older_one(make_dram: Any) -> None:
    d = make_dram(channels=64, line_cycles=1, latency=100, inflight_entries=64)
    d.read(3 * LINE, 0)
    d.read((3 + 64) * LINE, 5)           # same table entry (and channel: its slot 5 is free)
    assert d.pending(3 * LINE, 10) == 0
    assert d.pending((3 + 64) * LINE, 10) == 105


@pytest.mark.parametrize("field, value", [
    ("channels", 0), ("channels", 65), ("line_cycles", 0), ("line_bytes", 48),
    ("latency", -1), ("calendar_slots", 100), ("inflight_entries", 32),
])
def test_invalid_params_name_the_field(units: ModuleType, field: str, value: int) -> None:
    d = Dram(units, **{field: value})
    assert d.status == units.lib.CSIM_BAD_CONFIG
    assert d.message.startswith(f"dram_params.{field} must be")


# -- in the engine ---------------------------------------------------------------------------

ENGINE_SOURCE = textwrap.dedent('''
    from helixrc.parallel import prange

    def stream(a, out):
        for i in prange(0, out.shape[0], 1, segments=0, signals="uncoupled"):
            j = i * 32
            x0 = a[j]
            x1 = a[j + 8]
            x2 = a[j + 16]
            x3 = a[j + 24]
            out[i] = x0 + x1 + x2 + x3

    def compute(out):
        for i in prange(0, out.shape[0], 1, segments=0, signals="uncoupled"):
            v = i
            for k in range(100):
                v = (v * 31 + k) % 1000003
            out[i] = v
    ''')


def _stream(cores: int, **overrides: int) -> helixrc.SimResult:
    n = 4096
    a = np.arange(32 * n, dtype=np.float64)       # each iteration reads 4 lines no other does
    out = np.zeros(n)
    r = helixrc.simulate(ENGINE_SOURCE, (a, out), "helixrc16", func="stream", cores=cores,
                         dram_channels=1, **overrides)
    assert np.array_equal(out, a[0::32] + a[8::32] + a[16::32] + a[24::32])
    return r


def test_a_streaming_loop_on_16_cores_is_bandwidth_bound() -> None:
    one, eight, sixteen = (_stream(c) for c in (1, 8, 16))
    unlimited_one, unlimited = (_stream(c, dram_line_cycles=0) for c in (1, 16))
    d = sixteen.stats["dram"]
    # One channel serves a line per 8 cycles: the 4-line iterations of 16 cores need more, so
    # the loop takes the bandwidth's time and 8 cores already get there.
    assert sixteen.cycles >= d["accesses"] * 8
    assert d["utilization"] > 0.95 and d["queue_cycles"] > 0
    assert sixteen.cycles > 0.97 * eight.cycles
    assert one.cycles / sixteen.cycles < 0.5 * unlimited_one.cycles / unlimited.cycles
    # Unlimited bandwidth (the old model): every miss costs dram_latency, no queue, no counts.
    assert unlimited.stats["dram"]["accesses"] == 0 and unlimited.stats["dram"]["utilization"] == 0


def test_a_compute_loop_is_unaffected() -> None:
    out = np.zeros(512, dtype=np.int64)
    runs = [helixrc.simulate(ENGINE_SOURCE, (out,), "helixrc16", func="compute", **kw)
            for kw in ({}, {"dram_line_cycles": 0})]
    assert runs[0].cycles == runs[1].cycles
    assert runs[0].stats["dram"]["queue_cycles"] == 0


def test_machine_fields_are_validated() -> None:
    with pytest.raises(MachineError, match="dram_channels must be from 1 to 64"):
        resolve_machine("atom1", dram_channels=0)
    with pytest.raises(MachineError, match="dram_line_cycles must be from 0"):
        resolve_machine("atom1", dram_line_cycles=-1)
    assert resolve_machine("helixrc16").dram_line_cycles == 8
