"""The statistics of one simulation as a JSON-ready dict: totals, CPI stack, loops and lines.

The simulator counts per pc (executions and cycles per CPI category); everything per loop and
per line is summed from those counters here, using the encoder's pc -> source tables. Loop
cycles are inclusive: an outer loop's share contains its inner loops'.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from helixrc.csim.binding import RunOutcome
from helixrc.csim.machine import MachineConfig
from helixrc.csim.opcodes import CAT_NAMES
from helixrc.passes.encode import Encoded

SCHEMA_VERSION = 1


def build_stats(kernel: str, encoded: Encoded, outcome: RunOutcome, config: MachineConfig,
                compile_seconds: float, cached: bool) -> dict[str, Any]:
    pcs = outcome.pc_stats
    execs = pcs[:, 0].astype(np.int64)
    cat_cycles = pcs[:, 1:].astype(np.int64)
    pc_cycles = cat_cycles.sum(axis=1)
    totals = outcome.totals
    cycles = int(totals["cycles"])
    instructions = int(totals["instructions"])

    # Shares are of the cycles charged to pcs: on a multicore every context charges its own, so
    # they add up to more than the run's cycles (the main context's clock).
    charged = int(cat_cycles.sum()) or cycles

    def share(x: int) -> float:
        return round(x / charged, 6) if charged else 0.0

    lines: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for pc, loc in enumerate(encoded.locs):
        entry = lines[(loc.file, loc.line)]
        entry[0] += int(pc_cycles[pc])
        entry[1] += int(execs[pc])
    loop_cycles: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(CAT_NAMES), np.int64))
    loop_insts: dict[str, int] = defaultdict(int)
    for pc, loop in enumerate(encoded.pc_loops):
        while loop is not None:
            loop_cycles[loop.id] += cat_cycles[pc]
            loop_insts[loop.id] += int(execs[pc])
            loop = loop.parent
    loops: dict[str, dict[str, Any]] = {}
    for rec in encoded.loops:
        info = rec.info
        entry = loops.setdefault(info.id, {
            "id": info.id, "kind": info.kind, "file": info.loc.file, "line": info.loc.line,
            "parent": info.parent.id if info.parent else None,
            "invocations": 0, "iterations": 0,
        })
        entry["invocations"] += int(execs[rec.entry_pc])
        entry["iterations"] += int(execs[rec.body_pc])
    for entry in loops.values():
        lc = loop_cycles[entry["id"]]
        total = int(lc.sum())
        entry["cycles"] = total
        entry["instructions"] = loop_insts[entry["id"]]
        entry["share"] = share(total)
        entry["cycles_per_iteration"] = round(total / entry["iterations"], 3) if entry["iterations"] else 0.0
        entry["cpi_stack"] = {name: int(v) for name, v in zip(CAT_NAMES, lc)}
    seconds = outcome.host_seconds
    return {
        "schema": SCHEMA_VERSION,
        "kernel": kernel,
        "machine": config.to_dict(),
        "cycles": cycles,
        "instructions": instructions,
        "ipc": round(instructions / cycles, 4) if cycles else 0.0,
        "host_seconds": round(seconds, 6),
        "host_inst_rate": round(instructions / seconds) if seconds > 0 else 0,
        "compile_seconds": round(compile_seconds, 6),
        "compile_cached": cached,
        "cpi_stack": dict(totals["cat"]),
        "caches": {
            "l1": {"hits": totals["l1_hits"], "misses": totals["l1_misses"]},
            "l2": {"hits": totals["l2_hits"], "misses": totals["l2_misses"]},
            "loads": totals["loads"], "stores": totals["stores"],
        },
        "branches": {"count": totals["branches"], "mispredicts": totals["mispredicts"]},
        # per core: busy + wait + dispatch + idle == cycles * smt (core 0 also runs the main context)
        "cores": [dict(c) for c in outcome.cores],
        "core_cpi_stacks": [core_cpi_stack(c) for c in outcome.cores],
        # SMT: the same per context (cores * smt, core-major), each summing to cycles
        **({"contexts": [dict(c) for c in outcome.contexts],
            "context_cpi_stacks": [core_cpi_stack(c) for c in outcome.contexts]} if config.smt > 1 else {}),
        "communication": communication(outcome.comm, config),
        "dram": dram_stats(outcome.dram, config, cycles),
        # checking mode: a violation stops the run with CheckError, so a result is a clean run
        **({"checker": {"violations": 0}} if config.check else {}),
        "loops": sorted(loops.values(), key=lambda e: (e["file"], e["line"], e["id"])),
        **({"parallel_loops": parallel_loops(encoded, outcome)} if outcome.parallel_loops else {}),
        **({"parallel_loops_overflow": True} if outcome.parallel_loops_overflow else {}),
        # Relic tasks (docs/multicore.md section 15), present when a task was spawned
        **({"tasks": dict(outcome.tasks)} if outcome.tasks.get("spawned") else {}),
        "lines": [
            {"file": f, "line": ln, "cycles": c, "instructions": n, "share": share(c)}
            for (f, ln), (c, n) in sorted(lines.items())
        ],
    }


#: The per-core CPI stack's categories, in report order; they sum to the run's cycles.
CORE_CPI_CATEGORIES = ("busy", "mem_l1", "mem_l2", "mem_dram", "branch", "dependence", "comm",
                       "wait", "dispatch", "idle")


def core_cpi_stack(core: dict[str, int]) -> dict[str, int]:
    """One core's cycles by category: issue cycles (busy), stalls by cause (memory by level,
    branch, operand dependence, communication through the ring or coherence), blocked in a
    segment's WAIT (wait), dispatch costs, and idle (no iteration to run)."""
    return {"busy": core["issue"], **{k: core[k] for k in CORE_CPI_CATEGORIES[1:]}}


def communication(comm: dict[str, int], config: MachineConfig) -> dict[str, dict[str, int]]:
    """The ring cache's counters (with ring_cache) and the coherence directory's (cores > 1)."""
    out: dict[str, dict[str, int]] = {}
    if config.ring_cache:
        out["ring"] = {k.removeprefix("ring_"): v for k, v in comm.items() if k.startswith("ring_")}
    if config.cores > 1:
        out["coherence"] = {k.removeprefix("coh_"): v for k, v in comm.items() if k.startswith("coh_")}
    return out


def dram_stats(counters: dict[str, int], config: MachineConfig, cycles: int) -> dict[str, Any]:
    """The DRAM controller's counters, and its utilization: the share of the run's channel-cycles
    spent serving lines (0.0 with unlimited bandwidth, dram_line_cycles 0)."""
    busy = counters.get("accesses", 0) * config.dram_line_cycles
    channel_cycles = cycles * config.dram_channels
    return {**counters, "utilization": round(busy / channel_cycles, 6) if channel_cycles else 0.0}


def parallel_loops(encoded: Encoded, outcome: RunOutcome) -> list[dict[str, Any]]:
    """Per parallel loop (named by its PAR_BEGIN's source line) and per sequential segment: the
    simulator's counters, with the segment lengths as means over the instances that signalled."""
    def mean(total: int, count: int) -> float:
        return round(total / count, 3) if count else 0.0

    out = []
    for loop in outcome.parallel_loops:
        loc = encoded.locs[loop["pc"]]
        out.append({
            "file": loc.file, "line": loc.line, "pc": loop["pc"],
            "invocations": loop["invocations"], "iterations": loop["iterations"],
            "cycles": loop["cycles"],
            "segments": [
                {"segment": k, "instances": s["instances"],
                 "mean_instructions": mean(s["instructions"], s["closed"]),
                 "mean_cycles": mean(s["cycles"], s["closed"]), "wait_cycles": s["wait_cycles"]}
                for k, s in enumerate(loop["seg"])
            ],
        })
    return out
