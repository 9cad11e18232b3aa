"""The results of the loop dependence analysis: plain frozen records, one per fact.

Every fact a user may read names source things only (variables, arrays, lines), never a node id
or an internal key, so the transform and ``--explain`` can quote them as they are::

    KernelAnalysis(kernel="mcf_pricing", loops={
        "mcf_pricing/L1": LoopAnalysis(
            kind="while", counted=True,
            scalars={"a": induction (a += n_groups, line 40), "nb": carried (line 37), ...},
            array_deps=[bask_arc[nb] WAW bask_arc[nb], carried, distance None, assumed, ...],
            sccs=[..., sequential: nb, bask_arc, bask_rc (lines 37-39)],
            segments=[nb, bask_arc[], bask_rc[] carried on one path (lines 37-39)],
            verdict=HELIX)})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from helixrc.csim.errors import Loc


class ScalarClass(str, Enum):
    """How a scalar defined in a loop behaves across the loop's iterations."""

    PRIVATE = "private"  #: defined before any use in every iteration
    INDUCTION = "induction"  #: recomputable from the iteration number
    REDUCTION = "reduction"  #: only accumulated; privatized and combined after the loop
    CARRIED = "carried"  #: anything else that flows from one iteration to a later one


class DepKind(str, Enum):
    """The kind of a memory dependence, source access first in execution order."""

    RAW = "RAW"  #: write, then read (true dependence)
    WAR = "WAR"  #: read, then write (anti dependence)
    WAW = "WAW"  #: write, then write (output dependence)


class SCCClass(str, Enum):
    """NOELLE's classes for an SCC of the loop dependence graph."""

    INDEPENDENT = "iteration-independent"
    INDUCTION = "induction"
    REDUCTION = "reduction"
    SEQUENTIAL = "sequential"


class VerdictKind(str, Enum):
    DOALL = "DOALL"
    HELIX = "HELIX"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class ScalarInfo:
    """The class of one scalar defined in a loop, and why."""

    name: str
    cls: ScalarClass
    #: possibly read after the loop (or by a return inside it)
    live_out: bool
    #: one sentence naming the deciding statements by line
    reason: str
    #: the lines of the statements that decide the class
    lines: tuple[int, ...]
    #: reductions: the operator ("+", "*", "&", "|", "^", "min", "max", "argmax", "argmin")
    op: str | None = None
    #: reductions: a float accumulator (None when it does not matter)
    is_float: bool | None = None
    #: inductions: the step as source text ("1", "-1", "n_groups")
    step: str | None = None
    #: argmax/argmin: the other variables of the pair (the payload, or the compared value)
    partners: tuple[str, ...] = ()
    #: argmax/argmin: which index wins a tie in sequential order, "first" or "last"
    ties: str | None = None
    #: argmax/argmin: the compared variable of the pair (the others are its payload)
    compared: str | None = None
    #: the lines after the loop that may read the loop's value (a return inside the loop is not one)
    read_after: tuple[int, ...] = ()
    #: a float min/max whose result depends on the order of the values (``f = max(e, f)`` takes a
    #: nan ``e``): no combine of private copies reproduces it, it stays in an ordered segment
    order_sensitive: bool = False

    @property
    def needs_reassociation(self) -> bool:
        """A float sum or product: its parallel combine changes rounding."""
        return self.cls is ScalarClass.REDUCTION and bool(self.is_float) and self.op in ("+", "*")

    def describe(self) -> str:
        """Short form for tables: ``found int reduction (+)``."""
        if self.cls is ScalarClass.REDUCTION:
            kind = "float" if self.is_float else "int"
            if self.op in ("argmax", "argmin"):
                names = ", ".join((self.name, *self.partners))
                return f"{names} {self.op} reduction, ties keep the {self.ties}"
            extra = ", needs reassociation" if self.needs_reassociation else ""
            if self.order_sensitive:
                extra = ", order-sensitive (nan or signed zeros), kept in order"
            return f"{self.name} {kind} reduction ({self.op}){extra}"
        if self.cls is ScalarClass.INDUCTION:
            return f"{self.name} induction (step {self.step})"
        return f"{self.name} {self.cls.value}"


@dataclass(frozen=True)
class AccessRef:
    """One array access as the user wrote it (or as a helper call makes it)."""

    text: str
    line: int
    write: bool


@dataclass(frozen=True)
class ArrayDep:
    """A memory dependence between two accesses of one array inside a loop."""

    array: str
    kind: DepKind
    #: in iterations, source to sink; None when unknown or when every distance occurs
    distance: int | None
    src: AccessRef
    dst: AccessRef
    #: between different iterations (else within one iteration)
    carried: bool
    #: "provable": the subscripts decide it exactly; "assumed": kept because it cannot be disproved
    certainty: str
    reason: str

    def describe(self) -> str:
        src, dst = self.src.line, self.dst.line
        where = f"line {src}" if src == dst else f"lines {src}->{dst}"
        dist = f", distance {self.distance}" if self.distance is not None else ""
        scope = "carried" if self.carried else "same iteration"
        return (
            f"{self.kind.value} {self.src.text} -> {self.dst.text} "
            f"({where}, {scope}{dist}, {self.certainty}: {self.reason})"
        )


@dataclass(frozen=True)
class SCCInfo:
    """A strongly connected component of the loop dependence graph (after NOELLE-style
    normalization: producer and consumer of every loop-carried dependence share a component)."""

    index: int
    cls: SCCClass
    lines: tuple[int, ...]
    #: scalars defined in the component
    scalars: tuple[str, ...]
    #: arrays accessed in the component
    arrays: tuple[str, ...]
    #: reductions: the operator(s)
    op: str | None
    #: why it has its class: the loop-carried dependences inside it, by name and line
    reason: str
    #: the component holds the loop's exit decision (a while test, break or return)
    exit: bool = False


@dataclass(frozen=True)
class Segment:
    """A proposed sequential segment: sequential components merged when they share data."""

    index: int
    sccs: tuple[int, ...]
    #: loop-carried scalars it protects (they become shared cells)
    scalars: tuple[str, ...]
    #: arrays whose loop-carried dependences it protects
    arrays: tuple[str, ...]
    lines: tuple[int, ...]
    #: every path through an iteration runs it (else some paths skip it)
    every_path: bool
    #: holds the loop's exit decision: segment 0, evaluated in iteration order first
    prologue: bool
    #: some of its memory dependences are assumed, not proved
    assumed: bool
    #: the deciding dependences, one phrase each: "nb carried (line 37)"
    deciding: tuple[str, ...]
    #: "nb, bask_arc[], bask_rc[] carried on one path (lines 37-39)"
    summary: str


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    #: the HELIX segments (empty for DOALL; the would-be segments for a REFUSED loop)
    segments: tuple[Segment, ...]
    #: the deciding dependences by variable/array and line
    deciding: tuple[str, ...]
    #: one line: "HELIX: 1 segment: nb carried on one path (lines 37-39)"
    text: str


@dataclass
class LoopAnalysis:
    """Everything the analysis knows about one loop."""

    id: str
    kind: str  # "for" or "while"
    loc: Loc
    parent: str | None
    #: the trip count is known before the loop starts (a for loop, or a while loop whose test
    #: compares an induction variable with a loop-invariant bound, without break or return)
    counted: bool
    #: a for loop, or a while loop whose test compares an induction variable with a
    #: loop-invariant bound (each iteration can decide the test alone)
    governed: bool
    #: the loop can leave early: break or return inside it, or a while test that is not counted
    has_early_exit: bool
    #: lines of the exits that need the prologue (while test, break, return)
    exit_lines: tuple[int, ...]
    #: each scalar defined in the loop -> its class
    scalars: dict[str, ScalarInfo]
    array_deps: list[ArrayDep]
    sccs: list[SCCInfo]
    segments: list[Segment]
    verdict: Verdict
    #: float reductions that stay in an ordered segment unless the plan allows reassociation
    float_reductions: tuple[str, ...] = ()
    #: pairs of distinct array parameters assumed not to overlap (one of them written here)
    assumed_no_alias: tuple[tuple[str, str], ...] = ()
    #: other assumptions the verdict relies on, one sentence each
    assumptions: tuple[str, ...] = ()
    #: static estimate: on the most parallel path, the share of an iteration's work outside the
    #: segments (1.0 for DOALL); the cost model should prefer profiles
    parallel_share: float = 1.0
    #: helper kernels called inside the loop
    helper_calls: tuple[str, ...] = ()
    #: arrays a store in the loop may write, helpers' stores included ("*": an array local that
    #: may stand for several arrays); an array outside it is read-only in the loop
    written_arrays: tuple[str, ...] = ()


@dataclass
class KernelAnalysis:
    kernel: str
    filename: str
    #: every loop of the kernel, nested ones too, in loop-forest order
    loops: dict[str, LoopAnalysis]
    #: assumptions the transform should check at run time (array overlap, index wrap-around)
    assumptions: list[str] = field(default_factory=list)
    #: helper kernels (transitively) and the array parameters each reads and writes
    helpers: dict[str, HelperSummary] = field(default_factory=dict)


@dataclass(frozen=True)
class Lin:
    """A linear form over a helper's parameters: ``const + sum(coef * param[i])``."""

    terms: tuple[tuple[int, int], ...]
    const: int = 0


#: per dimension, a linear form over the helper's parameters, or None when not mappable
Template = tuple["Lin | None", ...]


@dataclass(frozen=True)
class HelperSummary:
    """What a helper kernel does to its array parameters, transitively through its callees."""

    name: str
    params: tuple[str, ...]
    #: positions of the parameters used as arrays
    array_params: frozenset[int]
    #: (parameter position, subscript template or None for an unknown index)
    reads: tuple[tuple[int, Template | None], ...]
    writes: tuple[tuple[int, Template | None], ...]
    #: static cost estimate (statements, loops weighted), for segment span estimates
    weight: float
    #: why it cannot be summarized (a loop calling it is refused), else None
    problem: str | None = None

    def array_names(self, positions: set[int] | frozenset[int]) -> list[str]:
        return [self.params[i] for i in sorted(positions)]

    @property
    def written(self) -> list[str]:
        return self.array_names({p for p, _ in self.writes})

    @property
    def read(self) -> list[str]:
        return self.array_names({p for p, _ in self.reads})
