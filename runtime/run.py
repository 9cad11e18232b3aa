"""Run a kernel parallelized on a modeled machine: ``helixrc.run``.

    >>> res = helixrc.run(dfa_match_batch, args, machine="helixrc16")
    >>> res.value                           # what dfa_match_batch(*args) returns; args mutated as it would
    >>> res.cycles, res.sequential_cycles, res.speedup
    >>> print(res.source)                   # the parallel form that ran

The kernel is transformed (with ``plan``, or the transform's default choice), then the original
and the parallel form are each simulated on the same machine config, on their own copies of the
arguments. The parallel run must give the sequential run's results bit for bit (the return value
and every argument's final state); then its array contents are written back into the caller's
arguments. A mismatch is a bug in helixrc, reported as :class:`ResultMismatchError`.

The signal semantics of the parallel form come from the machine's ``signals`` field
(``helixrc16`` uncoupled, ``conventional16`` coupled); a machine that runs ``"either"`` gets
``"uncoupled"``. A plan sets its own signals and wins over the machine's (and the simulation
then rejects a loop whose semantics the machine does not run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from helixrc.api import SimResult, simulate
from helixrc.compare import args_difference, copy_args, first_difference, write_back
from helixrc.csim.errors import HelixError, KernelError, Loc
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.passes.plan import PARALLEL_TECHNIQUES, TASK_TECHNIQUES, Plan
from helixrc.resolve import resolve_kernel
from helixrc.transform_api import PlanLike, Transformed, transform

__all__ = ["ResultMismatchError", "RunResult", "run", "run_transformed", "signals_for", "transform_for"]

#: the signal semantics of a machine config that does not name any
DEFAULT_SIGNALS = "uncoupled"

Kernel = Callable[..., Any] | str


class ResultMismatchError(HelixError, AssertionError):
    """The parallel form gave a different result from the original's on the simulator."""


@dataclass
class RunResult:
    """A kernel call run in parallel form on a modeled machine, against its sequential run."""

    #: the kernel's return value, exactly what the original call returns
    value: Any
    #: the parallel run's cycles (the sequential run's when nothing was transformed)
    cycles: int
    sequential_cycles: int
    #: sequential_cycles / cycles
    speedup: float
    #: the parallel run's statistics (runtime/stats.py); each ``parallel_loops`` entry also has the
    #: loop's ``id``, ``sequential_cycles`` (the same loop in the sequential run) and ``speedup``
    stats: dict[str, Any]
    sequential_stats: dict[str, Any]
    #: the transformed module's source, as it ran
    source: str
    #: the plan applied: the one given, or the transform's own choices
    plan: Plan
    #: the resolved machine config both runs used
    machine: MachineConfig
    #: each loop id -> what the transform did with it
    loops: dict[str, str] = field(default_factory=dict)
    #: why the result is not a parallel run (nothing was transformed), else None
    note: str | None = None

    @property
    def transformed(self) -> bool:
        """Whether a parallel form ran (some loop was transformed)."""
        return self.note is None


def signals_for(config: MachineConfig) -> str:
    """The signal semantics a machine config asks for: its ``signals`` field, uncoupled for
    ``"either"``."""
    return config.signal_semantics or DEFAULT_SIGNALS


def transform_for(kernel: Kernel, config: MachineConfig, plan: PlanLike | None = None) -> Transformed:
    """Transform ``kernel`` for ``config``: with ``plan``, or the default choice with the machine's signals."""
    if plan is not None:
        return transform(kernel, plan=plan)
    return transform(kernel, signals=signals_for(config))


def run(kernel: Kernel, args: Sequence[Any], machine: str | MachineConfig = "helixrc16",
        plan: PlanLike | None = None, **overrides: Any) -> RunResult:
    """Run ``kernel(*args)`` in parallel form on ``machine``; ``args`` are mutated as the original's call would.

    ``kernel`` is a function, ``"FILE::FUNC"`` or source text (as for :func:`helixrc.simulate`);
    ``plan`` what :func:`helixrc.transform` takes; ``overrides`` replace machine fields.

    Raises :class:`~helixrc.MachineError` for an unknown machine, :class:`~helixrc.LanguageError`
    for a kernel outside the language, the kernel's own exception (an ``IndexError`` ...) when
    the original raises, and :class:`ResultMismatchError` when the parallel run disagrees.
    """
    config = resolve_machine(machine, **overrides)
    return run_transformed(kernel, transform_for(kernel, config, plan), args, config)


def run_transformed(kernel: Kernel, transformed: Transformed, args: Sequence[Any],
                    config: MachineConfig) -> RunResult:
    """:func:`run` with the transform already done (the decorator plans once, then runs many calls)."""
    result, final_args = execute(kernel, transformed, args, config)
    write_back(args, final_args)
    return result


def execute(kernel: Kernel, transformed: Transformed, args: Sequence[Any], config: MachineConfig,
            rtol: float | None = None) -> tuple[RunResult, tuple[Any, ...]]:
    """Both simulations on copies of ``args``: the result, and the arguments' final state.

    The caller's ``args`` are left alone unless the original raises: then they get the state the
    original left them in, as a failed call in CPython would, and its exception propagates.
    ``rtol`` lets floats of the two runs differ by that relative tolerance (a plan that
    reassociates float reductions); without it they must be the same bits.
    """
    args = tuple(args)
    seq_args = copy_args(args)
    try:
        seq = simulate(kernel, seq_args, config)
    except KernelError:
        write_back(args, seq_args)
        raise
    note = _untransformed_note(transformed)
    if note is not None:
        return _result(seq, seq, transformed, config, note), seq_args
    par_args = copy_args(args)
    par = simulate(transformed.function, par_args, config)
    _check_same(kernel, seq.value, par.value, seq_args, par_args, rtol)
    return _result(par, seq, transformed, config, None), par_args


def _result(par: SimResult, seq: SimResult, transformed: Transformed, config: MachineConfig,
            note: str | None) -> RunResult:
    stats = par.stats
    if note is None and "parallel_loops" in stats:
        stats = {**stats, "parallel_loops": loop_speedups(stats, seq.stats, transformed.loops)}
    return RunResult(
        value=par.value, cycles=par.cycles, sequential_cycles=seq.cycles,
        speedup=seq.cycles / par.cycles if par.cycles else 1.0,
        stats=stats, sequential_stats=seq.stats, source=transformed.source,
        plan=transformed.plan, machine=config, loops=dict(transformed.loops), note=note,
    )


def loop_speedups(stats: dict[str, Any], sequential: dict[str, Any],
                  outcomes: dict[str, str]) -> list[dict[str, Any]]:
    """The parallel run's ``parallel_loops`` entries, each with ``sequential_cycles`` (the cycles
    the same loop took in the sequential run) and ``speedup`` over them.

    A parallel loop is named by its PAR_BEGIN's line in the transformed source; the parallel run's
    loop at that line gives its id, which the original's loop keeps, and the sequential run's loop
    of that id its inclusive cycles (as the adviser's hotspots count them). An entry whose loop
    cannot be named so (not a loop the transform parallelized) is left as it is.
    """
    ids = {(e["file"], e["line"]): e["id"] for e in stats["loops"]}
    seq_cycles = {e["id"]: e["cycles"] for e in sequential["loops"]}
    out = []
    for entry in stats["parallel_loops"]:
        lid = ids.get((entry["file"], entry["line"]))
        if lid in seq_cycles and is_parallel(outcomes.get(lid, "")):
            cycles = seq_cycles[lid]
            entry = {**entry, "id": lid, "sequential_cycles": cycles,
                     "speedup": round(cycles / entry["cycles"], 4) if entry["cycles"] else 0.0}
        out.append(entry)
    return out


def is_parallel(outcome: str) -> bool:
    """Whether a loop outcome of the transform (``"HELIX, uncoupled, 1 segment"``, ``"Relic, blocked
    chunks, 2 tasks"``) runs on more than one context."""
    technique = outcome.split(", ", 1)[0].lower()
    return technique in PARALLEL_TECHNIQUES or technique in TASK_TECHNIQUES


def _untransformed_note(transformed: Transformed) -> str | None:
    """Why no parallel form runs, or None when some loop was transformed."""
    if any(is_parallel(outcome) for outcome in transformed.loops.values()):
        return None
    if not transformed.loops:
        return f"nothing was transformed: {transformed.name} has no loops"
    reasons = "; ".join(f"{lid}: {outcome}" for lid, outcome in transformed.loops.items())
    return f"nothing was transformed ({reasons})"


def _check_same(kernel: Kernel, seq_value: Any, par_value: Any, seq_args: Sequence[Any],
                par_args: Sequence[Any], rtol: float | None) -> None:
    module, name = resolve_kernel(kernel)
    node = module.functions.get(name)
    names = [p.name.value for p in node.params.params] if node is not None else []
    diff = (first_difference(seq_value, par_value, "return value", rtol)
            or args_difference(seq_args, par_args, names, rtol))
    if diff is None:
        return
    loc = module.loc(node) if node is not None else Loc(module.filename, 1)
    raise ResultMismatchError(
        f"the parallel form of {name} gave a different result from the sequential run: "
        f"{diff} (sequential vs parallel)",
        loc,
        hint="this is a helixrc bug; helixrc.run(..., plan=...) with the loop set to "
             "'sequential' avoids it meanwhile",
    )
