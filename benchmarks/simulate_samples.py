"""Benchmark: simulator speed against CPython on every sample kernel.

For each sample at the chosen size it reports simulated instructions, host seconds of the whole
``helixrc.simulate`` call (compile cached), simulated instructions per host second, CPython's own
time for the original kernel on the same inputs, and their ratio (sim / CPython: at most 1.0 means
the simulator is no slower than CPython running the kernel itself). The first call's compile time
is reported separately, and that call's results are checked bit for bit against CPython's. Every number is the median of --repeat runs, measured side by side.

    python benchmarks/simulate_samples.py --size medium --repeat 5 --json bench-results/sim.json
    python benchmarks/simulate_samples.py --suite latency-critical --size large --repeat 1

Each row also carries the run's CPI stack as shares of the cycles: memory stalls (L1, L2, DRAM)
and branch stalls are the issue slots an SMT sibling could fill.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np

import helixrc
from helixrc.passes.pipeline import clear_cache
from helixrc.resolve import import_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# The latency-critical suite of issue 6 (samples/README.md): request-path kernels that stall on
# dependent cache misses and mispredicted branches.
LATENCY_CRITICAL = (
    "kv_tree_batch_get", "dfa_match_batch", "parser_memo_probe", "topk_bm25",
    "hash_join_probe", "huffman_decode", "json_log_scan", "bfs_frontier_step",
    "order_book_match", "gbdt_score_batch",
)
SUITES = {"all": None, "latency-critical": LATENCY_CRITICAL}


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform()}


def sample_kernels(only: list[str] | None) -> list[tuple[Path, str]]:
    """(file, kernel name) of every sample with make_inputs, or only the named kernels."""
    found = []
    for path in sorted(SAMPLES.glob("*.py")):
        module = import_file(str(path))
        if hasattr(module, "make_inputs"):
            found += [(path, name) for name in getattr(module, "KERNELS", (path.stem,))
                      if not only or name in only]
    return found


def write_json(path: str, opts: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The rows with the host's description and the options, as the benchmarks record them."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump({"machine": machine_info(), "options": vars(opts), "rows": rows}, f, indent=1)


def fingerprint(value: Any) -> Any:
    """A comparable form of a result or argument: floats by bits, arrays by dtype and bytes."""
    if isinstance(value, (bool, np.bool_)):
        return ("b", bool(value))
    if isinstance(value, (int, np.integer)):
        return ("i", int(value))
    if isinstance(value, (float, np.floating)):
        return ("f", struct.pack("<d", float(value)))
    if isinstance(value, (tuple, list)):
        return tuple(fingerprint(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return repr(value)


def cpython_case(path: Path, name: str, size: str, seed: int) -> tuple[Any, Any, Any]:
    """The kernel, its ``make_inputs(size, seed)`` arguments, and the fingerprint of what CPython's
    call gives on a copy of them (the return value and the arguments' final state)."""
    module = import_file(str(path))
    kernel = getattr(module, name)
    args = module.make_inputs(size, seed)
    expected_args = copy.deepcopy(args)
    expected = kernel(*expected_args)
    return kernel, args, fingerprint((expected, expected_args))


def bench_kernel(path: Path, name: str, size: str, seed: int, repeat: int,
                 machine: str) -> dict[str, Any]:
    module = import_file(str(path))
    args = module.make_inputs(size, seed)
    kernel = getattr(module, name)
    spec = f"{path}::{name}"
    clear_cache()
    sim_args, py_args = copy.deepcopy(args), copy.deepcopy(args)
    first = helixrc.simulate(spec, sim_args, machine)
    compile_s = first.stats["compile_seconds"]
    expected = kernel(*py_args)
    if fingerprint((first.value, sim_args)) != fingerprint((expected, py_args)):
        raise SystemExit(f"{name}: the simulator's results differ from CPython's at size {size}")
    sim_times, py_times, rates = [], [], []
    result = first
    for _ in range(repeat):
        # Side by side, alternating, so machine noise hits both alike.
        a = copy.deepcopy(args)
        t0 = time.perf_counter()
        result = helixrc.simulate(spec, a, machine)
        sim_times.append(time.perf_counter() - t0)
        rates.append(result.stats["host_inst_rate"])
        b = copy.deepcopy(args)
        t0 = time.perf_counter()
        kernel(*b)
        py_times.append(time.perf_counter() - t0)
    sim_s, py_s = statistics.median(sim_times), statistics.median(py_times)
    stack = result.stats["cpi_stack"]
    return {
        "kernel": name, "size": size, "instructions": result.instructions,
        "cycles": result.cycles, "sim_seconds": sim_s,
        "core_inst_rate": statistics.median(rates),
        "inst_rate": result.instructions / sim_s if sim_s else 0.0,
        "cpython_seconds": py_s, "ratio": sim_s / py_s if py_s else float("inf"),
        "compile_seconds": compile_s,
        "mem_share": (stack["mem_l1"] + stack["mem_l2"] + stack["mem_dram"]) / result.cycles,
        "dram_share": stack["mem_dram"] / result.cycles,
        "branch_share": stack["branch"] / result.cycles,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--machine", default="atom1")
    parser.add_argument("--only", nargs="*", help="kernel names to run (default: all)")
    parser.add_argument("--suite", default="all", choices=sorted(SUITES),
                        help="run only the kernels of this suite")
    parser.add_argument("--json", help="write the rows and machine info as JSON")
    opts = parser.parse_args(argv)
    rows = []
    for path, name in sample_kernels(opts.only):
        if SUITES[opts.suite] is not None and name not in SUITES[opts.suite]:
            continue
        row = bench_kernel(path, name, opts.size, opts.seed, opts.repeat, opts.machine)
        rows.append(row)
        print(f"{name:<26} {row['instructions']:>12,} inst {row['sim_seconds']:8.3f} s "
              f"{row['inst_rate'] / 1e6:7.1f} M/s (core {row['core_inst_rate'] / 1e6:6.1f}) "
              f"cpython {row['cpython_seconds']:8.3f} s  ratio {row['ratio']:5.2f}  "
              f"compile {row['compile_seconds'] * 1e3:6.1f} ms", flush=True)
    total_inst = sum(r["instructions"] for r in rows)
    total_sim = sum(r["sim_seconds"] for r in rows)
    total_py = sum(r["cpython_seconds"] for r in rows)
    print(f"{'all':<26} {total_inst:>12,} inst {total_sim:8.3f} s {total_inst / total_sim / 1e6:7.1f} M/s"
          f"{'':>18}cpython {total_py:8.3f} s  ratio {total_sim / total_py:5.2f}")
    print("\n| kernel | instructions | sim s | M inst/s | CPython s | sim/CPython | compile ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['kernel']} | {r['instructions']:,} | {r['sim_seconds']:.3f} | "
              f"{r['inst_rate'] / 1e6:.1f} | {r['cpython_seconds']:.3f} | {r['ratio']:.2f} | "
              f"{r['compile_seconds'] * 1e3:.1f} |")
    print("\n| kernel | cycles | instructions | CPI | memory stall | of it DRAM | branch stall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['kernel']} | {r['cycles']:,} | {r['instructions']:,} | "
              f"{r['cycles'] / r['instructions']:.2f} | {r['mem_share']:.1%} | "
              f"{r['dram_share']:.1%} | {r['branch_share']:.1%} |")
    if opts.json:
        write_json(opts.json, opts, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
