"""Compile single C components of the simulator into a small cffi module, for unit tests.

``helixrc.csim._core`` exposes only ``api.h``: the whole-program entry points. A component such
as the ring cache, the coherence directory or the checker's shadow memory is tested on its own
through its own header, compiled here from csim/src into a temporary directory (one build per
test session, through a session-scoped fixture).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from cffi import FFI

SRC = Path(__file__).resolve().parent.parent / "csim" / "src"

#: ``#define NAME value`` lines that cffi can expose as integer constants.
_DEFINE = re.compile(r"#define\s+([A-Z][A-Z0-9_]*)\s+\S")


def header_cdef(name: str) -> str:
    """A header as cdef text: its constants as ``#define NAME ...``, other preprocessor lines
    dropped (cffi's parser takes neither includes nor macro bodies)."""
    lines = []
    for line in (SRC / name).read_text(encoding="utf-8").splitlines():
        stripped = line.lstrip()
        if not stripped.startswith("#"):
            lines.append(line)
            continue
        m = _DEFINE.match(stripped)
        if m and not m.group(1).endswith("_H"):
            lines.append(f"#define {m.group(1)} ...")
    return "\n".join(lines) + "\n"


def status_cdef() -> str:
    """The ``csim_status`` enum of api.h, which every component returns."""
    text = (SRC / "api.h").read_text(encoding="utf-8")
    m = re.search(r"typedef enum csim_status \{.*?\} csim_status;", text, re.S)
    assert m is not None, "api.h no longer declares csim_status"
    return m.group(0) + "\n"


def build(module_name: str, headers: list[str], sources: list[str], tmpdir: Path,
          extra_cdef: str = "", extra_source: str = "") -> ModuleType:
    """Compile sources (file names in csim/src) into module_name under tmpdir, exposing the
    declarations of headers (and extra_cdef, implemented by extra_source); returns the imported
    module (its ``ffi`` and ``lib``)."""
    ffi = FFI()
    ffi.cdef(status_cdef() + "".join(header_cdef(h) for h in headers) + extra_cdef)
    ffi.set_source(
        module_name,
        "".join(f'#include "{h}"\n' for h in ["api.h", *headers]) + extra_source,
        sources=[str(SRC / s) for s in sources],
        include_dirs=[str(SRC)],
        extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"],
    )
    built = ffi.compile(tmpdir=str(tmpdir), verbose=False)
    spec = importlib.util.spec_from_file_location(module_name, built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The components of the coherence and checking tests, in dependency order.
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


def build_units(tmpdir: Path, components: tuple[str, ...] = COMPONENTS) -> ModuleType:
    """The coherence directory, the checker and the cache in one module under tmpdir."""
    return build("_csim_units", [f"{c}.h" for c in components],
                 [f"{c}.c" for c in (*components, "cache")], tmpdir, CACHE_CDEF, CACHE_SOURCE)
