"""helixrc: HELIX-RC style parallelization of irregular Python loops, on a modeled multicore.

Public names::

    helixrc.simulate(kernel, args, machine="atom1", **overrides) -> SimResult
    helixrc.transform(kernel, plan=None, signals=None, name=None, machine=None) -> Transformed
    helixrc.run(kernel, args, machine="helixrc16", plan=None, **overrides) -> RunResult
    @helixrc.parallelize(machine="helixrc16", plan=None, strict=False, profile_inputs=None)
    helixrc.FallbackWarning (a parallelized kernel runs as the original), ParallelizeError
    helixrc.ResultMismatchError (the parallel form disagreed with the sequential run)
    helixrc.Plan, helixrc.load_plan (what plan= accepts, besides a path or a dict)
    helixrc.MachineConfig, helixrc.resolve_machine, helixrc.PRESETS
    helixrc.profile_dependences(fn, args, *, max_iterations=200_000, max_accesses=1_000_000,
                                copy_args=True, follow_calls=False) -> DynamicDeps
        runs fn instrumented in CPython (any Python function) and returns per loop the observed
        loop-carried RAW/WAR/WAW dependences on arrays and scalars, their distances, counts and
        lines, and fn's return value (docs/profiler.md)
    helixrc.cross_check(fn, args, strict=False) -> CrossCheck
        the static loop dependences against a profile: "bug" findings (the run saw what the
        analysis proves absent; AnalysisBugWarning, or AnalysisBugError when strict) and
        "candidate" findings for assume_independent, with the run-time check they would need
    helixrc.advise(kernel, args=None, machine="helixrc16", size=None, cores=(1, 2, 4, 8, 16),
                   profile=True, *, seed=0, thresholds=Thresholds(), **overrides) -> Advice
        hot loops, per-loop verdicts and predicted gains by simulation, the loop selection on the
        loop forest, and the recommended plan (.plan, .format(), .to_dict(), .predicted_speedup;
        docs/adviser.md)
    helixrc.HelixError (the root of every error helixrc reports), LanguageError, PlanError,
    ProfileError, AnalysisBugError, AdviseError, CheckError (checking mode: simulate(..., check=True));
    helixrc.AnalysisBugWarning, ParallelMismatchWarning
"""

from helixrc.advise import Advice, Thresholds, advise
from helixrc.api import SimResult, simulate
from helixrc.csim.check_report import CheckError
from helixrc.csim.errors import (
    AdviseError,
    AnalysisBugError,
    AnalysisBugWarning,
    HelixError,
    KernelError,
    LanguageError,
    ParallelMismatchWarning,
    PlanError,
    ProfileError,
)
from helixrc.csim.machine import PRESETS, MachineConfig, resolve_machine
from helixrc.decorator import FallbackWarning, ParallelizeError, parallelize
from helixrc.passes.plan import Plan, load_plan
from helixrc.profile import CrossCheck, DynamicDeps, cross_check, profile_dependences
from helixrc.run import ResultMismatchError, RunResult, run
from helixrc.transform_api import Transformed, transform

__all__ = [
    "AdviseError", "Advice", "AnalysisBugError", "AnalysisBugWarning", "CheckError", "CrossCheck", "DynamicDeps",
    "FallbackWarning", "HelixError", "KernelError", "LanguageError", "MachineConfig", "PRESETS",
    "ParallelMismatchWarning", "ParallelizeError", "Plan", "PlanError", "ProfileError", "ResultMismatchError",
    "RunResult", "SimResult", "Thresholds", "Transformed", "advise", "cross_check", "load_plan", "parallelize",
    "profile_dependences", "resolve_machine", "run", "simulate", "transform",
]
__version__ = "0.1.0"
