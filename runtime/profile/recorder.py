"""Shadow memory and loop iteration state: what the instrumented code reports, and what it means.

Every access the instrumented function makes carries the *iteration vector* current when it ran:
one ``(loop, invocation, iteration)`` triple per active loop, outermost first. Per element (an
array or list cell, keyed by memory address or by container and index) and per scalar, the
shadow keeps the last write and, since that write, the first and the last read of each access
site. A new access is compared with them; the first loop level at which the two vectors share the
invocation but not the iteration *carries* the dependence, with the iteration difference as its
distance::

    for i in range(n):          # L1
        a[i] = a[i - 2] + 1     # read a[i-2] at (L1, 0, i); its last write at (L1, 0, i-2)
                                # -> RAW carried by L1, distance 2

Loop exits are not instrumented: an access names the static loop it sits in, and loops deeper
than that on the stack are left behind (they have exited). A loop is entered when its iteration
hook finds it absent from the stack, so each entry is a new invocation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from helixrc.profile.source import LoopSource

#: dependence kinds, source access first in execution order
RAW, WAR, WAW = "RAW", "WAR", "WAW"

#: containers whose elements cannot be written: reading them orders nothing
_IMMUTABLE = (tuple, str, bytes, range, frozenset)


@dataclass(eq=False)
class Site:
    """One instrumented access (or loop / call event) in the source."""

    id: int
    line: int
    #: the array or scalar name as written there (an array reached through another subscript
    #: keeps its base name: ``a[i][j]`` accesses ``a``)
    name: str
    write: bool
    #: "array" or "scalar"
    what: str
    #: indexes (into Recorder.loops) of the static loop holding the site and its ancestors
    chain: frozenset[int] = frozenset()
    #: the result feeds another subscript (``a[i]`` in ``a[i][j]``): a NumPy view made here is
    #: not itself an access
    chained: bool = False
    #: for an access inside a called function: "helper:line"
    via: str | None = None


def identity(obj: Any) -> int:
    """What names a container: a NumPy view is named by the array that owns its buffer."""
    if isinstance(obj, np.ndarray) and obj.base is not None:
        return id(obj.base)
    return id(obj)


class Recorder:
    """The state behind the hooks of one profiled call."""

    def __init__(self, loops: list[LoopSource], max_iterations: int, max_accesses: int) -> None:
        self.loops = loops
        index = {id(lp): k for k, lp in enumerate(loops)}
        #: per loop index: itself and its ancestors (the stack below it holds only these)
        self.chains = [frozenset(index[id(x)] for x in lp.chain()) for lp in loops]
        self.max_iterations = max_iterations
        self.max_accesses = max_accesses
        self.active = True
        self.truncated: str | None = None
        self.stack: list[list[int]] = []
        self.vec: tuple[tuple[int, int, int], ...] = ()
        self.invocations = [0] * len(loops)
        self.iterations = [0] * len(loops)
        self.max_trip = [0] * len(loops)
        self.total_iterations = 0
        self.accesses = 0
        self.sites: list[Site] = []
        #: element key -> [last write (vec, site) | None, {site: [first read vec, last read vec]} | None]
        self.shadow: dict[Any, list[Any]] = {}
        #: (loop, kind, src site, dst site) -> [occurrences, Counter of distances]
        self.deps: dict[tuple[int, str, Site, Site], list[Any]] = {}
        #: NumPy arrays seen: id -> (array, data address, strides, shape); the reference keeps
        #: the id from being reused while the profile runs
        self._arrays: dict[int, tuple[np.ndarray, int, tuple[int, ...], tuple[int, ...]]] = {}
        #: id of a container (NumPy: its base) -> the name the profiled function gives it
        self.names: dict[int, str] = {}
        #: the call in the profiled function that is running a followed helper
        self.call_site: Site | None = None
        self._via_sites: dict[tuple[int, int, str], Site] = {}
        self.notes: list[str] = []

    # -- sites ---------------------------------------------------------------------------------

    def site(self, line: int, name: str, write: bool, what: str, loop: int | None = None,
             chained: bool = False, via: str | None = None) -> Site:
        chain = self.chains[loop] if loop is not None else frozenset()
        s = Site(len(self.sites), line, name, write, what, chain, chained, via)
        self.sites.append(s)
        return s

    # -- loop events ---------------------------------------------------------------------------

    def iterate(self, loop: int) -> None:
        """An iteration of ``loop`` starts (its first one starts a new invocation)."""
        st = self.stack
        chain = self.chains[loop]
        while st and st[-1][0] not in chain:
            st.pop()
        if st and st[-1][0] == loop:
            top = st[-1]
            top[2] += 1
            if top[2] + 1 > self.max_trip[loop]:
                self.max_trip[loop] = top[2] + 1
        else:
            st.append([loop, self.invocations[loop], 0])
            self.invocations[loop] += 1
            self.max_trip[loop] = max(self.max_trip[loop], 1)
        self.iterations[loop] += 1
        self.total_iterations += 1
        self.vec = tuple((e[0], e[1], e[2]) for e in st)
        if self.total_iterations >= self.max_iterations:
            self.stop(f"max_iterations={self.max_iterations} loop iterations")

    def sync(self, site: Site) -> None:
        """Leave the loops the program has exited: those that do not enclose ``site``."""
        st = self.stack
        if st and st[-1][0] not in site.chain:
            while st and st[-1][0] not in site.chain:
                st.pop()
            self.vec = tuple((e[0], e[1], e[2]) for e in st)

    def stop(self, limit: str) -> None:
        where = ""
        if self.stack:
            loop = self.loops[self.stack[-1][0]]
            where = f" in {loop.id} (line {loop.line}), iteration {self.stack[-1][2]}"
        self.truncated = (
            f"recording stopped after {limit}{where}: later accesses were not observed "
            "(raise the limit or profile a smaller input)"
        )
        self.active = False

    # -- accesses ------------------------------------------------------------------------------

    def scalar(self, site: Site) -> None:
        self.sync(site)
        self._access(site.name, site, site.write)

    def array(self, container: Any, index: Any, site: Site, result: Any = None, keys: Any = None) -> None:
        """An element access through ``container[index]`` (after it succeeded); ``keys`` are the
        elements when they had to be found before the access (a ``del``)."""
        if isinstance(container, _IMMUTABLE):
            return
        if site.via is None:
            self.sync(site)
            self.names.setdefault(identity(container), site.name)
        else:
            site = self._attributed(container, site)
        if not site.write and site.chained and isinstance(result, np.ndarray):
            return  # a view on the way to an element: the element access is recorded next
        if keys is None:
            keys = self._keys(container, index)
        if type(keys) is list:
            for k in keys:
                self._access(k, site, site.write)
        elif keys is not None:
            self._access(keys, site, site.write)

    def _attributed(self, container: Any, site: Site) -> Site:
        """An access in a followed helper, seen from the profiled function: the line of the call
        that runs the helper, and the name the profiled function gives the container."""
        call = self.call_site
        name = self.names.get(identity(container), site.name)
        key = (site.id, call.id if call is not None else -1, name)
        s = self._via_sites.get(key)
        if s is None:
            line = call.line if call is not None else site.line
            s = Site(len(self.sites), line, name, site.write, "array", frozenset(), site.chained, site.via)
            self.sites.append(s)
            self._via_sites[key] = s
        return s

    def _access(self, key: Any, site: Site, write: bool) -> None:
        self.accesses += 1
        if self.accesses > self.max_accesses:
            self.stop(f"max_accesses={self.max_accesses} accesses")
            return
        vec = self.vec
        cell = self.shadow.get(key)
        if cell is None:
            cell = self.shadow[key] = [None, None]
        last = cell[0]
        if write:
            if last is not None:
                self._dep(WAW, last[0], last[1], vec, site)
            reads = cell[1]
            if reads:
                for rsite, (first, latest) in reads.items():
                    self._dep(WAR, latest, rsite, vec, site)
                    if first is not latest:
                        self._dep(WAR, first, rsite, vec, site)
            cell[0] = (vec, site)
            cell[1] = None
        else:
            if last is not None:
                self._dep(RAW, last[0], last[1], vec, site)
            reads = cell[1]
            if reads is None:
                cell[1] = {site: [vec, vec]}
            else:
                seen = reads.get(site)
                if seen is None:
                    reads[site] = [vec, vec]
                else:
                    seen[1] = vec

    def _dep(self, kind: str, a: tuple[tuple[int, int, int], ...], src: Site,
             b: tuple[tuple[int, int, int], ...], dst: Site) -> None:
        if a is b:
            return  # the same iteration of every loop
        for x, y in zip(a, b):
            if x[0] != y[0] or x[1] != y[1]:
                return  # different invocations of a loop: carried by none below
            if x[2] != y[2]:
                key = (x[0], kind, src, dst)
                rec = self.deps.get(key)
                if rec is None:
                    rec = self.deps[key] = [0, Counter()]
                rec[0] += 1
                rec[1][y[2] - x[2]] += 1
                return

    # -- element keys --------------------------------------------------------------------------

    def _keys(self, c: Any, idx: Any) -> Any:
        """The element key(s) ``c[idx]`` touches: an address for NumPy (views share elements),
        (container id, index) otherwise; a list for slices and fancy indexes."""
        if isinstance(c, np.ndarray):
            return self._array_keys(c, idx)
        if isinstance(c, (list, bytearray)):
            n = len(c)
            if isinstance(idx, slice):
                return [(id(c), i) for i in range(*idx.indices(n))]
            try:
                i = idx.__index__()
            except AttributeError:
                return (id(c), "*")
            return (id(c), i + n if i < 0 else i)
        try:
            hash(idx)
        except TypeError:
            return (id(c), "*")  # an unhashable key: the whole container, conservatively
        return (id(c), idx)

    def _array_keys(self, c: np.ndarray, idx: Any) -> Any:
        info = self._arrays.get(id(c))
        if info is None:
            info = (c, c.__array_interface__["data"][0], c.strides, c.shape)
            self._arrays[id(c)] = info
        _, ptr, strides, shape = info
        if type(idx) is not tuple:
            idx = (idx,)
        if len(idx) == len(shape):
            addr = ptr
            for i, s, n in zip(idx, strides, shape):
                if not isinstance(i, (int, np.integer)):
                    break
                i = int(i)
                addr += (i + n if i < 0 else i) * s
            else:
                return addr
        # slices, masks, index arrays, fewer indices than dimensions: every element selected
        pos = np.arange(c.size, dtype=np.int64).reshape(shape)[idx]
        flat = np.atleast_1d(pos).ravel()
        offs = np.zeros(flat.shape, dtype=np.int64)
        for ix, s in zip(np.unravel_index(flat, shape), strides):
            offs += ix * s
        return (offs + ptr).tolist()


def make_hooks(rec: Recorder) -> dict[str, Callable[[Any], Callable[..., Any]]]:
    """Factories of the per-site callables the instrumented bytecode calls (closures are the
    cheapest Python calls; each checks ``rec.active`` so a truncated run goes on unrecorded)."""

    def load(site: Site) -> Callable[[Any, Any], Any]:
        def hook(c: Any, i: Any) -> Any:
            v = c[i]
            if rec.active:
                rec.array(c, i, site, v)
            return v
        return hook

    def store(site: Site) -> Callable[[Any, Any, Any], None]:
        def hook(v: Any, c: Any, i: Any) -> None:
            c[i] = v
            if rec.active:
                rec.array(c, i, site)
        return hook

    def delete(site: Site) -> Callable[[Any, Any], None]:
        def hook(c: Any, i: Any) -> None:
            keys = rec._keys(c, i) if rec.active and not isinstance(c, _IMMUTABLE) else None
            del c[i]
            if keys is not None and rec.active:
                rec.array(c, i, site, keys=keys)
        return hook

    def scalar(site: Site) -> Callable[[], None]:
        def hook() -> None:
            if rec.active:
                rec.scalar(site)
        return hook

    def iterate(loop: int) -> Callable[[], None]:
        def hook() -> None:
            if rec.active:
                rec.iterate(loop)
        return hook

    def call(site: Site) -> Callable[[], None]:
        def hook() -> None:
            if rec.active:
                rec.sync(site)
                rec.call_site = site
        return hook

    return {"load": load, "store": store, "delete": delete, "scalar": scalar, "iterate": iterate, "call": call}
