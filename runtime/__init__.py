"""helixrc: HELIX-RC style parallelization of irregular Python loops, on a modeled multicore.

Public names::

    helixrc.simulate(kernel, args, machine="atom1", **overrides) -> SimResult
    helixrc.transform(kernel, plan=None, signals=None, name=None, machine=None) -> Transformed
    helixrc.Plan, helixrc.load_plan (what plan= accepts, besides a path or a dict)
    helixrc.MachineConfig, helixrc.resolve_machine, helixrc.PRESETS
    helixrc.HelixError (the root of every error helixrc reports), LanguageError, PlanError,
    CheckError (checking mode: simulate(..., check=True))
"""

from helixrc.api import SimResult, simulate
from helixrc.csim.check_report import CheckError
from helixrc.csim.errors import HelixError, KernelError, LanguageError, PlanError
from helixrc.csim.machine import PRESETS, MachineConfig, resolve_machine
from helixrc.passes.plan import Plan, load_plan
from helixrc.transform_api import Transformed, transform

__all__ = [
    "CheckError", "HelixError", "KernelError", "LanguageError", "MachineConfig", "PRESETS", "Plan", "PlanError",
    "SimResult", "Transformed", "load_plan", "resolve_machine", "simulate", "transform",
]
__version__ = "0.1.0"
