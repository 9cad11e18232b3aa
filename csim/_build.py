"""cffi build script for the simulator core, ``helixrc.csim._core`` (API mode).

setuptools execs this file from the repository root (``setup.py`` declares
``cffi_modules=["csim/_build.py:ffibuilder"]``), so it must not import helixrc and it finds the C
sources relative to its own location. The cdef is ``src/api.h`` with its preprocessor lines
removed: the header is the one description of the API for C and for Python.

For development, ``python csim/_build.py`` compiles the extension and copies it next to this file,
where ``helixrc.csim`` (through the dev shim) imports it.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")


def _cdef() -> str:
    """api.h without #include/#define/#ifndef lines, which cffi's parser does not accept."""
    with open(os.path.join(SRC, "api.h"), encoding="utf-8") as f:
        return "".join(line for line in f if not line.lstrip().startswith("#"))


def _sources(absolute: bool) -> list[str]:
    # setuptools wants paths relative to the setup.py directory; the in-place build compiles
    # from a temporary directory and needs absolute ones.
    paths = sorted(glob.glob(os.path.join(SRC, "*.c")))
    return paths if absolute else [os.path.relpath(p) for p in paths]


ffibuilder = FFI()
ffibuilder.cdef(_cdef())
ffibuilder.set_source(
    "helixrc.csim._core",
    '#include "api.h"',
    sources=_sources(absolute=__name__ == "__main__"),
    include_dirs=[SRC if __name__ == "__main__" else os.path.relpath(SRC)],
    depends=sorted(glob.glob(os.path.join(SRC, "*.[hd]*"))),
    # The kernel semantics rely on IEEE doubles and errno from libm: never -ffast-math (-O3 keeps
    # them; C11 mode also keeps a * b + c unfused). -O3 over -O2: about 1% more simulated
    # instructions per host second (BENCHMARKS.md, SMT section).
    extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra"],
    libraries=[] if sys.platform == "win32" else ["m"],
)


def _build_in_place() -> str:
    """Compile under build/ and copy the extension into csim/; returns its path."""
    tmpdir = os.path.join(os.path.dirname(HERE), "build", "cffi-dev")
    built = ffibuilder.compile(tmpdir=tmpdir, verbose=False)
    target = os.path.join(HERE, os.path.basename(built))
    for old in glob.glob(os.path.join(HERE, "_core.*")):
        if old.endswith((".so", ".pyd")):
            os.remove(old)
    shutil.copy2(built, target)
    return target


if __name__ == "__main__":
    print(_build_in_place())
