"""``cross_check``: the static loop dependences held against a dynamic profile of the same kernel.

Two kinds of disagreement are findings (loops are matched by the line of their `for` / `while`):

- **bug**: the profile saw a loop-carried dependence the analysis proves absent -- on an array
  (no carried dependence of that kind, or a provable distance the run contradicts) or on a
  scalar the analysis calls private. The transform would run such a loop in parallel wrongly, so
  it is reported loudly: an ``AnalysisBugWarning``, or ``AnalysisBugError`` with ``strict``.
- **candidate**: the analysis keeps a loop-carried dependence it could not disprove (an array
  dependence through data, a carried scalar) that the run never showed. For an array this is what
  a plan's ``assume_independent`` asserts; the finding carries the run-time ``independent(...)``
  check the transform would guard the loop with, or why no such check can be written::

    for i in range(n):
        hist[idx[i]] += 1     # static: RAW/WAR/WAW hist carried, assumed (index through data)
                              # idx a permutation -> candidate, check
                              #   independent(hist, 0, n, 1, (idx, 0, "r"), (idx, 0, "w"))

A third severity, **assumption**, marks a dependence between two differently named arrays that
the analysis assumes do not overlap (it lists that assumption for a run-time check).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import libcst as cst

from helixrc.csim.errors import AnalysisBugError, AnalysisBugWarning, Loc
from helixrc.passes.analysis import KernelAnalysis, LoopAnalysis, ScalarClass, analyze_kernel
from helixrc.passes.analysis.cfg import ANY_ARRAY
from helixrc.passes.frontend import KernelModule
from helixrc.passes.transform.cst_tools import walk
from helixrc.passes.transform.independence import NotCheckable, independence_check
from helixrc.profile.driver import MAX_ACCESSES, MAX_ITERATIONS, profile_dependences
from helixrc.profile.model import DynamicDeps, LoopProfile, ObservedDep
from helixrc.resolve import resolve_kernel


@dataclass(frozen=True)
class Finding:
    """One disagreement between the static analysis and the profile."""

    #: "bug", "candidate" or "assumption"
    severity: str
    loop: str
    #: the line of the loop's `for` / `while`
    line: int
    #: the array or scalar
    target: str
    #: "array" or "scalar"
    what: str
    message: str
    #: the static analysis's facts about the target in this loop, as it describes them
    static: tuple[str, ...]
    #: the observed dependences, as the profile describes them
    observed: tuple[str, ...]
    #: where to look: the sink access of a bug, the loop for a candidate
    loc: Loc
    #: candidates: the run-time check guarding ``assume_independent``, if one can be written
    check: str | None = None
    checkable: bool = False
    #: candidates: why no run-time check can be written
    not_checkable: str | None = None
    #: candidates: cycles the loop would save if the dependence were assumed away (not computed
    #: yet: needs the selection model)
    predicted_gain: float | None = None


@dataclass
class CrossCheck:
    function: str
    analysis: KernelAnalysis
    profile: DynamicDeps
    findings: list[Finding] = field(default_factory=list)
    #: loops the profile did not exercise enough to judge (fewer than two iterations in a row)
    unexercised: list[str] = field(default_factory=list)

    @property
    def bugs(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "bug"]

    @property
    def candidates(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "candidate"]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the findings (locations as ``file:line:col``), the loops not
        exercised, and the profile."""
        findings = [{**asdict(f), "loc": str(f.loc)} for f in self.findings]
        return {"function": self.function, "findings": findings, "unexercised": list(self.unexercised),
                "profile": self.profile.to_dict()}

    def format(self) -> str:
        out = [f"{self.analysis.filename}: {self.function}: static analysis vs. profile"]
        if self.profile.truncated:
            out.append(f"  profile truncated: {self.profile.truncated}")
        if not self.findings:
            out.append("  no disagreement")
        for f in self.findings:
            out.append(f"  {f.severity.upper()} {f.loop} ({f.loc}): {f.message}")
            if f.severity == "candidate" and f.what == "array":
                out.append(f"    run-time check: {f.check}" if f.checkable else f"    not checkable: {f.not_checkable}")
        for lid in self.unexercised:
            out.append(f"  {lid}: not exercised by this input (fewer than 2 iterations)")
        return "\n".join(out)


def static_analysis(fn: Callable[..., Any] | str) -> tuple[KernelModule, KernelAnalysis]:
    """The analysis the transform decides with (``analyze_kernel`` without argument types)."""
    km, name = resolve_kernel(fn)
    return km, analyze_kernel(km, name)


def cross_check(
    fn: Callable[..., Any],
    args: Sequence[Any],
    strict: bool = False,
    *,
    max_iterations: int = MAX_ITERATIONS,
    max_accesses: int = MAX_ACCESSES,
) -> CrossCheck:
    """Profile ``fn(*args)`` (on copies, following helper calls as the analysis summarizes them)
    and compare each loop's observed dependences with the static ones."""
    km, analysis = static_analysis(fn)
    profile = profile_dependences(fn, args, max_iterations=max_iterations, max_accesses=max_accesses,
                                  copy_args=True, follow_calls=True)
    result = CrossCheck(analysis.kernel, analysis, profile)
    for la in analysis.loops.values():
        pl = next((p for p in profile.loops.values() if p.line == la.loc.line), None)
        if pl is None or pl.max_trip < 2:
            result.unexercised.append(la.id)
            continue
        result.findings += _array_bugs(la, pl, analysis.filename)
        result.findings += _scalar_bugs(la, pl, analysis.filename)
        result.findings += _candidates(km, la, pl, analysis.filename, profile.truncated)
    bugs = result.bugs
    if bugs and strict:
        first = bugs[0]
        more = f" (and {len(bugs) - 1} more)" if len(bugs) > 1 else ""
        raise AnalysisBugError(f"{first.message}{more}", first.loc,
                               "the static analysis misses this dependence: please report it")
    for b in bugs:
        warnings.warn(AnalysisBugWarning(f"{b.loc}: {b.message}"), stacklevel=2)
    return result


def _static_array(la: LoopAnalysis, name: str) -> list[Any]:
    return [d for d in la.array_deps if d.carried and d.array in (name, ANY_ARRAY)]


def _array_bugs(la: LoopAnalysis, pl: LoopProfile, filename: str) -> list[Finding]:
    out: list[Finding] = []
    for name, deps in pl.arrays.items():
        static = _static_array(la, name)
        facts = tuple(d.describe() for d in static)
        by_kind: dict[str, list[ObservedDep]] = {}
        for d in deps:
            by_kind.setdefault(d.kind, []).append(d)
        for kind, seen in by_kind.items():
            aliased = [d for d in seen if d.src_name != name]
            if aliased:
                other = aliased[0].src_name
                pairs = {tuple(sorted(p)) for p in la.assumed_no_alias}
                severity = "assumption" if tuple(sorted((name, other))) in pairs else "bug"
                out.append(_finding(
                    severity, la, name, "array",
                    f"{name}[] and {other}[] are the same memory: {kind} carried between them, which the "
                    "analysis " + ("assumes away (distinct arrays)" if severity == "assumption" else "does not see"),
                    facts, aliased, Loc(filename, aliased[0].dst_line)))
                seen = [d for d in seen if d.src_name == name]
                if not seen:
                    continue
            same = [s for s in static if s.kind.value == kind]
            if not same:
                what = "no loop-carried dependence" if not static else f"no loop-carried {kind}"
                out.append(_finding(
                    "bug", la, name, "array",
                    f"the analysis finds {what} on {name}[] in {la.id}, the run saw {seen[0].describe()}",
                    facts, seen, Loc(filename, seen[0].dst_line)))
                continue
            if all(s.certainty == "provable" and s.distance is not None for s in same):
                allowed = {s.distance for s in same}
                wrong = [d for d in seen if not set(d.distances) <= allowed]
                if wrong:
                    out.append(_finding(
                        "bug", la, name, "array",
                        f"the analysis proves {kind} on {name}[] in {la.id} only at distance "
                        f"{', '.join(map(str, sorted(allowed)))}; the run saw {wrong[0].describe()}",  # type: ignore[arg-type]
                        facts, wrong, Loc(filename, wrong[0].dst_line)))
    return out


def _scalar_bugs(la: LoopAnalysis, pl: LoopProfile, filename: str) -> list[Finding]:
    out: list[Finding] = []
    for name in pl.carried_scalars:
        info = la.scalars.get(name)
        if info is not None and info.cls is not ScalarClass.PRIVATE:
            continue
        seen = [d for d in pl.scalars[name] if d.kind == "RAW"]
        claim = "private (defined before use in every iteration)" if info else "not defined in the loop"
        out.append(_finding(
            "bug", la, name, "scalar",
            f"the analysis calls {name} {claim} in {la.id}; the run saw its value carried: {seen[0].describe()}",
            (info.describe(),) if info else (), seen, Loc(filename, seen[0].dst_line)))
    return out


def _candidates(km: KernelModule, la: LoopAnalysis, pl: LoopProfile, filename: str,
                truncated: str | None) -> list[Finding]:
    out: list[Finding] = []
    coverage = f"never observed in {pl.iterations} iterations ({pl.invocations} invocation(s))"
    if truncated:
        coverage += " before recording stopped"
    arrays = sorted({d.array for d in la.array_deps if d.carried and d.array != ANY_ARRAY})
    for name in arrays:
        static = _static_array(la, name)
        if any(d.certainty == "provable" for d in static):
            continue  # a dependence the subscripts prove: no input can remove it
        if pl.arrays.get(name) or any(d.src_name == name for ds in pl.arrays.values() for d in ds):
            continue
        check, reason = None, None
        try:
            check = independence_check(km, la, _loop_node(km, la), (name,))
        except NotCheckable as e:
            reason = e.args[0] if e.args else str(e)
        reasons = sorted({d.reason for d in static})
        out.append(_finding(
            "candidate", la, name, "array",
            f"{name}[]: the analysis assumes a loop-carried dependence ({'; '.join(reasons)}), {coverage}; "
            f"assume_independent = [\"{name}\"] for {la.id}",
            tuple(d.describe() for d in static), [], la.loc, check=check, checkable=check is not None,
            not_checkable=reason))
    for name, info in sorted(la.scalars.items()):
        # a live-out carried scalar also needs its last write in order, which a RAW inside the
        # loop does not show: only in-loop flow is judged
        if info.cls is ScalarClass.CARRIED and not info.live_out and name not in pl.carried_scalars:
            out.append(_finding(
                "candidate", la, name, "scalar",
                f"{name}: carried by the analysis ({info.reason}), {coverage}",
                (info.describe(),), [], la.loc,
                not_checkable="assume_independent covers arrays; a carried scalar keeps its segment"))
    return out


def _finding(severity: str, la: LoopAnalysis, target: str, what: str, message: str, static: tuple[str, ...],
             seen: list[ObservedDep], loc: Loc, **extra: Any) -> Finding:
    return Finding(severity, la.id, la.loc.line, target, what, message, static,
                   tuple(d.describe() for d in seen), loc, **extra)


def _loop_node(km: KernelModule, la: LoopAnalysis) -> cst.For | cst.While:
    fn = km.functions[la.id.split("/")[0]]
    for node in walk(fn):
        if isinstance(node, (cst.For, cst.While)) and km.positions[node].start.line == la.loc.line:
            return node
    raise NotCheckable(f"loop {la.id} not found in the source")
