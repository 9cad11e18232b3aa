"""Benchmark: HELIX across the two SMT contexts of big1-smt2 against the single-thread big1 run.

For each latency-critical kernel with a loop HELIX can run (the default transform: the outermost
parallelizable loop), it simulates the original on ``big1`` and the transformed kernel on
``big1-smt2`` with checking on, on ``make_inputs(size, 0)`` for each size, and checks both against
CPython bit for bit. ``--set key=value`` overrides a field of both machines (for instance
``ooo_wait_policy=drain``, the out-of-order core's SYNC model before issue 6's non-draining wait).
The cycles are the model's numbers for the named configurations; they are deterministic.

    python benchmarks/helix_smt_samples.py --sizes small medium
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import helixrc
from helixrc.csim.machine import parse_override

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_samples import SAMPLES, cpython_case, fingerprint  # noqa: E402

#: issue 6's latency-critical kernels with no legal relic split, and dfa_match_batch (HELIX already)
KERNELS = ("parser_memo_probe", "hash_join_probe", "topk_bm25", "order_book_match", "bfs_frontier_step",
           "huffman_decode", "dfa_match_batch")
BASELINE, SMT = "big1", "big1-smt2"


def bench(name: str, size: str, overrides: dict[str, Any]) -> dict[str, Any]:
    kernel, args, want = cpython_case(SAMPLES / f"{name}.py", name, size, 0)
    transformed = helixrc.transform(kernel, machine=SMT)
    base = helixrc.simulate(kernel, copy.deepcopy(args), machine=BASELINE, **overrides)
    par_args = copy.deepcopy(args)
    par = helixrc.simulate(transformed.function, par_args, machine=SMT, check=True, **overrides)
    if fingerprint((par.value, par_args)) != want or fingerprint(base.value) != want[0]:
        raise SystemExit(f"{name}: a run differs from CPython at size {size}")
    return {"kernel": name, "size": size, "plan": repr(transformed), "big1": base.cycles,
            "big1-smt2": par.cycles, "speedup": base.cycles / par.cycles}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"])
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    opts = parser.parse_args(argv)
    overrides = dict(parse_override(s) for s in opts.set)
    print("| kernel | loop | size | big1 cycles | big1-smt2 HELIX cycles | speedup |")
    print("|---|---|---|---:|---:|---:|")
    for name in opts.kernels:
        for size in opts.sizes:
            r = bench(name, size, overrides)
            print(f"| {name} | `{r['plan']}` | {size} | {r['big1']:,} | {r['big1-smt2']:,} | {r['speedup']:.2f}x |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
