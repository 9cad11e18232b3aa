"""The adviser's result: the plan, and the report as data (``to_dict``, docs/adviser.md) and as text."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from helixrc.advise.scale import scale_to
from helixrc.passes.plan import Plan
from helixrc.report import source_line

#: bumped when a key of :meth:`Advice.to_dict` changes meaning or goes away
SCHEMA_VERSION = 1


class Advice:
    """What :func:`helixrc.advise` found. ``plan`` is what `helixrc transform --plan` takes."""

    def __init__(self, plan: Plan, data: dict[str, Any]) -> None:
        self.plan = plan
        self._data = data

    @property
    def kernel(self) -> str:
        k = self._data["kernel"]
        return f"{k['file']}::{k['function']}"

    @property
    def speedups(self) -> dict[int, float]:
        """Predicted speedup of the plan per core count (1.0 where it parallelizes nothing)."""
        return {p["cores"]: p.get("speedup", 0.0) for p in self._data["prediction"]}

    @property
    def predicted_speedup(self) -> float:
        """The plan's predicted speedup on the machine's own core count."""
        return self.speedups[self._data["target_cores"]]

    @property
    def profile_inputs(self) -> str:
        """The inputs the plan and its predictions were simulated on (``make_inputs('small', 0)``)."""
        return _inputs(self._data["inputs"])

    def predict_for(self, sequential: dict[str, Any]) -> dict[str, Any]:
        """The plan's speedup on other inputs, scaled from the simulations on the profiling inputs.

        ``sequential`` is the statistics of a sequential simulation on the other inputs
        (``SimResult.stats``, ``RunResult.sequential_stats``). Each chosen loop keeps the
        per-invocation costs the machine config charges and its parallel cycles per sequential
        cycle beyond them, as it ran alone on the profiling inputs on the target core count
        (:mod:`helixrc.advise.scale`); the rest of the run stays sequential. No parallel run on the
        other inputs goes into it. Returns ``{predicted_from, sequential_cycles, cycles, speedup,
        loops: [{id, sequential_cycles, invocations, saved_fraction, saved, scale}], notes}``; a
        note flags a loop whose cycles differ from the profiling inputs' by more than 2x.
        """
        return scale_to(self._data["scaling"], sequential, self.profile_inputs)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (a copy), schema in docs/adviser.md."""
        return copy.deepcopy(self._data)

    def report(self) -> str:
        return self.format()

    def format(self, top_lines: int = 5) -> str:
        """The readable report."""
        d = self._data
        seq = d["sequential"]
        m = d["machine"]
        out = [
            f"kernel   {self.kernel}",
            f"machine  {m['name']}, {cores_text(d['target_cores'], m['smt'])}, {d['signals']} signals "
            "(simulated cycles of the model, not a hardware measurement)",
            f"inputs   {_inputs(d['inputs'])}",
            f"sequential run  {seq['cycles']:,} cycles, {seq['instructions']:,} instructions",
            "",
            "hot loops (inclusive cycles)",
            f"  {'loop':<26}{'line':>5}{'share':>8}{'invocations':>12}{'iterations':>11}{'trip':>8}{'cyc/iter':>10}",
        ]
        for h in d["hotspots"]["loops"]:
            out.append(f"  {h['id']:<26}{h['line']:>5}{100 * h['share']:>7.1f}%{h['invocations']:>12,}"
                       f"{h['iterations']:>11,}{h['mean_trip']:>8.1f}{h['cycles_per_iteration']:>10.1f}")
        if not d["hotspots"]["loops"]:
            out.append("  (no loops)")
        lines = d["hotspots"]["lines"][:top_lines]
        if lines:
            out += ["", f"hot lines (top {len(lines)})"]
            cache: dict[str, list[str]] = {}
            for e in lines:
                text = source_line(cache, e["file"], e["line"])
                out.append(f"  {Path(e['file']).name}:{e['line']:<5}{100 * e['share']:6.1f}%  {text}")
        target_text = cores_text(d["target_cores"], m["smt"])
        out += ["", f"loops: verdict, prediction on {target_text}, decision"]
        for loop in d["loops"]:
            out.append(f"  {loop['id']} (line {loop['line']}, {100 * loop['share']:.1f}% of the run): "
                       f"{loop['verdict_text']}")
            if loop["cpi_stack"]:
                out.append(f"    single-thread CPI stack: {_stack(loop['cpi_stack'])}")
            for c in loop["candidates"]:
                label = c["technique"] + (f" {c['chunks']}" if c["chunks"] else "")
                if c["rejected"] is not None:
                    out.append(f"    {label} alone: rejected: {c['rejected']}")
                    continue
                what = f"saves {c['saved']:,}" if c["saved"] >= 0 else f"costs {-c['saved']:,} more"
                out.append(f"    {label} alone: {c['cycles']:,} cycles, {what} ({c['speedup']:.2f}x)")
            out.append(f"    -> {loop['status']}")
        cc = d["cross_check"]
        if cc is not None:
            out += ["", "static vs observed dependences (profile of the original in CPython, these inputs)"]
            for lp in cc["loops"]:
                out.append(f"  {lp['id']} (line {lp['line']}): {lp['iterations']:,} iterations observed")
                out += [f"    static:   {s}" for s in lp["static"]] or ["    static:   none carried"]
                out += [f"    observed: {s}" for s in lp["observed"]] or ["    observed: none carried"]
            for f in cc["findings"]:
                out.append(f"  {f['severity'].upper()} {f['loop']} line {f['line']}: {f['message']}")
                if f["check"]:
                    out.append(f"    run-time check: {f['check']}")
                if f["predicted_gain"] is not None:
                    out.append(f"    assuming it (checked at run time) saves {f['predicted_gain']:,} more cycles "
                               f"on {target_text}")
                elif f["gain_note"]:
                    out.append(f"    predicted gain: {f['gain_note']}")
            if cc["truncated"]:
                out.append(f"  profile truncated: {cc['truncated']}")
        out += ["", f"predicted speedup of the plan, and where the cores' time goes (simulated on "
                f"{self.profile_inputs})"]
        out.append(f"  {'cores':>5}{'cycles':>12}{'speedup':>9}{'busy':>8}{'comm':>8}{'wait':>8}{'dispatch':>10}"
                   f"{'idle':>8}")
        for p in d["prediction"]:
            if "speedup" not in p:
                out.append(f"  {p['cores']:>5}  rejected: {p['rejected']}")
                continue
            ct = p["core_time"]
            out.append(f"  {p['cores']:>5}{p['cycles']:>12,}{p['speedup']:>8.2f}x{100 * ct['busy']:>7.1f}%"
                       f"{100 * ct['comm']:>7.1f}%{100 * ct['wait']:>7.1f}%{100 * ct['dispatch']:>9.1f}%"
                       f"{100 * ct['idle']:>7.1f}%")
        target = next(p for p in d["prediction"] if p["cores"] == d["target_cores"])
        if "cpi_stack" in target:
            out.append(f"  CPI stack on {target_text}: {_stack(target['cpi_stack'])}")
        if d["scaling"]:
            fractions = ", ".join(f"{e['id']} {100 * e['saved_fraction']:.1f}%" for e in d["scaling"])
            out.append(f"  on other inputs (Advice.predict_for): each chosen loop saves about the share of its own "
                       f"cycles it saves here ({fractions}) of their sequential run, its per-invocation costs "
                       "counted per invocation")
        out += [f"  note: {n}" for n in d["notes"]]
        out += ["", "recommended plan (helixrc transform --plan):"]
        out += ["  " + line for line in self.plan.to_toml().rstrip("\n").splitlines()]
        if not self.plan.loops:
            out.append("  (no loop pays: the kernel stays sequential)")
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        loops = ", ".join(self.plan.loops) or "no loop"
        where = cores_text(self._data["target_cores"], self._data["machine"]["smt"])
        return f"<Advice {self.kernel}: {loops}, {self.predicted_speedup:.2f}x on {where}>"


def cores_text(cores: int, smt: int) -> str:
    """A core count as prose, naming the SMT contexts: "16 cores", "1 core x 2 SMT contexts"."""
    text = f"{cores} core{'s' if cores != 1 else ''}"
    return f"{text} x {smt} SMT contexts" if smt >= 2 else text


def _stack(stack: dict[str, float]) -> str:
    """A CPI stack (cycles or shares) as percentages of its total, the empty categories left out."""
    total = sum(stack.values()) or 1
    return ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in stack.items() if v)


def _inputs(inputs: dict[str, Any]) -> str:
    if inputs["given"]:
        return "the arguments given"
    return f"{inputs['builder']}({inputs['size']!r}, {inputs['seed']})"

