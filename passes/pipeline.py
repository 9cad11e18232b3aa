"""From kernel source to a program the simulator runs, cached per kernel source and signature.

    compile_kernel(module, "f", (ArrayType("float64", 1), Scalar.I64))
        = check_kernel -> lower_kernel -> verify -> encode -> binding.Program

A second call with the same source text and argument types returns the cached result, so
repeated simulations pay no compile time.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from helixrc.csim.binding import Program
from helixrc.csim.errors import HelixError
from helixrc.passes.encode import Encoded, encode
from helixrc.passes.frontend import KernelModule
from helixrc.passes.ir import ArrayType, Scalar, format_function, verify
from helixrc.passes.lower import Lowered, lower_kernel

CACHE_SIZE = 256


@dataclass
class Compiled:
    lowered: Lowered
    encoded: Encoded
    program: Program
    compile_seconds: float


_cache: "OrderedDict[tuple[str, str, str, tuple[object, ...]], Compiled]" = OrderedDict()


def source_key(module: KernelModule) -> str:
    return hashlib.sha256(module.source.encode()).hexdigest()


def compile_kernel(module: KernelModule, name: str,
                   signature: Sequence[Scalar | ArrayType]) -> tuple[Compiled, bool]:
    """The compiled kernel and whether it came from the cache."""
    key = (module.filename, source_key(module), name, tuple(signature))
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit, True
    began = time.perf_counter()
    lowered = lower_kernel(module, name, signature)
    problems = verify(lowered.function)
    if problems:
        # A verifier failure is a bug in helixrc, not in the user's kernel: say so plainly.
        raise HelixError(
            "internal error: the lowered IR failed verification:\n  " + "\n  ".join(problems)
            + "\n" + format_function(lowered.function)
        )
    encoded = encode(lowered)
    program = Program(encoded.code, encoded.nregs, encoded.reductions)
    compiled = Compiled(lowered, encoded, program, time.perf_counter() - began)
    _cache[key] = compiled
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return compiled, False


def clear_cache() -> None:
    _cache.clear()
