"""Unit tests of the coherence baseline (csim/src/coherence.c) and the address map under it.

The directory is driven directly through the cffi harness (tests/csim_units.py) with access
streams whose costs follow from the rules in coherence.h: which accesses move a line between
cores, which copies a store drops, and when a waiter sees a signal.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from helixrc.csim.opcodes import MAX_SEGMENTS, Status

C2C = 75


# ---------------------------------------------------------------------------------------------
# addrmap


@pytest.fixture
def amap(units: Any) -> Any:
    m = units.ffi.new("addrmap *")
    assert units.lib.addrmap_init(m, 8, 0) == Status.OK
    yield m
    units.lib.addrmap_free(m)


def put(units: Any, m: Any, key: int, value: int) -> Any:
    """Insert key with value if absent; the record as an int64 pointer."""
    init = units.ffi.new("int64_t *", value)
    rec = units.ffi.new("void **")
    assert units.lib.addrmap_put(m, key, init, rec) == Status.OK
    return units.ffi.cast("int64_t *", rec[0])


def get(units: Any, m: Any, key: int) -> int | None:
    rec = units.lib.addrmap_get(m, key)
    return None if rec == units.ffi.NULL else units.ffi.cast("int64_t *", rec)[0]


def test_addrmap_matches_a_dict_through_growth(units: Any, amap: Any) -> None:
    rng = random.Random(4)
    keys = [0, 2**64 - 1, 2**64 - 2, 8, 16] + [rng.randrange(2**64) for _ in range(3000)]
    keys += [0x1000_0000 + 8 * i for i in range(3000)]   # word addresses: the common case
    expect: dict[int, int] = {}
    for k, key in enumerate(keys):
        rec = put(units, amap, key, k)
        expect.setdefault(key, k)
        assert rec[0] == expect[key]          # a present key keeps its record
    assert amap.count == len(expect)
    assert amap.cap >= 2 * len(expect) - 2
    for key, value in expect.items():
        assert get(units, amap, key) == value
    assert get(units, amap, 24) is None


def test_addrmap_records_are_writable_in_place(units: Any, amap: Any) -> None:
    put(units, amap, 2**64 - 1, 1)[0] = 41
    put(units, amap, 64, 2)[0] = 42
    assert (get(units, amap, 2**64 - 1), get(units, amap, 64)) == (41, 42)


def test_addrmap_clear_forgets_every_key(units: Any, amap: Any) -> None:
    for k, key in enumerate((1, 2, 2**64 - 1)):
        put(units, amap, key, k)
    units.lib.addrmap_clear(amap)
    assert amap.count == 0
    assert [get(units, amap, key) for key in (1, 2, 2**64 - 1)] == [None, None, None]
    assert put(units, amap, 2, 7)[0] == 7


def test_addrmap_growth_past_max_cap_fails_and_keeps_the_map(units: Any) -> None:
    ffi, lib = units.ffi, units.lib
    m = ffi.new("addrmap *")
    assert lib.addrmap_init(m, 8, 8) == Status.OK       # 8 slots: up to 4 keys
    try:
        for key in range(4):
            put(units, m, key, key)
        rec = ffi.new("void **")
        assert lib.addrmap_put(m, 99, ffi.new("int64_t *", 0), rec) == Status.NO_MEMORY
        assert rec[0] == ffi.NULL
        assert m.count == 4 and [get(units, m, k) for k in range(4)] == [0, 1, 2, 3]
    finally:
        lib.addrmap_free(m)


@pytest.mark.parametrize("val_size", [0, -8, 2**62])
def test_addrmap_init_refuses_impossible_records(units: Any, val_size: int) -> None:
    m = units.ffi.new("addrmap *")
    assert units.lib.addrmap_init(m, val_size, 0) == Status.NO_MEMORY
    units.lib.addrmap_free(m)                           # safe after a failed init


# ---------------------------------------------------------------------------------------------
# coherence: parameters


def params(units: Any, **fields: int) -> Any:
    p = units.ffi.new("coh_params *")
    units.lib.coh_default_params(p)
    for name, value in fields.items():
        setattr(p, name, value)
    return p


def test_default_params(units: Any) -> None:
    p = params(units)
    assert (p.cores, p.line_bytes, p.c2c_latency, p.upgrade_latency) == (16, 64, 75, 0)


@pytest.mark.parametrize("field, value, message", [
    ("cores", 0, "cores must be from 1 to 64 (got 0)"),
    ("cores", 65, "cores must be from 1 to 64 (got 65)"),
    ("line_bytes", 48, "line_bytes must be a power of two from 8 to 4096 (got 48)"),
    ("c2c_latency", -1, "c2c_latency must be from 0 to 1048576 cycles (got -1)"),
    ("upgrade_latency", -5, "upgrade_latency must be from 0 to 1048576 cycles (got -5)"),
])
def test_invalid_params_are_refused_with_a_reason(units: Any, field: str, value: int, message: str) -> None:
    ffi, lib = units.ffi, units.lib
    p = params(units, **{field: value})
    err = ffi.new("char[]", 160)
    assert lib.coh_params_ok(p, err, 160) == 0
    assert ffi.string(err).decode() == message
    c = ffi.new("coh *")
    assert lib.coh_init(c, p) == Status.BAD_CONFIG
    lib.coh_free(c)


# ---------------------------------------------------------------------------------------------
# coherence: data lines


class Dir:
    """A coherence directory under test, with one-line access helpers."""

    def __init__(self, units: Any, **fields: int) -> None:
        self.ffi, self.lib = units.ffi, units.lib
        self.c = self.ffi.new("coh *")
        assert self.lib.coh_init(self.c, params(units, **fields)) == Status.OK

    def _access(self, fn: Any, core: int, addr: int, t: int) -> tuple[int, int, int]:
        r = self.ffi.new("coh_result *")
        assert fn(self.c, core, addr, t, r) == Status.OK
        return r.extra, r.had_copy, r.invalidated

    def load(self, core: int, addr: int, t: int = 0) -> tuple[int, int, int]:
        """(extra, had_copy, invalidated) of a load."""
        return self._access(self.lib.coh_load, core, addr, t)

    def store(self, core: int, addr: int, t: int = 0) -> tuple[int, int, int]:
        return self._access(self.lib.coh_store, core, addr, t)

    def signal(self, core: int, seg: int, t: int) -> tuple[int, int, int]:
        r = self.ffi.new("coh_result *")
        assert self.lib.coh_signal(self.c, core, seg, t, r) == Status.OK
        return r.extra, r.had_copy, r.invalidated

    def release(self, core: int, seg: int, from_core: int, t_sent: int, t_wait: int) -> int:
        return self.lib.coh_wait_release(self.c, core, seg, from_core, t_sent, t_wait)

    def stats(self) -> tuple[int, int, int, int]:
        s = self.c.stats
        return s.c2c_transfers, s.invalidations, s.upgrades, s.flag_transfers

    def free(self) -> None:
        self.lib.coh_free(self.c)


@pytest.fixture
def coh(units: Any) -> Any:
    d = Dir(units)
    yield d
    d.free()


def test_a_line_nobody_wrote_costs_nothing_extra(coh: Dir) -> None:
    assert coh.load(0, 0x1000) == (0, 0, 0)
    assert coh.load(0, 0x1008) == (0, 1, 0)            # same 64-byte line: a copy is held
    assert coh.load(3, 0x1000) == (0, 0, 0)            # clean line: from L2, no transfer
    assert coh.stats() == (0, 0, 0, 0)


def test_reading_a_line_another_core_wrote_is_a_c2c_transfer(coh: Dir) -> None:
    assert coh.store(0, 0x2000, t=10) == (0, 0, 0)
    assert coh.load(1, 0x2038, t=100) == (C2C, 0, 0)   # same line, another core
    assert coh.load(1, 0x2000, t=200) == (0, 1, 0)     # now a sharer
    assert coh.load(0, 0x2000, t=200) == (0, 1, 0)     # the writer kept its copy
    assert coh.load(1, 0x2040, t=200) == (0, 0, 0)     # the next line is another entry
    assert coh.stats() == (1, 0, 0, 0)


def test_a_store_invalidates_the_other_copies(coh: Dir) -> None:
    coh.store(0, 0x3000, t=0)
    for core in (1, 2, 5):
        coh.load(core, 0x3000, t=1000)
    # core 2 holds a copy: an upgrade that drops cores 0, 1 and 5
    assert coh.store(2, 0x3000, t=2000) == (0, 1, 0b100011)
    assert coh.stats() == (3, 3, 1, 0)
    # the dropped copies are gone: core 1 reads core 2's write from core 2's cache
    assert coh.load(1, 0x3000, t=3000) == (C2C, 0, 0)
    assert coh.load(2, 0x3000, t=3000) == (0, 1, 0)


def test_a_store_to_a_line_another_core_wrote_reads_it_for_ownership(coh: Dir) -> None:
    coh.store(4, 0x4000, t=0)
    assert coh.store(7, 0x4010, t=500) == (C2C, 0, 1 << 4)
    assert coh.store(7, 0x4010, t=600) == (0, 1, 0)    # exclusive now: a plain hit
    assert coh.stats() == (1, 1, 0, 0)


def test_upgrade_latency_is_charged_for_invalidating_shared_copies(units: Any) -> None:
    d = Dir(units, upgrade_latency=12)
    try:
        d.load(0, 0x5000)
        d.load(1, 0x5000)                              # clean, shared by 0 and 1
        assert d.store(0, 0x5000, t=100) == (12, 1, 0b10)
        assert d.store(2, 0x6000, t=100) == (0, 0, 0)  # nobody else holds it: free
        d.load(3, 0x7000)
        assert d.store(4, 0x7000, t=100) == (12, 0, 1 << 3)   # a clean copy to drop, no upgrade
        assert d.stats() == (0, 2, 1, 0)
    finally:
        d.free()


def test_a_line_in_flight_delays_the_next_transfer_and_its_receiver(coh: Dir) -> None:
    coh.store(0, 0x8000, t=0)
    assert coh.load(1, 0x8000, t=100) == (C2C, 0, 0)           # arrives at 175
    assert coh.load(1, 0x8008, t=110) == (C2C - 10, 1, 0)      # core 1 waits for it
    assert coh.load(0, 0x8008, t=110) == (0, 1, 0)             # core 0's copy is there
    assert coh.load(2, 0x8000, t=120) == (175 + C2C - 120, 0, 0)   # queued behind it
    assert coh.load(2, 0x8000, t=500) == (0, 1, 0)


def test_optimistic_latency_is_configurable(units: Any) -> None:
    d = Dir(units, c2c_latency=10, cores=64)
    try:
        d.store(63, 0x9000, t=0)
        assert d.load(0, 0x9000, t=5) == (10, 0, 0)
        assert d.store(0, 0x9000, t=50) == (0, 1, 1 << 63)
    finally:
        d.free()


def test_out_of_range_cores_are_refused(coh: Dir) -> None:
    r = coh.ffi.new("coh_result *")
    for core in (-1, 16):
        assert coh.lib.coh_load(coh.c, core, 0, 0, r) == Status.BAD_PROGRAM
        assert coh.lib.coh_store(coh.c, core, 0, 0, r) == Status.BAD_PROGRAM
        assert coh.lib.coh_signal(coh.c, core, 0, 0, r) == Status.BAD_PROGRAM
        assert coh.release(core, 0, 1, 0, 0) == -2
        assert coh.release(1, 0, core, 0, 0) == -2
    assert coh.lib.coh_signal(coh.c, 0, MAX_SEGMENTS, 0, r) == Status.BAD_PROGRAM
    assert coh.lib.coh_signal(coh.c, 0, MAX_SEGMENTS - 1, 0, r) == Status.OK


def test_reset_forgets_lines_flags_and_counters(coh: Dir) -> None:
    coh.store(0, 0xA000, t=0)
    coh.load(1, 0xA000, t=10)
    coh.signal(0, 3, t=20)
    coh.lib.coh_reset(coh.c)
    assert coh.stats() == (0, 0, 0, 0)
    assert coh.load(1, 0xA000, t=30) == (0, 0, 0)
    assert coh.release(1, 3, 0, 20, 40) == -1


# ---------------------------------------------------------------------------------------------
# coherence: signals


def test_a_wait_sees_a_signal_from_another_core_one_transfer_later(coh: Dir) -> None:
    coh.signal(2, 0, t=100)
    assert coh.release(3, 0, 2, t_sent=100, t_wait=40) == 100 + C2C      # waited first
    assert coh.release(4, 0, 2, t_sent=100, t_wait=300) == 300 + C2C     # came later
    assert coh.stats() == (0, 0, 0, 2)


def test_a_signal_from_the_same_core_is_seen_at_once(coh: Dir) -> None:
    coh.signal(5, 1, t=100)
    assert coh.release(5, 1, 5, t_sent=100, t_wait=50) == 100
    assert coh.release(5, 1, 5, t_sent=100, t_wait=130) == 130
    assert coh.stats() == (0, 0, 0, 0)


def test_a_wait_before_the_signal_spins_and_is_invalidated(coh: Dir) -> None:
    assert coh.release(1, 2, 0, t_sent=-1, t_wait=10) == -1   # no signal known yet: spins
    assert coh.release(3, 2, 0, t_sent=-1, t_wait=12) == -1
    assert coh.signal(0, 2, t=50) == (0, 0, 0b1010)           # drops the spinners' copies
    assert coh.release(1, 2, 0, t_sent=50, t_wait=10) == 50 + C2C
    assert coh.stats() == (0, 2, 0, 1)


def test_a_signal_not_yet_recorded_does_not_release(coh: Dir) -> None:
    coh.signal(0, 0, t=100)
    assert coh.release(1, 0, 1, t_sent=0, t_wait=150) == -1    # core 1 never signalled seg 0
    assert coh.release(1, 1, 0, t_sent=0, t_wait=150) == -1    # nor did core 0 signal seg 1
    # the caller waits for core 0's next signal: core 1 spins on the flag of the write at 100
    assert coh.release(1, 0, 0, t_sent=200, t_wait=150) == -1
    assert coh.signal(0, 0, t=200) == (0, 1, 0b10)
    assert coh.release(1, 0, 0, t_sent=200, t_wait=150) == 200 + C2C


def test_a_waiter_holding_the_current_flag_needs_no_transfer(coh: Dir) -> None:
    coh.signal(0, 0, t=100)
    assert coh.release(1, 0, 0, 100, 120) == 120 + C2C
    assert coh.release(1, 0, 0, 100, 400) == 400               # still the same write
    # the next signal drops the copy, and the writer pays the upgrade for it
    assert coh.signal(0, 0, t=500) == (0, 1, 0b10)
    assert coh.release(1, 0, 0, 500, 450) == 500 + C2C
    assert coh.stats() == (0, 1, 1, 2)


def test_signal_upgrades_cost_upgrade_latency(units: Any) -> None:
    d = Dir(units, upgrade_latency=7)
    try:
        assert d.signal(0, 4, t=0) == (0, 0, 0)                # first write: nobody to drop
        d.release(1, 4, 0, 0, 10)
        assert d.signal(0, 4, t=20) == (7, 1, 0b10)
        assert d.signal(0, 4, t=40) == (0, 1, 0)
    finally:
        d.free()


# ---------------------------------------------------------------------------------------------
# cache_invalidate: how the caller drops the copies a store invalidated


def test_cache_invalidate_drops_only_that_line(units: Any) -> None:
    ffi, lib = units.ffi, units.lib
    l1 = ffi.new("cache *")
    assert lib.cache_init(l1, 2 * 4 * 64, 4, 64) == Status.OK   # 2 sets of 4 ways
    try:
        lines = [0x0, 0x80, 0x100, 0x180]                     # all in set 0, MRU last
        for addr in lines:
            assert lib.units_cache_access(l1, addr) == 0
        assert lib.cache_invalidate(l1, 0x100 + 8) == 1       # any byte of the line
        assert lib.cache_invalidate(l1, 0x100) == 0           # already gone
        assert lib.cache_invalidate(l1, 0x40) == 0            # never there (set 1)
        assert lib.units_cache_access(l1, 0x100) == 0         # a miss again
        # the others stayed, in LRU order: one more line evicts 0x0, the oldest
        assert [lib.units_cache_access(l1, a) for a in (0x180, 0x80)] == [1, 1]
        assert lib.units_cache_access(l1, 0x200) == 0
        assert [lib.units_cache_access(l1, a) for a in (0x100, 0x180, 0x80, 0x0)] == [1, 1, 1, 0]
    finally:
        lib.cache_free(l1)


def test_invalidating_frees_a_way_before_the_lru_line_is_evicted(units: Any) -> None:
    ffi, lib = units.ffi, units.lib
    l1 = ffi.new("cache *")
    assert lib.cache_init(l1, 2 * 64, 2, 64) == Status.OK    # 1 set of 2 ways
    try:
        lib.units_cache_access(l1, 0x0)
        lib.units_cache_access(l1, 0x40)
        lib.cache_invalidate(l1, 0x40)
        lib.units_cache_access(l1, 0x80)                       # fills the free way
        assert [lib.units_cache_access(l1, a) for a in (0x0, 0x80)] == [1, 1]
    finally:
        lib.cache_free(l1)


def _lru_model(nsets: int, assoc: int, line: int, ops: list[tuple[str, int]]) -> list[int]:
    """What an LRU cache of whole line numbers answers to ops (access or invalidate)."""
    sets: list[list[int]] = [[] for _ in range(nsets)]
    out = []
    for op, addr in ops:
        ln = addr // line
        ways = sets[ln % nsets]
        present = ln in ways
        if present:
            ways.remove(ln)
        if op == "access":
            ways.insert(0, ln)
            del ways[assoc:]
        out.append(int(present))
    return out


@pytest.mark.parametrize("high_from", [None, 0, 150])
def test_cache_matches_an_lru_model_with_narrow_and_wide_tags(units: Any,
                                                              high_from: int | None) -> None:
    # Tags are 32 bits until an address needs more (here: from op high_from on), then 64 bits;
    # either way the answers are those of an LRU cache of full line numbers.
    ffi, lib = units.ffi, units.lib
    nsets, assoc, line = 4, 2, 64
    rng = random.Random(7)
    low = [rng.randrange(16) * line + rng.randrange(line) for _ in range(300)]
    # 2^32 sets' worth of lines up: the same set indices, tags that do not fit in 32 bits,
    # and one that differs from a low tag only above bit 32
    far = [a + (1 << 32) * nsets * line for a in low]
    ops = []
    for i, addr in enumerate(low):
        high = high_from is not None and i >= high_from and rng.random() < 0.5
        ops.append(("invalidate" if rng.random() < 0.2 else "access", far[i] if high else addr))
    c = ffi.new("cache *")
    assert lib.cache_init(c, nsets * assoc * line, assoc, line) == Status.OK
    try:
        got = [lib.units_cache_access(c, a) if op == "access" else lib.cache_invalidate(c, a)
               for op, a in ops]
        assert got == _lru_model(nsets, assoc, line, ops)
        assert c.hits + c.misses == sum(op == "access" for op, _ in ops)
    finally:
        lib.cache_free(c)
