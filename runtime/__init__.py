"""helixrc: HELIX-RC style parallelization of irregular Python loops, on a modeled multicore.

Public names::

    helixrc.simulate(kernel, args, machine="atom1", **overrides) -> SimResult
    helixrc.transform(kernel, plan=None, signals=None, name=None) -> Transformed
    helixrc.run(kernel, args, machine="helixrc16", plan=None, **overrides) -> RunResult
    @helixrc.parallelize(machine="helixrc16", plan=None, strict=False, profile_inputs=None)
    helixrc.FallbackWarning (a parallelized kernel runs as the original), ParallelizeError
    helixrc.ResultMismatchError (the parallel form disagreed with the sequential run)
    helixrc.Plan, helixrc.load_plan (what plan= accepts, besides a path or a dict)
    helixrc.MachineConfig, helixrc.resolve_machine, helixrc.PRESETS
    helixrc.HelixError (the root of every error helixrc reports), LanguageError, PlanError
"""

from helixrc.api import SimResult, simulate
from helixrc.csim.errors import HelixError, KernelError, LanguageError, PlanError
from helixrc.csim.machine import PRESETS, MachineConfig, resolve_machine
from helixrc.decorator import FallbackWarning, ParallelizeError, parallelize
from helixrc.passes.plan import Plan, load_plan
from helixrc.run import ResultMismatchError, RunResult, run
from helixrc.transform_api import Transformed, transform

__all__ = [
    "FallbackWarning", "HelixError", "KernelError", "LanguageError", "MachineConfig", "PRESETS",
    "ParallelizeError", "Plan", "PlanError", "ResultMismatchError", "RunResult", "SimResult",
    "Transformed", "load_plan", "parallelize", "resolve_machine", "run", "simulate", "transform",
]
__version__ = "0.1.0"
