"""``profile_dependences``: instrument a function, run it on copies of its inputs, collect the
loop-carried dependences it showed::

    def shift(a, n):                    # line 1 of its file
        for i in range(2, n):
            a[i] = a[i - 2] + 1

    p = profile_dependences(shift, (np.zeros(10), 10))
    [d.describe() for d in p.loops["shift/L1"].arrays["a"]]
    # ['RAW a, line 3, 6x, distances {2: 6}']: a[i - 2] reads what the iteration two before wrote
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Callable

from helixrc.compare import copy_args as copy_arguments
from helixrc.profile.instrument import Instrumenter
from helixrc.profile.model import DynamicDeps, LoopProfile, ObservedDep
from helixrc.profile.recorder import Recorder, identity
from helixrc.profile.source import function_source, unwrap

#: defaults: a few seconds of CPython at most (each access costs a few microseconds)
MAX_ITERATIONS = 200_000
MAX_ACCESSES = 1_000_000


def profile_dependences(
    fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    max_iterations: int = MAX_ITERATIONS,
    max_accesses: int = MAX_ACCESSES,
    copy_args: bool = True,
    follow_calls: bool = False,
) -> DynamicDeps:
    """Run ``fn(*args)`` instrumented and return the loop-carried dependences it showed.

    ``copy_args`` runs it on a deep copy of the arguments (arguments that are the same object, or
    views that share memory, stay so), leaving the caller's arrays as they were.
    ``follow_calls`` also instruments the module-level Python functions it calls (transitively):
    their array accesses count as accesses of the calling line. An exception the function raises
    propagates, as from the uninstrumented call.
    """
    func = unwrap(fn)
    src = function_source(func)
    rec = Recorder(src.loops, max_iterations, max_accesses)
    instrumented = Instrumenter(rec, follow_calls).top(src)
    call_args = copy_arguments(args) if copy_args else tuple(args)
    params = func.__code__.co_varnames[: func.__code__.co_argcount]
    for name, value in zip(params, call_args):
        rec.names.setdefault(identity(value), name)
    value = instrumented(*call_args)
    return _result(src.name, src.filename, value, rec, follow_calls)


def _result(name: str, filename: str, value: Any, rec: Recorder, follow_calls: bool) -> DynamicDeps:
    loops = {
        lp.id: LoopProfile(lp.id, lp.kind, lp.line, lp.parent.id if lp.parent else None,
                           rec.invocations[k], rec.iterations[k], rec.max_trip[k])
        for k, lp in enumerate(rec.loops)
    }
    # one record per loop, kind and pair of (line, name, helper): sites on one line merge
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for (k, kind, src, dst), (count, distances) in rec.deps.items():
        key = (k, kind, dst.what, dst.name, src.line, src.name, dst.line, src.via, dst.via)
        slot = merged.setdefault(key, [0, Counter()])
        slot[0] += count
        slot[1].update(distances)
    for key in sorted(merged, key=lambda t: (t[0], t[2], t[3], t[6], t[4], t[1], t[5], t[7] or "", t[8] or "")):
        k, kind, what, target, src_line, src_name, dst_line, src_via, dst_via = key
        count, distances = merged[key]
        dep = ObservedDep(kind, target, what, src_line, src_name, dst_line, dict(sorted(distances.items())),
                          count, src_via, dst_via)
        loop = loops[rec.loops[k].id]
        (loop.scalars if what == "scalar" else loop.arrays).setdefault(target, []).append(dep)
    notes = [
        "element accesses are subscripts (a[i], a[i, j], a[i:j]); NumPy whole-array operations and "
        "container methods (append, pop, ...) are not observed",
    ]
    if not follow_calls:
        notes.append("accesses inside called functions are not observed (follow_calls=False)")
    return DynamicDeps(name, filename, value, loops, rec.accesses, rec.truncated, notes + rec.notes)
