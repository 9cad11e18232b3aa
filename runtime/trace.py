"""The Chrome/Perfetto trace of a simulation: ``helixrc.simulate(..., trace=True).trace``.

The simulator's scheduler records its events (csim/src/trace.h) and this module turns them into
the Trace Event Format's JSON object, which ui.perfetto.dev and chrome://tracing open:

- each core is a process (``pid`` = core + 1), each context a thread (``tid`` = worker + 2; the
  main context, on core 0, is ``tid`` 1), named by ``"ph": "M"`` events;
- complete slices (``"ph": "X"``): each parallel loop on the main context; each iteration on its
  worker; each sequential segment, from its ``WAIT k`` to its ``SIGNAL k``, inside its iteration;
  each stall of a ``WAIT`` (issued before it was released) inside its segment; a ``SIGNAL k``
  outside a segment (a path that skips it) is an instant event;
- a flow arrow (``"ph": "s"`` / ``"f"``) from each ``SIGNAL k`` of iteration i - 1 to the
  release of the ``WAIT k`` of iteration i (coupled: the signal that releases it; uncoupled: the
  last one it needs in iteration order, as all earlier ones must also have arrived);
- Relic tasks: a slice per task on the context that ran it (the SMT sibling, or worker 0 inline),
  a ``join h`` slice where the main context waited in ``JOIN``, and flow arrows from the spawn
  to the task's start and from its end to the join.

Timestamps are cycles: 1 us in the viewer is 1 cycle of the named machine config (the model's
cycles, not a measurement). A trace over its event limit is cut: ``otherData.truncated`` says so,
and slices still open where it was cut are left out.
"""

from __future__ import annotations

import json
import os
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

from helixrc.csim._core import lib
from helixrc.csim.errors import HelixError
from helixrc.csim.machine import MachineConfig

__all__ = ["DEFAULT_TRACE_LIMIT", "TraceEnd", "TraceKind", "build_trace", "write_trace"]

#: events a traced run keeps by default (40 bytes each in the core)
DEFAULT_TRACE_LIMIT = 1_000_000


class TraceKind(IntEnum):
    """csim_trace_kind."""

    LOOP_BEGIN = 0
    LOOP_END = 1
    ITER_BEGIN = 2
    ITER_END = 3
    WAIT_START = 4
    WAIT_RELEASE = 5
    SIGNAL = 6
    SPAWN = 7
    TASK_BEGIN = 8
    TASK_END = 9
    JOIN = 10


class TraceEnd(IntEnum):
    """csim_trace_end: how an iteration ended."""

    NEXT = 0
    EXIT = 1
    SQUASHED = 2
    RAISED = 3


for _enum, _prefix in ((TraceKind, "CSIM_TRACE_"), (TraceEnd, "CSIM_TRACE_END_")):
    for _member in _enum:
        if getattr(lib, _prefix + _member.name, None) != _member.value:
            raise ImportError(f"{_prefix}{_member.name} differs between api.h and runtime/trace.py; "
                              "rebuild the core (python csim/_build.py)")

_END_NAMES = {TraceEnd.NEXT: "end", TraceEnd.EXIT: "exit", TraceEnd.SQUASHED: "squashed",
              TraceEnd.RAISED: "raised"}
# Plain ints for the per-event dispatch (an enum member lookup costs more than the event).
(_LOOP_BEGIN, _LOOP_END, _ITER_BEGIN, _ITER_END, _WAIT_START, _WAIT_RELEASE, _SIGNAL, _SPAWN, _TASK_BEGIN,
 _TASK_END, _JOIN) = map(int, TraceKind)


def _pid(core: int) -> int:
    return core + 1


def _tid(worker: int) -> int:
    return worker + 2            # the main context (worker -1) is 1


class _Builder:
    """Walks the events in the scheduler's order, pairing begins with ends per context."""

    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []
        self.threads: dict[tuple[int, int], int] = {}          # (pid, tid) -> worker
        self.loop: tuple[int, int, int, int] | None = None     # ts, trip, segments, pc
        self.iters: dict[int, tuple[int, int]] = {}            # worker -> (ts, iteration)
        self.waits: dict[int, tuple[int, int]] = {}            # worker -> (ts, seg) of a WAIT
        self.segments: dict[tuple[int, int], int] = {}         # (worker, seg) -> WAIT's ts
        self.signals: dict[tuple[int, int], tuple[int, int, int]] = {}  # (seg, it) -> ts, pid, tid
        self.flows = 0
        #: Relic tasks by handle: the spawn's and the task end's (ts, pid, tid), the task's start
        self.spawned: dict[int, tuple[int, int, int]] = {}
        self.ended: dict[int, tuple[int, int, int]] = {}
        self.tasks: dict[int, int] = {}

    def slice(self, name: str, cat: str, ts: int, end: int, pid: int, tid: int,
              args: dict[str, Any]) -> None:
        self.out.append({"name": name, "cat": cat, "ph": "X", "ts": ts, "dur": end - ts,
                         "pid": pid, "tid": tid, "args": args})

    def event(self, ts: int, it: int, arg: int, kind: int, core: int, worker: int, seg: int) -> None:
        """One event, its fields in binding.TRACE_DTYPE's order."""
        pid, tid = _pid(core), _tid(worker)
        self.threads[(pid, tid)] = worker
        if kind == _LOOP_BEGIN:
            self.loop = (ts, it, seg, arg)
        elif kind == _LOOP_END and self.loop is not None:
            start, trip, segments, pc = self.loop
            self.slice(f"parallel loop (pc {pc})", "loop", start, ts, pid, tid,
                       {"pc": pc, "trip_count": trip if trip >= 0 else None, "segments": segments,
                        "exit_iteration": arg if arg >= 0 else None})
            self.loop = None
        elif kind == _ITER_BEGIN:
            self.iters[worker] = (ts, it)
        elif kind == _ITER_END:
            begin = self.iters.pop(worker, None)
            if begin is not None:
                self.slice(f"iteration {it}", "iteration", begin[0], ts, pid, tid,
                           {"iteration": it, "worker": worker, "end": _END_NAMES[arg]})
            # A squashed iteration may stop inside a segment: nothing of it is shown.
            self.waits.pop(worker, None)
            for key in [k for k in self.segments if k[0] == worker]:
                del self.segments[key]
        elif kind == _WAIT_START:
            self.waits[worker] = (ts, seg)
            self.segments[(worker, seg)] = ts
        elif kind == _WAIT_RELEASE:
            self.release(ts, it, worker, seg, arg, pid, tid)
        elif kind >= _SPAWN:
            self.task_event(ts, it, arg, kind, pid, tid)
        elif kind == _SIGNAL:
            self.signals[(seg, it)] = (ts, pid, tid)
            start = self.segments.pop((worker, seg), None)
            if start is not None:
                self.slice(f"segment {seg}", "segment", start, ts, pid, tid,
                           {"segment": seg, "iteration": it})
            else:                  # a path that skips the segment signals without waiting
                self.out.append({"name": f"signal {seg} (skip)", "cat": "signal", "ph": "i",
                                 "s": "t", "ts": ts, "pid": pid, "tid": tid,
                                 "args": {"segment": seg, "iteration": it}})

    def task_event(self, ts: int, handle: int, arg: int, kind: int, pid: int, tid: int) -> None:
        """A task's slice on the context that ran it, the main context's wait in its join, and
        flow arrows from the spawn to the task's start and from its end to the join."""
        here = (ts, pid, tid)
        if kind == _SPAWN:
            self.spawned[handle] = here
        elif kind == _TASK_BEGIN:
            self.tasks[handle] = ts
            self.flow("spawn", self.spawned.pop(handle, None), here)
        elif kind == _TASK_END:
            start = self.tasks.pop(handle, None)
            if start is not None:
                self.slice(f"task {handle}", "task", start, ts, pid, tid,
                           {"handle": handle, "end": "raised" if arg else "end"})
            self.ended[handle] = here
        else:
            if ts > arg:
                self.slice(f"join {handle}", "wait", arg, ts, pid, tid, {"handle": handle})
            self.flow("join", self.ended.pop(handle, None), here)

    def flow(self, name: str, start: tuple[int, int, int] | None, end: tuple[int, int, int]) -> None:
        if start is None:
            return                 # cut off with the trace
        self.flows += 1
        common = {"name": name, "cat": "task", "id": self.flows}
        self.out.append({**common, "ph": "s", "ts": start[0], "pid": start[1], "tid": start[2]})
        self.out.append({**common, "ph": "f", "bp": "e", "ts": end[0], "pid": end[1], "tid": end[2]})

    def release(self, ts: int, it: int, worker: int, seg: int, released_by: int, pid: int,
                tid: int) -> None:
        wait = self.waits.pop(worker, None)
        if wait is not None and ts > wait[0]:
            self.slice(f"wait {seg}", "wait", wait[0], ts, pid, tid,
                       {"segment": seg, "iteration": it, "released_by": released_by})
        signal = self.signals.get((seg, released_by))
        if signal is None:
            return                 # iteration 0, or the signal was cut off with the trace
        self.flows += 1
        sig_ts, sig_pid, sig_tid = signal
        common = {"name": f"signal {seg}", "cat": "signal", "id": self.flows}
        self.out.append({**common, "ph": "s", "ts": sig_ts, "pid": sig_pid, "tid": sig_tid})
        self.out.append({**common, "ph": "f", "bp": "e", "ts": ts, "pid": pid, "tid": tid})

    def metadata(self) -> list[dict[str, Any]]:
        meta: list[dict[str, Any]] = []
        for pid in sorted({p for p, _ in self.threads}):
            meta.append({"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"core {pid - 1}"}})
            meta.append({"name": "process_sort_index", "ph": "M", "pid": pid, "args": {"sort_index": pid}})
        for (pid, tid), worker in sorted(self.threads.items()):
            name = "main context" if worker < 0 else f"worker {worker}"
            meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}})
            meta.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                         "args": {"sort_index": tid}})
        return meta


def build_trace(events: np.ndarray, dropped: int, machine: MachineConfig, kernel: str,
                cycles: int) -> dict[str, Any]:
    """The trace-event JSON object of a run's events (binding.TRACE_DTYPE rows, scheduler order)."""
    builder = _Builder()
    for row in events.tolist():          # plain ints: much faster than indexing NumPy records
        builder.event(*row)
    return {
        "traceEvents": builder.metadata() + builder.out,
        "displayTimeUnit": "ns",
        "otherData": {
            "kernel": kernel,
            "machine": machine.name,
            "time_unit": f"1 us = 1 cycle of machine config '{machine.name}'",
            "cores": machine.cores,
            "cycles": cycles,
            "events": len(events),
            "dropped_events": dropped,
            "truncated": dropped > 0,
        },
    }


def write_trace(trace: dict[str, Any] | None, path: str | os.PathLike[str]) -> None:
    """Write a trace object as JSON (compact: traces get large)."""
    if trace is None:
        raise HelixError("this result has no trace: simulate with trace=True")
    text = json.dumps(trace, separators=(",", ":"))   # one C-encoder pass; json.dump writes piecewise
    Path(path).write_text(text, encoding="utf-8")
