"""The results of a dynamic dependence profile: plain records that name source things only.

::

    DynamicDeps(function="hist", value=None, loops={
        "hist/L1": LoopProfile(line=3, iterations=1000, arrays={
            "h": [ObservedDep(RAW h[...] line 4 -> line 4, distances {1: 12, 7: 3, ...}), ...]},
            scalars={}),
    }, truncated=None)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ObservedDep:
    """One loop-carried dependence seen at run time, between two access sites."""

    #: "RAW", "WAR" or "WAW" (source access first in execution order)
    kind: str
    #: the array or scalar, as the sink access names it
    target: str
    #: "array" or "scalar"
    what: str
    #: the source access's line and name (an alias may name the same memory differently)
    src_line: int
    src_name: str
    dst_line: int
    #: distance in iterations of the carrying loop -> how often
    distances: dict[int, int]
    #: how often the dependence occurred
    count: int
    #: for accesses inside a followed helper: "helper:line" of the source / the sink
    src_via: str | None = None
    dst_via: str | None = None

    @property
    def min_distance(self) -> int:
        return min(self.distances)

    def describe(self) -> str:
        where = f"line {self.src_line}" if self.src_line == self.dst_line else f"lines {self.src_line}->{self.dst_line}"
        vias = [v for v in (self.src_via, self.dst_via) if v]
        if vias:
            where += " (in " + ", ".join(dict.fromkeys(vias)) + ")"
        alias = f" (written as {self.src_name})" if self.src_name != self.target else ""
        dist = ", ".join(f"{d}: {n}" for d, n in sorted(self.distances.items())[:6])
        more = ", ..." if len(self.distances) > 6 else ""
        return f"{self.kind} {self.target}{alias}, {where}, {self.count}x, distances {{{dist}{more}}}"


@dataclass
class LoopProfile:
    """What one loop did: trip counts and the dependences it carried."""

    id: str
    kind: str  # "for" or "while"
    #: the line of the `for` / `while` keyword (the static analysis's loop line)
    line: int
    parent: str | None
    #: entries of the loop that ran at least one iteration
    invocations: int
    #: iterations over all invocations, and the longest invocation
    iterations: int
    max_trip: int
    #: array name -> its loop-carried dependences
    arrays: dict[str, list[ObservedDep]] = field(default_factory=dict)
    #: scalar name -> its loop-carried dependences (a RAW marks a carried value; WAR/WAW alone
    #: mean the variable is rewritten each iteration, privatizable)
    scalars: dict[str, list[ObservedDep]] = field(default_factory=dict)

    def deps(self, target: str | None = None, kind: str | None = None) -> list[ObservedDep]:
        """The dependences on ``target`` (array or scalar; all if None) of ``kind`` (all if None)."""
        found = [d for ds in (*self.arrays.values(), *self.scalars.values()) for d in ds]
        return [d for d in found if (target is None or d.target == target) and (kind is None or d.kind == kind)]

    @property
    def carried_scalars(self) -> list[str]:
        """Scalars whose value flowed from one iteration to a later one (a RAW)."""
        return sorted(n for n, ds in self.scalars.items() if any(d.kind == "RAW" for d in ds))

    @property
    def mean_trip(self) -> float:
        return self.iterations / self.invocations if self.invocations else 0.0


@dataclass
class DynamicDeps:
    """The profile of one call: its return value and every loop's observed dependences."""

    function: str
    filename: str
    #: what the function returned (the uninstrumented function returns the same)
    value: Any
    #: every loop of the function by id, in source order (loops that never ran have 0 iterations)
    loops: dict[str, LoopProfile]
    #: element and scalar accesses recorded
    accesses: int
    #: None, or why and where recording stopped early (max_iterations / max_accesses)
    truncated: str | None = None
    #: what the profile could not see, one sentence each
    notes: list[str] = field(default_factory=list)

    def loop_at(self, line: int) -> LoopProfile:
        """The loop whose `for` / `while` keyword is on ``line``."""
        for loop in self.loops.values():
            if loop.line == line:
                return loop
        raise KeyError(f"no loop of {self.function} starts on line {line}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the return value as its repr; distance keys stay ints)."""
        data = asdict(self)
        data["value"] = repr(self.value)
        return data

    def format(self) -> str:
        """A readable listing: per loop its trip counts, then each observed dependence."""
        out = [f"{self.filename}: {self.function}: {self.accesses} accesses recorded"]
        if self.truncated:
            out.append(f"  TRUNCATED: {self.truncated}")
        for loop in self.loops.values():
            out.append(
                f"  {loop.id} ({loop.kind}, line {loop.line}): {loop.invocations} invocation(s), "
                f"{loop.iterations} iterations, longest {loop.max_trip}"
            )
            carried = loop.carried_scalars
            deps = [d for ds in loop.arrays.values() for d in ds]
            deps += [d for n in carried for d in loop.scalars[n] if d.kind == "RAW"]
            if not deps:
                out.append("    no loop-carried dependence observed")
            for d in deps:
                out.append(f"    {d.what} {d.describe()}")
            private = sorted(set(loop.scalars) - set(carried))
            if private:
                out.append(f"    rewritten in every iteration before use (WAR/WAW only): {', '.join(private)}")
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)
