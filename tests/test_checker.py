"""Unit tests of the checking mode (csim/src/check.c) and its messages (csim/check_report.py).

The checker is driven through the cffi harness (tests/csim_units.py) with access streams as the
multicore engine would issue them in simulated-time order: each rule alone, the legal orders, the
main context, and a random comparison with the definition (a violation is the first access that
completes a conflicting pair of two iterations in the opposite of their order). The messages are
checked on a real transformed kernel, with its array table and line table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import helixrc
from helixrc.args import marshal, signature_of
from helixrc.csim.check_report import (
    CheckError, Violation, ViolationKind, describe_address, element_index, format_violation,
    violation_error,
)
from helixrc.csim.errors import HelixError, Loc
from helixrc.csim.opcodes import Opcode, Status, dtype_code
from helixrc.passes.pipeline import compile_kernel
from helixrc.resolve import resolve_kernel

K = ViolationKind
X, Y = 0x1000_0000, 0x1000_0008


class Checker:
    def __init__(self, units: Any, max_words: int = 0) -> None:
        self.ffi, self.lib = units.ffi, units.lib
        self.ck = self.ffi.new("check *")
        assert self.lib.check_init(self.ck, max_words) == Status.OK

    def read(self, addr: int, it: int, pc: int = 0) -> int:
        return self.lib.check_read(self.ck, addr, it, pc)

    def write(self, addr: int, it: int, pc: int = 0) -> int:
        return self.lib.check_write(self.ck, addr, it, pc)

    @property
    def first(self) -> Violation:
        return Violation.of(self.ck.first)


@pytest.fixture
def ck(units: Any) -> Any:
    c = Checker(units)
    yield c
    c.lib.check_free(c.ck)


def test_kinds_mirror_check_h(units: Any) -> None:
    assert [getattr(units.lib, f"CHECK_{k.name}") for k in K] == [k.value for k in K]


def test_sequential_order_is_clean(ck: Checker) -> None:
    for it in range(5):
        assert ck.read(X, it) == K.OK
        assert ck.write(X, it) == K.OK
        assert ck.read(Y, it) == K.OK
    assert ck.first.kind == K.OK and ck.ck.violations == 0


def test_a_read_timed_before_the_write_it_sees(ck: Checker) -> None:
    """The timed calls: a later iteration's read in a cycle before an earlier one's write of the word
    is reported; at or after it, by the writer itself, or of the main context's write, it is not."""
    lib = ck.lib
    assert lib.check_write_at(ck.ck, X, -1, 0, 500) == K.OK
    assert lib.check_read_at(ck.ck, X, 1, 1, 10) == K.OK          # the main context's value
    assert lib.check_write_at(ck.ck, X, 2, 2, 300) == K.OK
    assert lib.check_read_at(ck.ck, X, 2, 3, 100) == K.OK         # the writer's own read
    assert lib.check_read_at(ck.ck, X, 3, 4, 300) == K.OK
    assert lib.check_read_at(ck.ck, X, 5, 5, 299) == K.READ_BEFORE_WRITE
    assert ck.first == Violation(K.READ_BEFORE_WRITE, 5, 5, 2, 2, X)


def test_one_iteration_may_read_and_write_in_any_order(ck: Checker) -> None:
    assert [ck.write(X, 3), ck.read(X, 3), ck.write(X, 3), ck.read(X, 3)] == [K.OK] * 4
    assert [ck.read(Y, 3), ck.write(Y, 3), ck.read(Y, 3)] == [K.OK] * 3


def test_reads_by_any_iterations_never_conflict(ck: Checker) -> None:
    assert [ck.read(X, it) for it in (7, 2, 9, 0, 4)] == [K.OK] * 5


def test_a_later_iteration_may_overwrite_and_read(ck: Checker) -> None:
    assert [ck.write(X, 1), ck.read(X, 4), ck.write(X, 6), ck.read(X, 6), ck.read(X, 9)] == [K.OK] * 5


@pytest.mark.parametrize("before, access, expected", [
    # iteration 3 reads what iteration 5 wrote
    ([("w", X, 5, 20)], ("r", X, 3, 11), Violation(K.READ_OF_LATER_WRITE, 11, 3, 20, 5, X)),
    # iteration 2 writes what iterations 8 and 6 read: the highest reader is named
    ([("r", X, 8, 4), ("r", X, 6, 5)], ("w", X, 2, 9), Violation(K.WRITE_AFTER_LATER_READ, 9, 2, 4, 8, X)),
    # iteration 1 writes after iteration 4 did
    ([("w", Y, 4, 13)], ("w", Y, 1, 14), Violation(K.WRITE_AFTER_LATER_WRITE, 14, 1, 13, 4, Y)),
], ids=["read-of-later-write", "write-after-later-read", "write-after-later-write"])
def test_each_rule(ck: Checker, before: list[tuple[str, int, int, int]], access: tuple[str, int, int, int],
                   expected: Violation) -> None:
    def do(kind: str, addr: int, it: int, pc: int) -> int:
        return (ck.write if kind == "w" else ck.read)(addr, it, pc)

    assert [do(*a) for a in before] == [K.OK] * len(before)
    assert do(*access) == expected.kind
    assert ck.first == expected and ck.ck.violations == 1


def test_a_later_write_is_reported_before_a_later_read(ck: Checker) -> None:
    ck.write(X, 5, pc=1)
    ck.read(X, 7, pc=2)
    assert ck.write(X, 4, pc=3) == K.WRITE_AFTER_LATER_WRITE   # 7 read 5's value rightly


def test_rewriting_a_value_a_later_iteration_read_is_a_violation(ck: Checker) -> None:
    # iteration 2 writes twice; iteration 3 read the first value, sequentially it sees the second
    assert [ck.write(X, 2), ck.read(X, 3)] == [K.OK, K.OK]
    assert ck.write(X, 2) == K.WRITE_AFTER_LATER_READ


def test_the_first_violation_is_kept_and_all_are_counted(ck: Checker) -> None:
    ck.write(X, 9, pc=1)
    assert ck.read(X, 1, pc=2) == K.READ_OF_LATER_WRITE
    assert ck.write(X, 0, pc=3) == K.WRITE_AFTER_LATER_WRITE
    assert ck.first == Violation(K.READ_OF_LATER_WRITE, 2, 1, 1, 9, X)
    assert ck.ck.violations == 2


def test_after_a_violation_the_shadow_follows_memory(ck: Checker) -> None:
    ck.write(X, 4)
    assert ck.write(X, 1) == K.WRITE_AFTER_LATER_WRITE
    assert ck.read(X, 2) == K.OK                 # the word holds iteration 1's value now
    assert ck.ck.violations == 1


def test_main_context_accesses_are_ordered_before_every_iteration(ck: Checker) -> None:
    assert ck.write(X, -1) == K.OK               # main initializes
    assert ck.read(X, 0) == K.OK
    ck.write(X, 7)
    assert ck.read(X, -1) == K.OK                # main reads the result after the loop
    assert ck.write(X, -1) == K.OK
    # a new loop starts over: its iteration 0 follows main's accesses, not the old iteration 7
    assert [ck.read(X, 0), ck.write(X, 0)] == [K.OK, K.OK]
    assert ck.ck.violations == 0


def test_reset_forgets_shadows_and_violations(ck: Checker) -> None:
    ck.write(X, 5)
    ck.read(X, 2)
    ck.lib.check_reset(ck.ck)
    assert ck.first.kind == K.OK and ck.ck.violations == 0
    assert [ck.read(X, 0), ck.write(X, 0)] == [K.OK, K.OK]


def test_a_full_shadow_reports_minus_one(units: Any) -> None:
    c = Checker(units, max_words=2)
    try:
        assert [c.write(X, 0), c.read(Y, 1)] == [K.OK, K.OK]
        assert c.read(X + 16, 1) == -1
        assert c.write(X + 16, -1) == K.OK     # main needs no shadow
        assert [c.read(X, 1), c.write(Y, 2)] == [K.OK, K.OK]
    finally:
        c.lib.check_free(c.ck)


@dataclass(frozen=True)
class Access:
    it: int
    write: bool
    addr: int


def reference_first_violation(accesses: list[Access]) -> tuple[int, int] | None:
    """(position, kind) of the first access completing a conflicting pair out of order."""
    for n, x in enumerate(accesses):
        for y in accesses[:n]:
            if y.addr == x.addr and y.it > x.it and (x.write or y.write):
                if not x.write:
                    return n, K.READ_OF_LATER_WRITE
                writes_before = [z for z in accesses[:n] if z.addr == x.addr and z.write and z.it > x.it]
                return n, K.WRITE_AFTER_LATER_WRITE if writes_before else K.WRITE_AFTER_LATER_READ
    return None


@pytest.mark.parametrize("seed", range(40))
def test_random_interleavings_match_the_definition(units: Any, seed: int) -> None:
    rng = random.Random(seed)
    iterations = [[Access(it, rng.random() < 0.4, X + 8 * rng.randrange(3)) for _ in range(rng.randrange(1, 4))]
                  for it in range(rng.randrange(2, 6))]
    # a time order: each iteration's accesses in program order, iterations interleaved
    cursors = [0] * len(iterations)
    stream: list[Access] = []
    while any(c < len(body) for c, body in zip(cursors, iterations)):
        # mostly in iteration order (as a synchronized loop runs), sometimes not
        live = [k for k, body in enumerate(iterations) if cursors[k] < len(body)]
        k = live[0] if rng.random() < 0.6 else rng.choice(live)
        stream.append(iterations[k][cursors[k]])
        cursors[k] += 1
    c = Checker(units)
    try:
        codes = [(c.write if a.write else c.read)(a.addr, a.it, n) for n, a in enumerate(stream)]
        expected = reference_first_violation(stream)
        if expected is None:
            assert codes == [K.OK] * len(stream) and c.first.kind == K.OK
        else:
            n, kind = expected
            assert codes[:n] == [K.OK] * n and codes[n] == kind
            assert (c.first.kind, c.first.pc, c.first.iter, c.first.addr) == (kind, n, stream[n].it, stream[n].addr)
            other = stream[c.first.other_pc]
            assert other.it == c.first.other_iter > stream[n].it and other.addr == stream[n].addr
    finally:
        c.lib.check_free(c.ck)


# ---------------------------------------------------------------------------------------------
# messages


@dataclass(frozen=True)
class Arr:
    sim_addr: int
    dtype: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def view_of(arr: np.ndarray, base: np.ndarray, sim_base: int) -> Arr:
    """arr (a view into base) as an array table entry, base's first byte at sim_base."""
    offset = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return Arr(sim_base + offset, dtype_code(arr.dtype), arr.shape, arr.strides)


@pytest.mark.parametrize("view", [
    lambda b: b, lambda b: b.T, lambda b: b[::-1, 1:], lambda b: b[1:, ::-2], lambda b: b[2],
    lambda b: b[:, 3], lambda b: b.reshape(2, 3, 4)[:, ::-1, ::2], lambda b: b.view(np.int32)[::-1, 3:],
])
def test_element_index_inverts_numpy_layouts(view: Any) -> None:
    base = np.arange(24, dtype=np.int64).reshape(4, 6)
    arr = view(base)
    entry = view_of(arr, base, 0x2000_0000)
    for index in np.ndindex(arr.shape):
        addr = entry.sim_addr + sum(i * s for i, s in zip(index, arr.strides))
        assert element_index(addr, entry) == index
        assert element_index(addr + arr.itemsize - 1, entry) == index   # any byte of it
    low = entry.sim_addr + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides) if s < 0)
    assert element_index(low - 8, entry) is None


def test_addresses_outside_every_array() -> None:
    a = Arr(0x1000, dtype_code(np.int64), (4,), (8,))
    assert describe_address(0x1000 + 32, [a], ["a"]) == "address 0x1020"
    assert describe_address(0x1000 + 24, [a], ["a"]) == "a[3]"
    assert describe_address(0x1000, [a], ["a"], cells={0}) == "cell a"
    assert describe_address(0x1000, [Arr(0x1000, dtype_code(np.int64), (0,), (8,))], ["e"]) == "address 0x1000"


@pytest.fixture(scope="module")
def prefix_kernel(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A running prefix sum in parallel form: its encoding, array table and names."""
    path = tmp_path_factory.mktemp("kernels") / "prefix.py"
    path.write_text("def prefix(a: list[int], n: int) -> int:\n"
                    "    s = 0\n"
                    "    for i in range(n):\n"
                    "        s += a[i]\n"
                    "        a[i] = s\n"
                    "    return s\n")
    t = helixrc.transform(f"{path}::prefix")
    args = ([1, 2, 3, 4], 4)
    module, name = resolve_kernel(t.function, None)
    compiled, _ = compile_kernel(module, name, signature_of(args))
    fn = compiled.lowered.function
    call = marshal(args, fn)
    cells = {region.slot.slot for region in fn.scratch}
    return t.source, compiled.encoded, call.arrays, [slot.name for slot in fn.arrays], cells


def pcs(encoded: Any, op: Opcode, slot: int) -> list[int]:
    return [pc for pc, ins in enumerate(encoded.code) if ins[0] == op and ins[1] == slot]


def test_message_for_a_missing_segment_names_the_cell_and_both_lines(prefix_kernel: Any) -> None:
    source, encoded, arrays, names, cells = prefix_kernel
    cell = names.index("seg0.s")
    read_pc = pcs(encoded, Opcode.LOAD, cell)[0]
    write_pc = pcs(encoded, Opcode.STORE_I, cell)[-1]
    # without the segment, iteration 1 reads the cell before iteration 0 writes it
    v = Violation(K.WRITE_AFTER_LATER_READ, write_pc, 0, read_pc, 1, arrays[cell].sim_addr)
    text = format_violation(v, arrays, names, encoded.locs, cells, source)
    file = encoded.locs[write_pc].file
    assert text == (
        f"{encoded.locs[write_pc]}: iteration 0 wrote cell seg0.s after iteration 1 read it "
        "(that read missed the value of iteration 0)\n"
        f"  iteration 0 writes at {file}:{encoded.locs[write_pc].line}: seg0.s += a[i]\n"
        f"  iteration 1 reads at {file}:{encoded.locs[read_pc].line}: seg0.s += a[i]\n"
        "  hint: the two iterations touch the same element without a sequential segment ordering "
        "them: it needs a wait(k)/signal(k) segment around both accesses")


def test_message_names_the_array_element_and_reads_source_through_linecache(prefix_kernel: Any) -> None:
    source, encoded, arrays, names, cells = prefix_kernel
    a = names.index("a")
    load_pc, store_pc = pcs(encoded, Opcode.LOAD, a)[0], pcs(encoded, Opcode.STORE_I, a)[0]
    v = Violation(K.READ_OF_LATER_WRITE, load_pc, 2, store_pc, 3, arrays[a].sim_addr + 8 * 3)
    err = violation_error(v, arrays, names, encoded.locs, cells)   # no source: linecache has it
    assert isinstance(err, CheckError) and isinstance(err, HelixError)
    assert err.loc == encoded.locs[load_pc]
    lines = err.message.splitlines()
    assert lines[0] == ("iteration 2 read a[3] after iteration 3 wrote it "
                        "(sequentially, iteration 2 reads it before iteration 3 writes it)")
    assert lines[1].endswith(f":{encoded.locs[load_pc].line}: seg0.s += a[i]")
    assert lines[2].endswith(f":{encoded.locs[store_pc].line}: a[i] = seg0.s")


def test_message_for_two_writes_and_unknown_pcs() -> None:
    locs = [Loc("k.py", 7, 4)]
    a = Arr(0x1000, dtype_code(np.float64), (2, 3), (24, 8))
    v = Violation(K.WRITE_AFTER_LATER_WRITE, 0, 4, 99, 6, 0x1000 + 24 + 16)
    text = format_violation(v, [a], ["grid"], locs, code="x = 1\n\n\n\n\n\n    grid[i, j] = v\n")
    assert text.splitlines()[:3] == [
        "k.py:7:4: iteration 4 wrote grid[1, 2] after iteration 6 wrote it "
        "(sequentially, the value of iteration 6 is the one that stays)",
        "  iteration 4 writes at k.py:7: grid[i, j] = v",
        "  iteration 6 writes at pc 99",
    ]
    with pytest.raises(ValueError, match="not a violation"):
        format_violation(Violation(K.OK, 0, 0, 0, 0, 0), [a], ["grid"], locs)


def test_the_c_record_formats_directly(units: Any, ck: Checker) -> None:
    ck.write(X, 3, pc=0)
    ck.read(X, 1, pc=0)
    a = Arr(X, dtype_code(np.int64), (4,), (8,))
    assert format_violation(ck.ck.first, [a], ["v"], [Loc("k.py", 2)], code="\nt = v[0]\n").startswith(
        "k.py:2:0: iteration 1 read v[0] after iteration 3 wrote it")
