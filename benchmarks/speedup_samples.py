"""Benchmark: the modeled speedup of every sample kernel on the multicore presets.

For each sample, size and machine it simulates the original kernel (the sequential run: no
parallel loop, so only the main core works) and the HELIX transform of it with the machine's
signal semantics, on the same machine config, checks both against CPython bit for bit, and
reports the speedup (sequential cycles / parallel cycles) with the parallel run's CPI stack
summed over all contexts. The cycles are the model's numbers for the named configuration; they
are deterministic, so one run of each is enough. The host-speed column is simulated
instructions per host second of the parallel run (the simulator alone), a median of --repeat runs.

    python benchmarks/speedup_samples.py --sizes medium large --machines helixrc16 conventional16 \\
        --json bench-results/speedup.json
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
from pathlib import Path
from typing import Any

import helixrc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_samples import cpython_case, fingerprint, sample_kernels, write_json  # noqa: E402


def _cpi_shares(stats: dict[str, Any]) -> dict[str, float]:
    """The per-core CPI stacks summed over the cores, as shares of cores x cycles (so wait,
    dispatch and idle time count too)."""
    stack: dict[str, int] = {}
    for core in stats["core_cpi_stacks"]:
        for k, v in core.items():
            stack[k] = stack.get(k, 0) + v
    total = sum(stack.values()) or 1
    return {k: v / total for k, v in stack.items()}


def bench_kernel(path: Path, name: str, size: str, seed: int, machine: str,
                 repeat: int) -> dict[str, Any]:
    kernel, args, want = cpython_case(path, name, size, seed)
    config = helixrc.resolve_machine(machine)

    seq_args = copy.deepcopy(args)
    seq = helixrc.simulate(kernel, seq_args, config)
    if fingerprint((seq.value, seq_args)) != want:
        raise SystemExit(f"{name}: the sequential simulation differs from CPython at size {size}")

    transformed = helixrc.transform(kernel, machine=config)
    par, times = None, []
    for _ in range(max(repeat, 1)):
        par_args = copy.deepcopy(args)
        par = helixrc.simulate(transformed.function, par_args, config)
        times.append(par.stats["host_seconds"])  # the simulator alone, not the compile
        if fingerprint((par.value, par_args)) != want:
            raise SystemExit(f"{name}: the parallel simulation on {machine} differs from CPython at size {size}")
    assert par is not None
    host_s = statistics.median(times)
    return {
        "kernel": name, "size": size, "machine": machine,
        "plan": repr(transformed), "sequential_cycles": seq.cycles, "parallel_cycles": par.cycles,
        "speedup": seq.cycles / par.cycles if par.cycles else math.inf,
        "instructions": par.instructions, "host_seconds": host_s,
        "sequential_instructions": seq.instructions, "sequential_host_seconds": seq.stats["host_seconds"],
        "inst_rate": par.instructions / host_s if host_s else 0.0,
        "cpi_shares": _cpi_shares(par.stats),
    }


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["medium"], choices=("small", "medium", "large"))
    parser.add_argument("--machines", nargs="+", default=["helixrc16", "conventional16"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="host-speed runs per kernel (median)")
    parser.add_argument("--only", nargs="*", help="kernel names to run (default: all)")
    parser.add_argument("--json", help="write the rows and machine info as JSON")
    opts = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for size in opts.sizes:
        for machine in opts.machines:
            for path, name in sample_kernels(opts.only):
                row = bench_kernel(path, name, size, opts.seed, machine, opts.repeat)
                rows.append(row)
                top = sorted(row["cpi_shares"].items(), key=lambda kv: -kv[1])[:3]
                print(f"{size:<6} {machine:<16} {name:<26} {row['speedup']:6.2f}x "
                      f"{row['inst_rate'] / 1e6:6.1f} M inst/s  "
                      + " ".join(f"{k} {v:.0%}" for k, v in top), flush=True)
    for size in opts.sizes:
        for machine in opts.machines:
            sel = [r for r in rows if r["size"] == size and r["machine"] == machine]
            if sel:
                print(f"geomean {size} {machine}: {geomean([r['speedup'] for r in sel]):.2f}x")
    cats = sorted({k for r in rows for k in r["cpi_shares"]})
    print("\n| size | machine | kernel | speedup | " + " | ".join(cats) + " |")
    print("|---|---|---|---:|" + "---:|" * len(cats))
    for r in rows:
        print(f"| {r['size']} | {r['machine']} | {r['kernel']} | {r['speedup']:.2f} | "
              + " | ".join(f"{r['cpi_shares'].get(c, 0.0):.0%}" for c in cats) + " |")
    if opts.json:
        write_json(opts.json, opts, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
