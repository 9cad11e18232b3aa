"""Random kernels in the kernel language, as source text, and a differential check against CPython.

The generator builds a module (constants, helper kernels, the kernel ``k``) from a small typed
grammar: every expression is generated for a wanted type (int, float or bool), every local has a
fixed type by its name (``n*`` int, ``r*`` float, ``t*`` bool), so the language's type rules hold
by construction::

    kern = data.draw(kernels(GenConfig(arrays=True)))
    args = data.draw(arguments(kern))
    check_source(kern.source, "k", args)

:func:`check_source` execs the text for the CPython reference and compares it with
``helixrc.simulate`` through ``equality.run_both``. The one sanctioned difference, int64 overflow,
is decided by :func:`int64_overflow_agrees` from an instrumented CPython run that stops at the
first int outside int64 (see :func:`first_int64_escape`).
"""

from __future__ import annotations

import ast
import atexit
import copy
import hashlib
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

import helixrc
from equality import assert_same, run_both

INT, FLOAT, BOOL = "int", "float", "bool"
SCALARS = (INT, FLOAT, BOOL)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

NARROW_INT_DTYPES = ("int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64")
NARROW_DTYPES = NARROW_INT_DTYPES + ("float32", "bool")

# Literals: simple ones first (hypothesis shrinks towards the start of a sampled list).
INT_LITERALS = (0, 1, 2, 3, -1, -2, 5, 7, -7, 10, 31, 32, 63, 64, 65, 100, 255, 256, -129,
                2**31, 2**32 + 1, 2**53 + 1, -(2**53) - 1, 2**62, -(2**62), INT64_MAX, -INT64_MAX)
FLOAT_LITERALS = ("0.0", "1.0", "-0.0", "0.5", "-1.5", "2.5", "3.0", "0.1", "-7.0", "1e308",
                  "-1e308", "5e-324", "2.2250738585072014e-308", "9007199254740993.0", "1e19",
                  "-9.223372036854776e18", "1e-300", "math.inf", "(-math.inf)",
                  "(math.inf - math.inf)")
SHIFT_LITERALS = (0, 1, 2, 3, 5, 31, 32, 62, 63, 64, 65, 100, -1, -3)

# Argument values: corner cases first, random ones mixed in by the strategies below.
INT_VALUES = (0, 1, -1, 2, -2, 3, 7, -7, 63, 64, 65, -64, 255, 2**31, 2**32, 2**53, 2**53 + 1,
              -(2**53) - 1, 2**62, 2**63 - 1, -(2**63), -(2**63) + 1)
FLOAT_VALUES = (0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -2.5, 3.0, 0.1, 1e308, -1e308,
                1.7976931348623157e308, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300,
                math.inf, -math.inf, math.nan, 9007199254740992.0, 9007199254740994.0,
                9.223372036854776e18, -9.223372036854776e18, 1e19, 4.5e15 + 0.5)


# ---------------------------------------------------------------------------------------------
# Kernel shapes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArraySpec:
    """One array parameter: a list (``kind="list"``) or a NumPy array of a dtype and shape."""

    name: str
    kind: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def narrow(self) -> bool:
        return self.kind == "numpy" and self.dtype in NARROW_DTYPES

    @property
    def elem(self) -> str:
        """The type of an element once converted (or as read, for lists and 64-bit arrays)."""
        if self.dtype in ("float64", "float32"):
            return FLOAT
        if self.dtype == "bool":
            return BOOL
        return INT


@dataclass(frozen=True)
class GenConfig:
    """What a family of generated kernels may use."""

    #: array parameters: a list of ints, a list of floats, a 1-D NumPy int64/float64 array,
    #: a narrow NumPy array and a 2-D NumPy array
    arrays: bool = False
    #: elements of int64/float64 NumPy arrays are used bare, and scalar arguments are sometimes
    #: NumPy scalars (np.int64, np.float64, np.bool_): CPython then computes with NumPy scalars
    numpy_bare: bool = False
    #: helper kernels the main kernel may call
    helpers: int = 0
    #: loops and early returns
    control: bool = True
    #: the maximal expression depth
    depth: int = 3
    #: top-level statements of the kernel body
    max_stmts: int = 5


@dataclass
class GeneratedKernel:
    """A generated module: its source text and the parameters of its kernel ``k``."""

    source: str
    #: ("x", INT), ("f", FLOAT), ... or ArraySpec for array parameters, in order
    params: list[tuple[str, str] | ArraySpec]
    #: scalar arguments may be passed as NumPy scalars
    numpy_scalars: bool = False


@dataclass
class _Helper:
    name: str
    params: tuple[str, ...]
    returns: tuple[str, ...]


@dataclass
class _Scope:
    """Names readable at a point of a function, by type; ``maybe`` ones may be unassigned."""

    defs: dict[str, str]
    maybe: dict[str, str] = field(default_factory=dict)
    #: names a statement may assign (locals and loop variables, not counters or params)
    assignable: set[str] = field(default_factory=set)
    #: enclosing loop variables, innermost last, with the length of the array they walk (or None)
    loops: list[tuple[str, int | None]] = field(default_factory=list)
    in_loop: bool = False

    def copy(self) -> _Scope:
        return _Scope(dict(self.defs), dict(self.maybe), set(self.assignable), list(self.loops),
                      self.in_loop)

    def names(self, t: str) -> list[str]:
        return sorted(n for n, nt in self.defs.items() if nt == t)

    def merge(self, branches: list[_Scope]) -> None:
        """After an if: definitely assigned on every branch, maybe assigned on any."""
        every = set.intersection(*(set(b.defs) for b in branches))
        for b in branches:
            for n, t in {**b.defs, **b.maybe}.items():
                if n in every:
                    self.defs[n] = t
                elif n not in self.defs:
                    self.maybe[n] = t
        for n in every:
            self.maybe.pop(n, None)


def _lit_int(v: int) -> str:
    return f"({v})" if v < 0 else str(v)


class _Writer:
    """Draws one module; ``e_*`` methods return expression text, ``s_*`` emit statements."""

    def __init__(self, draw: Callable[..., Any], cfg: GenConfig) -> None:
        self.draw = draw
        self.cfg = cfg
        self.lines: list[str] = []
        self.arrays: list[ArraySpec] = []
        self.helpers: list[_Helper] = []
        self.consts: dict[str, str] = {}
        self.pow_consts: dict[str, int] = {}
        self.ret: tuple[str, ...] | None = None
        self.stmt_budget = 0

    # -- draw helpers -------------------------------------------------------------------------

    def pick(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def chance(self, p: float) -> bool:
        """True with probability about p (as a sampled choice, so it shrinks to False)."""
        n = 20
        return self.draw(st.integers(0, n - 1)) >= round(n * (1 - p))

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # -- atoms ----------------------------------------------------------------------------------

    def e_literal(self, t: str) -> str:
        if t == INT:
            if self.chance(0.5):
                return _lit_int(self.draw(st.integers(-20, 20)))
            return _lit_int(self.pick(INT_LITERALS))
        if t == FLOAT:
            return self.pick(FLOAT_LITERALS)
        return self.pick(["True", "False"])

    def e_name(self, t: str, sc: _Scope) -> str | None:
        names = sc.names(t) + [c for c, ct in self.consts.items() if ct == t]
        maybe = sorted(n for n, nt in sc.maybe.items() if nt == t)
        if maybe and self.chance(0.08):
            return self.pick(maybe)  # may raise UnboundLocalError in both
        return self.pick(names) if names else None

    def e_index(self, length: int, sc: _Scope, arr: ArraySpec | None = None) -> str:
        """An index into an axis of `length`: mostly valid, sometimes negative or out of range."""
        options = ["lit"] * 10 + ["neg"] * 3
        walking = [v for v, n in sc.loops if n == length]
        if walking:
            options += ["loop"] * 10
        if sc.loops:
            options.append("anyloop")
        if length > 0:
            options += ["mod"] * 3
        if arr is not None and arr.kind == "list" and arr.shape[0] > 0:
            options.append("len")
        narrow = [a for a in self.arrays if a.narrow and a.dtype in NARROW_INT_DTYPES]
        if narrow:
            options.append("raw")
        kind = "out" if self.chance(0.04) else self.pick(options)
        if kind == "lit":
            return _lit_int(self.draw(st.integers(0, max(length - 1, 0))))
        if kind == "out":
            return _lit_int(self.pick([length, -length - 1]))
        if kind == "neg":
            return _lit_int(-self.draw(st.integers(1, max(length, 1))))
        if kind == "loop":
            v = self.pick(walking)
            return self.pick([v, f"(-{v} - 1)", f"({v} - {length})"])
        if kind == "anyloop":
            return self.pick([v for v, _ in sc.loops])
        if kind == "mod":
            return f"({self.e_expr(INT, sc, 1)} % {length})"
        if kind == "len":
            assert arr is not None
            return self.pick([f"(len({arr.name}) - 1)", f"(-len({arr.name}))"])
        raw = self.pick(narrow)
        return f"{raw.name}[{self.e_index(raw.shape[0], sc)}]"  # a bare narrow element

    def e_subscript(self, arr: ArraySpec, sc: _Scope) -> str:
        idx = [self.e_index(n, sc, arr) for n in arr.shape]
        if len(idx) > 1 and self.chance(0.5):
            return arr.name + "".join(f"[{i}]" for i in idx)
        return f"{arr.name}[{', '.join(idx)}]"

    def e_element(self, t: str, sc: _Scope) -> str | None:
        """An array element converted to type t, if some array can give one."""
        conv = {INT: "int", FLOAT: "float", BOOL: "bool"}[t]
        options = []
        for a in self.arrays:
            if a.kind == "list" or (not a.narrow and self.cfg.numpy_bare):
                if a.elem == t:
                    options.append((a, False))
                elif self.chance(0.2):
                    options.append((a, True))
            else:
                options.append((a, True))
        if not options:
            return None
        arr, convert = self.pick(options)
        text = self.e_subscript(arr, sc)
        return f"{conv}({text})" if convert else text

    # -- expressions ----------------------------------------------------------------------------

    def e_expr(self, t: str, sc: _Scope, depth: int) -> str:
        if depth <= 0 or self.chance(0.25):
            return self.e_atom(t, sc)
        return {INT: self.e_int, FLOAT: self.e_float, BOOL: self.e_bool}[t](sc, depth - 1)

    def e_atom(self, t: str, sc: _Scope) -> str:
        kind = self.pick(["name", "name", "lit", "elem"] + (["len"] if t == INT and self.arrays else []))
        if kind == "name":
            name = self.e_name(t, sc)
            if name is not None:
                return name
        if kind == "elem":
            elem = self.e_element(t, sc)
            if elem is not None:
                return elem
        if kind == "len":
            arr = self.pick(self.arrays)
            if arr.kind == "list" or self.chance(0.5):
                return f"len({arr.name})"
            return f"{arr.name}.shape[{self.draw(st.integers(0, len(arr.shape) - 1))}]"
        return self.e_literal(t)

    def e_intlike(self, sc: _Scope, depth: int) -> str:
        """An int operand, sometimes a bool (bools do int arithmetic)."""
        return self.e_expr(BOOL if self.chance(0.1) else INT, sc, depth)

    def e_num(self, sc: _Scope, depth: int) -> str:
        """An operand of any scalar type, for comparisons and float arithmetic."""
        return self.e_expr(self.pick([INT, FLOAT, INT, FLOAT, INT, FLOAT, FLOAT, BOOL]), sc, depth)

    def e_divisor(self, sc: _Scope, depth: int) -> str:
        """An int divisor: half the time one that cannot be zero (so more kernels run through)."""
        if self.chance(0.5):
            return self.e_intlike(sc, depth)
        if self.chance(0.5):
            return _lit_int(self.pick([3, -3, 2, 7, -1, 10, 2**32 + 1, INT64_MAX, -INT64_MAX]))
        return f"({self.e_expr(INT, sc, depth)} | 1)"

    def e_shift_count(self, sc: _Scope) -> str:
        if self.chance(0.6):
            return _lit_int(self.pick(SHIFT_LITERALS))
        inner = self.e_expr(INT, sc, 1)
        return self.pick([f"({inner} & 63)", f"(({inner} % 70) - 3)", f"({inner} % 130)"])

    def e_helper_call(self, t: str, sc: _Scope, depth: int) -> str | None:
        fits = [h for h in self.helpers if h.returns == (t,) and self.can_call(h)]
        if not fits:
            return None
        h = self.pick(fits)
        return f"{h.name}({', '.join(self.e_arg(p, sc, depth) for p in h.params)})"

    def can_call(self, h: _Helper) -> bool:
        """The current function has the arrays `h` takes."""
        return all(p in SCALARS or p in [a.name for a in self.arrays] for p in h.params)

    def e_arg(self, p: str, sc: _Scope, depth: int) -> str:
        if p in SCALARS:
            return self.e_expr(p, sc, depth)
        return p  # an array parameter, passed on by name

    def e_int(self, sc: _Scope, d: int) -> str:
        kind = self.pick(["arith", "arith", "bit", "shift", "unary", "pow", "minmax", "abs",
                          "conv", "ifexp", "andor", "call"])
        if kind == "arith":
            op = self.pick(["+", "-", "*", "//", "%"])
            right = self.e_divisor(sc, d) if op in ("//", "%") else self.e_intlike(sc, d)
            return f"({self.e_intlike(sc, d)} {op} {right})"
        if kind == "bit":
            op = self.pick(["&", "|", "^"])
            return f"({self.e_expr(INT, sc, d)} {op} {self.e_intlike(sc, d)})"
        if kind == "shift":
            op = self.pick(["<<", ">>"])
            return f"({self.e_intlike(sc, d)} {op} {self.e_shift_count(sc)})"
        if kind == "unary":
            return f"({self.pick(['-', '~', '+'])}{self.e_intlike(sc, d)})"
        if kind == "pow":
            exp = self.pick(["0", "1", "2", "3", "4"] + list(k for k, v in self.pow_consts.items() if v >= 0))
            return f"({self.e_intlike(sc, d)} ** {exp})"
        if kind == "minmax":
            n = self.pick([2, 2, 3])
            return f"{self.pick(['min', 'max'])}({', '.join(self.e_expr(INT, sc, d) for _ in range(n))})"
        if kind == "abs":
            return f"abs({self.e_intlike(sc, d)})"
        if kind == "conv":
            which = self.pick(["int_f", "int_f", "floor", "ceil", "int_b", "int_i"])
            if which == "int_b":
                return f"int({self.e_expr(BOOL, sc, d)})"
            if which == "int_i":
                return f"int({self.e_expr(INT, sc, d)})"
            fn = {"int_f": "int", "floor": "math.floor", "ceil": "math.ceil"}[which]
            return f"{fn}({self.e_expr(FLOAT, sc, d)})"
        if kind == "ifexp":
            return f"({self.e_expr(INT, sc, d)} if {self.e_cond(sc, d)} else {self.e_expr(INT, sc, d)})"
        if kind == "andor":
            return f"({self.e_expr(INT, sc, d)} {self.pick(['and', 'or'])} {self.e_expr(INT, sc, d)})"
        call = self.e_helper_call(INT, sc, d)
        return call if call is not None else self.e_atom(INT, sc)

    def e_float(self, sc: _Scope, d: int) -> str:
        kind = self.pick(["arith", "arith", "arith", "div", "pow", "unary", "minmax", "math",
                          "conv", "ifexp", "andor", "call"])
        if kind == "arith":
            op = self.pick(["+", "-", "*", "/", "//", "%"])
            left, right = self.e_expr(FLOAT, sc, d), self.e_num(sc, d)
            if self.chance(0.5):
                left, right = right, left
            return f"({left} {op} {right})"
        if kind == "div":  # true division of ints
            return f"({self.e_intlike(sc, d)} / {self.e_divisor(sc, d)})"
        if kind == "pow":
            which = self.pick(["lit", "flit", "abs", "negexp"])
            if which == "lit":  # float ** int literal
                return f"({self.e_expr(FLOAT, sc, d)} ** {self.pick(['2', '3', '0', '(-1)', '(-2)', '5'])})"
            if which == "flit":  # float ** integral float literal: never complex
                return f"({self.e_num(sc, d)} ** {self.pick(['2.0', '0.0', '(-1.0)', '3.0', '1e300', '(-3.0)'])})"
            if which == "abs":  # non-negative base: never complex; one side a float
                base, exp = self.e_expr(FLOAT, sc, d), self.e_num(sc, d)
                if self.chance(0.5):
                    base, exp = self.e_num(sc, d), self.e_expr(FLOAT, sc, d)
                return f"(abs({base}) ** {exp})"
            exp = self.pick(["(-1)", "(-2)"] + [k for k, v in self.pow_consts.items() if v < 0])
            return f"({self.e_intlike(sc, d)} ** {exp})"  # int ** negative literal is a float
        if kind == "unary":
            return f"({self.pick(['-', '+'])}{self.e_expr(FLOAT, sc, d)})"
        if kind == "minmax":
            n = self.pick([2, 2, 3])
            return f"{self.pick(['min', 'max'])}({', '.join(self.e_expr(FLOAT, sc, d) for _ in range(n))})"
        if kind == "math":
            fn = self.pick(["sqrt", "exp", "log", "fabs"])
            return f"math.{fn}({self.e_num(sc, d)})"
        if kind == "conv":
            return f"float({self.e_expr(self.pick([INT, BOOL, FLOAT]), sc, d)})"
        if kind == "ifexp":
            return f"({self.e_expr(FLOAT, sc, d)} if {self.e_cond(sc, d)} else {self.e_expr(FLOAT, sc, d)})"
        if kind == "andor":
            return f"({self.e_expr(FLOAT, sc, d)} {self.pick(['and', 'or'])} {self.e_expr(FLOAT, sc, d)})"
        call = self.e_helper_call(FLOAT, sc, d)
        return call if call is not None else self.e_atom(FLOAT, sc)

    def e_compare(self, sc: _Scope, d: int) -> str:
        n = self.pick([2, 2, 3])
        parts = [self.e_num(sc, d)]
        for _ in range(n - 1):
            parts.append(self.pick(["<", "<=", ">", ">=", "==", "!="]))
            parts.append(self.e_num(sc, d))
        return f"({' '.join(parts)})"

    def e_raw_compare(self, sc: _Scope, d: int) -> str | None:
        raws = [a for a in self.arrays if a.narrow and a.dtype != "float32"]
        if not raws:
            return None
        arr = self.pick(raws)
        op = self.pick(["<", "<=", ">", ">=", "==", "!="])
        return f"({self.e_subscript(arr, sc)} {op} {self.e_expr(INT, sc, d)})"

    def e_bool(self, sc: _Scope, d: int) -> str:
        kind = self.pick(["cmp", "cmp", "cmp", "not", "andor", "bit", "conv", "ifexp", "raw", "call"])
        if kind == "cmp":
            return self.e_compare(sc, d)
        if kind == "not":
            return f"(not {self.e_cond(sc, d)})"
        if kind == "andor":
            return f"({self.e_expr(BOOL, sc, d)} {self.pick(['and', 'or'])} {self.e_expr(BOOL, sc, d)})"
        if kind == "bit":
            return f"({self.e_expr(BOOL, sc, d)} {self.pick(['&', '|', '^'])} {self.e_expr(BOOL, sc, d)})"
        if kind == "conv":
            return f"bool({self.e_expr(self.pick([INT, FLOAT]), sc, d)})"
        if kind == "ifexp":
            return f"({self.e_expr(BOOL, sc, d)} if {self.e_cond(sc, d)} else {self.e_expr(BOOL, sc, d)})"
        if kind == "raw":
            raw = self.e_raw_compare(sc, d)
            if raw is not None:
                return raw
        if kind == "call":
            call = self.e_helper_call(BOOL, sc, d)
            if call is not None:
                return call
        return self.e_compare(sc, d)

    def e_cond(self, sc: _Scope, d: int) -> str:
        """A truth test: any scalar, mixed-type and/or, or a bare narrow element."""
        kind = self.pick(["bool", "bool", "bool", "scalar", "mixed", "raw"])
        if kind == "scalar":
            return self.e_expr(self.pick([INT, FLOAT]), sc, d)
        if kind == "mixed":
            return f"({self.e_cond(sc, d - 1)} {self.pick(['and', 'or'])} {self.e_cond(sc, d - 1)})"
        if kind == "raw":
            raws = [a for a in self.arrays if a.narrow]
            if raws:
                return self.e_subscript(self.pick(raws), sc)
        return self.e_expr(BOOL, sc, d)

    def e_range_bound(self, sc: _Scope) -> str:
        """A bounded int (a small trip count whatever the values)."""
        kind = self.pick(["lit", "lit", "len", "mod", "mod2"])
        if kind == "lit":
            return _lit_int(self.draw(st.integers(-3, 7)))
        if kind == "len" and self.arrays:
            return f"len({self.pick([a.name for a in self.arrays])})"
        inner = self.e_expr(INT, sc, 1)
        return f"({inner} % 7)" if kind == "mod" else f"(({inner} % 9) - 3)"

    # -- statements -----------------------------------------------------------------------------

    def s_block(self, sc: _Scope, indent: int, n_max: int) -> None:
        n = self.draw(st.integers(1, n_max))
        for _ in range(n):
            self.s_stmt(sc, indent)

    def s_stmt(self, sc: _Scope, indent: int) -> None:
        self.stmt_budget -= 1
        nested = indent < 3 and self.stmt_budget > 0
        options = ["assign", "assign", "aug", "aug", "swap"]
        if self.arrays:
            options += ["store", "store"]
        if nested:
            options += ["if", "if"]
            if self.cfg.control:
                options += ["for", "for", "while"]
        if self.cfg.control:
            options += ["return"]
            if sc.in_loop:
                options += ["break", "continue"]
        if any(len(h.returns) > 1 and self.can_call(h) for h in self.helpers):
            options.append("tuplecall")
        options.append("assert")
        getattr(self, "s_" + self.pick(options))(sc, indent)

    def _target(self, sc: _Scope, t: str) -> str:
        """A local of type t to assign; inside loops also ``u0``, first assigned only there."""
        names = sorted(n for n in sc.assignable if sc.defs.get(n) == t or sc.maybe.get(n) == t)
        if t == INT and sc.in_loop and "u0" not in names:
            names.append("u0")
        return self.pick(names) if names else ""

    def s_assign(self, sc: _Scope, indent: int) -> None:
        t = self.pick(SCALARS)
        target = self._target(sc, t)
        if not target:
            return self.emit(indent, "pass")
        value = self.e_expr(t, sc, self.cfg.depth)
        others = sorted(n for n in sc.assignable if sc.defs.get(n) == t and n != target)
        if others and self.chance(0.1):  # chained assignment
            self.emit(indent, f"{target} = {self.pick(others)} = {value}")
        elif self.chance(0.05):  # annotated assignment
            self.emit(indent, f"{target}: {t} = {value}")
        else:
            self.emit(indent, f"{target} = {value}")
        sc.defs[target] = t
        sc.maybe.pop(target, None)
        sc.assignable.add(target)

    def s_aug(self, sc: _Scope, indent: int) -> None:
        t = self.pick(SCALARS)
        names = sorted(n for n in sc.assignable if sc.defs.get(n) == t)
        if not names:
            return self.emit(indent, "pass")
        target = self.pick(names)
        d = self.cfg.depth - 1
        if t == INT:
            op = self.pick(["+=", "-=", "*=", "//=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**="])
            if op in ("<<=", ">>="):
                value = self.e_shift_count(sc)
            elif op in ("//=", "%="):
                value = self.e_divisor(sc, d)
            elif op == "**=":
                value = self.pick(["0", "1", "2", "3"])
            else:
                value = self.e_intlike(sc, d)
        elif t == FLOAT:
            op = self.pick(["+=", "-=", "*=", "/=", "//=", "%=", "**="])
            value = self.pick(["2", "(-1)", "3", "2.0"]) if op == "**=" else self.e_num(sc, d)
        else:
            op = self.pick(["&=", "|=", "^="])
            value = self.e_expr(BOOL, sc, d)
        self.emit(indent, f"{target} {op} {value}")

    def s_swap(self, sc: _Scope, indent: int) -> None:
        if self.arrays and self.chance(0.3):
            arr = self.pick(self.arrays)
            left = [self.e_subscript(arr, sc) for _ in range(2)]
            right = [self.e_store_value(arr, sc, x) for x in reversed(left)]
            return self.emit(indent, f"{left[0]}, {left[1]} = {right[0]}, {right[1]}")
        cands = sorted(n for n in sc.assignable if n in sc.defs)
        if len(cands) < 2:
            return self.emit(indent, "pass")
        a = self.pick(cands)
        b = self.pick([c for c in cands if c != a])
        ta, tb = sc.defs[a], sc.defs[b]
        if ta == tb and self.chance(0.6):
            self.emit(indent, f"{a}, {b} = {b}, {a}")
        else:
            self.emit(indent, f"{a}, {b} = {self.e_expr(ta, sc, 1)}, {self.e_expr(tb, sc, 1)}")

    def e_store_value(self, arr: ArraySpec, sc: _Scope, copy_from: str | None = None) -> str:
        """A value that may be stored into `arr` (its own element type, or a converted one)."""
        if copy_from is not None:
            if arr.kind == "list" or (not arr.narrow and self.cfg.numpy_bare):
                return copy_from
            return f"{ {INT: 'int', FLOAT: 'float', BOOL: 'bool'}[arr.elem]}({copy_from})"
        if arr.kind == "list":
            t = arr.elem
        elif arr.dtype == "bool":
            t = self.pick(SCALARS)
        elif arr.elem == FLOAT:
            t = self.pick([FLOAT, FLOAT, INT, BOOL])
        else:
            t = self.pick([INT, INT, BOOL])
        value = self.e_expr(t, sc, self.cfg.depth - 1)
        if arr.narrow and t == INT and self.chance(0.4):
            value = f"({value} % {self.pick([100, 128, 256, 70000])})"  # often in range
        return value

    def s_store(self, sc: _Scope, indent: int) -> None:
        arr = self.pick(self.arrays)
        target = self.e_subscript(arr, sc)
        simple = all(c.isalnum() or c in "[], ()-" for c in target) and "len" not in target
        # augmented stores read the element bare: lists always, NumPy 64-bit arrays when bare
        if simple and (arr.kind == "list" or (not arr.narrow and self.cfg.numpy_bare)) and self.chance(0.4):
            if arr.elem == INT:
                op = self.pick(["+=", "-=", "*=", "//=", "%=", "|=", "^=", "<<="])
                value = self.e_shift_count(sc) if op == "<<=" else self.e_intlike(sc, 1)
            elif arr.elem == FLOAT:
                op = self.pick(["+=", "-=", "*=", "/=", "//=", "%="])
                value = self.e_expr(FLOAT, sc, 1) if arr.kind == "list" else self.e_num(sc, 1)
            else:
                op, value = self.pick(["&=", "|=", "^="]), self.e_expr(BOOL, sc, 1)
            return self.emit(indent, f"{target} {op} {value}")
        self.emit(indent, f"{target} = {self.e_store_value(arr, sc)}")

    def s_if(self, sc: _Scope, indent: int) -> None:
        branches = []
        self.emit(indent, f"if {self.e_cond(sc, 2)}:")
        b = sc.copy()
        self.s_block(b, indent + 1, 2)
        branches.append(b)
        if self.chance(0.3):
            self.emit(indent, f"elif {self.e_cond(sc, 2)}:")
            b = sc.copy()
            self.s_block(b, indent + 1, 2)
            branches.append(b)
        if self.chance(0.5):
            self.emit(indent, "else:")
            b = sc.copy()
            self.s_block(b, indent + 1, 2)
            branches.append(b)
        else:
            branches.append(sc.copy())
        sc.merge(branches)

    def s_for(self, sc: _Scope, indent: int) -> None:
        var = next((v for v in ("i", "j", "q") if v not in [l for l, _ in sc.loops]), None)
        if var is None:
            return self.emit(indent, "pass")
        length = None
        arrs = [a for a in self.arrays if a.shape[0] > 0]
        form = self.pick(["one", "two", "three", "array", "array_rev"] if arrs else ["one", "two", "three"])
        if form == "one":
            header = f"range({self.e_range_bound(sc)})"
        elif form == "two":
            header = f"range({self.e_range_bound(sc)}, {self.e_range_bound(sc)})"
        elif form == "three":
            step = self.pick(["1", "2", "3", "(-1)", "(-2)", "step"])
            if step == "step":  # may be 0: ValueError in both
                step = f"(({self.e_expr(INT, sc, 1)} % 3) - 1)"
            header = f"range({self.e_range_bound(sc)}, {self.e_range_bound(sc)}, {step})"
        else:
            arr = self.pick(arrs)
            length = arr.shape[0]
            n = f"len({arr.name})" if self.chance(0.7) else str(length)
            header = f"range({n})" if form == "array" else f"range({n} - 1, -1, -1)"
        self.emit(indent, f"for {var} in {header}:")
        body = sc.copy()
        body.defs[var] = INT
        body.maybe.pop(var, None)
        body.assignable.add(var)
        body.loops.append((var, length))
        body.in_loop = True
        self.s_block(body, indent + 1, 3)
        self._after_loop(sc, body, var)

    def _after_loop(self, sc: _Scope, body: _Scope, var: str | None) -> None:
        # The body may run zero times: what it assigns is only maybe-assigned afterwards.
        for n, t in {**body.defs, **body.maybe}.items():
            if n not in sc.defs:
                sc.maybe[n] = t
        if var is not None and var not in sc.defs:
            sc.maybe[var] = INT

    def s_while(self, sc: _Scope, indent: int) -> None:
        counter = next((c for c in ("w0", "w1", "w2") if c not in sc.defs and c not in sc.maybe), None)
        if counter is None:
            return self.emit(indent, "pass")
        limit = self.draw(st.integers(0, 6))
        self.emit(indent, f"{counter} = 0")
        cond = f"{counter} < {limit}"
        if self.chance(0.4):
            cond += f" and {self.e_cond(sc, 1)}"
        self.emit(indent, f"while {cond}:")
        self.emit(indent + 1, f"{counter} += 1")  # first, so `continue` cannot loop forever
        sc.defs[counter] = INT
        body = sc.copy()
        body.in_loop = True
        self.s_block(body, indent + 1, 3)
        self._after_loop(sc, body, None)

    def e_return_value(self, sc: _Scope) -> str:
        assert self.ret is not None
        return ", ".join(self.e_expr(t, sc, 2) for t in self.ret)

    def s_return(self, sc: _Scope, indent: int) -> None:
        self.emit(indent, f"if {self.e_cond(sc, 1)}:")
        self.emit(indent + 1, "return" if not self.ret else f"return {self.e_return_value(sc)}")

    def s_break(self, sc: _Scope, indent: int) -> None:
        self.emit(indent, f"if {self.e_cond(sc, 1)}:")
        self.emit(indent + 1, "break")

    def s_continue(self, sc: _Scope, indent: int) -> None:
        self.emit(indent, f"if {self.e_cond(sc, 1)}:")
        self.emit(indent + 1, "continue")

    def s_assert(self, sc: _Scope, indent: int) -> None:
        msg = ', "generated assert"' if self.chance(0.5) else ""
        self.emit(indent, f"assert {self.e_cond(sc, 1)}{msg}")

    def s_tuplecall(self, sc: _Scope, indent: int) -> None:
        h = self.pick([h for h in self.helpers if len(h.returns) > 1 and self.can_call(h)])
        targets = []
        for t in h.returns:
            names = sorted(n for n in sc.assignable if sc.defs.get(n) == t and n not in targets)
            if not names:
                return self.emit(indent, "pass")
            targets.append(self.pick(names))
        args = ", ".join(self.e_arg(p, sc, 1) for p in h.params)
        self.emit(indent, f"{', '.join(targets)} = {h.name}({args})")

    # -- functions and module ------------------------------------------------------------------

    def function(self, name: str, params: list[tuple[str, str]], array_names: list[str],
                 ret: tuple[str, ...] | None, n_stmts: int) -> None:
        self.ret = ret
        self.stmt_budget = n_stmts + 3
        self.emit(0, f"def {name}({', '.join([p for p, _ in params] + array_names)}):")
        sc = _Scope(dict(params))
        # Locals of each type, initialised first so they are always assigned.
        n_locals = {INT: self.draw(st.integers(1, 2)), FLOAT: self.draw(st.integers(1, 2)),
                    BOOL: self.draw(st.integers(0, 1))}
        for t, prefix in ((INT, "n"), (FLOAT, "r"), (BOOL, "t")):
            for i in range(n_locals[t]):
                self.emit(1, f"{prefix}{i} = {self.e_expr(t, sc, 2)}")
                sc.defs[f"{prefix}{i}"] = t
                sc.assignable.add(f"{prefix}{i}")
        for _ in range(self.draw(st.integers(1, n_stmts))):
            self.s_stmt(sc, 1)
        if ret:
            self.emit(1, f"return {self.e_return_value(sc)}")

    def module(self) -> GeneratedKernel:
        cfg = self.cfg
        lines_head = ["import math", ""]
        # Module constants, some of them computed by an expression.
        for i in range(self.draw(st.integers(0, 3))):
            t = self.pick(SCALARS)
            text = {INT: lambda: self.pick(["7", "-3", "1 << 40", "2 ** 62", "0x7FFF", "-(2 ** 63) + 1"]),
                    FLOAT: lambda: self.pick(["2.5", "-0.0", "1e300", "1.0 / 3.0"]),
                    BOOL: lambda: self.pick(["True", "False"])}[t]()
            lines_head.append(f"K{i} = {text}")
            self.consts[f"K{i}"] = t
        if self.chance(0.3):
            p = self.pick([2, 3, -1])
            lines_head.append(f"KP = {p}")
            self.pow_consts["KP"] = p
            self.consts["KP"] = INT
        params: list[tuple[str, str] | ArraySpec] = [("x", INT), ("y", INT), ("f", FLOAT), ("g", FLOAT), ("p", BOOL)]
        if cfg.arrays:
            self.arrays = self.draw_arrays()
        # Helpers: scalar parameters (and the array `a` sometimes), one or two results.
        for h in range(cfg.helpers):
            hp = tuple(self.pick(SCALARS) for _ in range(self.draw(st.integers(1, 3))))
            ret = self.pick([(INT,), (FLOAT,), (BOOL,), (INT, FLOAT), (FLOAT, INT, BOOL)])
            hparams = [(f"p{i}", t) for i, t in enumerate(hp)]
            saved = self.arrays
            self.arrays = [a for a in saved if a.name == "a"] if self.chance(0.4) else []
            self.function(f"h{h}", hparams, [a.name for a in self.arrays], ret, 3)
            self.emit(0, "")
            self.helpers.append(_Helper(f"h{h}", hp + tuple(a.name for a in self.arrays), ret))
            self.arrays = saved
        ret = self.pick([(INT,), (FLOAT,), (BOOL,), (INT, FLOAT), (INT, INT, BOOL)]
                        + ([None] if self.arrays else []))
        scalars = [p for p in params if isinstance(p, tuple)]
        self.function("k", scalars, [a.name for a in self.arrays], ret, cfg.max_stmts)
        style = self.pick(["import", "alias", "from"])
        if style == "alias":
            lines_head[0] = "import math as mth"
            self.lines = [line.replace("math.", "mth.") for line in self.lines]
        elif style == "from":
            lines_head[0] = "from math import ceil, exp, fabs, floor, inf, log, sqrt"
            self.lines = [line.replace("math.", "") for line in self.lines]
        source = "\n".join(lines_head + [""] + self.lines) + "\n"
        return GeneratedKernel(source, scalars + list(self.arrays), cfg.numpy_bare)

    def draw_arrays(self) -> list[ArraySpec]:
        out = [ArraySpec("a", "list", "int64", (self.pick([3, 4, 5, 1, 2, 3, 4, 5, 0]),)),
               ArraySpec("fl", "list", "float64", (self.draw(st.integers(1, 4)),))]
        out.append(ArraySpec("v", "numpy", self.pick(["int64", "float64"]), (self.draw(st.integers(1, 4)),)))
        out.append(ArraySpec("na", "numpy", self.pick(NARROW_DTYPES), (self.draw(st.integers(1, 4)),)))
        shape: tuple[int, ...] = (self.draw(st.integers(1, 3)), self.draw(st.integers(1, 3)))
        if self.chance(0.15):
            shape += (self.draw(st.integers(1, 2)),)
        out.append(ArraySpec("m", "numpy", self.pick(["int64", "float64"]), shape))
        return out


@st.composite
def kernels(draw: Callable[..., Any], cfg: GenConfig) -> GeneratedKernel:
    """A random module whose kernel ``k`` is inside the language."""
    return _Writer(draw, cfg).module()


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------


def int_values() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(INT_VALUES), st.integers(-50, 50), st.integers(INT64_MIN, INT64_MAX))


def float_values() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(FLOAT_VALUES), st.floats(-100, 100), st.floats(allow_nan=True))


def dtype_values(dtype: str) -> st.SearchStrategy[Any]:
    """Element values for an array of `dtype`, its extremes included."""
    if dtype == "bool":
        return st.booleans()
    if dtype in ("float64", "float32"):
        return float_values()
    info = np.iinfo(dtype)
    return st.one_of(st.sampled_from([0, 1, 2, int(info.max), int(info.min), int(info.max) - 1]),
                     st.integers(-3, 5).filter(lambda v: v >= info.min),
                     st.integers(int(info.min), int(info.max)))


@st.composite
def arguments(draw: Callable[..., Any], kern: GeneratedKernel) -> tuple[Any, ...]:
    """One argument tuple for the kernel ``k`` of `kern`."""
    out: list[Any] = []
    for p in kern.params:
        if isinstance(p, ArraySpec):
            n = int(np.prod(p.shape))
            values = draw(st.lists(dtype_values(p.dtype), min_size=n, max_size=n))
            if p.kind == "list":
                out.append(values)
            else:
                with np.errstate(all="ignore"):
                    out.append(np.array(values, dtype=p.dtype).reshape(p.shape))
        else:
            value = draw({INT: int_values(), FLOAT: float_values(), BOOL: st.booleans()}[p[1]])
            if kern.numpy_scalars and draw(st.integers(0, 3)) == 3:
                value = {INT: np.int64, FLOAT: np.float64, BOOL: np.bool_}[p[1]](value)
            out.append(value)
    return tuple(out)


#: How a NumPy argument is laid out in memory for the call: contiguous, every other element of a
#: larger buffer, reversed (negative strides), Fortran order, or read-only.
LAYOUTS = ("C", "step", "reversed", "F", "readonly")


@st.composite
def layouts(draw: Callable[..., Any], kern: GeneratedKernel) -> tuple[str, ...]:
    """A layout per parameter (``"C"`` for scalars and lists)."""
    out = []
    for p in kern.params:
        if isinstance(p, ArraySpec) and p.kind == "numpy":
            out.append(draw(st.sampled_from(["C", "C", "C", "step", "reversed", "F", "readonly"])))
        else:
            out.append("C")
    return tuple(out)


def as_layout(value: Any, layout: str) -> Any:
    """A fresh array equal to `value`, laid out as `layout` (a view into a larger buffer for
    "step" and "reversed"); anything else is returned as is."""
    if not isinstance(value, np.ndarray) or layout == "C":
        return value
    if layout == "step":
        buf = np.zeros(tuple(2 * n for n in value.shape), dtype=value.dtype)
        view = buf[tuple(slice(None, None, 2) for _ in value.shape)]
    elif layout == "reversed":
        buf = np.zeros(value.shape, dtype=value.dtype)
        view = buf[tuple(slice(None, None, -1) for _ in value.shape)]
    elif layout == "F":
        view = np.zeros(value.shape, dtype=value.dtype, order="F")
    else:
        view = value.copy()
        view.flags.writeable = False
        return view
    view[...] = value
    return view


def with_layouts(fn: Callable[..., Any], layout: tuple[str, ...] | None) -> Callable[..., Any]:
    """Call `fn` on the arguments re-laid-out as `layout`, copying array contents back after the
    call (the comparison of argument states then sees what the kernel wrote)."""
    if layout is None or all(l == "C" for l in layout):
        return fn

    def call(*args: Any) -> Any:
        views = [as_layout(a, l) for a, l in zip(args, layout)]
        try:
            return fn(*views)
        finally:
            for a, v in zip(args, views):
                if isinstance(a, np.ndarray) and v is not a and v.flags.writeable:
                    a[...] = v

    return call


# ---------------------------------------------------------------------------------------------
# The differential check
# ---------------------------------------------------------------------------------------------


class Int64Escape(Exception):
    """Raised by the instrumented CPython run at the first int outside int64."""


class HugeInt(Exception):
    """Raised by the capped CPython run when an int grows past 4096 bits (the kernel would not
    finish in reasonable time, and helixrc cannot match it anyway)."""


def _escape_check(v: Any) -> Any:
    if type(v) is int and not INT64_MIN <= v <= INT64_MAX:
        raise Int64Escape(v)
    return v


def _cap_check(v: Any) -> Any:
    if type(v) is int and v.bit_length() > 4096:
        raise HugeInt(f"an int of {v.bit_length()} bits")
    return v


class _Instrument(ast.NodeTransformer):
    """Wrap every expression that can make an int in ``__chk(...)``; turn ``x op= e`` into
    ``x = __chk(x op e)`` (generated subscript targets have side-effect-free indices)."""

    INT_CALLS = {"abs", "min", "max", "int", "floor", "ceil"}  # floor, ceil: `from math import`

    def visit_Module(self, node: ast.Module) -> ast.Module:
        # Only kernel bodies: module constants are evaluated by CPython and helixrc alike.
        node.body = [self.visit(s) if isinstance(s, ast.FunctionDef) else s for s in node.body]
        return node

    def _wrap(self, node: ast.expr) -> ast.expr:
        return ast.copy_location(ast.Call(ast.Name("__chk", ast.Load()), [node], []), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        return self._wrap(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        return node if isinstance(node.op, ast.Not) else self._wrap(node)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Name) and f.id in self.INT_CALLS) or (
                isinstance(f, ast.Attribute) and f.attr in ("floor", "ceil")):
            return self._wrap(node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        load = copy.deepcopy(node.target)
        for sub in ast.walk(load):
            if hasattr(sub, "ctx"):
                sub.ctx = ast.Load()
        load.ctx = ast.Load()  # type: ignore[attr-defined]
        value = self._wrap(ast.BinOp(load, node.op, node.value))
        return ast.copy_location(ast.Assign([node.target], value), node)


def cpython_kernel(source: str, func: str, check: Callable[[Any], Any] | None = None) -> Callable[..., Any]:
    """The kernel as CPython runs it: exec of the text, or of its instrumented form."""
    namespace: dict[str, Any] = {"__name__": "generated_kernel"}
    if check is None:
        exec(compile(source, "<kernel>", "exec"), namespace)
    else:
        tree = ast.fix_missing_locations(_Instrument().visit(ast.parse(source)))
        namespace["__chk"] = check
        exec(compile(tree, "<kernel>", "exec"), namespace)
    return namespace[func]


def first_int64_escape(source: str, func: str, args: tuple[Any, ...],
                       layout: tuple[str, ...] | None = None) -> int | None:
    """The first int outside int64 that CPython makes running ``func(*args)``, or None.

    CPython computes with unbounded ints; helixrc must raise OverflowError at the first operation
    whose result leaves int64. The instrumented run stops right there, so a later exception of
    CPython's own does not hide it, and a big intermediate whose final result fits is seen too.
    """
    kernel = with_layouts(cpython_kernel(source, func, _escape_check), layout)
    try:
        kernel(*copy.deepcopy(args))
    except Int64Escape as e:
        return int(e.args[0])
    except Exception:  # noqa: BLE001 - an ordinary exception: the plain comparison decides
        return None
    return None


def int64_overflow_agrees(cpython_escape: int | None, helixrc_exc: BaseException | None) -> bool:
    """The one sanctioned difference between helixrc and CPython.

    CPython makes a big int where helixrc has 64 bits: when CPython's run produced an int outside
    int64 (``cpython_escape``, as the result or as any intermediate, found by
    :func:`first_int64_escape`), helixrc raising OverflowError counts as agreement. Everything
    else must match CPython exactly (helixrc may still give CPython's exact result, e.g. when the
    big value is never used).
    """
    return cpython_escape is not None and isinstance(helixrc_exc, OverflowError)


#: Where helixrc deliberately does not follow CPython, it must say so loudly; these are the words.
DOCUMENTED_REFUSALS = (
    "would be complex",                                 # float ** fractional of a negative base
    "does not fit in the simulator's 64-bit ints",      # uint64 elements past 2**63 - 1
    "out of bounds for float32",                        # the language's OverflowError on narrowing
)


def documented_difference_agrees(helixrc_exc: BaseException | None, numpy_warned: bool,
                                 cpython_raised: bool = False) -> bool:
    """The differences KERNEL_LANGUAGE.md sanctions, besides 64-bit overflow.

    helixrc may refuse, with an error that says why, what it cannot run exactly as CPython:
    code whose CPython meaning follows NumPy's scalar rules (the frontend's message names NumPy),
    the values listed in :data:`DOCUMENTED_REFUSALS`, and a division by zero or overflow on which
    NumPy only warned (``numpy_warned``: CPython's run fails under ``np.errstate(all="raise")``)
    and went on, where helixrc raises ZeroDivisionError or OverflowError. A refusal must be a
    helixrc error, never a wrong value. A kernel CPython could not run either (``cpython_raised``)
    may be refused by the frontend before it runs.
    """
    if not isinstance(helixrc_exc, helixrc.HelixError):
        return False
    text = str(helixrc_exc)
    if not isinstance(helixrc_exc, helixrc.KernelError):
        return "NumPy" in text or (cpython_raised and isinstance(helixrc_exc, helixrc.LanguageError))
    if any(words in text for words in DOCUMENTED_REFUSALS):
        return True
    return numpy_warned and isinstance(helixrc_exc, (ZeroDivisionError, OverflowError))


def numpy_warns(kernel: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Whether CPython's run meets a NumPy floating-point or overflow warning."""
    try:
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            kernel(*copy.deepcopy(args))
    except (FloatingPointError, RuntimeWarning):
        return True
    except Exception:  # noqa: BLE001 - any other outcome is not a NumPy warning
        return False
    return False


def format_args(args: tuple[Any, ...], layout: tuple[str, ...] | None = None) -> str:
    """Arguments as Python text that recreates them (nan/inf and dtypes included)."""

    def one(v: Any) -> str:
        if isinstance(v, (bool, np.generic)):
            return repr(v)
        if isinstance(v, float):
            return f"float('{v}')" if math.isnan(v) or math.isinf(v) else repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(one(x) for x in v) + "]"
        if isinstance(v, np.ndarray):
            dtype = "bool_" if v.dtype.name == "bool" else v.dtype.name
            return f"np.array({one(v.tolist())}, dtype=np.{dtype})"
        return repr(v)

    text = "(" + "".join(one(a) + ", " for a in args) + ")"
    if layout is not None and any(l != "C" for l in layout):
        text += f"  # layouts {layout}"
    return text


_KERNEL_DIR = Path(tempfile.gettempdir()) / f"helixrc_generated_{os.getpid()}"
atexit.register(shutil.rmtree, _KERNEL_DIR, ignore_errors=True)


def kernel_file(source: str) -> str:
    """A file holding `source`, named by its hash: helixrc parses a file once and caches it (by
    path, mtime and size), where source text is parsed again on every call."""
    _KERNEL_DIR.mkdir(exist_ok=True)
    path = _KERNEL_DIR / f"k_{hashlib.sha256(source.encode()).hexdigest()[:20]}.py"
    if not path.exists():
        path.write_text(source)
    return str(path)


def check_source(source: str, func: str, args: tuple[Any, ...],
                 layout: tuple[str, ...] | None = None) -> None:
    """Assert that helixrc runs ``func(*args)`` of `source` as CPython does: the same result and
    final argument states, or the same exception type and (beyond ``run_both``) the same argument
    states at the exception, or an int64 overflow (:func:`int64_overflow_agrees`). NumPy arguments
    are laid out per `layout` (see :data:`LAYOUTS`) on both sides. The failure message carries
    the kernel source and the arguments."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's overflow-in-cast and the like
        _check(source, func, args, layout)


def _check(source: str, func: str, args: tuple[Any, ...], layout: tuple[str, ...] | None) -> None:
    seen: dict[str, tuple[Any, ...]] = {}

    spec = kernel_file(source) + "::" + func

    def simulate(a: tuple[Any, ...]) -> Any:
        seen["helixrc"] = a
        return with_layouts(lambda *v: helixrc.simulate(spec, v).value, layout)(*a)

    def cpython(kernel: Callable[..., Any]) -> Callable[..., Any]:
        def call(*a: Any) -> Any:
            seen["cpython"] = a
            return with_layouts(kernel, layout)(*a)
        return call

    escape = first_int64_escape(source, func, args, layout)
    kernel = cpython(cpython_kernel(source, func))
    note = ""
    if escape is not None:
        try:
            simulate(copy.deepcopy(args))
            sim_exc: BaseException | None = None
        except Exception as e:  # noqa: BLE001
            sim_exc = e
        if int64_overflow_agrees(escape, sim_exc):
            return
        kernel = cpython(cpython_kernel(source, func, _cap_check))
        note = f"\nCPython made the int {escape} (outside int64) during the call"
    try:
        py, _ = run_both(kernel, args, simulate)
        if isinstance(py, BaseException):  # both raised: the arguments must agree as well
            for i, (a, b) in enumerate(zip(seen["cpython"], seen["helixrc"])):
                assert_same(a, b, f"argument {i + 1} after the {type(py).__name__}")
    except AssertionError as e:
        try:
            simulate(copy.deepcopy(args))
            sim_exc = None
        except Exception as exc:  # noqa: BLE001
            sim_exc = exc
        try:
            kernel(*copy.deepcopy(args))
            cpython_raised = False
        except Exception:  # noqa: BLE001
            cpython_raised = True
        if documented_difference_agrees(sim_exc, numpy_warns(kernel, args), cpython_raised):
            return
        raise AssertionError(f"{e}{note}\n--- kernel source ---\n{source}--- args ---\n"
                             f"{format_args(args, layout)}") from None
