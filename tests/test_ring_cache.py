"""Unit tests of the HELIX-RC ring cache (csim/src/ring.c) alone, through its own cffi module.

Cycle numbers below follow from the defaults: a store at cycle t is at its own node at t + 2
(injection) and at node + d at t + 2 + d (one cycle per hop) when the links are free; a link
carries one data word and five signals per cycle.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import csim_units


@pytest.fixture(scope="session")
def units(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    tmpdir: Path = tmp_path_factory.mktemp("ring_units")
    return csim_units.build("_ring_units", ["ring.h"], ["ring.c"], tmpdir)


class Ring:
    """A ring built with the defaults for nodes plus overrides, freed by the fixture."""

    def __init__(self, units: ModuleType, nodes: int, **overrides: int) -> None:
        self.ffi, self.lib = units.ffi, units.lib
        self.nodes = nodes
        params = self.ffi.new("ring_params *")
        self.lib.ring_default_params(params, nodes)
        for name, value in overrides.items():
            setattr(params, name, value)
        self.r = self.ffi.new("ring *")
        msg = self.ffi.new("char[256]")
        status = self.lib.ring_init(self.r, params, msg, 256)
        assert status == self.lib.CSIM_OK, self.ffi.string(msg).decode()

    def store(self, node: int, addr: int, t: int) -> int:
        return int(self.lib.ring_store(self.r, node, addr, t))

    def load(self, node: int, addr: int, t: int) -> int | None:
        ready = int(self.lib.ring_load(self.r, node, addr, t))
        return None if ready == self.lib.RING_MISS else ready

    def fill(self, node: int, addr: int, t: int, fetch: int) -> int:
        return int(self.lib.ring_fill(self.r, node, addr, t, fetch))

    def signal(self, node: int, t: int) -> tuple[int, list[int]]:
        arrival = self.ffi.new("uint64_t[]", self.nodes)
        go = int(self.lib.ring_signal(self.r, node, t, arrival))
        return go, [int(a) for a in arrival]

    def flush(self, t: int) -> int:
        return int(self.lib.ring_flush(self.r, t))

    def owner(self, addr: int) -> int:
        return int(self.lib.ring_owner(self.r, addr))

    def writebacks(self) -> list[tuple[int, int]]:
        n = self.ffi.new("int64_t *")
        w = self.lib.ring_take_writebacks(self.r, n)
        return [(int(w[i].addr), int(w[i].t)) for i in range(n[0])]

    @property
    def stats(self) -> dict[str, int]:
        s = self.r.stats
        return {name: int(getattr(s, name)) for name in dir(s)}


@pytest.fixture
def make_ring(units: ModuleType) -> Iterator[Any]:
    made: list[Ring] = []

    def make(nodes: int, **overrides: int) -> Ring:
        made.append(Ring(units, nodes, **overrides))
        return made[-1]

    yield make
    for ring in made:
        units.lib.ring_free(ring.r)


def test_defaults(units: ModuleType) -> None:
    p = units.ffi.new("ring_params *")
    units.lib.ring_default_params(p, 16)
    assert (p.nodes, p.size_bytes, p.ways, p.word_bytes) == (16, 1024, 8, 8)
    assert (p.hit_latency, p.inject_latency, p.hop_latency) == (1, 2, 1)
    assert (p.data_bandwidth, p.signal_bandwidth) == (1, 5)
    assert (p.owner_line_bytes, p.inject_queue, p.signal_buffer) == (64, 8, 16)


@pytest.mark.parametrize("inject, hop", [(2, 1), (5, 3)])
def test_store_reaches_node_after_d_hops_plus_injection(make_ring: Any, inject: int,
                                                         hop: int) -> None:
    ring = make_ring(16, inject_latency=inject, hop_latency=hop)
    for src in (0, 9):
        addr = 8 * src
        assert ring.store(src, addr, 100) == 100  # the store does not stall the core
        for d in range(16):
            arrival = 100 + inject + d * hop
            node = (src + d) % 16
            # Asked before arrival: a hit in flight, ready when the word arrives...
            assert ring.load(node, addr, 100) == arrival
            # ...asked afterwards: an ordinary hit.
            assert ring.load(node, addr, arrival + 10) == arrival + 10 + 1
    s = ring.stats
    assert s["hits_in_flight"] == 32 and s["hits"] == 32 and s["misses"] == 0
    assert s["stores"] == 2 and s["data_hops"] == 2 * 15 and s["link_stalls"] == 0


def test_stores_of_one_cycle_leave_one_per_cycle(make_ring: Any) -> None:
    ring = make_ring(4)
    t = 0
    continues = []
    for k in range(10):
        t = ring.store(0, 8 * k, t)
        continues.append(t)
    # The inject queue holds 8 words: the 9th waits for the 1st to leave (cycle 2), the 10th
    # for the 2nd (cycle 3).
    assert continues == [0] * 8 + [2, 3]
    # Word k leaves at 2 + k and is at node d one cycle per hop later; the 9th and 10th were
    # injected late (cycles 4 and 5) and queue behind the 8th, which leaves at 9.
    departs = [2 + k for k in range(8)] + [10, 11]
    for k, dep in enumerate(departs):
        for d in range(1, 4):
            assert ring.load(d, 8 * k, 0) == dep + d
    s = ring.stats
    assert s["core_stalls"] == 2 + 1
    assert s["peak_inject_queue"] == 8
    # Cycles each word waited at node 0 to leave: k for word k, 10 - 4 and 11 - 5 for the last.
    assert s["link_stalls"] == sum(range(8)) + 6 + 6


def test_stores_of_all_nodes_in_one_cycle_pipeline_without_stalls(make_ring: Any) -> None:
    ring = make_ring(8)
    for src in range(8):
        assert ring.store(src, 8 * src, 0) == 0
    for src in range(8):
        for d in range(8):
            assert ring.load((src + d) % 8, 8 * src, 0) == 2 + d
    assert ring.stats["link_stalls"] == 0


def test_ring_traffic_goes_before_injection(make_ring: Any) -> None:
    ring = make_ring(4)
    ring.store(0, 0, 0)  # leaves node 0 at 2, at node 1 at 3, leaves node 1 at 3
    ring.store(1, 8, 1)  # ready to leave node 1 at 3: the link is taken, it leaves at 4
    assert ring.load(2, 0, 0) == 4
    assert ring.load(2, 8, 0) == 5
    assert ring.load(3, 8, 0) == 6
    assert ring.stats["link_stalls"] == 1


def test_calendar_window_wraps(make_ring: Any) -> None:
    ring = make_ring(4, calendar_cycles=64)
    for t in (0, 5000, 5064, 1 << 40):
        assert ring.store(2, 16, t) == t
        assert ring.load(1, 16, t) == t + 2 + 3
    assert ring.stats["link_stalls"] == 0


def test_signal_never_arrives_before_earlier_data(make_ring: Any) -> None:
    ring = make_ring(6)
    for k in range(5):
        ring.store(2, 8 * k, 0)  # words leave node 2 at 2..6
    go, arrival = ring.signal(2, 0)
    assert go == 0
    for d in range(6):
        node = (2 + d) % 6
        last_data = max(ring.load(node, 8 * k, 0) for k in range(5))
        assert arrival[node] >= last_data
        # It travels in the same cycle as the last word: no slower either.
        assert arrival[node] == (2 if d == 0 else 6 + d)


def test_signal_of_a_released_core_does_not_overtake_the_data(make_ring: Any) -> None:
    # Coupled signals: node 2 waits only for node 1, which waited for node 0. Node 0's word X
    # must be at node 2 before node 1's signal, even when X queues at node 1.
    ring = make_ring(4)
    for k in range(6):
        ring.store(1, 8 * k, 0)  # node 1's own words take its link at 2..7
    ring.store(0, 512, 0)  # X: at node 1 at 3, waits there, leaves at 8, at node 2 at 9
    _, arrival0 = ring.signal(0, 0)
    assert arrival0[1] == 3
    _, arrival1 = ring.signal(1, arrival0[1])  # node 1 released by node 0's signal
    for node in (2, 3):
        assert arrival1[node] >= ring.load(node, 512, 0)
    assert arrival1[2] == 9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_traffic_keeps_signals_behind_data_and_words_in_order(make_ring: Any, seed: int) -> None:
    # Random traffic: a signal sent by node j reaches every node after every word that had
    # reached node j when the signal got there (the property coupled and uncoupled waits need),
    # and no word overtakes an earlier one of the same sender.
    rng = random.Random(seed)
    nodes = 6
    ring = make_ring(nodes, size_bytes=8192, inject_queue=4)
    stored: list[int] = []
    senders: list[int] = []
    signals: list[tuple[int, int, list[int]]] = []
    t = 0
    for _ in range(300):
        t += rng.choice([0, 0, 1, 2])
        node = rng.randrange(nodes)
        if rng.random() < 0.7:
            addr = 8 * len(stored)
            ring.store(node, addr, t)
            stored.append(addr)
            senders.append(node)
        else:
            _, arrival = ring.signal(node, t)
            signals.append((node, len(stored), arrival))
    arrivals = [[ring.load(n, a, 0) for n in range(nodes)] for a in stored]
    assert ring.stats["evictions"] == 0 and ring.stats["link_stalls"] > 0
    checked = 0
    for node, count, arrival in signals:
        for word in arrivals[:count]:
            if word[node] <= arrival[node]:
                checked += 1
                assert all(arrival[n] >= word[n] for n in range(nodes))
    assert checked > 100
    # Each sender's words arrive everywhere in the order it stored them.
    for sender in range(nodes):
        mine = [word for word, s in zip(arrivals, senders) if s == sender]
        for n in range(nodes):
            assert [w[n] for w in mine] == sorted(w[n] for w in mine)


def test_signal_alone_and_signal_bandwidth(make_ring: Any) -> None:
    ring = make_ring(4, hop_latency=2)
    arrivals = [ring.signal(1, 10)[1] for _ in range(6)]
    # Five signals share a link cycle; the sixth waits one cycle at the first hop.
    for a in arrivals[:5]:
        assert a == [10 + 2 + 3 * 2, 10 + 2, 10 + 2 + 2, 10 + 2 + 2 * 2]
    assert arrivals[5] == [10 + 3 + 3 * 2, 10 + 2, 10 + 3 + 2, 10 + 3 + 2 * 2]
    # Signals do not take data slots.
    ring.store(1, 0, 10)
    assert ring.load(2, 0, 0) == 10 + 2 + 2
    s = ring.stats
    assert s["signals"] == 6 and s["signal_hops"] == 6 * 3
    assert s["link_stalls"] == 1


def test_signal_buffer_full_stalls_the_sender(make_ring: Any) -> None:
    ring = make_ring(4, signal_buffer=2)
    assert ring.signal(0, 0)[0] == 0
    assert ring.signal(0, 0)[0] == 0
    # Both are at the last node at 2 + 3: the third waits until then.
    go, arrival = ring.signal(0, 0)
    assert go == 5
    assert arrival == [7, 8, 9, 10]
    assert ring.stats["core_stalls"] == 5
    assert ring.stats["peak_signals"] == 2


def test_single_node_ring(make_ring: Any) -> None:
    ring = make_ring(1)
    assert ring.owner(12345) == 0
    assert ring.store(0, 8, 3) == 3
    assert ring.load(0, 8, 3) == 5
    assert ring.signal(0, 7) == (7, [9])
    assert ring.stats["data_hops"] == 0 and ring.stats["signal_hops"] == 0


def test_owner_is_the_line_address_mod_nodes(make_ring: Any) -> None:
    ring = make_ring(16)
    assert [ring.owner(a) for a in (0, 8, 63, 64, 127, 128, 15 * 64, 16 * 64)] == \
        [0, 0, 0, 1, 1, 2, 15, 0]
    ring6 = make_ring(6, owner_line_bytes=128)
    assert [ring6.owner(128 * k + 8) for k in range(8)] == [0, 1, 2, 3, 4, 5, 0, 1]


def test_miss_goes_through_the_owner(make_ring: Any) -> None:
    ring = make_ring(16)
    addr = 3 * 64  # owner: node 3
    assert ring.load(5, addr, 10) is None
    # Node 5 asks node 3 (14 hops on), node 3 reads L1 (3 cycles) and sends it on (2 hops).
    assert ring.fill(5, addr, 10, 3) == 10 + 1 + 14 + 3 + 2
    assert ring.load(5, addr, 40) == 41
    assert ring.stats["miss_messages"] == 2
    # The owner itself goes straight to its L1: no ring messages.
    assert ring.load(3, addr, 50) is None
    assert ring.fill(3, addr, 50, 3) == 50 + 1 + 3
    s = ring.stats
    assert s["misses"] == 2 and s["hits"] == 1 and s["miss_messages"] == 2
    # A fill is clean: nothing to write back.
    assert ring.flush(100) == 100 and ring.stats["writebacks"] == 0


def test_fill_after_a_store_arrived_keeps_the_stored_word(make_ring: Any) -> None:
    ring = make_ring(4)
    assert ring.load(2, 64, 0) is None
    ring.store(1, 64, 0)  # at node 2 at 3
    assert ring.fill(2, 64, 0, 100) == 3
    assert ring.flush(10) == 10 + 1  # still dirty: its owner (node 1) writes it back


def test_eviction_writes_back_through_the_owner(make_ring: Any) -> None:
    ring = make_ring(2)
    # 16 sets of 8 one-word ways: these 9 words share set 8, all owned by node 1.
    addrs = [64 + 128 * k for k in range(9)]
    assert {ring.owner(a) for a in addrs} == {1}
    for k, addr in enumerate(addrs):
        ring.store(0, addr, 10 * k)
    s = ring.stats
    # The 9th word pushes the 1st (least recently used) out of both nodes; node 0 evicts first
    # and sends it to node 1, which writes it back; that cleans node 1's copy.
    assert s["evictions"] == 2 and s["writebacks"] == 1 and s["miss_messages"] == 1
    assert ring.load(0, addrs[0], 100) is None and ring.load(1, addrs[0], 100) is None
    assert all(ring.load(1, a, 100) == 101 for a in addrs[1:])


def test_lru_keeps_recently_loaded_words(make_ring: Any) -> None:
    ring = make_ring(1)
    addrs = [128 * k for k in range(9)]
    for addr in addrs[:8]:
        ring.store(0, addr, 0)
    ring.load(0, addrs[0], 10)  # now the most recently used: words[1] is the LRU one
    ring.store(0, addrs[8], 20)
    assert ring.load(0, addrs[0], 30) == 31
    assert ring.load(0, addrs[1], 30) is None


def test_flush_writes_dirty_words_back_and_empties_the_ring(make_ring: Any) -> None:
    ring = make_ring(16)
    ring.store(0, 15 * 64, 0)      # owner 15: there at 2 + 15
    ring.store(0, 15 * 64 + 8, 0)  # queued one cycle behind: there at 18
    ring.store(4, 64 + 8, 0)       # owner 1: there at 2 + 13
    # Flushed at 5: node 15 writes its two words as they arrive (17, 18), one per cycle.
    assert ring.flush(5) == 18 + 1
    s = ring.stats
    assert s["writebacks"] == 3 and s["flushes"] == 1 and s["evictions"] == 0
    for node in range(16):
        assert ring.load(node, 15 * 64, 30) is None
    # Nothing dirty left: the next flush ends when it starts.
    assert ring.flush(40) == 40


def test_flush_logs_owners_in_order_and_each_set_most_recently_used_first(make_ring: Any) -> None:
    ring = make_ring(2)
    # Set 0 holds 0 and 128 (owner 0), set 1 holds 8 (owner 0), set 8 holds 64 (owner 1).
    for k, addr in enumerate((0, 128, 8, 64)):
        ring.store(0, addr, 10 * k)
    ring.load(0, 0, 31)  # node 0's copy of 0 becomes its set's most recently used word
    assert ring.writebacks() == []
    ring.flush(31)
    # Owner 0's words by set, MRU first (0 was loaded after 128 was stored), then owner 1's;
    # each written at max(its arrival at the owner, the flush): 64 reached node 1 at 33.
    assert ring.writebacks() == [(0, 31), (128, 31), (8, 31), (64, 33)]
    assert ring.writebacks() == []  # taken: the log is empty again


def test_a_refilled_set_evicts_its_least_recently_used_word(make_ring: Any) -> None:
    ring = make_ring(1, inject_queue=16)
    for k in range(8):
        ring.store(0, 128 * k, 0)
    ring.flush(10)
    ring.writebacks()
    # The set filled again after the flush: the first word stored since then is evicted.
    for k in range(20, 29):
        ring.store(0, 128 * k, 100 + k)
    s = ring.stats
    assert s["evictions"] == 1 and s["writebacks"] == 9
    assert ring.writebacks() == [(128 * 20, 100 + 28 + 2)]
    assert ring.load(0, 128 * 20, 200) is None
    assert ring.load(0, 128 * 21, 200) == 201


@pytest.mark.parametrize("ways", [1, 3, 8, 9, 16])
@pytest.mark.parametrize("seed", [1, 2])
def test_random_accesses_keep_each_sets_lru_words(make_ring: Any, ways: int, seed: int) -> None:
    # One node, two sets: a dict per set in use order is the model (up to 8 ways the ring keeps
    # its LRU order in a word, above 8 it scans the use stamps: both must agree with it).
    ring = make_ring(1, ways=ways, size_bytes=2 * ways * 8, inject_queue=1024)
    rng = random.Random(seed)
    sets: list[dict[int, None]] = [{}, {}]
    evictions = 0

    def put(word: int) -> None:
        nonlocal evictions
        held = sets[word % 2]
        if word not in held and len(held) == ways:
            del held[next(iter(held))]
            evictions += 1
        held.pop(word, None)
        held[word] = None

    for t in range(0, 6000, 3):
        word = rng.randrange(6 * ways)
        kind = rng.random()
        if kind < 0.4:
            ring.store(0, 8 * word, t)
            put(word)
        elif kind < 0.98:
            held = sets[word % 2]
            assert (ring.load(0, 8 * word, t) is not None) == (word in held)
            if word in held:
                held[word] = held.pop(word)
            else:
                ring.fill(0, 8 * word, t, 5)
                put(word)
        else:
            ring.flush(t)
            sets = [{}, {}]
        ring.writebacks()  # taken after each call, as the log holds at most a ring's lines
    assert ring.stats["evictions"] == evictions > 0


def test_flush_waits_for_earlier_writebacks_at_the_same_owner(make_ring: Any) -> None:
    ring = make_ring(1, writeback_cycles=4, inject_queue=16)
    for k in range(9):
        ring.store(0, 128 * k, 0)  # the 9th evicts the 1st: written back at 2..6
    assert ring.stats["writebacks"] == 1
    # Eight dirty words, four cycles each, after the port is free at 6.
    assert ring.flush(0) == 6 + 8 * 4


def test_stats_of_a_small_run(make_ring: Any) -> None:
    ring = make_ring(8)
    for k in range(3):
        ring.store(k, 8 * k, 0)
    ring.signal(2, 5)
    ring.load(7, 0, 0)       # in flight
    ring.load(7, 0, 100)     # hit
    ring.load(7, 4096, 100)  # miss
    ring.fill(7, 4096, 100, 3)
    assert ring.stats == {
        "stores": 3, "data_hops": 3 * 7, "signals": 1, "signal_hops": 7, "miss_messages": 2,
        "link_stalls": 0, "core_stalls": 0, "peak_inject_queue": 1, "peak_signals": 1,
        "hits": 1, "hits_in_flight": 1, "misses": 1, "evictions": 0, "writebacks": 0,
        "flushes": 0,
    }


@pytest.mark.parametrize("field, value", [
    ("nodes", 0), ("nodes", 65), ("ways", 0), ("hit_latency", -1), ("inject_latency", -1),
    ("hop_latency", 0), ("data_bandwidth", 0), ("signal_bandwidth", 256), ("inject_queue", 0),
    ("signal_buffer", 2000), ("writeback_cycles", -1), ("word_bytes", 3), ("word_bytes", 128),
    ("size_bytes", 1000), ("size_bytes", 32), ("owner_line_bytes", 4), ("owner_line_bytes", 96),
    ("calendar_cycles", 1000), ("calendar_cycles", 32),
])
def test_invalid_params_name_the_field(units: ModuleType, field: str, value: int) -> None:
    ffi, lib = units.ffi, units.lib
    params = ffi.new("ring_params *")
    lib.ring_default_params(params, 4)
    setattr(params, field, value)
    r = ffi.new("ring *")
    msg = ffi.new("char[256]")
    assert lib.ring_init(r, params, msg, 256) == lib.CSIM_BAD_CONFIG
    text = ffi.string(msg).decode()
    assert f"ring_params.{field}" in text and str(value) in text
    assert r.lines == ffi.NULL  # nothing to free
    lib.ring_free(r)  # and freeing it is harmless
