"""The runtime that transformed ("parallel form") code imports: ``prange``, ``wait``, ``signal``, ``shared``.

``docs/parallel-form.md`` is the contract. Under CPython the parallel form runs sequentially and
gives the original's results: ``prange`` is ``range``, ``prange_while`` counts 0, 1, 2, ... until
the loop breaks, ``wait``/``signal`` do nothing and ``shared`` is a small attribute bag::

    from helixrc.parallel import prange, shared, signal, wait

    def count_negative(xs):
        seg0 = shared(0, n=0)
        for it in prange(0, len(xs), 1, segments=1, signals="uncoupled"):
            if xs[it] < 0:
                wait(0)
                seg0.n += 1
                signal(0)
            else:
                signal(0)          # wait elimination: a skip path signals without waiting
        return seg0.n

**Checking mode** (``checking(True)``, ``with checking():`` or ``HELIXRC_CHECK=1`` in the
environment) asserts the protocol while the program runs and raises :class:`ProtocolError` at the
offending call with its ``file:line:col``, the segment and the iteration:

- every iteration signals every segment exactly once (checked when the next iteration starts and
  when the loop ends, also when it is left by ``break``/``return``);
- ``wait(k)`` at most once per iteration and never after that iteration's ``signal(k)``; coupled
  loops wait before every signal; ``k`` is a declared segment; no wait/signal outside a loop;
- a shared cell of segment ``k`` is touched only between ``wait(k)`` and ``signal(k)`` (freely
  before and after the loop);
- one parallel loop at a time (a nested ``prange`` raises).

How the end of a loop left by ``break`` is seen, with no extra call in the transformed code: the
``for`` statement holds the only reference to the checking iterator, so CPython frees it at the
very instruction that leaves the loop, and ``__del__`` runs there. A finalizer cannot raise into
the program, so ``__del__`` only *detects*: it looks at the instruction the loop's frame is
executing — ``POP_TOP`` (``POP_ITER`` from 3.14) means the loop was left by ``break``/``return``;
anything else means an exception is unwinding, and then nothing is reported so the original
exception is never masked. A violation found after a ``break`` is raised in the loop's own frame at
the next line it executes (or at its return) through a one-shot trace function, the mechanism
``pdb.set_trace`` uses. If a tracer is already installed (a debugger, coverage) it is left alone
and the error is raised instead at the next checking call (any ``prange``/``wait``/``signal``/
``shared``/cell access, or leaving ``with checking():``). This relies on CPython's reference
counting and bytecode; other interpreters would see such errors late or not at all.
"""

from __future__ import annotations

import dis
import itertools
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from types import CodeType, FrameType
from typing import Any

from helixrc.csim.errors import HelixError, Loc

__all__ = [
    "ProtocolError", "Task", "checking", "disjoint", "int64_arrays", "is_checking", "independent", "join", "lastprivate", "prange",
    "prange_while", "reduction", "shared", "signal", "spawn", "wait",
]

_SIGNALS = ("coupled", "uncoupled")


class ProtocolError(HelixError, RuntimeError):
    """The parallel form broke the wait/signal/shared-cell protocol (found in checking mode)."""


# ---------------------------------------------------------------------------------------------
# Checking switch
# ---------------------------------------------------------------------------------------------

_checking: bool = os.environ.get("HELIXRC_CHECK", "").strip().lower() not in ("", "0", "false", "no", "off")


class checking:  # noqa: N801 - reads as a function: checking(True), with checking(): ...
    """Switch checking mode: ``checking(True)`` turns it on for good, ``with checking():`` for a block.

    Switch only between parallel loops: a loop started in one mode runs to its end in that mode.
    Leaving the ``with`` block raises a protocol error still pending from a loop left by ``break``
    (see the module docstring) unless another exception is already on its way.
    """

    def __init__(self, on: bool = True) -> None:
        global _checking
        self._previous = _checking
        _checking = bool(on)

    def __enter__(self) -> checking:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        global _checking
        _checking = self._previous
        if exc is None:
            _raise_pending()
        else:  # never mask the exception on its way: the pending error becomes a note on it
            pending = _take_pending()
            if pending is not None:
                exc.add_note(f"helixrc: also a protocol error: {pending}")


def is_checking() -> bool:
    """Whether checking mode is on."""
    return _checking


# ---------------------------------------------------------------------------------------------
# The four names transformed code uses. The fast path (checking off) is range / a no-op call.
# ---------------------------------------------------------------------------------------------


def prange(
    start: int, stop: int | None = None, step: int = 1, *, segments: int = 0, signals: str = "uncoupled"
) -> Iterable[int]:
    """The parallel loop: ``range(start, stop, step)``, run in order under CPython.

    ``segments`` is how many sequential segments an iteration has and ``signals`` their semantics
    (``"coupled"`` or ``"uncoupled"``); only checking mode and the simulator use them.
    """
    if signals not in _SIGNALS or type(segments) is not int or segments < 0:
        _bad_arguments(segments, signals)
    if stop is None:
        start, stop = 0, start
    if _checking:
        return _start_loop(range(start, stop, step), segments, signals, "prange")
    return range(start, stop, step)


def prange_while(*, segments: int = 0, signals: str = "uncoupled") -> Iterator[int]:
    """The parallel form of a ``while`` loop: iteration numbers 0, 1, 2, ...; ``break`` ends it."""
    if signals not in _SIGNALS or type(segments) is not int or segments < 0:
        _bad_arguments(segments, signals)
    if _checking:
        return _start_loop(itertools.count(), segments, signals, "prange_while")
    return itertools.count()


def wait(k: int) -> None:
    """Enter sequential segment ``k`` of the current iteration (a no-op under CPython)."""
    if _checking:
        _check_wait(k)


def signal(k: int) -> None:
    """Leave (or skip) sequential segment ``k`` of the current iteration (a no-op under CPython)."""
    if _checking:
        _check_signal(k)


def shared(k: int, **cells: Any) -> Any:
    """Loop-carried scalars as shared cells protected by segment ``k``: ``cells.name`` reads/writes them.

    Only the declared names exist; any other attribute raises AttributeError naming the cells.
    """
    if type(k) is not int or k < 0:
        raise ValueError(f"shared(): the segment must be an int >= 0, not {k!r}")
    names = tuple(cells)
    if _checking:
        _raise_pending()
        state = _current_loop(sys._getframe(1))
        if state is not None and state.index >= 0:
            raise _error(
                f"shared({k}, ...) called inside the parallel loop at {state.site} (iteration "
                f"{state.index}); shared cells are created before the loop",
                _Site.of(sys._getframe(1)),
            )
        for name in names:
            _check_cell_name(name)
        return _CheckedCells(k, cells)
    cls = _CELL_CLASSES.get((k, names))
    if cls is None:
        for name in names:
            _check_cell_name(name)
        cls = _cell_class(k, names)
    obj = cls.__new__(cls)
    for name, value in cells.items():
        setattr(obj, name, value)
    return obj


def independent(array: Any, start: int, stop: int, step: int, *accesses: tuple[Any, int, str]) -> bool:
    """The run-time check of a plan's ``assume_independent``: no element of ``array`` written by one
    iteration of ``range(start, stop, step)`` is read or written by another.

    Each access is ``(index, offset, "r" or "w")``: iteration ``i`` touches ``array[index[i] +
    offset]``, or ``array[i + offset]`` when ``index`` is None. False (run the loop sequentially)
    also when a subscript would be out of range: the sequential loop then raises as the original.
    """
    import numpy as np  # only plans with assume_independent need it

    its = np.arange(start, stop, step, dtype=np.int64) if step else None
    if its is None:
        raise ValueError("range() arg 3 must not be zero")
    if its.size < 2:
        return True
    n = len(array)
    elements, iterations, written = [], [], []
    for index, offset, mode in accesses:
        try:
            e = (np.asarray(index)[its] if index is not None else its).astype(np.int64) + offset
        except IndexError:
            return False
        if ((e < -n) | (e >= n)).any():
            return False
        e = np.where(e < 0, e + n, e)
        elements.append(e)
        iterations.append(its)
        if mode == "w":
            written.append(e)
    if not written:
        return True
    pairs = np.unique(np.stack([np.concatenate(elements), np.concatenate(iterations)]), axis=1)
    touching = np.bincount(pairs[0], minlength=n)  # iterations touching each element
    return not (touching[np.unique(np.concatenate(written))] > 1).any()


def int64_arrays(*arrays: Any) -> bool:
    """The run-time check that guards a split ``if`` (passes/transform/split.py): every argument is a
    1-d NumPy array of int64 (or a list), so an element is an int and storing a 64-bit integer
    into one cannot raise."""
    import numpy as np

    return all(isinstance(a, list) or (isinstance(a, np.ndarray) and a.dtype == np.int64 and a.ndim == 1)
               for a in arrays)


def memory_extent(arr: Any) -> tuple[int, int]:
    """The byte addresses ``[lo, hi)`` that a NumPy array's elements lie in (empty for no element)."""
    base = arr.__array_interface__["data"][0]
    lo = hi = base
    for n, s in zip(arr.shape, arr.strides):
        if n == 0:
            return base, base
        span = (n - 1) * s
        lo += min(0, span)
        hi += max(0, span)
    return lo, hi + arr.itemsize


def may_overlap(x: Any, y: Any) -> bool:
    """Whether two kernel arguments may share memory: the same object, or two NumPy arrays whose
    extents intersect (conservatively: interleaved views of one buffer count). A list shares no
    memory with another list or an array; any other object may share memory with anything."""
    import numpy as np

    if x is y:
        return True
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        (lo1, hi1), (lo2, hi2) = memory_extent(x), memory_extent(y)
        return lo1 < hi2 and lo2 < hi1
    known = (list, np.ndarray)
    return not (isinstance(x, known) and isinstance(y, known))


def overlap_groups(extents: list[tuple[int, int]]) -> list[int]:
    """For byte extents ``[lo, hi)``: a group number each, shared by extents that overlap
    (transitively), the lowest index of the group's members."""
    group_of = list(range(len(extents)))
    for i in range(len(extents)):
        for j in range(i):
            (lo1, hi1), (lo2, hi2) = extents[i], extents[j]
            if lo1 < hi2 and lo2 < hi1:
                old, new = group_of[i], group_of[j]
                group_of = [min(old, new) if g in (old, new) else g for g in group_of]
    return group_of


def disjoint(array: Any, *others: Any) -> bool:
    """The run-time check of the analysis's assumption that distinct array parameters do not
    overlap in memory (passes/transform/loop.py): true when ``array`` shares memory with none of
    ``others``. When it may, the transformed code runs the original loop instead."""
    return not any(may_overlap(array, other) for other in others)


class Task:
    """The handle :func:`spawn` returns: the task's result, taken once by :func:`join`."""

    __slots__ = ("fn", "result", "joined")

    def __init__(self, fn: Any, result: Any) -> None:
        self.fn = fn
        self.result = result
        self.joined = False

    def __repr__(self) -> str:
        state = "joined" if self.joined else "not joined"
        return f"<helixrc task {getattr(self.fn, '__name__', self.fn)!r}, {state}>"


def spawn(fn: Any, /, *args: Any) -> Task:
    """Hand ``fn(*args)`` to the SMT sibling context (a Relic task); :func:`join` takes its result.

    Under CPython the task runs here, at once, before the code that follows the spawn: that is its
    place in sequential order, so an exception it raises propagates from this call as the
    original's would. On the simulator the sibling runs it while the main context goes on with
    the continuation (the transform spawns only tasks independent of the continuation).
    """
    if not callable(fn):
        raise TypeError(f"spawn(): the task must be a function, not {type(fn).__name__}")
    return Task(fn, fn(*args))


def join(task: Task) -> Any:
    """Wait for a spawned task and return its result (None for a task that returns nothing)."""
    if not isinstance(task, Task):
        raise TypeError(f"join(): expected the handle spawn() returned, not {type(task).__name__}")
    if task.joined:
        raise ProtocolError(f"join(): {task!r} was already joined; join each task exactly once")
    task.joined = True
    return task.result


_REDUCTION_OPS = ("+", "*", "&", "|", "^", "min", "max", "argmax", "argmin")


def reduction(op: str, ties: str | None = None, /, **values: Any) -> Any:
    """Privatized reductions: ``acc = reduction("+", total=total)``; the loop updates ``acc.total``.

    Each worker accumulates into a private copy; after the loop the copies are combined in worker
    order: ``+ * & | ^`` fold every copy into the value given here (copies start at the identity);
    ``min``/``max`` keep the extreme value of each name separately; ``argmax``/``argmin`` keep the
    whole group (the first keyword is the compared value, the others its payload) of the copy with
    the extreme value. For min/max/argmax/argmin a tie between equal values (``-0.0 == 0.0``
    included) goes to the value from the earliest iteration (``ties="first"``, the default) or the
    latest (``"last"``). Under CPython the iterations run in order into one copy: the original's
    result exactly.
    """
    if op not in _REDUCTION_OPS:
        raise ValueError(f"reduction(): unknown operator {op!r} (one of {', '.join(_REDUCTION_OPS)})")
    if ties not in (None, "first", "last") or (ties is not None and op not in ("min", "max", "argmax", "argmin")):
        raise ValueError(f"reduction(): ties must be 'first' or 'last' for min/max/argmax/argmin, not {ties!r}")
    if not values:
        raise ValueError("reduction(): no variables")
    return lastprivate(**values)


def lastprivate(**values: Any) -> Any:
    """Scalars read after a parallel loop: each iteration writes ``last.name = name`` where it ends.

    After the loop each holds the value written last in sequential order (under CPython, where
    iterations run in order, simply the last write); with no write, the value given here. The
    transform writes them where an iteration ends normally, at a ``continue`` and at a ``break``,
    never on the paths of iterations that find the loop already over. Unlike shared cells they are outside the segment protocol: no two iterations
    depend on them.
    """
    names = tuple(values)
    for name in names:
        _check_cell_name(name)
    cls = _LAST_CLASSES.get(names)
    if cls is None:
        label = f"live-outs of the loop ({', '.join(names) or 'none'})"
        cls = type(label, (_LastValues,), {"__slots__": names, "_hx_names": names, "__module__": __name__})
        _LAST_CLASSES[names] = cls
    obj = cls.__new__(cls)
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


class _LastValues:
    __slots__ = ()
    _hx_names: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"the loop's live-outs have no {name!r} (live-outs: {', '.join(self._hx_names) or 'none'})",
            name=name, obj=self,
        )

    def __repr__(self) -> str:
        return "lastprivate(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._hx_names) + ")"


_LAST_CLASSES: dict[tuple[str, ...], type[_LastValues]] = {}


def _bad_arguments(segments: object, signals: object) -> None:
    if signals not in _SIGNALS:
        raise ValueError(f"signals must be 'coupled' or 'uncoupled', not {signals!r}")
    raise ValueError(f"segments must be an int >= 0, not {segments!r}")


# ---------------------------------------------------------------------------------------------
# Shared cells
# ---------------------------------------------------------------------------------------------


class _Cells:
    """Base of the fast cell classes: one ``__slots__`` class per (segment, names), made once."""

    __slots__ = ()
    _hx_segment: int = 0
    _hx_names: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: a name that is not a cell.
        raise AttributeError(_no_cell_message(self._hx_segment, name, self._hx_names), name=name, obj=self)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._hx_names)
        return f"shared({self._hx_segment}, {body})"


_CELL_CLASSES: dict[tuple[int, tuple[str, ...]], type[_Cells]] = {}


def _cell_class(k: int, names: tuple[str, ...]) -> type[_Cells]:
    # The class name lists the cells because CPython's own message for a misspelled *write* to a
    # slotted object ("'<class>' object has no attribute 'x'") is the only one that costs nothing
    # on correct writes; reads go through _Cells.__getattr__ and get a full message.
    label = f"shared cells of segment {k} (cells: {', '.join(names) or 'none'})"
    cls = type(label, (_Cells,), {"__slots__": names, "_hx_segment": k, "_hx_names": names, "__module__": __name__})
    _CELL_CLASSES[(k, names)] = cls
    return cls


def _check_cell_name(name: str) -> None:
    # "__x" would be name-mangled as a slot; "_hx_" is the checked cells' own attributes
    if not name.isidentifier() or name.startswith(("__", "_hx_")):
        raise ValueError(f"shared(): {name!r} cannot be a cell name")


def _no_cell_message(k: int, name: str, names: tuple[str, ...] | list[str]) -> str:
    return f"shared cells of segment {k} have no cell {name!r} (cells: {', '.join(names) or 'none'})"


class _CheckedCells:
    """Cells in checking mode: every read and write is checked against the running iteration."""

    __slots__ = ("_hx_segment", "_hx_values")

    def __init__(self, k: int, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_hx_segment", k)
        object.__setattr__(self, "_hx_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        values = self._hx_values
        if name not in values:
            raise AttributeError(_no_cell_message(self._hx_segment, name, list(values)), name=name, obj=self)
        _check_cell(self._hx_segment, name, "read")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        values = self._hx_values
        if name not in values:
            raise AttributeError(_no_cell_message(self._hx_segment, name, list(values)), name=name, obj=self)
        _check_cell(self._hx_segment, name, "write")
        values[name] = value

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"shared cells cannot be deleted ({name!r})")

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={v!r}" for n, v in self._hx_values.items())
        return f"shared({self._hx_segment}, {body})"


# ---------------------------------------------------------------------------------------------
# Checking mode: loop state
# ---------------------------------------------------------------------------------------------


class _Site:
    """Where a call was made: kept as code + instruction so the column is computed only if reported."""

    __slots__ = ("code", "lasti", "line")

    def __init__(self, code: CodeType, lasti: int, line: int) -> None:
        self.code, self.lasti, self.line = code, lasti, line

    @classmethod
    def of(cls, frame: FrameType) -> _Site:
        return cls(frame.f_code, frame.f_lasti, frame.f_lineno)

    def loc(self) -> Loc:
        col = 0
        try:
            positions = list(self.code.co_positions())
            _, _, c, _ = positions[self.lasti // 2]
            col = c or 0
        except (AttributeError, IndexError):
            pass
        return Loc(self.code.co_filename, self.line, col)

    def __str__(self) -> str:
        return f"{self.code.co_filename}:{self.line}"


class _LoopState:
    """One running parallel loop and the events of its current iteration."""

    def __init__(self, site: _Site, frame: FrameType, segments: int, coupled: bool, kind: str) -> None:
        self.site = site
        self.frame: FrameType | None = frame  # the frame running the for statement
        self.segments = segments
        self.coupled = coupled
        self.kind = kind
        self.index = -1  # iteration number (0-based); -1 before the first
        self.value = 0
        self.closed = False
        self.waited: list[_Site | None] = [None] * segments
        self.signalled: list[_Site | None] = [None] * segments

    def iteration(self) -> str:
        if self.index < 0:
            return "its setup (no iteration has started)"
        if self.kind == "prange" and self.value != self.index:
            return f"iteration {self.index} (value {self.value})"
        return f"iteration {self.index}"

    def start_iteration(self, value: int) -> None:
        self.index += 1
        self.value = value
        self.waited = [None] * self.segments
        self.signalled = [None] * self.segments

    def unsignalled_error(self, how: str, where: _Site | None = None) -> ProtocolError | None:
        """The error for an iteration that ended (``how``, at ``where``) without signalling every segment."""
        missing = [k for k in range(self.segments) if self.signalled[k] is None]
        if not missing or self.index < 0:
            return None
        k = missing[0]
        waited = self.waited[k]
        detail = f" (it waited for it at {waited})" if waited is not None else ""
        others = f"; also unsignalled: {', '.join(map(str, missing[1:]))}" if len(missing) > 1 else ""
        return _error(
            f"{self.iteration()} {how} without signalling segment {k}{detail}{others} "
            f"(parallel loop at {self.site})",
            where or self.site,
            "every path through an iteration must signal every segment exactly once; a path that "
            f"skips segment {k} still calls signal({k})",
        )

    def close(self) -> None:
        self.closed = True
        self.frame = None
        if _tls.loop is self:
            _tls.loop = None


class _CheckedLoop:
    """The checking iterator. Only the ``for`` statement holds it, so ``__del__`` marks the loop's end."""

    __slots__ = ("_state", "_inner")

    def __init__(self, state: _LoopState, inner: Iterator[int]) -> None:
        self._state = state
        self._inner = inner

    def __iter__(self) -> _CheckedLoop:
        # The frame that calls iter() is the one running the for statement.
        if self._state.index < 0:
            self._state.frame = sys._getframe(1)
        return self

    def __next__(self) -> int:
        state = self._state
        if state.closed:
            raise StopIteration
        error = state.unsignalled_error("ended")
        if error is not None:
            state.close()
            raise error
        try:
            value = next(self._inner)
        except StopIteration:
            state.close()
            raise
        state.start_iteration(value)
        return value

    def __del__(self) -> None:
        state = self._state
        if state.closed:
            return
        frame = state.frame
        state.close()
        if frame is None or not _popping_iterator(frame):
            return  # an exception is unwinding: never mask it (its iteration had no chance to signal)
        error = state.unsignalled_error("left the loop", _Site.of(frame))  # the site of the break
        if error is not None:
            _deliver(error, frame)


# The instruction a for statement uses to drop its iterator when left by break or return.
_POP_ITERATOR_OPS = frozenset(dis.opmap[name] for name in ("POP_TOP", "POP_ITER") if name in dis.opmap)


def _popping_iterator(frame: FrameType) -> bool:
    lasti = frame.f_lasti
    code = frame.f_code.co_code
    return 0 <= lasti < len(code) and code[lasti] in _POP_ITERATOR_OPS


class _ThreadState(threading.local):
    """Per thread: the running checked loop, an error waiting to be raised, the frame armed to raise it."""

    loop: _LoopState | None = None
    pending: ProtocolError | None = None
    armed: FrameType | None = None


_tls = _ThreadState()


def _current_loop(caller: FrameType) -> _LoopState | None:
    """The running checked loop, if ``caller`` runs inside it (its for statement's frame is on the stack).

    A loop whose frame has gone is closed here: normally ``__del__`` closes it first, but an
    iterator kept alive elsewhere (say by a traceback) must not look like a running loop.
    """
    state: _LoopState | None = _tls.loop
    if state is None or state.closed:
        return None
    frame: FrameType | None = caller
    while frame is not None:
        if frame is state.frame:
            return state
        frame = frame.f_back
    state.close()
    return None


def _start_loop(inner: Iterator[int] | range, segments: int, signals: str, kind: str) -> _CheckedLoop:
    _raise_pending()
    caller = sys._getframe(2)
    site = _Site.of(caller)
    running = _current_loop(caller)
    if running is not None:
        raise _error(
            f"nested parallel loop: {kind} at {site} starts while the parallel loop at {running.site} "
            f"is in {running.iteration()}",
            site,
            "one parallel loop runs at a time: keep the inner loop a plain range loop",
        )
    state = _LoopState(site, caller, segments, signals == "coupled", kind)
    _tls.loop = state
    return _CheckedLoop(state, iter(inner))


def _error(message: str, site: _Site | None, hint: str | None = None) -> ProtocolError:
    return ProtocolError(message, site.loc() if site is not None else None, hint)


def _deliver(error: ProtocolError, frame: FrameType) -> None:
    """Raise ``error`` in ``frame`` at its next line or return; else at the next checking call."""
    _tls.pending = error
    if sys.gettrace() is not None:  # a debugger or coverage is tracing: do not replace it
        return

    def on_event(fr: FrameType, event: str, arg: Any) -> Any:
        if event in ("line", "return"):
            _tls.pending = None
            _tls.armed = None
            raise error  # CPython uninstalls a trace function that raises
        return on_event

    frame.f_trace = on_event
    frame.f_trace_lines = True
    _tls.armed = frame
    sys.settrace(_trace_no_calls)


def _trace_no_calls(frame: FrameType, event: str, arg: Any) -> None:
    return None  # the global trace function: trace no new frame, only the armed one


def _take_pending() -> ProtocolError | None:
    """The pending error (if any), now no longer pending; disarms the one-shot trace."""
    error: ProtocolError | None = _tls.pending
    if error is None:
        return None
    _tls.pending = None
    armed: FrameType | None = _tls.armed
    if armed is not None:
        _tls.armed = None
        armed.f_trace = None
        if sys.gettrace() is _trace_no_calls:
            sys.settrace(None)
    return error


def _raise_pending() -> None:
    error = _take_pending()
    if error is not None:
        raise error


# ---------------------------------------------------------------------------------------------
# Checking mode: the checks
# ---------------------------------------------------------------------------------------------


def _loop_for(call: str, k: object, site: _Site, caller: FrameType) -> _LoopState:
    _raise_pending()
    state = _current_loop(caller)
    if state is None or state.index < 0:
        raise _error(f"{call}({k!r}) outside a parallel loop", site,
                     "wait and signal belong inside the body of a prange/prange_while loop")
    if type(k) is not int or not 0 <= k < state.segments:
        declared = (f"segments 0..{state.segments - 1}" if state.segments else "no segments")
        raise _error(
            f"{call}({k!r}) in {state.iteration()}: the parallel loop at {state.site} declares {declared}",
            site,
        )
    return state


def _check_wait(k: int) -> None:
    caller = sys._getframe(2)
    site = _Site.of(caller)
    state = _loop_for("wait", k, site, caller)
    if state.waited[k] is not None:
        raise _error(
            f"{state.iteration()} waits for segment {k} twice (first wait at {state.waited[k]})", site,
            f"wait({k}) comes at most once per iteration",
        )
    if state.signalled[k] is not None:
        raise _error(
            f"{state.iteration()} waits for segment {k} after signalling it (signal at {state.signalled[k]})",
            site, f"wait({k}) must come before signal({k}) in an iteration",
        )
    state.waited[k] = site


def _check_signal(k: int) -> None:
    caller = sys._getframe(2)
    site = _Site.of(caller)
    state = _loop_for("signal", k, site, caller)
    if state.signalled[k] is not None:
        raise _error(
            f"{state.iteration()} signals segment {k} twice (first signal at {state.signalled[k]})", site,
            "every path through an iteration signals every segment exactly once",
        )
    if state.coupled and state.waited[k] is None:
        raise _error(
            f"{state.iteration()} signals segment {k} without waiting for it, in a coupled loop", site,
            f"in coupled mode every path waits for every segment: a skip path is wait({k}); signal({k})",
        )
    state.signalled[k] = site


def _check_cell(k: int, name: str, access: str) -> None:
    _raise_pending()
    state = _tls.loop
    if state is None or state.closed or state.index < 0:
        return  # before and after the loop, cells are plain variables
    if k < state.segments and state.waited[k] is not None and state.signalled[k] is None:
        return
    caller = sys._getframe(2)
    if _current_loop(caller) is None:
        return  # the loop's frame has gone: this access is after it
    site = _Site.of(caller)
    what = f"{access} of shared cell {name!r} (segment {k}) in {state.iteration()}"
    hint = f"a cell of segment {k} is read and written only between wait({k}) and signal({k})"
    if k >= state.segments:
        raise _error(f"{what}: the parallel loop at {state.site} declares only {state.segments} "
                     f"segment{'s' if state.segments != 1 else ''}", site, hint)
    inside = [j for j in range(state.segments) if state.waited[j] is not None and state.signalled[j] is None]
    if state.signalled[k] is not None:
        why = f"after signal({k}) at {state.signalled[k]}"
    elif inside:
        why = f"inside segment {inside[0]} (not segment {k}): wait({k}) was not called in this iteration"
    else:
        why = f"outside segment {k}: wait({k}) was not called in this iteration"
    raise _error(f"{what} {why}", site, hint)
