"""Prediction by simulation: run the kernel's parallel form under a plan and hold it to the sequential run.

``saved = sequential cycles - parallel cycles`` on the same machine config (only ``cores``
changes between runs; the original has no parallel loop, so its cycles do not depend on it). Each
parallel run gets fresh copies of the arguments and must return what the sequential run returned
and leave the arguments as it left them, bit for bit; otherwise the plan is rejected with a
:class:`~helixrc.csim.errors.ParallelMismatchWarning` (that is a bug in the analysis or the
transform, never a property of the kernel).
"""

from __future__ import annotations

import dataclasses
import math
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helixrc.api import SimResult, simulate
from helixrc.compare import copy_args
from helixrc.csim.errors import HelixError, KernelError, LanguageError, ParallelMismatchWarning, PlanError
from helixrc.csim.machine import MachineConfig
from helixrc.passes.frontend import KernelModule
from helixrc.passes.plan import Plan
from helixrc.transform_api import transform_kernel


@dataclass(frozen=True)
class Run:
    """One simulated run of a plan: its cycles and statistics, or why it was rejected."""

    cores: int
    cycles: int
    stats: dict[str, Any] | None
    rejected: str | None = None


class Predictor:
    """Simulates one kernel call under plans and core counts, caching each run."""

    def __init__(self, kernel: Callable[..., Any] | str, module: KernelModule, name: str, args: Sequence[Any],
                 config: MachineConfig) -> None:
        self.module, self.name, self.args, self.config = module, name, tuple(args), config
        fresh = copy_args(self.args)
        self.sequential: SimResult = simulate(kernel, fresh, config)  # a KernelError propagates
        self._expected = (self.sequential.value, fresh)
        self._runs: dict[tuple[Plan, int], Run] = {}
        self._functions: dict[Plan, Any] = {}

    def run(self, plan: Plan, cores: int, optional: bool = False) -> Run:
        """The plan's parallel form on ``cores`` cores (rejected if it errs or its results differ).

        ``optional``: a form the simulator does not take yet (a LanguageError) is rejected quietly.
        """
        key = (plan, cores)
        if key not in self._runs:
            self._runs[key] = self._simulate(plan, cores, optional)
        return self._runs[key]

    def refused(self, plan: Plan) -> str | None:
        """Why the transform refuses the plan (a PlanError's message with its hint), or None."""
        if plan not in self._functions:
            try:
                self._functions[plan] = transform_kernel(self.module, self.name, plan).function
            except PlanError as err:
                return f"refused by the transform: {err.message}" + (f" ({err.hint})" if err.hint else "")
        return None

    def _simulate(self, plan: Plan, cores: int, optional: bool) -> Run:
        what = ", ".join(plan.loops) or "no loop"
        try:
            if plan not in self._functions:
                self._functions[plan] = transform_kernel(self.module, self.name, plan).function
            fresh = copy_args(self.args)
            result = simulate(self._functions[plan], fresh, dataclasses.replace(self.config, cores=cores))
        except LanguageError as err:
            if optional:
                return Run(cores, 0, None, f"not simulated: {err.message}")
            return self._reject(cores, what, f"the parallel form is not simulated: {err}")
        except (HelixError, KernelError) as err:
            return self._reject(cores, what, f"the parallel run failed: {type(err).__name__}: {err}")
        diff = _difference((result.value, fresh), self._expected)
        if diff is not None:
            return self._reject(cores, what, f"results differ from the sequential run: {diff}")
        return Run(cores, result.cycles, result.stats)

    def _reject(self, cores: int, what: str, why: str) -> Run:
        message = f"{self.name}: parallel {what} on {cores} cores rejected: {why}"
        warnings.warn(ParallelMismatchWarning(message + " (a helixrc bug: please report it)"), stacklevel=4)
        return Run(cores, 0, None, why)


def _difference(got: Any, want: Any, where: str = "") -> str | None:
    """None when ``got`` equals ``want`` bit for bit (floats by their bits), else where they differ."""
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray) or got.dtype != want.dtype or got.shape != want.shape:
            return f"{where or 'value'}: shape or dtype changed"
        g, w = np.ascontiguousarray(got).reshape(-1), np.ascontiguousarray(want).reshape(-1)
        if g.tobytes() == w.tobytes():
            return None
        i = next(i for i in range(len(w)) if g[i:i + 1].tobytes() != w[i:i + 1].tobytes())
        return f"{where or 'value'}[{i}] (flat index): {g[i]!r} != {w[i]!r}"
    if isinstance(want, (tuple, list)):
        if type(got) is not type(want) or len(got) != len(want):
            return f"{where or 'value'}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            found = _difference(g, w, f"{where}[{i}]" if where else _slot(i))
            if found is not None:
                return found
        return None
    if isinstance(want, float):
        same = isinstance(got, float) and (struct.pack("<d", got) == struct.pack("<d", want)
                                           or (math.isnan(got) and math.isnan(want)))
    else:
        same = type(got) is type(want) and got == want
    return None if same else f"{where or 'value'}: {got!r} != {want!r}"


def _slot(i: int) -> str:
    """Names of the top-level slots of ``(value, args)``."""
    return "return value" if i == 0 else "arguments"
