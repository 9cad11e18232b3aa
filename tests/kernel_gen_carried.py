"""Random kernels with loop-carried dependences, shaped for the HELIX source transform.

Where ``kernel_gen.py`` draws from a general typed grammar (for the simulator's differential
test), this generator draws *loops*: one outer loop, a ``for i in range(...)`` or a ``while``
loop with an induction variable ``i += step`` (sometimes ``while True:`` with the exit test
inside, sometimes a second, data-dependent exit condition), whose body mixes the patterns the
transform has to handle::

    def k(x, a1, o3, n):                       # random_kernel(random.Random(40034))
        r0 = 0
        best4 = 1000000000
        bi5 = -1
        for i in range(2, n, 1):
            v = int(x[i])
            if v % 5 != 2:
                r0 = r0 | v                    # int reduction on one path
            q2 = int(a1[i - 1])                # memory dependence at distance 1 ...
            o3[i] = q2
            if v % 3 != 2:
                return best4, bi5              # an exit: return of live-outs
            if v % 5 == 0:
                continue                       # a skip path
            if v <= -6:
                a1[i] = (q2 * 3 + v) % 1009    # ... written on one path
            if v % 2 != 0:
                if i < best4:                  # argmin pair, under a guard
                    best4 = i
                    bi5 = i
            if v % 2 == 0:
                return best4, bi5
        return best4, bi5

Features (each with its own variables and arrays, so they never interfere): private
temporaries stored per iteration (the parallel work), counters used as output indices
(``o[c] = ...; c += 1``, on one path or on every path, i.e. an induction variable; sometimes
reading the element the previous append wrote), running hashes and carried pairs updated by a
tuple assignment, a "previous value" carried on every path, int reductions (``+ - * & | ^ min
max`` in their ``op=``, ``v = v op e``, ``min(v, e)``, ``min(e, v)`` and compare-and-replace
forms), float sums and min/max (in both operand orders and with ``>``/``>=``: ties between
-0.0 and 0.0, and nan, make the order matter), argmax/argmin pairs (``>``, ``>=``, ``<``,
``<=``, int or float), memory dependences at distance 1 or 2 (int and float arrays, read on every
path and written on one), histogram writes through an index array, conditionally assigned "last
seen" values, inner ``for`` loops (private, a reduction, a carried counter, or with their own
``break``/``continue``), and a rare ``//`` that raises ZeroDivisionError for one input value.
Features go under ``if``/``elif``/``else`` guards (sometimes nested), tests on the element, the
iteration, a temporary or carried state; ``continue`` and up to two ``break``/``return`` guards
are inserted between them. Live-outs: a tuple of the carried scalars and reductions, sometimes
the loop variable or a private temporary.

Inputs: ``x`` holds ints in [-50, 50] (or in [-3, 3], for ties), ``y`` floats (sometimes with
nan, inf, -0.0, or only a few distinct values), the loop bound ``n`` is ``len(x)`` or less.
All values stay small (everything is reduced with ``%`` or bounded by the trip count: at most
``MAX_LEN`` iterations), so no int leaves int64; the kernels are deterministic and inside the
kernel language (array elements are read through ``int()``/``float()``; a few hundred of them
ran on ``helixrc.simulate`` without a LanguageError).

Choices go through a :class:`Choices` object, so the same generator runs under hypothesis
(:func:`carried_kernels`, shrinkable) and from a seeded ``random.Random`` (:func:`random_kernel`,
for fixed samples outside ``@given``). :func:`make_inputs` builds an argument tuple from a seed.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

#: the longest array (hence the most iterations) a kernel sees
MAX_LEN = 40
#: x holds ints in [-X_RANGE, X_RANGE]
X_RANGE = 50
#: histograms have this many bins at most
MAX_BINS = 8
#: a module constant some kernels use for their running hash
MODULUS = 1000003


# ---------------------------------------------------------------------------------------------
# Choices: hypothesis draws or a seeded random.Random
# ---------------------------------------------------------------------------------------------


class Choices:
    """The three kinds of choice the generator makes."""

    def integers(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def pick(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return options[self.integers(0, len(options) - 1)]

    def chance(self, p: float) -> bool:
        """True with probability about p (a draw that shrinks to False)."""
        n = 20
        return self.integers(0, n - 1) >= round(n * (1 - p))


class DrawChoices(Choices):
    """Choices drawn by hypothesis (``draw`` of ``st.composite`` or ``st.data()``)."""

    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw

    def integers(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return self.draw(st.sampled_from(list(options)))


class RandomChoices(Choices):
    """Choices from a seeded ``random.Random`` (reproducible samples outside hypothesis)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def integers(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)


# ---------------------------------------------------------------------------------------------
# The generated kernel and its inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrayParam:
    """An array parameter. ``role``: ``x`` ints in [-X_RANGE, X_RANGE], ``y`` floats, ``idx`` bin
    numbers in [0, bins), ``state`` ints in [0, 100) that the loop updates, ``fstate`` floats the
    loop updates, ``out``/``fout`` output arrays filled with -1 / 0.0, ``hist`` bins of zeros."""

    name: str
    role: str
    #: length = scale * N + extra, N the length of x
    scale: int = 1
    extra: int = 0
    #: the fixed length of a histogram
    bins: int = 0

    @property
    def dtype(self) -> str:
        return "float64" if self.role in ("y", "fstate", "fout") else "int64"


@dataclass
class CarriedKernel:
    """A generated module with its kernel ``k(<arrays>, n)``."""

    source: str
    arrays: list[ArrayParam]
    #: the loop bound is the parameter n (else len(x); n is passed anyway)
    uses_n: bool
    #: every identifier the generator made up (to normalize refusal messages)
    names: set[str] = field(default_factory=set)
    name: str = "k"
    #: fixed arguments (a hand-written kernel): make_inputs returns copies of them
    inputs: tuple[Any, ...] | None = None


def make_inputs(kern: CarriedKernel, seed: int) -> tuple[Any, ...]:
    """Arguments for ``k``: arrays from a seeded NumPy generator, then ``n``."""
    if kern.inputs is not None:
        return copy.deepcopy(kern.inputs)
    rng = np.random.default_rng(seed)
    length = int(rng.integers(0, 4)) if rng.random() < 0.12 else int(rng.integers(4, MAX_LEN + 1))
    specials = rng.random() < 0.3  # some float inputs hold nan, inf, -0.0
    out: list[Any] = []
    for p in kern.arrays:
        size = p.bins if p.role == "hist" else p.scale * length + p.extra
        arr: np.ndarray
        if p.role == "x":
            if rng.random() < 0.3:  # few distinct values: ties for argmax, repeated bins
                arr = rng.integers(-3, 4, size).astype(np.int64)
            else:
                arr = rng.integers(-X_RANGE, X_RANGE + 1, size).astype(np.int64)
        elif p.role == "y":
            arr = np.round(rng.normal(0.0, 10.0, size), int(rng.integers(0, 4)))
            if rng.random() < 0.15:  # few distinct values: ties, signed zeros, nan
                arr = rng.choice([0.0, -0.0, 0.5, -0.5, np.nan], size)
            elif specials and size:
                pick = rng.random(size) < 0.15
                arr[pick] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e308], int(pick.sum()))
        elif p.role == "idx":
            arr = rng.integers(0, p.bins, size).astype(np.int64)
        elif p.role == "state":
            arr = rng.integers(0, 100, size).astype(np.int64)
        elif p.role == "fstate":
            arr = rng.normal(0.0, 1.0, size)
        elif p.role == "out":
            arr = np.full(size, -1, dtype=np.int64)
        elif p.role == "fout":
            arr = np.zeros(size)
        elif p.role == "hist":
            arr = np.zeros(size, dtype=np.int64)
        else:
            raise AssertionError(p.role)
        out.append(arr)
    n = length if rng.random() < 0.7 else int(rng.integers(0, length + 1))
    out.append(n)
    return tuple(out)


def format_inputs(args: tuple[Any, ...]) -> str:
    """Arguments as Python text (for a failure report)."""
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            parts.append(f"np.array({a.tolist()!r}, dtype=np.{a.dtype})")
        else:
            parts.append(repr(a))
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


@dataclass
class _Block:
    """Some statements of the loop body (indented relative to the body)."""

    lines: list[str]
    #: may go under an if (with other blocks in elif/else branches)
    guardable: bool = True


def _indent(lines: list[str], n: int = 1) -> list[str]:
    return ["    " * n + s for s in lines]


class _Gen:
    def __init__(self, ch: Choices) -> None:
        self.ch = ch
        self.arrays: list[ArrayParam] = []
        self.init: list[str] = []  # before the loop
        self.results: list[str] = []  # candidate live-outs
        self.names: set[str] = set()
        self.counter = 0
        self.floats = False
        self.carried: list[str] = []  # int carried state a condition may read
        self.temps: list[str] = []  # int privates defined at the top of the body
        self.min_start = 0
        self.uses_math = False
        self.uses_modulus = False

    # -- small helpers --------------------------------------------------------------------------

    def fresh(self, base: str) -> str:
        name = f"{base}{self.counter}"
        self.counter += 1
        self.names.add(name)
        return name

    def array(self, base: str, role: str, scale: int = 1, extra: int = 0, bins: int = 0) -> str:
        name = self.fresh(base)
        self.arrays.append(ArrayParam(name, role, scale, extra, bins))
        return name

    def int_value(self) -> str:
        """An int expression of the iteration: v, a temporary, i, small arithmetic on them."""
        options = ["v", "v", "v % 13", "(v * v) % 1000", "i", "(v + i) % 17"]
        options += self.temps * 2
        return self.ch.pick(options)

    def float_value(self) -> str:
        self.floats = True
        return self.ch.pick(["w", "w", "w * 0.5", "w * w", "w + 1.5", "(w - 0.25) * 3.0"])

    def cond(self) -> str:
        """A test for a guard: on v mostly, sometimes on w, i, a temporary or carried state."""
        kind = self.ch.pick(["mod", "mod", "cmp", "cmp", "float", "iter", "temp", "carried"])
        if kind == "float":
            self.floats = True
            return self.ch.pick(["w > 0.0", "w < 2.5", "w >= -1.0", "not (w <= 0.0)"])
        if kind == "iter":
            return self.ch.pick(["i % 2 == 0", "i % 3 != 1", "i > 4"])
        if kind == "temp" and self.temps:
            t = self.ch.pick(self.temps)
            return f"{t} {self.ch.pick(['>', '<', '>=', '=='])} {self.ch.integers(0, 60)}"
        if kind == "carried" and self.carried:
            c = self.ch.pick(self.carried)
            return self.ch.pick([f"{c} % 3 == 0", f"{c} > {self.ch.integers(0, 20)}", f"{c} < 7"])
        if kind == "cmp":
            op = self.ch.pick([">", "<", ">=", "<=", "!="])
            return f"v {op} {self.ch.integers(-20, 20)}"
        k = self.ch.integers(2, 5)
        return f"v % {k} {self.ch.pick(['==', '!='])} {self.ch.integers(0, k - 1)}"

    # -- features: each returns its body block(s) and registers inits, arrays and results -------

    def f_temp_store(self, usable: bool = False) -> list[_Block]:
        """A private temporary stored per iteration (the loop's parallel work); a ``usable`` one
        (defined at the top of the body) may feed later features and tests."""
        if self.ch.chance(0.3):
            u = self.fresh("u")
            fo = self.array("fo", "fout")
            self.floats = True
            expr = self.ch.pick(["w * 1.5 + 0.25", "w * w - 2.0", "(w + 1.0) * 0.5"])
            return [_Block([f"{u} = {expr}", f"{fo}[i] = {u}"])]
        o = self.array("o", "out")
        t = self.fresh("t")
        a, b, m = self.ch.integers(2, 31), self.ch.integers(0, 9), self.ch.pick([101, 97, 1009])
        lines = [f"{t} = (v * {a} + {b}) % {m}", f"{o}[i] = {t}"]
        if usable:
            self.temps.append(t)
        return [_Block(lines)]

    def f_counter(self) -> list[_Block]:
        """A counter used as an output index: carried on one path, or an induction variable."""
        c = self.fresh("c")
        o = self.array("o", "out", extra=4)
        self.init.append(f"{c} = 0")
        self.results.append(c)
        self.carried.append(c)
        val = self.int_value()
        step = self.ch.pick([1, 1, 1, 2])
        if step == 2:  # o[c // 2]: still within the array
            lines = [f"{o}[{c} // 2] = {val}", f"{c} += 2"]
        elif self.ch.chance(0.2):  # reads the element the previous append wrote
            lines = [f"if {c} > 0:", f"    {o}[{c}] = (int({o}[{c} - 1]) + {val}) % 1000", "else:",
                     f"    {o}[{c}] = {val}", f"{c} += 1"]
        elif self.ch.chance(0.3):
            lines = [f"{c} += 1", f"{o}[{c}] = {val}"]
        else:
            lines = [f"{o}[{c}] = {val}", f"{c} += 1"]
        return [_Block(lines)]

    def f_hash(self) -> list[_Block]:
        """Running state: s = (s * 31 + e) % M, carried (maybe read again by a store)."""
        s = self.fresh("s")
        self.init.append(f"{s} = {self.ch.integers(0, 9)}")
        self.results.append(s)
        self.carried.append(s)
        mod = str(MODULUS)
        if self.ch.chance(0.3):
            mod = "MOD"
            self.uses_modulus = True
        form = self.ch.pick(["mul", "mul", "xor", "two", "pair"])
        e = self.int_value()
        if form == "pair":  # a Fibonacci-like pair: s, s2 = s2, (s + s2 + e) % M
            s2 = self.fresh("s")
            self.init.append(f"{s2} = 1")
            self.results.append(s2)
            return [_Block([f"{s}, {s2} = {s2}, ({s} + {s2} + {e}) % {mod}"])]
        if form == "mul":
            lines = [f"{s} = ({s} * {self.ch.pick([31, 33, 131])} + {e}) % {mod}"]
        elif form == "xor":
            lines = [f"{s} = ({s} ^ ({e} * 17)) % 65521"]
        else:  # read into a private, then written back
            h = self.fresh("h")
            lines = [f"{h} = {s} * 7 + {e}", f"{s} = {h} % {mod}"]
        if self.ch.chance(0.25):
            o = self.array("o", "out")
            lines.append(f"{o}[i] = {s} % 97")
        return [_Block(lines)]

    def f_prev(self) -> list[_Block]:
        """The previous iteration's value: read, then overwritten, on every path it runs."""
        p = self.fresh("p")
        d = self.fresh("d")
        o = self.array("o", "out")
        self.init.append(f"{p} = 0")
        if self.ch.chance(0.4):
            self.results.append(p)
        e = self.int_value()
        return [_Block([f"{d} = {e} - {p}", f"{p} = {e}", f"{o}[i] = {d}"])]

    def f_int_reduction(self) -> list[_Block]:
        r = self.fresh("r")
        op = self.ch.pick(["+", "-", "*", "&", "|", "^", "min", "max"])
        init = {"+": "0", "-": "0", "*": "1", "&": self.ch.pick(["-1", "1023"]), "|": "0", "^": "0",
                "min": "1000000000", "max": "(-1000000000)"}[op]
        self.init.append(f"{r} = {init}")
        self.results.append(r)
        if op == "*":  # at most MAX_LEN factors of 2: stays in int64
            e = self.ch.pick(["(1 + (v & 1))", "((v % 2) * 2 - 1)", "(v % 3 - 1)"])
        else:
            e = self.int_value()
        if op in ("min", "max"):
            form = self.ch.pick(["call", "call_rev", "if"])
            if form == "call":
                lines = [f"{r} = {op}({r}, {e})"]
            elif form == "call_rev":
                lines = [f"{r} = {op}({e}, {r})"]
            else:
                cmp = "<" if op == "min" else ">"
                lines = [f"if {e} {cmp} {r}:", f"    {r} = {e}"]
        else:
            form = self.ch.pick(["aug", "aug", "bin"])
            lines = [f"{r} {op}= {e}"] if form == "aug" else [f"{r} = {r} {op} {e}"]
        return [_Block(lines)]

    def f_float(self) -> list[_Block]:
        f = self.fresh("f")
        self.results.append(f)
        e = self.float_value()
        kind = self.ch.pick(["sum", "sum", "sum", "min", "max"])
        if kind == "sum":
            self.init.append(f"{f} = {self.ch.pick(['0.0', '0.0', '-0.0', '1.5'])}")
            op = self.ch.pick(["+", "+", "-"])
            lines = [f"{f} {op}= {e}"] if self.ch.chance(0.6) else [f"{f} = {f} {op} {e}"]
        else:  # ties between -0.0 and 0.0 (and nan) make the order of the operands matter
            self.uses_math = True
            self.init.append(f"{f} = {'math.inf' if kind == 'min' else '-math.inf'}")
            form = self.ch.pick(["call", "call", "call_rev", "if", "if_eq"])
            cmp = "<" if kind == "min" else ">"
            if form == "call":
                lines = [f"{f} = {kind}({f}, {e})"]
            elif form == "call_rev":
                lines = [f"{f} = {kind}({e}, {f})"]
            else:
                lines = [f"if {e} {cmp}{'=' if form == 'if_eq' else ''} {f}:", f"    {f} = {e}"]
        return [_Block(lines)]

    def f_argmax(self) -> list[_Block]:
        best, at = self.fresh("best"), self.fresh("bi")
        floaty = self.ch.chance(0.3)
        e = self.float_value() if floaty else self.int_value()
        op = self.ch.pick([">", ">", ">=", "<", "<="])
        big = op in ("<", "<=")
        if floaty:
            self.uses_math = True
            self.init.append(f"{best} = {'math.inf' if big else '-math.inf'}")
        else:
            self.init.append(f"{best} = {'1000000000' if big else '(-1000000000)'}")
        self.init.append(f"{at} = -1")
        self.results += [best, at]
        if self.ch.chance(0.3):
            lines = [f"if {e} {op} {best}:", f"    {best}, {at} = {e}, i"]
        else:
            lines = [f"if {e} {op} {best}:", f"    {best} = {e}", f"    {at} = i"]
        return [_Block(lines)]

    def f_memdep(self) -> list[_Block]:
        """a[i] from a[i - d]: a memory dependence at distance d (1 or 2)."""
        d = self.ch.pick([1, 1, 2])
        self.min_start = max(self.min_start, d)
        if self.ch.chance(0.25):
            fa = self.array("fa", "fstate")
            self.floats = True
            lines = [f"{fa}[i] = float({fa}[i - {d}]) * 0.5 + {self.float_value()}"]
            return [_Block(lines)]
        a = self.array("a", "state")
        form = self.ch.pick(["mix", "mix", "add", "private", "cond_read"])
        e = self.int_value()
        if form == "mix":
            lines = [f"{a}[i] = (int({a}[i - {d}]) * {self.ch.integers(2, 5)} + {e}) % 1009"]
        elif form == "add":
            lines = [f"{a}[i] += int({a}[i - {d}]) % 7"]
        elif form == "private":
            q = self.fresh("q")
            lines = [f"{q} = int({a}[i - {d}])", f"{a}[i] = ({q} + {e}) % 1009"]
        else:  # read on every path, written on one
            q = self.fresh("q")
            o = self.array("o", "out")
            return [_Block([f"{q} = int({a}[i - {d}])", f"{o}[i] = {q}"], guardable=False),
                    _Block([f"{a}[i] = ({q} * 3 + {e}) % 1009"])]
        return [_Block(lines)]

    def f_hist(self) -> list[_Block]:
        """Writes through an index array: h[idx[i]] += ..."""
        bins = self.ch.integers(2, MAX_BINS)
        idx = self.array("idx", "idx", bins=bins)
        h = self.array("h", "hist", bins=bins)
        form = self.ch.pick(["inc", "inc", "add", "max"])
        if form == "inc":
            lines = [f"{h}[int({idx}[i])] += 1"]
        elif form == "add":
            lines = [f"{h}[int({idx}[i])] += {self.int_value()}"]
        else:
            b = self.fresh("b")
            lines = [f"{b} = int({idx}[i])", f"{h}[{b}] = max(int({h}[{b}]), {self.int_value()})"]
        return [_Block(lines)]

    def f_last(self) -> list[_Block]:
        """A value last seen on one path, read after the loop."""
        lst = self.fresh("last")
        self.init.append(f"{lst} = -1")
        self.results.append(lst)
        return [_Block([f"{lst} = {self.ch.pick(['i', 'v', self.int_value()])}"])]

    def f_inner(self) -> list[_Block]:
        kind = self.ch.pick(["private", "private", "reduction", "carried", "jumps"])
        if kind == "jumps":  # break / continue of the inner loop, not of the parallel one
            q = self.fresh("q")
            o = self.array("o", "out")
            jump = self.ch.pick(["break", "continue"])
            lines = [f"{q} = v", "for j in range(4):", f"    if (j + v) % 3 == {self.ch.integers(0, 2)}:",
                     f"        {jump}", f"    {q} = ({q} * 5 + j) % 103", f"{o}[i] = {q}"]
        elif kind == "private":
            q = self.fresh("q")
            o = self.array("o", "out")
            lines = [f"{q} = 0", f"for j in range(v % 4 + 1):", f"    {q} = ({q} * 3 + j + v) % 101",
                     f"{o}[i] = {q}"]
        elif kind == "reduction":
            r = self.fresh("r")
            self.init.append(f"{r} = 0")
            self.results.append(r)
            lines = [f"for j in range(v % 4):", f"    {r} += j * v + 1"]
        else:
            c = self.fresh("c")
            o = self.array("o", "out", scale=3, extra=4)
            self.init.append(f"{c} = 0")
            self.results.append(c)
            lines = [f"for j in range(v % 3):", f"    {o}[{c}] = i * 10 + j", f"    {c} += 1"]
        return [_Block(lines)]

    def f_raise(self) -> list[_Block]:
        """A // that raises ZeroDivisionError when x holds one particular value."""
        z = self.fresh("z")
        o = self.array("o", "out")
        bad = self.ch.integers(-X_RANGE, X_RANGE)
        return [_Block([f"{z} = 1000 // (v - ({bad}))", f"{o}[i] = {z} % 100"])]

    FEATURES = (
        ("f_counter", 5), ("f_hash", 4), ("f_prev", 2), ("f_int_reduction", 5), ("f_float", 3),
        ("f_argmax", 3), ("f_memdep", 3), ("f_hist", 3), ("f_last", 2), ("f_inner", 2), ("f_raise", 1),
    )

    def feature(self) -> list[_Block]:
        names = [n for n, w in self.FEATURES for _ in range(w)]
        return getattr(self, self.ch.pick(names))()

    # -- the kernel -----------------------------------------------------------------------------

    def guard(self, blocks: list[_Block]) -> list[str]:
        """Put guardable blocks under if / elif / else; the others stay as they are."""
        out: list[str] = []
        at = 0
        while at < len(blocks):
            b = blocks[at]
            if not b.guardable or not self.ch.chance(0.5):
                out += b.lines
                at += 1
                continue
            lines = b.lines
            if self.ch.chance(0.15):
                lines = [f"if {self.cond()}:", *_indent(lines)]
            out += [f"if {self.cond()}:", *_indent(lines)]
            at += 1
            for kw in ("elif", "else"):
                if at < len(blocks) and blocks[at].guardable and self.ch.chance(0.3):
                    head = f"elif {self.cond()}:" if kw == "elif" else "else:"
                    out += [head, *_indent(blocks[at].lines)]
                    at += 1
                else:
                    break
        return out

    def kernel(self) -> CarriedKernel:
        ch = self.ch
        self.names |= {"k", "i", "j", "v", "w", "n", "x", "y", "MOD"}
        x = "x"
        self.arrays.append(ArrayParam(x, "x"))
        # The loop's parallel work and a private temporary or two come first.
        prelude: list[_Block] = []
        for _ in range(ch.pick([0, 1, 1, 2])):
            prelude += self.f_temp_store(usable=True)
        blocks: list[_Block] = []
        for _ in range(ch.integers(1, 4)):
            blocks += self.feature()
        if ch.chance(0.25):
            blocks += self.f_temp_store()  # work after the carried part
        while_loop = ch.chance(0.3)
        step = ch.pick([1, 1, 1, 2, 3])
        down = not while_loop and ch.chance(0.1)
        start = max(self.min_start, ch.pick([0, 0, 1, 2]))
        body = self.guard(blocks)
        # continue / break / return guards at random places among the top-level statements
        jumps: list[tuple[str, int]] = []
        if ch.chance(0.3):
            jumps.append(("continue", ch.integers(0, len(body))))
        exit_kind = ch.pick([None, None, None, "break", "break", "return"])
        if exit_kind:
            jumps.append((exit_kind, ch.integers(0, len(body))))
            if ch.chance(0.2):
                jumps.append((ch.pick(["break", "return"]), ch.integers(0, len(body))))
        # live-outs
        results = [r for r in self.results if ch.chance(0.7)] or self.results[:1]
        loop_var_out = ch.chance(0.15)
        temp_out = self.temps and ch.chance(0.2)
        if temp_out or ch.chance(0.05):
            t = ch.pick(self.temps) if temp_out else "v"
            self.init.append(f"{t} = 0")
            results.append(t)
        if loop_var_out:
            if not while_loop:
                self.init.append("i = -1")
            results.append("i")
        ret = ", ".join(results) if results else None
        # statements at the top level of the body are those not indented; insert jumps there
        tops = [p for p, line in enumerate(body) if not line.startswith(" ") and not line.startswith(("elif", "else"))]
        tops.append(len(body))
        inc = f"i -= {step}" if down else f"i += {step}"
        for kind, pos in sorted(jumps, key=lambda j: -j[1]):
            at = tops[min(pos, len(tops) - 1)]
            stmt = {"continue": "continue", "break": "break", "return": f"return {ret}" if ret else "return"}[kind]
            inner = [inc, stmt] if while_loop and kind == "continue" else [stmt]
            body[at:at] = [f"if {self.cond()}:", *_indent(inner)]
        head = ["v = int(x[i])"]
        if self.floats:
            self.arrays.append(ArrayParam("y", "y"))
            head.append("w = float(y[i])")
        body = head + [line for b in prelude for line in b.lines] + body
        uses_n = ch.chance(0.8)
        bound = "n" if uses_n else "len(x)"
        loop: list[str]
        if while_loop:
            style = ch.pick(["plain", "plain", "true", "and"])
            pre = [f"i = {start}"]
            if style == "true":
                loop = ["while True:", f"    if i >= {bound}:", "        break"]
            elif style == "and" and self.carried:
                c = ch.pick(self.carried)
                loop = [f"while i < {bound} and {c} < {ch.integers(3, 30)}:"]
            else:
                loop = [f"while i < {bound}:"]
            loop = pre + loop + _indent(body + [inc])
        else:
            if down:
                rng = f"range({bound} - 1, {start - 1}, -{step})"
            elif start == 0 and step == 1 and ch.chance(0.5):
                rng = f"range({bound})"
            elif step == 1 and ch.chance(0.5):
                rng = f"range({start}, {bound})"
            else:
                rng = f"range({start}, {bound}, {step})"
            loop = [f"for i in {rng}:", *_indent(body)]
        params = [p.name for p in self.arrays] + ["n"]
        lines = [f"def k({', '.join(params)}):", *_indent(self.init), *_indent(loop)]
        if ret:
            lines.append(f"    return {ret}")
        head_lines = []
        if self.uses_math:
            head_lines += ["import math", ""]
        if self.uses_modulus:
            head_lines += [f"MOD = {MODULUS}", ""]
        if head_lines:
            head_lines.append("")
        source = "\n".join(head_lines + lines) + "\n"
        return CarriedKernel(source, list(self.arrays), uses_n, set(self.names))


@st.composite
def carried_kernels(draw: Callable[..., Any]) -> CarriedKernel:
    """A random kernel ``k`` with loop-carried dependences (hypothesis strategy)."""
    return _Gen(DrawChoices(draw)).kernel()


def random_kernel(rnd: random.Random) -> CarriedKernel:
    """The same generator driven by a seeded ``random.Random`` (for fixed samples)."""
    return _Gen(RandomChoices(rnd)).kernel()


# ---------------------------------------------------------------------------------------------
# Outcome categories (for the non-vacuity statistics)
# ---------------------------------------------------------------------------------------------


def outcome_category(outcome: str, names: set[str]) -> str:
    """A transform outcome with the kernel's own names, line numbers and counts taken out:
    ``HELIX``/``DOALL`` for a transformed loop, ``refused: <reason shape>`` otherwise."""
    if not outcome.startswith("refused: "):
        return outcome.split(",")[0]
    text = re.sub(r"\([^()]*\)", "", outcome)
    text = re.sub(r"\b\d+\b", "N", text)
    text = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: "V" if m.group(0) in names else m.group(0), text)
    text = re.sub(r"V\[\]", "V", text)
    text = re.sub(r"V(, V)+", "V", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([:;,])", r"\1", text)
    return text
