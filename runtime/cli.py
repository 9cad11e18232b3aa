"""The ``helixrc`` command.

    helixrc simulate samples/mcf_pricing.py::mcf_pricing --size small
    helixrc simulate samples/mcf_pricing.py::mcf_pricing --machine helixrc16 --parallel
    helixrc transform samples/dfa_match_batch.py --diff --explain
    helixrc transform samples/dfa_match_batch.py --plan plan.toml
    helixrc advise samples/mcf_pricing.py::mcf_pricing --json report.json --plan-out plan.toml
    helixrc machines

Exit codes: 0 ok, 1 the kernel raised (simulate) or the file would change (transform --check),
2 usage, language, plan or configuration error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from helixrc.advise import DEFAULT_CORES, advise
from helixrc.api import simulate
from helixrc.passes.analysis import analyze_kernel
from helixrc.passes.plan import load_plan
from helixrc.transform_api import format_report, is_kernel, machine_signals, transform_kernels
from helixrc.args import signature_of
from helixrc.passes.ir import format_function
from helixrc.passes.pipeline import compile_kernel
from helixrc.csim.errors import HelixError, KernelError
from helixrc.csim.machine import CORE_MODELS, PRESETS, SMT_POLICIES, MachineConfig, parse_override, resolve_machine
from helixrc.report import format_simulation
from helixrc.run import run
from helixrc.trace import DEFAULT_TRACE_LIMIT
from helixrc.resolve import build_inputs, import_file, load_source_file, resolve_kernel, split_spec

SIZES = ("small", "medium", "large")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helixrc",
        description="Parallelize irregular Python loops HELIX-RC style and simulate them on a "
        "modeled machine. Cycle counts are the model's, for the named machine config.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = sub.add_parser(
        "simulate", help="run a kernel on the simulator and report cycles and where they went",
        description="Run FILE::FUNC on the simulator with inputs from make_inputs(size, seed) in "
        "the same file, check nothing, and print cycles, IPC, the CPI stack, loops and hot lines.",
    )
    sim.add_argument("kernel", metavar="FILE::FUNC", help="the kernel, e.g. samples/mcf_pricing.py::mcf_pricing")
    sim.add_argument("--size", choices=SIZES, default="small", help="input size passed to make_inputs (default: small)")
    sim.add_argument("--seed", type=int, default=0, help="seed passed to make_inputs (default: 0)")
    sim.add_argument("--inputs", metavar="FUNC", default="make_inputs",
                     help="the function in FILE that builds the arguments (default: make_inputs)")
    sim.add_argument("--machine", default="atom1", help=f"machine preset (one of: {', '.join(PRESETS)}; default: atom1)")
    sim.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a machine config field, e.g. --set l1_size=64K (repeatable)")
    sim.add_argument("--json", metavar="OUT", help="also write the statistics as JSON to OUT ('-' for stdout)")
    sim.add_argument("--trace", metavar="OUT.json",
                     help="also write a Chrome/Perfetto trace of the run to OUT.json (1 us = 1 cycle; "
                     "open it in ui.perfetto.dev)")
    sim.add_argument("--trace-limit", type=int, default=DEFAULT_TRACE_LIMIT, metavar="N",
                     help=f"keep at most N trace events; past it the trace is cut and says so "
                     f"(default: {DEFAULT_TRACE_LIMIT})")
    sim.add_argument("--top", type=int, default=10, help="how many hot lines to list (default: 10)")
    sim.add_argument("--ir", action="store_true",
                     help="also print the lowered IR the simulator runs (helpers inlined)")
    sim.add_argument("--parallel", action="store_true",
                     help="run the kernel's parallel form instead (helixrc.run: the transform's default "
                     "loops for the machine, or --plan's), checked against a sequential run of the "
                     "original, and report each parallel loop's speedup over its sequential run")
    sim.add_argument("--plan", metavar="PLAN", help="with --parallel: the plan to transform with (implies --parallel)")
    tr = sub.add_parser(
        "transform", help="rewrite a kernel's loops into HELIX parallel form (readable Python)",
        description="Rewrite the outermost parallelizable loop of each kernel into the parallel "
        "form (prange, wait/signal sequential segments, shared cells) that CPython runs with the "
        "original's results; with --plan, the loops the plan names get its technique and the others "
        "stay sequential. Without ::FUNC every kernel of FILE is transformed; functions outside "
        "the kernel language are left as they are. Exit codes: 0 ok, 1 --check found changes, "
        "2 usage, language or plan error.",
    )
    tr.add_argument("target", metavar="FILE[::FUNC]")
    tr.add_argument("--plan", metavar="PLAN",
                    help="a plan file (TOML, or JSON if it ends in .json) naming loops by id with a "
                    "technique (doall, helix, sequential) and signals; loops it does not name stay "
                    "sequential")
    tr.add_argument("--signals", choices=("coupled", "uncoupled"), default=None,
                    help="signal semantics without --plan: coupled (every path waits and signals every "
                    "segment) or uncoupled (a path that skips a segment signals it without waiting; "
                    "default). A plan sets its own signals")
    tr.add_argument("--machine", metavar="PRESET", default=None,
                    help="transform for this machine: use its signals field (helixrc16 uncoupled, "
                    "conventional16 coupled)")
    mode = tr.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of the source")
    mode.add_argument("--check", action="store_true", help="print nothing; exit 1 if FILE would change")
    mode.add_argument("--write", action="store_true", help="rewrite FILE in place")
    mode.add_argument("-o", dest="output", metavar="OUT", help="write the transformed source to OUT")
    tr.add_argument("--explain", action="store_true",
                    help="print the verdict table (loop, line, verdict, segments, deciding "
                    "dependences) and what the transform did with each loop, on stderr")
    adv = sub.add_parser(
        "advise", help="find the hot loops, predict each one's gain and recommend a plan",
        description="Simulate FILE::FUNC sequentially on profiling inputs from make_inputs(size, seed) (hot loops "
        "and lines), give each loop's verdict and deciding dependences, hold them against a profile of "
        "the original in CPython, simulate the parallel form of every loop the analysis allows on "
        "--cores cores, choose the loops on the loop forest (best(L) = max(saved(L), sum of the "
        "children's best); a loop that does not pay stays sequential), and predict the plan's "
        "speedup and where the cores' time goes. The plan is chosen for the machine's own core "
        "count (--set cores=N to change it). Exit codes: 0 ok, 1 the kernel raised, 2 usage, "
        "language or configuration error.",
    )
    adv.add_argument("kernel", metavar="FILE::FUNC", help="the kernel, e.g. samples/mcf_pricing.py::mcf_pricing")
    adv.add_argument("--profile-size", "--size", dest="size", default="small",
                     help="size of the profiling inputs passed to make_inputs, which the plan and its "
                     "predictions are simulated on: small keeps the adviser fast, a larger one is "
                     "more representative (default: small)")
    adv.add_argument("--seed", type=int, default=0, help="seed passed to make_inputs (default: 0)")
    adv.add_argument("--inputs", metavar="FUNC", default="make_inputs",
                     help="the function in FILE that builds the arguments (default: make_inputs)")
    adv.add_argument("--machine", default="helixrc16",
                     help=f"target machine preset (one of: {', '.join(PRESETS)}; default: helixrc16)")
    adv.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a machine config field, e.g. --set cores=8 (repeatable)")
    adv.add_argument("--cores", default=None, metavar="N,N,...",
                     help="core counts to predict the speedup for (default: "
                          f"{','.join(map(str, DEFAULT_CORES))}, or the machine's own on an SMT machine)")
    adv.add_argument("--no-profile", dest="profile", action="store_false",
                     help="skip the dynamic dependence profile and its cross-check")
    adv.add_argument("--json", metavar="OUT", help="write the report as JSON (docs/adviser.md) to OUT ('-': stdout, "
                     "instead of the text)")
    adv.add_argument("--plan-out", metavar="PLAN",
                     help="write the recommended plan to PLAN (TOML; JSON if it ends in .json), for "
                     "helixrc transform --plan")
    mac = sub.add_parser("machines", help="list the machine presets and their key parameters")
    mac.add_argument("--json", action="store_true", help="print the full configs as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "simulate":
            return cmd_simulate(args)
        if args.command == "transform":
            return cmd_transform(args)
        if args.command == "advise":
            return cmd_advise(args)
        if args.command == "machines":
            return cmd_machines(args)
        parser.print_help()
        return 2
    except KernelError as err:
        print(f"helixrc: the kernel raised {err.python_name}: {err}", file=sys.stderr)
        return 1
    except HelixError as err:
        print(f"helixrc: error: {err}", file=sys.stderr)
        return 2


def _kernel_and_machine(args: argparse.Namespace) -> tuple[str, str, MachineConfig]:
    """FILE, FUNC and the machine config (with --set) of a simulate/advise command."""
    path, func = split_spec(args.kernel)
    if func is None:
        raise HelixError(f"{args.kernel}: name the kernel as FILE::FUNC")
    overrides: dict[str, Any] = dict(parse_override(o) for o in args.overrides)
    return path, func, resolve_machine(args.machine, **overrides)


def cmd_simulate(args: argparse.Namespace) -> int:
    path, func, config = _kernel_and_machine(args)
    call_args = build_inputs(import_file(path), args.inputs, args.size, args.seed)
    if args.parallel or args.plan:
        return _simulate_parallel(args, f"{path}::{func}", call_args, config)
    result = simulate(f"{path}::{func}", call_args, config, trace=args.trace or False,
                      trace_limit=args.trace_limit)
    if args.json == "-":
        json.dump(result.stats, sys.stdout, indent=1)
        print()
        return 0
    if args.ir:
        module, name = resolve_kernel(f"{path}::{func}")
        compiled, _ = compile_kernel(module, name, signature_of(call_args))
        print(format_function(compiled.lowered.function))
    print(format_simulation(result.stats, result.value, args.top), end="")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result.stats, f, indent=1)
        print(f"\nstatistics written to {args.json}")
    if args.trace and result.trace is not None:
        meta = result.trace["otherData"]
        cut = f", truncated: {meta['dropped_events']} events past the limit" if meta["truncated"] else ""
        print(f"\ntrace written to {args.trace} ({meta['events']} events{cut})")
    return 0


def _simulate_parallel(args: argparse.Namespace, kernel: str, call_args: tuple[Any, ...],
                       config: MachineConfig) -> int:
    """``simulate --parallel``: the parallel form and the original, both simulated (helixrc.run)."""
    if args.trace or args.ir:
        raise HelixError("--trace and --ir show the kernel as it is: not with --parallel or --plan")
    result = run(kernel, call_args, config, plan=args.plan)
    if args.json == "-":
        json.dump(result.stats, sys.stdout, indent=1)
        print()
        return 0
    print(format_simulation(result.stats, result.value, args.top, result.sequential_cycles), end="")
    if result.note:
        print(f"\nnote: {result.note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result.stats, f, indent=1)
        print(f"\nstatistics written to {args.json}")
    return 0


def cmd_transform(args: argparse.Namespace) -> int:
    if args.plan is not None and args.signals is not None:
        raise HelixError("--signals and --plan together: the plan sets the signals",
                         hint='write signals = "coupled" at the top of the plan, or per loop')
    signals = args.signals
    if args.machine is not None:
        signals = machine_signals(resolve_machine(args.machine), signals)
    signals = signals or "uncoupled"
    path, func = split_spec(args.target)
    original = load_source_file(path)
    plan = load_plan(args.plan) if args.plan is not None else None
    names = [func] if func else [n for n in original.functions if is_kernel(original, n)]
    if func and func not in original.functions:
        raise HelixError(f"{path}: no function '{func}' (functions: {', '.join(original.functions)})")
    source, results = transform_kernels(original, names, plan, signals)
    if args.explain:
        reports = [format_report(analyze_kernel(original, n), r.loops, plan, signals) for n, r in results.items()]
        print("\n".join(reports), file=sys.stderr)
    changed = source != original.source
    if args.check:
        return 1 if changed else 0
    if args.diff:
        sys.stdout.writelines(difflib.unified_diff(
            original.source.splitlines(keepends=True), source.splitlines(keepends=True),
            fromfile=path, tofile=f"{path} (helixrc transform)"))
    elif args.write:
        if changed:
            Path(path).write_text(source)
    elif args.output:
        Path(args.output).write_text(source)
    else:
        sys.stdout.write(source)
    return 0


def cmd_advise(args: argparse.Namespace) -> int:
    try:
        counts = None if args.cores is None else tuple(int(c) for c in args.cores.split(",") if c.strip())
    except ValueError:
        raise HelixError(f"--cores takes core counts separated by commas, not {args.cores!r}") from None
    path, func, config = _kernel_and_machine(args)
    advice = advise(f"{path}::{func}", None, config, args.size, counts, args.profile, seed=args.seed,
                    inputs=args.inputs)
    data = advice.to_dict()
    if args.json == "-":
        json.dump(data, sys.stdout, indent=1)
        print()
    else:
        print(advice.format(), end="")
    if args.json and args.json != "-":
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
        print(f"\nreport written to {args.json}", file=sys.stderr)
    if args.plan_out:
        text = advice.plan.to_json() if args.plan_out.endswith(".json") else advice.plan.to_toml()
        Path(args.plan_out).write_text(text)
        print(f"plan written to {args.plan_out}", file=sys.stderr)
    return 0


def cmd_machines(args: argparse.Namespace) -> int:
    if args.json:
        json.dump({n: c.to_dict() for n, c in PRESETS.items()}, sys.stdout, indent=1)
        print()
        return 0
    for name, c in PRESETS.items():
        print(f"{name}: {c.description}")
        pipeline = "out-of-order" if c.core_model == CORE_MODELS["ooo"] else "in-order"
        print(f"  core     {pipeline}, {c.issue_width}-wide; latencies int {c.lat_int}, mul {c.lat_mul}, "
              f"div {c.lat_div}, fadd {c.lat_fadd}, fmul {c.lat_fmul}, fdiv {c.lat_fdiv}")
        if c.core_model == CORE_MODELS["ooo"]:
            sizes = []
            for what, f in (("ROB", "rob"), ("IQ", "iq"), ("LSQ", "lsq")):
                size, split = getattr(c, f"{f}_size"), getattr(c, f"smt_{f}")
                how = "" if c.smt == 1 else f" partitioned ({size // c.smt} each)" if split else " shared"
                sizes.append(f"{what} {size}{how}")
            print(f"  window   {', '.join(sizes)}")
        print(f"  L1D      {c.l1_size // 1024} KB {c.l1_assoc}-way {c.l1_line} B lines, {c.l1_latency} cycles")
        print(f"  L2       {c.l2_size // 1024} KB {c.l2_assoc}-way {c.l2_line} B lines, +{c.l2_latency} cycles")
        print(f"  DRAM     +{c.dram_latency} cycles")
        kind = "gshare" if c.bpred_kind == 1 else "bimodal"
        print(f"  branches {kind}, 2^{c.bpred_table_bits} counters, {c.mispredict_penalty}-cycle mispredict penalty")
        print(f"  cores    {c.cores}; dispatch {c.dispatch_cost}, loop start {c.loop_start_cost}, "
              f"loop end {c.loop_end_cost} cycles; signals {c.signal_semantics or 'either'}")
        if c.smt > 1:
            policy = next(k for k, v in SMT_POLICIES.items() if v == c.smt_policy)
            print(f"  smt      {c.smt} contexts per core ({c.cores * c.smt} workers) sharing issue slots, "
                  f"L1 and ring node; {policy} issue")
            print(f"  tasks    to the sibling: submit {c.relic_submit_cost}, wake {c.relic_wake_cost}, join "
                  f"{c.relic_join_cost} cycles; queue of {c.relic_queue}")
        if c.ring_cache:
            print(f"  ring     {c.ring_size} B {c.ring_ways}-way nodes; hit {c.ring_hit_latency}, inject "
                  f"{c.ring_inject_latency}, hop {c.ring_hop_latency} cycles; {c.ring_data_bandwidth} word and "
                  f"{c.ring_signal_bandwidth} signals per link per cycle")
        if c.cores > 1:
            print(f"  coherence core-to-core {c.c2c_latency} cycles, upgrade {c.upgrade_latency}")
        else:
            print(f"  signal   {c.signal_latency} cycles between cores")
    print("\nOverride any field with --set key=value; `helixrc machines --json` lists them all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
