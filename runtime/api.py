"""The Python API: simulate a kernel call on a modeled machine.

    >>> res = helixrc.simulate("samples/art_f2_match.py::art_f2_match", args, machine="atom1")
    >>> res.value, res.cycles, res.stats["cpi_stack"]

The kernel runs on the simulator, not in CPython: its value and its mutations of the arguments
are the simulator's, and equal CPython's bit for bit. Cycle counts are the model's numbers for
the named machine config, echoed in ``stats["machine"]``; they are not measurements of hardware.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from helixrc.args import marshal, signature_of
from helixrc.csim import binding
from helixrc.csim.check_report import violation_error
from helixrc.csim.errors import KernelIndexError, SimulatorError
from helixrc.csim.machine import MachineConfig, check_from_env, resolve_machine
from helixrc.csim.opcodes import Opcode, Status
from helixrc.passes.encode import Encoded
from helixrc.passes.ir import Scalar
from helixrc.passes.pipeline import compile_kernel
from helixrc.resolve import resolve_kernel
from helixrc.stats import build_stats
from helixrc.trace import DEFAULT_TRACE_LIMIT, build_trace, write_trace


@dataclass
class SimResult:
    """One simulated call: what the kernel returned, and what it cost on the modeled machine."""

    #: the kernel's return value, exactly as CPython's call would give it
    value: Any
    cycles: int
    instructions: int
    #: the JSON-ready statistics (see runtime/stats.py)
    stats: dict[str, Any]
    machine: MachineConfig
    #: the Chrome/Perfetto trace-event object (runtime/trace.py) when simulated with trace=...
    trace: dict[str, Any] | None = None

    def write_trace(self, path: str | os.PathLike[str]) -> None:
        """Write the trace as JSON to path (open it in ui.perfetto.dev or chrome://tracing)."""
        write_trace(self.trace, path)


def simulate(kernel: Callable[..., Any] | str, args: Sequence[Any], machine: str | MachineConfig = "atom1",
             *, func: str | None = None, trace: bool | str | os.PathLike[str] = False,
             trace_limit: int = DEFAULT_TRACE_LIMIT, **overrides: Any) -> SimResult:
    """Run ``kernel(*args)`` on the simulator; args are mutated as the original call would.

    ``overrides`` replace machine fields, e.g. ``cores=4`` or ``check=True`` (checking mode: a
    parallel loop whose accesses break sequential order raises :class:`CheckError`). With the
    environment variable ``HELIXRC_SIM_CHECK=1`` checking mode is on unless ``check`` is passed.
    ``trace`` records a Chrome/Perfetto trace of the run (``SimResult.trace``), keeping at most
    ``trace_limit`` events; a path also writes it there.
    """
    if "check" not in overrides and check_from_env():
        overrides["check"] = True
    config = resolve_machine(machine, **overrides)
    module, name = resolve_kernel(kernel, func)
    compiled, cached = compile_kernel(module, name, signature_of(args))
    fn = compiled.lowered.function
    call = marshal(args, fn)
    try:
        outcome = binding.run(compiled.program, compiled.encoded.const_init + call.reg_init,
                              call.arrays, config, trace_limit=trace_limit if trace is not False else None)
    finally:
        for step in call.finish:
            step()
        call.buffers.clear()
    if outcome.status == Status.CHECK_VIOLATION and outcome.violation is not None:
        # the arrays as the run laid them out: the slot names, the cells among the scratch regions
        raise violation_error(SimpleNamespace(**outcome.violation), call.arrays,
                              [slot.name for slot in fn.arrays], compiled.encoded.locs,
                              {region.slot.slot for region in fn.scratch}, module.source)
    if outcome.status != Status.OK:
        raise _kernel_error(outcome, compiled.encoded, fn.arrays)
    value = _return_value(outcome, compiled.encoded, fn.returns_tuple)
    label = f"{module.filename}::{name}"
    stats = build_stats(label, compiled.encoded, outcome, config, compiled.compile_seconds, cached)
    result = SimResult(value, stats["cycles"], stats["instructions"], stats, config)
    if outcome.trace is not None:
        result.trace = build_trace(outcome.trace, outcome.trace_dropped, config, label, result.cycles)
        if not isinstance(trace, bool):
            result.write_trace(trace)
    return result


def _return_value(outcome: binding.RunOutcome, encoded: Encoded, as_tuple: bool) -> Any:
    regs = encoded.returns[outcome.pc]
    values = []
    for reg, t in regs:
        if t == Scalar.F64:
            values.append(outcome.reg_float(reg))
        elif t == Scalar.BOOL:
            values.append(bool(outcome.reg_int(reg)))
        else:
            values.append(outcome.reg_int(reg))
    if not values:
        return None
    return tuple(values) if as_tuple else values[0]


def _kernel_error(outcome: binding.RunOutcome, encoded: Encoded, arrays: list[Any]) -> Exception:
    loc = encoded.locs[outcome.pc] if 0 <= outcome.pc < len(encoded.locs) else None
    cls = binding.KERNEL_EXCEPTIONS.get(outcome.status)
    if cls is None:
        return SimulatorError(f"{Status(outcome.status).name}: {outcome.message}", loc)
    message = outcome.message
    if outcome.pc in encoded.raises:
        kind, text = encoded.raises[outcome.pc]
        message = text or ("assertion failed" if kind == "assertion" else message)
    op, aux = encoded.code[outcome.pc][0], encoded.code[outcome.pc][1]
    if cls is KernelIndexError and op in (Opcode.LOAD, Opcode.LOAD_RO, Opcode.STORE_I, Opcode.STORE_F):
        slot = arrays[aux]
        if slot.type.is_list:
            what = "list index" if op in (Opcode.LOAD, Opcode.LOAD_RO) else "list assignment index"
            message = f"{what} out of range"
        message = f"{message} (array '{slot.name}')"
    return cls(message, loc)
