"""``@helixrc.parallelize``: call a kernel and have it run parallelized on a modeled machine.

    >>> @helixrc.parallelize(machine="helixrc16")
    ... def dfa_match_batch(text, rec_lo, delta, out): ...
    >>> dfa_match_batch(*args)          # what the original returns; args mutated as it would
    13
    >>> print(dfa_match_batch.report)   # machine, loops and verdicts, cycles, speedup
    >>> dfa_match_batch.last_result     # the helixrc.RunResult of the last simulated call

Planning happens once per wrapper: the kernel is transformed and both forms are simulated on the
first call's arguments (or on ``profile_inputs``, a tuple of arguments, when given). If the kernel
is outside the kernel language, nothing in it is transformed, or the parallel form is slower than
the sequential run (speedup under ``min_speedup``), the wrapper says why with a
:class:`FallbackWarning` and from then on calls the original in CPython; ``strict=True`` raises
:class:`ParallelizeError` instead. Every other call runs through :func:`helixrc.run` with the
plan made once, so each result is checked against the sequential simulation.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from helixrc.csim.errors import HelixError, LanguageError
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.passes.plan import Plan
from helixrc.run import RunResult, execute, run_transformed, transform_for
from helixrc.compare import copy_args, write_back
from helixrc.transform_api import PlanLike, Transformed

__all__ = ["FallbackWarning", "Parallelized", "ParallelizeError", "parallelize"]


class FallbackWarning(UserWarning):
    """A ``@helixrc.parallelize`` kernel runs as the original in CPython; the message says why."""


class ParallelizeError(HelixError):
    """``@helixrc.parallelize(strict=True)`` could not run the kernel parallelized; the message says why."""


class Parallelized:
    """The wrapper ``@helixrc.parallelize`` returns: call it as the kernel."""

    def __init__(self, fn: Callable[..., Any], config: MachineConfig, plan: PlanLike | None,
                 strict: bool, profile_inputs: Sequence[Any] | None, min_speedup: float) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._config = config
        self._plan_arg = plan
        self._strict = strict
        self._profile_inputs = tuple(profile_inputs) if profile_inputs is not None else None
        self._min_speedup = min_speedup
        self._transformed: Transformed | None = None
        #: why the kernel runs as the original in CPython; None while it runs parallelized
        self.fallback: str | None = None
        self._planned = False
        self._measured_on = ""
        #: the RunResult of the last simulated call (the planning run, for a kernel that fell back)
        self.last_result: RunResult | None = None

    # -- what planning found -------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The transformed module's source (None before planning, or outside the language)."""
        self._plan_from_profile()
        return self._transformed.source if self._transformed is not None else None

    @property
    def plan(self) -> Plan | None:
        """The plan applied: the one given, or the transform's own choices (None before planning)."""
        self._plan_from_profile()
        return self._transformed.plan if self._transformed is not None else None

    @property
    def report(self) -> str:
        """Machine, each loop's outcome, cycles and speedup, and how calls run."""
        self._plan_from_profile()
        return self._format_report()

    # -- calls ---------------------------------------------------------------------------------

    def __call__(self, *args: Any) -> Any:
        if not self._planned:
            return self._first_call(args)
        if self.fallback is not None or self._transformed is None:
            return self._fn(*args)
        self.last_result = run_transformed(self._fn, self._transformed, args, self._config)
        return self.last_result.value

    def _first_call(self, args: tuple[Any, ...]) -> Any:
        if self._profile_inputs is not None:
            self._plan_on(copy_args(self._profile_inputs), "profile_inputs")
            return self(*args)
        result, final_args = self._plan_on(args, "the first call's arguments")
        if self.fallback is not None or result is None:
            return self._fn(*args)
        write_back(args, final_args)
        return result.value

    def _plan_from_profile(self) -> None:
        if not self._planned and self._profile_inputs is not None:
            self._plan_on(copy_args(self._profile_inputs), "profile_inputs")

    def _plan_on(self, args: tuple[Any, ...], what: str) -> tuple[RunResult | None, tuple[Any, ...]]:
        """Transform once, simulate both forms on ``args`` and decide how calls run from now on.

        ``args`` are only mutated when the kernel raises (they then hold the original's state);
        planning is then not finished, and the next call tries again.
        """
        try:
            if self._transformed is None:
                self._transformed = transform_for(self._fn, self._config, self._plan_arg)
        except LanguageError as err:
            self._decide(f"{self.__name__} is outside the kernel language: {err}")
            return None, args
        result, final_args = execute(self._fn, self._transformed, args, self._config)
        self.last_result = result
        self._measured_on = what
        if result.note is not None:
            self._decide(result.note)
        elif result.speedup < self._min_speedup:
            self._decide(
                f"the parallel form is not faster on {self._config.name}: {result.cycles} cycles against "
                f"{result.sequential_cycles} sequential (speedup {result.speedup:.3f}, "
                f"below {self._min_speedup:g})"
            )
        else:
            self._decide(None)
        return result, final_args

    def _decide(self, reason: str | None) -> None:
        self._planned = True
        self.fallback = reason
        if reason is None:
            return
        if self._strict:
            raise ParallelizeError(f"{self.__name__}: {reason}",
                                   hint="strict=False runs it as the original in CPython instead")
        warnings.warn(f"{self.__name__} runs as the original in CPython: {reason}", FallbackWarning,
                      stacklevel=5)

    def _format_report(self) -> str:
        config = self._config
        lines = [f"helixrc.parallelize: {self.__name__} on {config.name} ({config.description})"]
        if not self._planned:
            lines.append("not planned yet: planning happens on the first call (or on profile_inputs=)")
            return "\n".join(lines)
        t = self._transformed
        if t is not None:
            lines.append(f"plan: {t.plan.source}")
            lines.append("loops:")
            lines += [f"  {lid}: {outcome}" for lid, outcome in t.loops.items()] or ["  (no loops)"]
        r = self.last_result
        if r is not None:
            lines.append(f"cycles (on {self._measured_on}): {r.cycles} parallel, "
                         f"{r.sequential_cycles} sequential; speedup {r.speedup:.2f}x")
        if self.fallback is None:
            lines.append("calls run: parallelized on the simulator, each checked against the sequential run")
        else:
            lines.append(f"calls run: as the original in CPython, because {self.fallback}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<helixrc.parallelize {self.__name__} on {self._config.name}>"


def parallelize(machine: str | MachineConfig | Callable[..., Any] = "helixrc16", plan: PlanLike | None = None,
                strict: bool = False, profile_inputs: Sequence[Any] | None = None, min_speedup: float = 1.0,
                **overrides: Any) -> Any:
    """Decorate a kernel so that calling it runs it parallelized on ``machine`` (see the module docstring).

    ``plan`` is what :func:`helixrc.transform` takes; ``overrides`` replace machine fields.
    ``@helixrc.parallelize`` without parentheses uses the defaults. The machine is resolved at
    decoration time, so an unknown preset fails there with :class:`~helixrc.MachineError`.
    """
    if callable(machine):
        return parallelize()(machine)
    config = resolve_machine(machine, **overrides)

    def decorate(fn: Callable[..., Any]) -> Parallelized:
        return Parallelized(fn, config, plan, strict, profile_inputs, min_speedup)

    return decorate
