"""helixrc.csim: the simulator core (C, bound with cffi) and the machine configurations.

``machine`` holds :class:`MachineConfig` and its presets; ``binding`` runs encoded programs on the
compiled core; ``opcodes`` reads the instruction set from ``src/opcodes.def``. Importing this
package does not load the compiled core, so configs work without a build.
"""

from .machine import PRESETS, MachineConfig, resolve_machine

__all__ = ["PRESETS", "MachineConfig", "resolve_machine"]
