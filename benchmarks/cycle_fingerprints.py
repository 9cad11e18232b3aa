"""Check: a simulator change that should only be faster on the host leaves every simulated counter as it was.

For each sample, size and machine it records the sequential run of the original kernel, the
HELIX transform's run and, on machines with SMT, the run of the adviser's plan (relic task
splits, advised on small): cycles, instructions, a digest of every simulated statistic (host
timings left out) and a digest of the result and the arguments' final state. Record on the old
build, then compare on the new one; any difference is a bug in the change.

    PYTHONPATH=<old build> python benchmarks/cycle_fingerprints.py --json before.json
    PYTHONPATH=<new build> python benchmarks/cycle_fingerprints.py --compare before.json
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import helixrc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulate_samples import cpython_case, fingerprint, sample_kernels  # noqa: E402

MACHINES = ("helixrc16", "conventional16", "helixrc16-smt2", "big1", "big1-smt2")
# host measurements, which differ from run to run; everything else is the model's output
HOST_KEYS = frozenset({"host_seconds", "host_inst_rate", "compile_seconds", "compile_cached"})


def digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def record(value: Any, args: Any, cycles: int, instructions: int, stats: dict[str, Any]) -> dict[str, Any]:
    model = {k: v for k, v in stats.items() if k not in HOST_KEYS}
    return {"cycles": cycles, "instructions": instructions,
            "stats": digest(json.dumps(model, sort_keys=True, default=repr)),
            "result": digest(fingerprint((value, args)))}


def kernel_rows(path: Path, name: str, size: str, seed: int, machine: str) -> dict[str, Any]:
    kernel, args, want = cpython_case(path, name, size, seed)
    config = helixrc.resolve_machine(machine)
    rows: dict[str, Any] = {}
    seq_args = copy.deepcopy(args)
    seq = helixrc.simulate(kernel, seq_args, config)
    rows["sequential"] = record(seq.value, seq_args, seq.cycles, seq.instructions, seq.stats)
    par_args = copy.deepcopy(args)
    par = helixrc.simulate(helixrc.transform(kernel, machine=config).function, par_args, config)
    rows["helix"] = record(par.value, par_args, par.cycles, par.instructions, par.stats)
    if config.smt > 1:
        small_kernel = cpython_case(path, name, "small", seed)[0]
        advice = helixrc.advise(small_kernel, machine=config, size="small", seed=seed, profile=False)
        adv_args = copy.deepcopy(args)
        res = helixrc.run(kernel, adv_args, machine=config, plan=advice.plan)
        rows["advised"] = record(res.value, adv_args, res.cycles, res.stats["instructions"], res.stats)
        rows["advised"]["plan"] = digest(advice.plan.to_dict())
    for kind, row in rows.items():
        if row["result"] != digest(want):
            raise SystemExit(f"{name} {size} {machine} {kind}: the result differs from CPython")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"], choices=("small", "medium", "large"))
    parser.add_argument("--machines", nargs="+", default=list(MACHINES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="kernel names to run (default: all)")
    parser.add_argument("--json", help="write the records here")
    parser.add_argument("--compare", help="records of the old build: report every difference")
    opts = parser.parse_args(argv)
    old = json.loads(Path(opts.compare).read_text()) if opts.compare else None
    records: dict[str, Any] = {}
    differences = 0
    for size in opts.sizes:
        for machine in opts.machines:
            for path, name in sample_kernels(opts.only):
                key = f"{size}/{machine}/{name}"
                records[key] = kernel_rows(path, name, size, opts.seed, machine)
                status = ""
                if old is not None:
                    if key not in old:
                        status = "  (not in the old records)"
                    elif old[key] != records[key]:
                        differences += 1
                        status = f"  DIFFERS: old {old[key]} new {records[key]}"
                print(f"{key:<48} " + " ".join(f"{k} {r['cycles']}" for k, r in records[key].items())
                      + status, flush=True)
    if opts.json:
        Path(opts.json).write_text(json.dumps(records, indent=1, sort_keys=True))
    if old is not None:
        print(f"{len(records)} records compared, {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
