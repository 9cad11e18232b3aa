"""The records the transform's modules pass each other: what a plan asks of one loop
(:class:`Options`), the sequential segments of its parallel form (:class:`Seg`, joined by
:func:`merge` when two :class:`Overlap`), and :class:`Refused`, raised for a loop out of scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from helixrc.passes.plan import LoopPlan


class Refused(Exception):
    """This loop is outside the scope of the transform; the message says why."""


class Overlap(Exception):
    """Segments ``a`` and ``b`` cannot be bracketed apart: merge them and place again."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(a, b)
        self.a, self.b = a, b


@dataclass
class Seg:
    """One sequential segment of the output: the scalars it turns into cells and its lines."""

    index: int
    scalars: list[str]
    arrays: list[str]
    lines: set[int]
    prologue: bool = False


@dataclass(frozen=True)
class Options:
    """What the plan (or the default) asks for one loop."""

    signals: str
    technique: str | None = None  # None: whatever the analysis found (doall or helix)
    segments: object = "auto"
    reassociate: bool = False
    assume_independent: tuple[str, ...] = ()
    plan: LoopPlan | None = field(default=None, compare=False)
    chunks: str = "blocked"  # relic: "blocked" halves or "interleaved" iterations
    split: str = "iterations"  # relic: split the "iterations", or the body's "statements"


def merge(segs: list[Seg], a: int, b: int) -> list[Seg]:
    """Segments ``a`` and ``b`` become one; the prologue stays first, the others by first line."""
    x, y = segs[a], segs[b]
    joined = Seg(0, [*x.scalars, *(v for v in y.scalars if v not in x.scalars)],
                 [*x.arrays, *(v for v in y.arrays if v not in x.arrays)], x.lines | y.lines, x.prologue or y.prologue)
    rest = [s for i, s in enumerate(segs) if i not in (a, b)] + [joined]
    rest.sort(key=lambda s: (not s.prologue, min(s.lines, default=0)))
    for i, s in enumerate(rest):
        s.index = i
    return rest
