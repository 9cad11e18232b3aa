"""``helixrc.advise``: profile a kernel call, predict each loop's gain on the target machine, pick the plan.

    >>> advice = helixrc.advise("samples/mcf_pricing.py::mcf_pricing", size="small", machine="helixrc16")
    >>> advice.plan                   # a Plan: what `helixrc transform --plan` takes (advice.plan.to_toml())
    >>> advice.predicted_speedup      # on the machine's own core count
    >>> print(advice.format())        # hot loops, verdicts, dependences, predictions, the plan
    >>> advice.to_dict()              # the same as JSON-ready data (docs/adviser.md)
    >>> advice.predict_for(helixrc.simulate(kernel, big_args).stats)   # scaled to other inputs

Steps: a sequential simulation (hotspots); the static analysis (verdicts); optionally the dynamic
profile held against it (:func:`helixrc.cross_check`); for each loop the analysis allows, a
simulation of the kernel with a plan naming only that loop at every core count; the selection on
the loop forest at the machine's core count; then the chosen plan simulated at every core count.
All of it runs on the profiling inputs; ``Advice.predict_for`` scales each chosen loop's saving
to another input's sequential run (:mod:`helixrc.advise.scale`).
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from helixrc.advise.hotspots import line_hotspots, loop_hotspots
from helixrc.advise.predict import Predictor, Run
from helixrc.advise.report import SCHEMA_VERSION, Advice, cores_text
from helixrc.advise.scale import fixed_cost, scaling_entry
from helixrc.advise.select import Thresholds, select_loops
from helixrc.api import simulate
from helixrc.compare import copy_args
from helixrc.csim.errors import AdviseError, AnalysisBugWarning, HelixError
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.passes.analysis import KernelAnalysis, LoopAnalysis, VerdictKind, analyze_kernel
from helixrc.passes.plan import LoopPlan, Plan
from helixrc.passes.transform import loop_legality
from helixrc.profile import cross_check
from helixrc.resolve import build_inputs, import_file, resolve_kernel, split_spec

DEFAULT_CORES: tuple[int, ...] = (1, 2, 4, 8, 16)


def advise(
    kernel: Callable[..., Any] | str,
    args: Sequence[Any] | None = None,
    machine: str | MachineConfig = "helixrc16",
    size: str | None = None,
    cores: Sequence[int] | None = None,
    profile: bool = True,
    *,
    seed: int = 0,
    inputs: str = "make_inputs",
    thresholds: Thresholds = Thresholds(),
    **overrides: Any,
) -> Advice:
    """Advise on ``kernel(*args)``: the hot loops, each loop's verdict and predicted gain, and a plan.

    ``kernel`` is a kernel function or ``"FILE::FUNC"``. ``args`` are the profiling inputs;
    without them the kernel's module builds them with ``make_inputs(size or "small", seed)``
    (pass one or the other; ``inputs`` names another builder). ``machine`` is a preset or config, with ``overrides`` of its fields;
    the plan is chosen for the machine's ``cores`` and predictions are made at every count of
    ``cores`` too (by default DEFAULT_CORES, or only the machine's own count on a machine with SMT
    contexts, where the question is what the sibling context adds). On such a machine each loop's
    candidates are also technique ``relic`` with blocked and with interleaved chunks where the
    analysis allows the split; the best candidate of each loop goes into the selection. ``profile`` adds the dynamic dependence profile and its cross-check (a run of
    the original in CPython, instrumented). The arguments are not modified.
    """
    config = resolve_machine(machine, **overrides)
    module, name = resolve_kernel(kernel)
    if name not in module.functions:
        listed = ", ".join(module.functions) or "none"
        raise AdviseError(f"{module.filename}: no function {name!r} (functions: {listed})")
    original = _original(kernel, module.filename, name)
    call_args = _inputs(original, args, inputs, size, seed)
    if cores is None:
        cores = (config.cores,) if config.smt >= 2 else DEFAULT_CORES
    counts = sorted({*(_check_cores(c) for c in cores), config.cores})
    signals = _signals(config)
    analysis = analyze_kernel(module, name)
    legality = loop_legality(module, name) if config.smt >= 2 else {}
    predictor = Predictor(kernel, module, name, call_args, config)
    seq = predictor.sequential
    checked = None
    if profile:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AnalysisBugWarning)
            checked = cross_check(original, call_args)
        for w in caught:  # re-raised from here, so the user's filters apply to advise's caller
            warnings.warn(w.message, w.category, stacklevel=2)

    hot = {h["id"]: h for h in loop_hotspots(seq.stats)}
    loops: dict[str, dict[str, Any]] = {}
    saved: dict[str, int] = {}
    for lid, la in analysis.loops.items():
        loops[lid] = _loop_entry(la, hot.get(lid))
        candidates = _candidates(la, legality.get(lid, {}).get("relic", "the machine has no SMT sibling"))
        if _try_loop(loops[lid], la.id, candidates, predictor, signals, counts, thresholds):
            saved[lid] = loops[lid]["saved"]
    chosen, best = select_loops({lid: la.parent for lid, la in analysis.loops.items()}, saved)
    for lid, entry in loops.items():
        entry["best"] = best.get(lid, 0)
        if lid in chosen:
            entry["status"] = "chosen"
        elif entry["status"] == "eligible":
            entry["status"] = "not chosen: " + _why_not(lid, chosen)
    plan = Plan({lid: _loop_plan(loops[lid]["technique"], loops[lid]["chunks"], signals) for lid in chosen}, signals,
                source=f"<plan advised for {name}>")
    notes: list[str] = []
    single = _single_thread(kernel, call_args, config, seq.cycles, notes)
    runs = {c: predictor.run(plan, c) for c in counts} if chosen else {}
    if chosen and (runs[config.cores].rejected is not None or runs[config.cores].cycles >= seq.cycles):
        notes.append(f"the loops chosen together ({', '.join(chosen)}) did not pay on "
                     f"{cores_text(config.cores, config.smt)}; "
                     "the plan leaves every loop sequential")
        for lid in chosen:
            loops[lid]["status"] = "dropped: the combined plan did not pay"
        plan, chosen, runs = Plan({}, signals, source=f"<plan advised for {name}>"), [], {}

    ok = {c: r for c, r in runs.items() if r.rejected is None}
    if ok:
        peak = min(ok, key=lambda c: (ok[c].cycles, c))
        if ok[peak].cycles < ok[config.cores].cycles:
            notes.append(f"the plan runs fastest on {cores_text(peak, config.smt)} "
                         f"({seq.cycles / ok[peak].cycles:.2f}x, against {seq.cycles / ok[config.cores].cycles:.2f}x "
                         f"on {config.cores}): the extra cores cost more "
                         "(waiting, communication) than they save")
    data_machine = config.to_dict()
    gains = _assumption_gains(checked, module, name, predictor, config.cores, signals, loops) if checked else {}
    scaling = [scaling_entry(lid, hot[lid], loops[lid]["saved"], fixed_cost(data_machine, loops[lid]["technique"]))
               for lid in chosen]
    data = {
        "schema_version": SCHEMA_VERSION,
        "kernel": {"file": module.filename, "function": name},
        "inputs": {"given": args is not None, "builder": None if args is not None else inputs,
                   "size": None if args is not None else size or "small", "seed": None if args is not None else seed},
        "machine": data_machine,
        "signals": signals,
        "target_cores": config.cores,
        "cores": counts,
        "thresholds": dataclasses.asdict(thresholds),
        "sequential": {"cycles": seq.cycles, "instructions": seq.instructions, "cpi_stack": seq.stats["cpi_stack"],
                       "single_thread_cycles": single},
        "hotspots": {"loops": list(hot.values()), "lines": line_hotspots(seq.stats)},
        "loops": list(loops.values()),
        "cross_check": _cross_check_dict(checked, analysis, gains),
        "plan": plan.to_dict(),
        "prediction": _prediction(seq.cycles, runs) if runs else _sequential_prediction(seq.cycles, counts, seq.stats),
        "scaling": scaling,
        "notes": notes,
    }
    return Advice(plan, data)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _original(kernel: Callable[..., Any] | str, filename: str, name: str) -> Callable[..., Any]:
    """The kernel as a Python function (to profile it and to find its make_inputs)."""
    if callable(kernel):
        return kernel
    path, _ = split_spec(kernel)
    fn = getattr(import_file(path), name, None)
    if not callable(fn):
        raise AdviseError(f"{filename}: {name} is not a function")
    return fn


def _inputs(original: Callable[..., Any], args: Sequence[Any] | None, builder: str, size: str | None,
            seed: int) -> tuple[Any, ...]:
    if args is not None:
        if size is not None:
            raise AdviseError("pass args or a size, not both: a size asks make_inputs for the inputs")
        return tuple(args)
    module = inspect.getmodule(original)
    if module is None:
        raise AdviseError(f"{original.__name__}: no args given, and its module (for make_inputs) is unknown")
    return build_inputs(module, builder, size or "small", seed)


def _single_thread(kernel: Callable[..., Any] | str, args: tuple[Any, ...], config: MachineConfig, cycles: int,
                   notes: list[str]) -> int:
    """The original's cycles on the machine with one context per core (what an SMT machine's user
    compares with); a note when they differ from its sequential run on the machine itself, against
    which every gain is predicted."""
    if config.smt == 1:
        return cycles
    single = simulate(kernel, copy_args(args), dataclasses.replace(config, smt=1)).cycles
    if single != cycles:
        notes.append(f"the original takes {single:,} cycles with smt = 1 and {cycles:,} on {config.name}: the "
                     "gains are against the latter")
    return single


def _check_cores(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AdviseError(f"core counts are positive ints, not {n!r}")
    return n


def _signals(config: MachineConfig) -> str:
    """The signal semantics the machine runs; uncoupled on a machine that runs either."""
    return config.signal_semantics or "uncoupled"


# ---------------------------------------------------------------------------------------------
# Per loop
# ---------------------------------------------------------------------------------------------


def _technique(la: LoopAnalysis) -> str | None:
    """The parallel-loop technique for a loop the analysis allows; a float reduction keeps its ordered segment."""
    if la.verdict.kind is VerdictKind.REFUSED:
        return None
    if la.verdict.kind is VerdictKind.DOALL and not la.float_reductions:
        return "doall"
    return "helix"


#: a candidate: technique and relic chunks (None for the parallel-loop techniques)
Candidate = tuple[str, str | None]


def _candidates(la: LoopAnalysis, relic_refused: str | None) -> list[Candidate]:
    """What to try on a loop: its parallel-loop technique, and a relic split both ways when the
    analysis allows it (``relic_refused`` is None) on a machine with an SMT sibling."""
    technique = _technique(la)
    out: list[Candidate] = [(technique, None)] if technique is not None else []
    if relic_refused is None:
        out += [("relic", "blocked"), ("relic", "interleaved")]
    return out


def _loop_plan(technique: str, chunks: str | None, signals: str) -> LoopPlan:
    return LoopPlan(technique, signals, chunks=chunks) if chunks is not None else LoopPlan(technique, signals)


def _loop_entry(la: LoopAnalysis, hot: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": la.id,
        "line": la.loc.line,
        "parent": la.parent,
        "verdict": la.verdict.kind.name,
        "verdict_text": la.verdict.text,
        "deciding": list(la.verdict.deciding),
        "segments": [{"scalars": list(s.scalars), "arrays": list(s.arrays), "lines": list(s.lines),
                      "every_path": s.every_path} for s in la.verdict.segments],
        "share": hot["share"] if hot else 0.0,
        "cycles": hot["cycles"] if hot else 0,
        "mean_trip": hot["mean_trip"] if hot else 0.0,
        "cpi_stack": _shares(hot["cpi_stack"]) if hot else {},
        "technique": None,
        "chunks": None,
        "candidates": [],
        "saved": None,
        "best": 0,
        "status": "",
        "prediction": None,
    }


def _shares(stack: dict[str, int]) -> dict[str, float]:
    """A CPI stack as shares of its cycles: busy is the issue capacity the loop uses; its memory and
    branch stalls are capacity an SMT sibling can use."""
    total = sum(stack.values())
    return {k: round(v / total, 4) if total else 0.0 for k, v in stack.items()}


def _try_loop(entry: dict[str, Any], lid: str, candidates: list[Candidate], predictor: Predictor, signals: str,
              counts: list[int], thresholds: Thresholds) -> bool:
    """Simulate each candidate of the loop alone unless the loop is refused or tiny; keep the one
    that saves the most; fill in the entry's technique, chunks, candidates, saved, prediction and
    status; whether the loop is eligible for the selection."""
    if not candidates:
        entry["status"] = "refused by the analysis"
        return False
    entry["technique"], entry["chunks"] = candidates[0]
    if entry["cycles"] == 0:
        entry["status"] = "not tried: these inputs do not run it"
        return False
    if entry["mean_trip"] < thresholds.min_trip:
        entry["status"] = f"not tried: {entry['mean_trip']:g} iterations per invocation < {thresholds.min_trip:g}"
        return False
    if entry["share"] < thresholds.min_saving:
        entry["status"] = f"not tried: {100 * entry['share']:g}% of the run < {100 * thresholds.min_saving:g}%"
        return False
    cores = predictor.config.cores
    seq_cycles = predictor.sequential.cycles
    best: tuple[int, Plan] | None = None
    for technique, chunks in candidates:
        plan = Plan({lid: _loop_plan(technique, chunks, signals)}, signals, source=f"<advise {lid}>")
        # a split the transform refuses (a float sum the plan would have to reassociate) is no bug
        refused = predictor.refused(plan) if chunks is not None else None
        run = predictor.run(plan, cores) if refused is None else None
        tried: dict[str, Any] = {"technique": technique, "chunks": chunks, "cycles": None, "saved": None,
                                 "speedup": None, "rejected": refused if run is None else run.rejected}
        if run is not None and run.rejected is None:
            tried.update(cycles=run.cycles, saved=seq_cycles - run.cycles,
                         speedup=round(seq_cycles / run.cycles, 4) if run.cycles else 0.0)
            if best is None or seq_cycles - run.cycles > best[0]:
                best = (seq_cycles - run.cycles, plan)
                entry["technique"], entry["chunks"] = technique, chunks
        entry["candidates"].append(tried)
    if best is None:
        entry["status"] = f"rejected: {entry['candidates'][0]['rejected']}"
        return False
    gain, plan = best
    entry["saved"] = gain
    # the other core counts only for a loop that pays where it counts (they cost a run each)
    shown = counts if gain > 0 else [cores]
    entry["prediction"] = _prediction(seq_cycles, {c: predictor.run(plan, c) for c in shown})
    if gain <= 0:
        entry["status"] = f"does not pay on {cores_text(cores, predictor.config.smt)} ({-gain} cycles slower)"
        return False
    if gain < thresholds.min_saving * seq_cycles:
        entry["status"] = f"saves {gain} cycles, under {100 * thresholds.min_saving:g}% of the run"
        return False
    entry["status"] = "eligible"
    return True


def _why_not(lid: str, chosen: list[str]) -> str:
    """The chosen loop around or inside ``lid`` that wins over it."""
    for other in chosen:
        if other.startswith(lid + "."):
            return f"its inner loops save more ({other})"
        if lid.startswith(other + "."):
            return f"the enclosing loop {other} saves more"
    return "another loop saves more"


def _prediction(seq_cycles: int, runs: dict[int, Run]) -> list[dict[str, Any]]:
    """Per core count: cycles, speedup, and where the cores' time went (busy/wait/dispatch/idle)."""
    out = []
    for cores, run in sorted(runs.items()):
        if run.stats is None:
            out.append({"cores": cores, "rejected": run.rejected})
            continue
        out.append({
            "cores": cores, "cycles": run.cycles, "saved": seq_cycles - run.cycles,
            "speedup": round(seq_cycles / run.cycles, 4) if run.cycles else 0.0,
            "core_time": _core_time(run.stats, run.cycles), "cpi_stack": run.stats["cpi_stack"],
        })
    return out


def _sequential_prediction(seq_cycles: int, counts: list[int], stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The prediction of a plan that parallelizes nothing: the sequential run at every count."""
    return [{"cores": c, "cycles": seq_cycles, "saved": 0, "speedup": 1.0,
             "core_time": _core_time(stats, seq_cycles), "cpi_stack": stats["cpi_stack"]} for c in counts]


def _core_time(stats: dict[str, Any], cycles: int) -> dict[str, float]:
    """Shares of all contexts' cycles (cores x smt x run cycles): running (busy), communicating (comm: ring
    cache or coherence traffic, which the simulator counts inside busy), waiting in segments,
    starting iterations (dispatch), and idle."""
    per_core = stats["cores"]
    total = cycles * len(stats.get("contexts", per_core))  # a core's entry sums its SMT contexts
    sums = {k: sum(int(c.get(k, 0)) for c in per_core) for k in ("busy", "comm", "wait", "dispatch", "idle")}
    sums["busy"] -= sums["comm"]
    return {k: round(v / total, 4) if total else 0.0 for k, v in sums.items()}


def _assumption_gains(checked: Any, module: Any, name: str, predictor: Predictor, cores: int, signals: str,
                      loops: dict[str, dict[str, Any]]) -> dict[tuple[str, str], int | str]:
    """For each checkable assume_independent candidate: the cycles its loop would save on ``cores``
    with the dependence assumed away (and checked at run time), beyond what it saves without; or
    why that cannot be predicted."""
    gains: dict[tuple[str, str], int | str] = {}
    for f in checked.candidates:
        if f.what != "array" or not f.checkable or f.loop not in loops:
            continue
        assumed = analyze_kernel(module, name, assume_independent={f.loop: [f.target]}).loops[f.loop]
        technique = _technique(assumed)
        if technique is None:
            gains[(f.loop, f.target)] = "the loop stays refused: other dependences hold it back"
            continue
        plan = Plan({f.loop: LoopPlan(technique, signals, assume_independent=(f.target,))}, signals,
                    source=f"<advise {f.loop} assuming {f.target}>")
        run = predictor.run(plan, cores, optional=True)
        before = max(loops[f.loop]["saved"] or 0, 0)
        gains[(f.loop, f.target)] = run.rejected or predictor.sequential.cycles - run.cycles - before
    return gains


def _cross_check_dict(checked: Any, analysis: KernelAnalysis,
                      gains: dict[tuple[str, str], int | str]) -> dict[str, Any] | None:
    """Per loop the static deciding dependences beside the observed ones, then the findings."""
    if checked is None:
        return None
    prof = checked.profile
    loops = []
    for lid, la in analysis.loops.items():
        pl = next((p for p in prof.loops.values() if p.line == la.loc.line), None)
        observed: list[str] = []
        if pl is not None:
            observed = [f"{d.what} {d.describe()}" for ds in pl.arrays.values() for d in ds]
            observed += [f"scalar {d.describe()}" for n in pl.carried_scalars for d in pl.scalars[n] if d.kind == "RAW"]
        loops.append({"id": lid, "line": la.loc.line, "static": list(la.verdict.deciding), "observed": observed,
                      "iterations": pl.iterations if pl else 0, "invocations": pl.invocations if pl else 0})
    findings = [{"severity": f.severity, "loop": f.loop, "line": f.line, "target": f.target, "what": f.what,
                 "message": f.message, "check": f.check, "not_checkable": f.not_checkable,
                 **_gain(gains.get((f.loop, f.target)))} for f in checked.findings]
    return {"loops": loops, "findings": findings, "unexercised": list(checked.unexercised),
            "truncated": prof.truncated, "notes": list(prof.notes)}


def _gain(gain: int | str | None) -> dict[str, Any]:
    """A finding's ``predicted_gain`` (cycles) and, when it has none, ``gain_note`` (why)."""
    if isinstance(gain, str):
        return {"predicted_gain": None, "gain_note": gain}
    return {"predicted_gain": gain, "gain_note": None}
