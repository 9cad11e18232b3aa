"""Readable text reports of simulation statistics (the JSON dict of runtime/stats.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helixrc.csim.machine import PRESETS

CATEGORY_LABELS = {
    "busy": "busy (issuing)",
    "mem_l1": "memory: L1 hit latency",
    "mem_l2": "memory: L2",
    "mem_dram": "memory: DRAM",
    "branch": "branch mispredicts",
    "dependence": "dependence stalls",
    "comm": "communication (ring/coherence)",
}
#: Short column heads of the per-core CPI stacks.
CORE_HEADS = {"busy": "busy", "mem_l1": "L1", "mem_l2": "L2", "mem_dram": "DRAM", "branch": "branch",
              "dependence": "dep", "comm": "comm", "wait": "wait", "dispatch": "dispatch", "idle": "idle"}


def format_simulation(stats: dict[str, Any], value: Any = None, top_lines: int = 10,
                      sequential_cycles: int | None = None) -> str:
    """The report of one run; ``sequential_cycles``: the original's on the same machine (helixrc.run)."""
    cycles = stats["cycles"]
    m = stats["machine"]
    compile_note = ("cached" if stats["compile_cached"]
                    else f"{stats['compile_seconds']:.3f} s")
    out = [
        f"kernel   {stats['kernel']}",
        f"machine  {m['name']}: {m.get('description', '')}".rstrip(),
        *_overrides(m),
        "         (simulated: these are the model's cycles for this config, not a hardware measurement)",
        f"result   {value!r}",
        "",
        f"cycles        {cycles:>14,}",
        *([f"sequential    {sequential_cycles:>14,}  (the original on the same machine: "
           f"{sequential_cycles / cycles if cycles else 1.0:.2f}x speedup)"] if sequential_cycles is not None else []),
        f"instructions  {stats['instructions']:>14,}",
        f"IPC           {stats['ipc']:>14.3f}",
        f"host time     {stats['host_seconds']:>14.3f} s "
        f"({stats['host_inst_rate'] / 1e6:.1f} M simulated instructions/s; "
        f"compile {compile_note})",
        "",
        "CPI stack (cycles)" if len(stats["cores"]) == 1 else "CPI stack (cycles of every context)",
    ]
    # Several contexts run at once on a multicore: shares are of the cycles they all charged.
    charged = sum(stats["cpi_stack"].values()) or cycles
    for name, n in stats["cpi_stack"].items():
        pct = 100.0 * n / charged if charged else 0.0
        out.append(f"  {CATEGORY_LABELS.get(name, name):<26} {n:>14,}  {pct:5.1f}%  {_bar(pct)}")
    if m.get("cores", 1) > 1:
        out += _multicore(stats)
    c = stats["caches"]
    b = stats["branches"]
    out += [
        "",
        f"L1D  {c['l1']['hits']:,} hits, {c['l1']['misses']:,} misses ({_rate(c['l1'])})    "
        f"L2  {c['l2']['hits']:,} hits, {c['l2']['misses']:,} misses ({_rate(c['l2'])})",
        f"branches  {b['count']:,}, mispredicted {b['mispredicts']:,} "
        f"({100.0 * b['mispredicts'] / b['count'] if b['count'] else 0.0:.1f}%)",
    ]
    if any(core["iterations"] for core in stats["cores"]):
        out += ["", "cores (cycles; core 0 also runs the code outside parallel loops)",
                f"  {'core':>4}{'busy':>12}{'wait':>12}{'dispatch':>12}{'idle':>12}{'iterations':>12}"
                f"{'instructions':>14}"]
        for k, core in enumerate(stats["cores"]):
            out.append(f"  {k:>4}{core['busy']:>12,}{core['wait']:>12,}{core['dispatch']:>12,}{core['idle']:>12,}"
                       f"{core['iterations']:>12,}{core['instructions']:>14,}")
    if stats["loops"]:
        out += ["", "loops (inclusive cycles)",
                f"  {'loop':<22}{'line':>6}{'share':>8}{'invocations':>13}{'iterations':>13}{'cyc/iter':>10}"]
        for loop in stats["loops"]:
            depth = loop["id"].count(".")
            name = "  " * depth + loop["id"]
            out.append(f"  {name:<22}{loop['line']:>6}{100 * loop['share']:>7.1f}%"
                       f"{loop['invocations']:>13,}{loop['iterations']:>13,}{loop['cycles_per_iteration']:>10.1f}")
    if stats.get("parallel_loops"):
        out += _parallel_loops(stats)
    if stats.get("tasks"):
        out += _tasks(stats["tasks"])
    hot = sorted(stats["lines"], key=lambda e: -e["cycles"])[:top_lines]
    if hot:
        out += ["", f"hottest lines (top {len(hot)})"]
        sources: dict[str, list[str]] = {}
        for e in hot:
            text = source_line(sources, e["file"], e["line"])
            out.append(f"  {Path(e['file']).name}:{e['line']:<5} {100 * e['share']:5.1f}%  "
                       f"{e['cycles']:>12,} cyc  {text}")
    return "\n".join(out) + "\n"


def _parallel_loops(stats: dict[str, Any]) -> list[str]:
    """Per parallel loop: its runs, iterations and cycles (and, after a sequential run of the same
    call, its cycles there and its speedup over them), then one row per sequential segment."""
    # helixrc.run's statistics carry each loop's sequential cycles; a lone simulation's do not
    against = any("speedup" in loop for loop in stats["parallel_loops"])
    out = ["", "parallel loops (segments: instances, mean length from WAIT release to SIGNAL, wait)",
           f"  {'line':>6}{'invocations':>13}{'iterations':>12}{'cycles':>14}"
           + (f"{'sequential':>14}{'speedup':>9}  loop" if against else "")]
    for loop in stats["parallel_loops"]:
        row = f"  {loop['line']:>6}{loop['invocations']:>13,}{loop['iterations']:>12,}{loop['cycles']:>14,}"
        if "speedup" in loop:
            row += f"{loop['sequential_cycles']:>14,}{loop['speedup']:>8.2f}x  {loop['id']}"
        out.append(row)
        if loop["segments"]:
            out.append(f"  {'':>6}{'segment':>9}{'instances':>11}{'mean inst':>11}{'mean cyc':>10}{'wait cyc':>12}")
        for seg in loop["segments"]:
            out.append(f"  {'':>6}{seg['segment']:>9}{seg['instances']:>11,}{seg['mean_instructions']:>11.1f}"
                       f"{seg['mean_cycles']:>10.1f}{seg['wait_cycles']:>12,}")
    if stats.get("parallel_loops_overflow"):
        out.append("  (more than 16 parallel loops or 64 segments: the rest are not counted)")
    return out


def _tasks(tasks: dict[str, int]) -> list[str]:
    """Relic tasks: how many, and what the main context and the sibling spent on them."""
    where = (f"{tasks['inline_tasks']:,} inline (no sibling)" if tasks["inline_tasks"]
             else f"sibling idle {tasks['sibling_idle_cycles']:,} cyc")
    return ["", f"tasks  {tasks['spawned']:,} spawned, {tasks['joined']:,} joined, {tasks['task_cycles']:,} task cyc; "
            f"main: submit {tasks['submit_cycles']:,}, queue full {tasks['queue_full_cycles']:,}, "
            f"join wait {tasks['join_wait_cycles']:,} cyc; {where}"]


def _overrides(machine: dict[str, Any]) -> list[str]:
    """The fields that differ from the preset of the same name (the resolved config is in the JSON)."""
    preset = PRESETS.get(machine["name"])
    if preset is None:
        return []
    changed = [f"{k}={v}" for k, v in machine.items() if getattr(preset, k, v) != v]
    return [f"         overrides: {', '.join(changed)}"] if changed else []


def _multicore(stats: dict[str, Any]) -> list[str]:
    """The per-core CPI stacks (shares of the run's cycles) and the communication counters."""
    m, cycles = stats["machine"], stats["cycles"] or 1
    signals = {0: "uncoupled", 1: "coupled"}.get(m["signals"], "either")
    memory = (f"ring cache {m['ring_size']} B {m['ring_ways']}-way" if m["ring_cache"] else "no ring cache")
    out = ["", f"cores {m['cores']} ({memory}, coherence c2c {m['c2c_latency']} cycles, {signals} signals); "
           "per-core CPI stack, % of cycles",
           "  core " + "".join(f"{h:>9}" for h in CORE_HEADS.values()) + f"{'iters':>9}"]
    for k, (stack, core) in enumerate(zip(stats["core_cpi_stacks"], stats["cores"])):
        out.append(f"  {k:>4} " + "".join(f"{100 * stack[c] / cycles:>8.1f}%" for c in CORE_HEADS)
                   + f"{core['iterations']:>9,}")
    for model, counters in stats["communication"].items():
        shown = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counters.items() if v)
        out.append(f"  {model}: {shown or 'no traffic'}")
    return out


def _bar(pct: float, width: int = 20) -> str:
    return "#" * int(round(pct / 100 * width))


def _rate(level: dict[str, int]) -> str:
    total = level["hits"] + level["misses"]
    return f"{100.0 * level['misses'] / total:.1f}% miss" if total else "no accesses"


def source_line(cache: dict[str, list[str]], file: str, line: int) -> str:
    """Line ``line`` of ``file``, stripped and cut to 60 characters ('' if unreadable); ``cache`` keeps read files."""
    if file not in cache:
        try:
            cache[file] = Path(file).read_text().splitlines()
        except OSError:
            cache[file] = []
    lines = cache[file]
    return lines[line - 1].strip()[:60] if 0 < line <= len(lines) else ""
