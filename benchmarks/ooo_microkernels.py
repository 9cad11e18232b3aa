"""Benchmark: the out-of-order core's validation microkernels (docs/multicore.md section 13).

Each microkernel has a known behaviour on an out-of-order core: a pointer chase pays one DRAM
latency per load, independent loads overlap their misses up to the window, random branches are
mispredict-bound, dense arithmetic is issue-bound (and a second SMT context gains nothing on it,
while two pointer chases overlap). This prints cycles per iteration, IPC and the largest CPI-stack
category of each on the chosen machines (its share of all contexts' charged cycles; the loop's
start and end costs are not in the stack); tests/test_ooo.py asserts the same behaviours.

    python benchmarks/ooo_microkernels.py                       # big1, big1 rob_size=32, atom1
    python benchmarks/ooo_microkernels.py --machines big1 big1-smt2
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, Callable

import numpy as np

import helixrc

#: int64 elements of the big arrays: 16 MB, eight times big1's L2
N = 1 << 21

MICRO = textwrap.dedent("""
    from helixrc.parallel import prange

    def chase(nxt, steps):
        p = 0
        for k in range(steps):
            p = nxt[p]
        return p

    def independent(vals, steps, mask):
        s = 0
        for i in range(steps):
            s += vals[(i * 40503) & mask]
        return s

    def branchy(r, steps):
        s = 0
        for i in range(steps):
            if r[i & 4095] > 0:
                s += 1
            else:
                s -= 3
        return s

    def dense(steps):
        a = 1
        b = 2
        c = 3
        d = 4
        for k in range(steps):
            a = a + 3
            b = b ^ k
            c = c + k
            d = d | k
        return a + b + c + d

    def dense2(out, steps):
        for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
            out[i] = dense(steps + i)
        return out[0] + out[1]

    def chase2(nxt, out, steps):
        for i in prange(0, 2, 1, segments=0, signals="uncoupled"):
            p = i * 7919
            for k in range(steps):
                p = nxt[p]
            out[i] = p
        return out[0] + out[1]
    """)


def perm(n: int, seed: int = 1) -> np.ndarray:
    """nxt[p] is the element after p on one random cycle through all n elements."""
    order = np.random.default_rng(seed).permutation(n)
    nxt = np.empty(n, dtype=np.int64)
    nxt[order] = np.roll(order, -1)
    return nxt


def random_signs(seed: int = 3) -> np.ndarray:
    """4096 int8 values, each -1 or 1 at random: the branch outcomes (a 4 KB table, L1-resident)."""
    return np.random.default_rng(seed).integers(0, 2, 4096).astype(np.int8) * 2 - 1


def run(name: str, args: tuple, machine: str = "big1", **overrides: Any) -> helixrc.Result:
    """Simulate microkernel name; its result must be CPython's."""
    namespace: dict[str, Any] = {}
    exec(compile(MICRO, "<microkernels>", "exec"), namespace)
    expected = namespace[name](*args)
    res = helixrc.simulate(MICRO, args, func=name, machine=machine, **overrides)
    if res.value != expected:
        raise AssertionError(f"{name} on {machine}: helixrc gave {res.value}, CPython {expected}")
    return res


#: (kernel, inputs, iterations): the iterations of its hot loop (both contexts' for the pairs)
CASES: tuple[tuple[str, Callable[[], tuple], int], ...] = (
    ("chase", lambda: (perm(N), 2000), 2000),
    ("independent", lambda: (np.random.default_rng(2).integers(0, 1000, N, dtype=np.int64), 20000, N - 1), 20000),
    ("branchy", lambda: (random_signs(), 20000), 20000),
    ("dense", lambda: (20000,), 20000),
    ("dense2", lambda: (np.zeros(2, dtype=np.int64), 5000), 10001),
    ("chase2", lambda: (perm(N), np.zeros(2, dtype=np.int64), 500), 1000),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", nargs="*", default=["big1", "big1:rob_size=32", "atom1"],
                        help="presets, each with optional :key=value,... overrides")
    args = parser.parse_args()
    print("| kernel | machine | cycles | cycles / iteration | IPC | largest CPI-stack category |")
    print("|---|---|---:|---:|---:|---|")
    for spec in args.machines:
        machine, _, rest = spec.partition(":")
        overrides = dict(kv.split("=", 1) for kv in rest.split(",")) if rest else {}
        for name, inputs, iterations in CASES:
            res = run(name, inputs(), machine, **overrides)
            stack = res.stats["cpi_stack"]
            top = max(stack, key=stack.get)
            print(f"| {name} | {spec} | {res.cycles:,} | {res.cycles / iterations:.1f} | "
                  f"{res.stats['ipc']:.2f} | {top} {stack[top] / sum(stack.values()):.0%} |")


if __name__ == "__main__":
    main()
