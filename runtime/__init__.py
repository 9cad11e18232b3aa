"""helixrc: HELIX-RC style parallelization of irregular Python loops, on a modeled multicore.

Public names::

    helixrc.simulate(kernel, args, machine="atom1", **overrides) -> SimResult
    helixrc.MachineConfig, helixrc.resolve_machine, helixrc.PRESETS
    helixrc.HelixError (the root of every error helixrc reports)
"""

from helixrc.api import SimResult, simulate
from helixrc.csim.errors import HelixError, KernelError, LanguageError
from helixrc.csim.machine import PRESETS, MachineConfig, resolve_machine

__all__ = [
    "HelixError", "KernelError", "LanguageError", "MachineConfig", "PRESETS", "SimResult",
    "resolve_machine", "simulate",
]
__version__ = "0.1.0"
