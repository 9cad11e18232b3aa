"""A cffi harness for unit tests of standalone C components of the simulator.

Components such as the coherence directory and the checker's shadow memory have no entry point in
api.h until the multicore engine calls them, so the tests compile them on their own: the cdef is
their headers with the preprocessor lines removed (each header is plain declarations, as api.h
is for the core), and the extension is built once per test session into a temporary directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from cffi import FFI

SRC = Path(__file__).resolve().parent.parent / "csim" / "src"

#: The components under test, in dependency order (a header's types before their users).
COMPONENTS = ("addrmap", "coherence", "check")

#: cache.h has an inline function cffi cannot parse: its declarations, with the struct left open
#: to cffi (``...``) and the inline access reached through a wrapper.
CACHE_CDEF = """
typedef struct cache { uint64_t hits; uint64_t misses; ...; } cache;
int cache_init(cache *c, int64_t size, int64_t assoc, int64_t line);
void cache_free(cache *c);
int cache_invalidate(cache *c, uint64_t addr);
int units_cache_access(cache *c, uint64_t addr);
"""
CACHE_SOURCE = """
#include "cache.h"
int units_cache_access(cache *c, uint64_t addr) { return cache_access(c, addr); }
"""


def _cdef(header: Path) -> str:
    return "".join(line for line in header.read_text(encoding="utf-8").splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))


def build_units(tmpdir: Path, components: tuple[str, ...] = COMPONENTS) -> ModuleType:
    """Compile the components and the cache into an extension module under tmpdir; import it."""
    ffi = FFI()
    ffi.cdef("\n".join(_cdef(SRC / f"{name}.h") for name in components) + CACHE_CDEF)
    name = "_csim_units"
    ffi.set_source(
        name,
        "\n".join(f'#include "{c}.h"' for c in ("api", *components)) + CACHE_SOURCE,
        sources=[str(SRC / f"{c}.c") for c in (*components, "cache")],
        include_dirs=[str(SRC)],
        extra_compile_args=["-O1", "-std=c11", "-Wall", "-Wextra", "-Werror"],
    )
    built = ffi.compile(tmpdir=str(tmpdir), verbose=False)
    spec = importlib.util.spec_from_file_location(name, built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module
