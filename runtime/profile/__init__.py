"""Dynamic dependence profiling: the Python counterpart of dynamic binary instrumentation.

``profile_dependences(fn, args)`` rewrites ``fn``'s bytecode to report every subscript access,
every local-variable access inside a loop and every loop iteration, runs it in CPython, and
returns the loop-carried dependences it observed (``DynamicDeps``). ``cross_check(fn, args)``
holds them against the static analysis (``CrossCheck``). docs/profiler.md has the details.

    source      the function's code, source and loops (ids as the static analysis gives them)
    instrument  the bytecode rewrite (``bytecode`` package, CPython 3.11)
    recorder    shadow memory, iteration vectors, limits
    driver      profile_dependences
    model       the result records
    crosscheck  cross_check
"""

from helixrc.profile.crosscheck import CrossCheck, Finding, cross_check
from helixrc.profile.driver import profile_dependences
from helixrc.profile.model import DynamicDeps, LoopProfile, ObservedDep

__all__ = ["CrossCheck", "DynamicDeps", "Finding", "LoopProfile", "ObservedDep", "cross_check", "profile_dependences"]
