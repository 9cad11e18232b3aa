"""Parse a module of kernels with LibCST and check that each kernel stays inside the kernel language.

The contract is ``shared/KERNEL_LANGUAGE.md``. The check is a whitelist: every statement and
expression form a kernel may use is handled explicitly, and anything else is refused with a
:class:`LanguageError` that points at the offending node and carries a one-line hint. Code outside
the kernels (``make_inputs``, imports of numpy, a ``__main__`` block) is never validated. Kernels
in parallel form (the transform's output) are checked too: ``parallel_form.py`` recognizes the
runtime's constructs, and this checker validates the plain kernel code around and inside them.

Example::

    >>> km = load_module('''
    ... import math
    ... TS = 1 << 10
    ...
    ... def norm(x, y):
    ...     return math.sqrt(x * x + y * y)
    ...
    ... def kernel(xs, ys, out):
    ...     for i in range(len(xs)):
    ...         out[i & (TS - 1)] = norm(xs[i], ys[i])
    ... ''', "k.py")
    >>> km.constants
    {'TS': 1024}
    >>> check_kernel(km, "kernel")            # helpers first, the kernel last
    ['norm', 'kernel']
    >>> km.loc(km.functions["norm"])
    Loc(file='k.py', line=5, col=0, end_line=6, end_col=35)

and a kernel with a ``print`` left in its loop::

    >>> check_kernel(load_module("def k(a):\\n    for i in range(3):\\n        print(a[i])\\n", "k.py"), "k")
    Traceback (most recent call last):
    helixrc.csim.errors.LanguageError: k.py:3:8: print() is not supported in a kernel
      hint: remove it, or print after the call returns; the simulator reports per-line statistics instead
"""

from __future__ import annotations

import builtins
import math
import operator
import os
import tokenize
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from helixrc.csim.errors import LanguageError, Loc
from helixrc.passes.parallel_form import ParallelForm, TaskSpawn, read_parallel_form, runtime_names

__all__ = ["Binding", "KernelModule", "check_kernel", "load_file", "load_module", "parallel_form"]

#: Builtins a kernel may call (``range`` only as the iterable of a ``for``).
SUPPORTED_BUILTINS: frozenset[str] = frozenset({"abs", "min", "max", "int", "float", "bool", "len", "range"})
#: ``math`` functions a kernel may call; ``math.inf`` is the one supported value.
SUPPORTED_MATH: tuple[str, ...] = ("sqrt", "exp", "log", "floor", "ceil", "fabs")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BUILTIN_NAMES: frozenset[str] = frozenset(dir(builtins))
_MATH_HINT = (
    "supported math functions: " + ", ".join(f"math.{f}" for f in SUPPORTED_MATH) + ", and the value math.inf"
)
_BUILTINS_HINT = (
    "kernels may call abs, min, max, int, float, bool, len, range, math functions and kernels of this module"
)
_CALLABLE_HINT = (
    "kernels may call only kernels of this module, abs/min/max/int/float/bool/len and math functions"
)


# ---------------------------------------------------------------------------------------------
# The module model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Binding:
    """What a module-level name is bound to, as far as name resolution and messages need."""

    #: "constant", "function", "class", "module" (``import x``), "import" (``from m import x``),
    #: "dict", "list" or "value" (any other, non-constant binding)
    kind: str
    #: the statement (or import alias) that binds the name last
    node: cst.CSTNode
    #: for imports, the dotted origin: "numpy" for ``import numpy as np``, "math.sqrt" for a from-import
    origin: str = ""
    #: for a non-constant "value", why it is not a compile-time constant
    reason: str = ""


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, so it can key a cache
class KernelModule:
    """A parsed module: its tree, node positions, and what its top-level names are bound to."""

    filename: str
    source: str
    #: the MetadataWrapper's copy of the tree; ``positions`` is keyed by its nodes
    module: cst.Module
    positions: Mapping[cst.CSTNode, CodeRange]
    #: module-level compile-time constants, evaluated
    constants: dict[str, int | float | bool]
    #: every top-level def, by name
    functions: dict[str, cst.FunctionDef]
    #: local name -> math name, for supported names imported with ``from math import ...``
    math_aliases: dict[str, str]
    #: names bound to the math module (``import math``, ``import math as m``)
    math_modules: set[str]
    #: every name bound at module scope (including the ones above), by its last binding
    names: dict[str, Binding] = field(default_factory=dict)
    #: names bound by a statement directly in the module body: kernels may not assign them
    toplevel_names: frozenset[str] = frozenset()

    def loc(self, node: cst.CSTNode) -> Loc:
        """The source range of ``node`` (1-based lines, 0-based columns)."""
        r = self.positions[node]
        return Loc(self.filename, r.start.line, r.start.column, r.end.line, r.end.column)


def load_file(path: str | os.PathLike[str]) -> KernelModule:
    """Read ``path`` (honouring a PEP 263 coding line) and :func:`load_module` it."""
    with tokenize.open(path) as f:
        source = f.read()
    return load_module(source, os.fspath(path))


def load_module(source: str, filename: str) -> KernelModule:
    """Parse ``source``; a syntax error becomes a :class:`LanguageError` with its location."""
    _check_compiles(source, filename)
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as e:  # CPython accepted it, this LibCST cannot parse it
        raise LanguageError(
            f"LibCST cannot parse this module: {e.message}",
            Loc(filename, e.raw_line, e.raw_column),
            "helixrc reads the Python syntax that LibCST supports; rewrite the construct more plainly",
        ) from None
    wrapper = MetadataWrapper(tree)
    positions = wrapper.resolve(PositionProvider)
    return _ModuleScanner(wrapper.module, positions, filename, source).scan()


def _check_compiles(source: str, filename: str) -> None:
    # CPython's own compiler gives the best syntax errors and catches what a parser alone accepts
    # (`break` outside a loop, duplicate parameters). compile() only builds a code object.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        line = e.lineno or 1
        col = (e.offset or 1) - 1
        end_line = e.end_lineno or line
        end_col = (e.end_offset or e.offset or 1) - 1
        raise LanguageError(
            f"invalid syntax: {e.msg}",
            Loc(filename, line, col, end_line, end_col),
            "the module must compile under CPython before helixrc can read it",
        ) from None
    except ValueError as e:  # e.g. NUL bytes in the source
        raise LanguageError(
            f"cannot compile {filename}: {e}", None, "save the file as plain UTF-8 text"
        ) from None


# ---------------------------------------------------------------------------------------------
# Module scope: bindings and constants
# ---------------------------------------------------------------------------------------------


def _code(node: cst.CSTNode) -> str:
    """The source text of ``node``, for messages."""
    return cst.Module([]).code_for_node(node).strip()


def _target_names(target: cst.BaseExpression) -> Iterable[cst.Name]:
    """The names an assignment target binds (subscripts and attributes bind none)."""
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _target_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


@dataclass(frozen=True, slots=True)
class _Bound:
    """One binding of a name in a scope."""

    node: cst.CSTNode
    toplevel: bool  # a statement directly in the module body (or function body)
    origin: str = ""  # imports: dotted origin ("numpy", "math.sqrt")
    is_module: bool = False  # `import x [as y]`


class _BindingCollector(cst.CSTVisitor):
    """Records, in source order, every name one scope binds; nested scopes (def, class, lambda,
    comprehensions) are skipped except for the name a def or class binds."""

    def __init__(self, toplevel: bool = False) -> None:
        self.toplevel = toplevel
        self.bindings: list[tuple[str, _Bound]] = []
        self.declared: set[str] = set()  # `global` / `nonlocal` names of this scope

    def _bind(
        self, names: Iterable[cst.Name | str], node: cst.CSTNode, origin: str = "", module: bool = False
    ) -> None:
        for n in names:
            name = n if isinstance(n, str) else n.value
            self.bindings.append((name, _Bound(node, self.toplevel, origin, module)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind([node.name], node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind([node.name], node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(_target_names(t.target), node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:  # a bare annotation `x: int` binds nothing
            self._bind(_target_names(node.target), node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(_target_names(node.target), node)

    def visit_For(self, node: cst.For) -> None:
        self._bind(_target_names(node.target), node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(_target_names(node.asname.name), node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(_target_names(node.name.name), node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(_target_names(node.target), node)

    def visit_Del(self, node: cst.Del) -> None:
        self._bind(_target_names(node.target), node)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = alias.evaluated_name
            if alias.asname is not None:
                self._bind([alias.evaluated_alias or dotted], alias, dotted, module=True)
            else:  # `import os.path` binds `os`
                self._bind([dotted.split(".")[0]], alias, dotted.split(".")[0], module=True)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        mod = "." * len(node.relative) + (_code(node.module) if node.module is not None else "")
        prefix = mod if mod.endswith(".") else mod + "."
        if isinstance(node.names, cst.ImportStar):
            if mod == "math":  # the only star import whose names we know
                for f in (*SUPPORTED_MATH, "inf"):
                    self._bind([f], node, f"math.{f}")
            return
        for alias in node.names:
            self._bind([alias.evaluated_alias or alias.evaluated_name], alias, prefix + alias.evaluated_name)

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(n.name.value for n in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared.update(n.name.value for n in node.names)


class _GlobalFinder(cst.CSTVisitor):
    """Finds ``global`` declarations anywhere: a function declaring a name global can rebind it."""

    def __init__(self) -> None:
        self.found: dict[str, cst.Global] = {}

    def visit_Global(self, node: cst.Global) -> None:
        for n in node.names:
            self.found.setdefault(n.name.value, node)


class _NotConstant(Exception):
    """Raised by the constant evaluator; the argument says what the value is, in user terms."""


_CONST_BINOPS: dict[type[cst.BaseBinaryOp], Callable[[object, object], object]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
    cst.BitAnd: operator.and_,
    cst.BitOr: operator.or_,
    cst.BitXor: operator.xor,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
}
# Far beyond int64: the bound only keeps `X = 9 ** 9 ** 9` from hanging the scan. Whether a
# constant fits 64 bits is checked where a kernel reads it.
_CONST_MAX_BITS = 512


def _number(v: object) -> int | float | bool:
    if isinstance(v, bool | int | float):
        if isinstance(v, int) and v.bit_length() > _CONST_MAX_BITS:
            raise _NotConstant("a value far too large for 64 bits")
        return v
    raise _NotConstant(f"a {type(v).__name__} value")


def _check_size(op: cst.BaseBinaryOp, left: object, right: object) -> None:
    """Refuses, before computing it, a power or shift whose result would be huge."""
    if isinstance(op, cst.Power) and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right * left.bit_length() > _CONST_MAX_BITS:
            raise _NotConstant("a value far too large for 64 bits")
    if isinstance(op, cst.LeftShift) and isinstance(right, int) and right > _CONST_MAX_BITS:
        raise _NotConstant("a value far too large for 64 bits")


class _ModuleScanner:
    """Builds a :class:`KernelModule`: what every module-scope name is bound to, and the constants."""

    def __init__(
        self, module: cst.Module, positions: Mapping[cst.CSTNode, CodeRange], filename: str, source: str
    ):
        self.module = module
        self.positions = positions
        self.filename = filename
        self.source = source
        self.math_modules: set[str] = set()
        self.math_aliases: dict[str, str] = {}
        self.simple: set[cst.CSTNode] = set()  # top-level `NAME = expr` statements

    def line(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def scan(self) -> KernelModule:
        bindings: dict[str, list[_Bound]] = {}
        for stmt in self.module.body:
            collector = _BindingCollector(
                toplevel=isinstance(stmt, (cst.SimpleStatementLine, cst.FunctionDef, cst.ClassDef))
            )
            stmt.visit(collector)
            for name, bound in collector.bindings:
                bindings.setdefault(name, []).append(bound)
        finder = _GlobalFinder()
        self.module.visit(finder)

        for name, bs in bindings.items():
            last = bs[-1]
            if last.is_module and last.origin == "math":
                self.math_modules.add(name)
            elif last.origin.startswith("math.") and last.origin[5:] in (*SUPPORTED_MATH, "inf"):
                self.math_aliases[name] = last.origin[5:]

        # A name is a constant only if every binding of it is a top-level `NAME = <constant expr>`.
        self.simple = simple = self._simple_assignments()
        eligible = {
            n for n, bs in bindings.items() if n not in finder.found and all(b.node in simple for b in bs)
        }
        constants, failed = self._evaluate_constants(simple, eligible)

        names = {
            name: self._describe(name, bs, constants, failed, finder.found) for name, bs in bindings.items()
        }
        for name, node in finder.found.items():
            reason = f"a function declares it global at line {self.line(node)}"
            names.setdefault(name, Binding("value", node, reason=reason))
        return KernelModule(
            filename=self.filename,
            source=self.source,
            module=self.module,
            positions=self.positions,
            constants=constants,
            functions={s.name.value: s for s in self.module.body if isinstance(s, cst.FunctionDef)},
            math_aliases=self.math_aliases,
            math_modules=self.math_modules,
            names=names,
            toplevel_names=frozenset(n for n, bs in bindings.items() if any(b.toplevel for b in bs)),
        )

    def _simple_assignments(self) -> set[cst.CSTNode]:
        simple: set[cst.CSTNode] = set()
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and all(
                        isinstance(t.target, cst.Name) for t in small.targets
                    ):
                        simple.add(small)
                    elif (
                        isinstance(small, cst.AnnAssign)
                        and isinstance(small.target, cst.Name)
                        and small.value
                    ):
                        simple.add(small)
        return simple

    def _evaluate_constants(
        self, simple: set[cst.CSTNode], eligible: set[str]
    ) -> tuple[dict[str, int | float | bool], dict[str, str]]:
        """Evaluates the eligible assignments in source order, as CPython would run them."""
        env: dict[str, int | float | bool] = {}
        failed: dict[str, str] = {}  # name -> why; once not constant, a later assignment cannot fix it
        for stmt in self.module.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if small not in simple:
                    continue
                assert isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
                targets = (
                    [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                )
                try:
                    value: int | float | bool | None = self._const(small.value, env)
                    why = ""
                except _NotConstant as e:
                    value, why = None, str(e)
                for t in targets:
                    assert isinstance(t, cst.Name)
                    if t.value not in eligible or t.value in failed:
                        continue
                    if value is None:
                        failed[t.value] = f"line {self.line(small)} assigns it {why}"
                        env.pop(t.value, None)
                    else:
                        env[t.value] = value
        return env, failed

    def _const(self, node: cst.BaseExpression, env: Mapping[str, int | float | bool]) -> int | float | bool:
        """Evaluates a constant expression without eval(); raises _NotConstant saying what it is."""
        match node:
            case cst.Integer() | cst.Float():
                return node.evaluated_value
            case cst.Name(value="True"):
                return True
            case cst.Name(value="False"):
                return False
            case cst.Name(value=name) if name in env:
                return env[name]
            case cst.Name(value=name) if self.math_aliases.get(name) == "inf":
                return math.inf
            case cst.Name(value=name):
                raise _NotConstant(
                    f"an expression that uses {name}, which is not a constant defined above it"
                )
            case cst.Attribute(value=cst.Name(value=mod), attr=cst.Name(value="inf")) if (
                mod in self.math_modules
            ):
                return math.inf
            case cst.UnaryOperation(operator=cst.Minus()):
                return _number(-self._const(node.expression, env))
            case cst.UnaryOperation(operator=cst.Plus()):
                return _number(+self._const(node.expression, env))
            case cst.UnaryOperation(operator=cst.BitInvert()):
                v = self._const(node.expression, env)
                if isinstance(v, float):
                    raise _NotConstant("an expression that applies ~ to a float")
                return ~v
            case cst.BinaryOperation() if type(node.operator) in _CONST_BINOPS:
                left = self._const(node.left, env)
                right = self._const(node.right, env)
                _check_size(node.operator, left, right)
                try:
                    return _number(_CONST_BINOPS[type(node.operator)](left, right))
                except (ArithmeticError, ValueError, TypeError) as e:
                    raise _NotConstant(f"an expression that fails ({e})") from None
            case cst.Call():
                raise _NotConstant("the result of a call")
            case cst.Dict() | cst.DictComp():
                raise _NotConstant("a dict")
            case cst.List() | cst.ListComp():
                raise _NotConstant("a list")
            case cst.Tuple():
                raise _NotConstant("a tuple")
            case cst.SimpleString() | cst.ConcatenatedString() | cst.FormattedString():
                raise _NotConstant("a string")
        raise _NotConstant("an expression that is not an int/float/bool constant expression")

    def _describe(
        self,
        name: str,
        bs: list[_Bound],
        constants: Mapping[str, int | float | bool],
        failed: Mapping[str, str],
        declared_global: Mapping[str, cst.Global],
    ) -> Binding:
        last = bs[-1]
        node = last.node
        if name in constants:
            return Binding("constant", node)
        if isinstance(node, cst.FunctionDef):
            if last.toplevel:
                return Binding("function", node)
            return Binding("value", node, reason=f"it is defined inside a block at line {self.line(node)}")
        if isinstance(node, cst.ClassDef):
            return Binding("class", node)
        if last.origin:
            return Binding("module" if last.is_module else "import", node, origin=last.origin)
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and isinstance(node.value, (cst.Dict, cst.DictComp)):
            return Binding("dict", node)
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and isinstance(node.value, (cst.List, cst.ListComp)):
            return Binding("list", node)
        if name in failed:
            return Binding("value", node, reason=failed[name])
        if name in declared_global:
            return Binding(
                "value",
                node,
                reason=f"a function declares it global at line {self.line(declared_global[name])}",
            )
        return Binding("value", node, reason=self._why_not_simple(bs))

    def _why_not_simple(self, bs: list[_Bound]) -> str:
        """Names the first binding that is not a top-level `NAME = expr`."""
        for b in bs:
            if b.node in self.simple:
                continue
            line = self.line(b.node)
            match b.node:
                case cst.AugAssign():
                    return f"line {line} updates it with {_code(b.node.operator)}"
                case cst.For():
                    return f"line {line} uses it as a loop variable"
                case cst.Assign() | cst.AnnAssign() if not b.toplevel:
                    return f"line {line} assigns it inside a block"
                case cst.Assign():
                    return f"line {line} assigns it by tuple unpacking"
                case _:
                    return f"line {line} binds it to something that is not a constant"
        return "it is not assigned an int/float/bool constant expression"


# ---------------------------------------------------------------------------------------------
# Kernel checking
# ---------------------------------------------------------------------------------------------


def check_kernel(module: KernelModule, name: str) -> list[str]:
    """Validates kernel ``name`` and, transitively, every kernel it calls.

    Returns the function names in dependency order (callees before callers, ``name`` last).
    Raises :class:`LanguageError` for the first violation in source order.
    """
    if name not in module.functions:
        defs = ", ".join(sorted(module.functions)) or "none"
        raise LanguageError(
            f"{name!r} is not a top-level function of {module.filename} (its functions: {defs})",
            None,
            "name a function defined with def at the top level of the module",
        )
    order: list[str] = []
    violations: list[_Violation] = []
    active: list[str] = []  # the DFS stack: a call to one of these closes a recursion cycle
    done: set[str] = set()

    def visit(fname: str, caller: tuple[str, int] | None) -> None:
        active.append(fname)
        checker = _KernelChecker(module, module.functions[fname])
        checker.check()
        for v in checker.violations:
            if caller is not None:  # say why a helper is being checked at all
                v = _Violation(
                    v.loc, f"{v.message} (in {fname}, called from {caller[0]} at line {caller[1]})", v.hint
                )
            violations.append(v)
        for callee, call in checker.calls:
            if callee in active:
                cycle = " -> ".join([*active[active.index(callee) :], callee])
                message = (
                    f"{fname} calls itself: recursion is not supported in a kernel"
                    if callee == fname
                    else f"this call closes a recursion cycle ({cycle}): recursion is not supported in a kernel"
                )
                violations.append(
                    _Violation(
                        module.loc(call),
                        message,
                        "rewrite the recursion as a loop, with an explicit stack array if needed",
                    )
                )
            elif callee not in done:
                visit(callee, (fname, module.loc(call).line))
        active.pop()
        done.add(fname)
        order.append(fname)

    visit(name, None)
    if violations:
        first = min(violations, key=lambda v: (v.loc.line, v.loc.col))  # min() keeps the first of ties
        raise LanguageError(first.message, first.loc, first.hint)
    return order


def parallel_form(module: KernelModule, name: str) -> ParallelForm:
    """The parallel-form constructs of function ``name`` (empty for a plain kernel)."""
    fn = module.functions[name]
    return read_parallel_form(fn, runtime_names(module.names, _local_names(fn)), module.loc)


def _local_names(fn: cst.FunctionDef) -> set[str]:
    """Every name local to the function, as CPython decides it: parameters and assigned names."""
    p = fn.params
    every_param = [*p.posonly_params, *p.params, *p.kwonly_params]
    every_param += [x for x in (p.star_arg, p.star_kwarg) if isinstance(x, cst.Param)]
    collector = _BindingCollector()
    fn.body.visit(collector)
    return ({q.name.value for q in every_param} | {n for n, _ in collector.bindings}) - collector.declared


@dataclass(frozen=True, slots=True)
class _Violation:
    loc: Loc
    message: str
    hint: str


_BINARY_OPS = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power,
    cst.BitAnd, cst.BitOr, cst.BitXor, cst.LeftShift, cst.RightShift,
)  # fmt: skip
_OPS_HINT = "kernels use + - * / // % ** & | ^ ~ << >> and the comparisons < <= > >= == !="
_COMPARE_OPS = (
    cst.LessThan,
    cst.LessThanEqual,
    cst.GreaterThan,
    cst.GreaterThanEqual,
    cst.Equal,
    cst.NotEqual,
)
_LOOP_HINT = "for i in range(n): ..."
_ALLOC_HINT = "allocate arrays in the caller (e.g. np.zeros(n)) and pass them in as parameters"
_DICT_HINT = "use an array indexed by the key (keys must be small ints), passed in as a parameter"
_STRING_HINT = (
    "kernels compute numbers; format text in the caller (only a docstring and assert messages may be strings)"
)
_RANDOM_HINT = "draw the random numbers in the caller (make_inputs) and pass them in as an array"

_METHOD_HINTS: dict[str, str] = {
    **dict.fromkeys(
        ("append", "extend", "insert", "pop", "remove", "clear"),
        "preallocate an array in the caller and write it by index: out[k] = v; k += 1",
    ),
    **dict.fromkeys(
        (
            "sum",
            "mean",
            "prod",
            "max",
            "min",
            "any",
            "all",
            "argmax",
            "argmin",
            "cumsum",
            "dot",
            "count",
            "index",
        ),
        "compute it with a loop: for i in range(len(a)): ...",
    ),
    **dict.fromkeys(
        ("get", "items", "keys", "values", "setdefault", "update"), "dicts are not supported: " + _DICT_HINT
    ),
    **dict.fromkeys(
        ("copy", "fill", "reshape", "ravel", "flatten", "astype", "tolist", "sort", "transpose", "view"),
        "do it in the caller before the call, or write the loop in the kernel",
    ),
    **dict.fromkeys(
        ("format", "join", "split", "strip", "upper", "lower", "startswith", "endswith", "replace", "encode"),
        _STRING_HINT,
    ),
}

_BUILTIN_HINTS: dict[str, str] = {
    "print": "remove it, or print after the call returns; the simulator reports per-line statistics instead",
    "sum": "accumulate in a loop: s = 0, then s += a[i] for i in range(len(a))",
    "round": "use math.floor(x + 0.5) (round() also rounds halves to even)",
    "pow": "use x ** y",
    "divmod": "use x // y and x % y",
    "enumerate": "loop over indices: for i in range(len(a)): x = a[i]",
    "zip": "loop over indices: for i in range(len(a)): x = a[i]; y = b[i]",
    "reversed": "count down with range(n - 1, -1, -1)",
    "sorted": "sort in the caller and pass the sorted array in",
    **dict.fromkeys(("list", "dict", "set", "tuple", "frozenset", "bytearray", "bytes"), _ALLOC_HINT),
    **dict.fromkeys(("str", "repr", "format", "chr", "ord", "hex", "bin", "oct", "ascii"), _STRING_HINT),
    **dict.fromkeys(("any", "all"), "loop over the indices with a flag, and break when it is decided"),
    **dict.fromkeys(
        ("isinstance", "type", "id", "hash", "callable"),
        "kernels are typed by their arguments; remove the check",
    ),
    **dict.fromkeys(("input", "open"), "read data in the caller and pass it in as arrays"),
    **dict.fromkeys(
        ("getattr", "setattr", "hasattr", "vars", "globals", "locals"),
        "kernels have no objects; pass values in as parameters",
    ),
}

_INT_TYPES = {f"{s}int{b}" for s in ("", "u") for b in (8, 16, 32, 64)} | {"intp", "int_", "uint", "longlong"}


def _foreign_hint(dotted: str) -> str:
    """A hint for a use of another module's name, e.g. ``np.sqrt`` or ``random.random``."""
    attr = dotted.rsplit(".", 1)[-1]
    if "random" in dotted or attr in ("rand", "randint", "randn", "choice", "shuffle", "uniform", "seed"):
        return _RANDOM_HINT
    if attr in SUPPORTED_MATH:
        return f"use math.{attr}(x) (after import math)"
    if attr in ("abs", "absolute"):
        return "use abs(x)"
    if attr in ("minimum", "fmin", "amin"):
        return "use min(a, b)"
    if attr in ("maximum", "fmax", "amax"):
        return "use max(a, b)"
    if attr in ("sum", "mean", "prod", "cumsum", "dot", "count_nonzero"):
        return "compute it with a loop: for i in range(len(a)): ..."
    if attr in ("zeros", "empty", "ones", "array", "full", "zeros_like", "empty_like", "ones_like", "arange"):
        return _ALLOC_HINT
    if attr in _INT_TYPES:
        return "use int(x)"
    if attr in ("float64", "float32", "double", "float_", "single"):
        return "use float(x)"
    if attr in ("inf", "Inf", "infty", "PINF"):
        return "use math.inf (after import math)"
    if attr == "pi":
        return f"define a module constant PI = {math.pi!r}"
    return "compute it in the caller and pass the result in, or write it as a kernel in this module"


def _root_name(node: cst.BaseExpression) -> cst.Name | None:
    """The name an attribute chain starts from: ``np`` for ``np.random.rand``."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def _is_string(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def _has_fstring(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.ConcatenatedString):
        return _has_fstring(node.left) or _has_fstring(node.right)
    return isinstance(node, cst.FormattedString)


def _is_docstring(stmt: cst.BaseStatement | cst.BaseSmallStatement) -> cst.Expr | None:
    if isinstance(stmt, cst.SimpleStatementLine) and stmt.body:
        first = stmt.body[0]
        if isinstance(first, cst.Expr) and _is_string(first.value) and not _has_fstring(first.value):
            return first
    return None


class _KernelChecker:
    """Checks one function against the kernel language.

    Every statement and expression form the language has is handled explicitly; anything else is
    refused. A refused node is not descended into, so each construct is reported once. Violations
    are collected (the caller raises the first in source order) with the kernels the function calls.
    """

    def __init__(self, km: KernelModule, fn: cst.FunctionDef) -> None:
        self.km = km
        self.fn = fn
        self.violations: list[_Violation] = []
        self.calls: list[tuple[str, cst.Call]] = []
        #: every name local to the function, as CPython decides it: parameters and assigned names
        self.locals: set[str] = _local_names(fn)
        #: the parallel form's constructs; its misuses are violations like any other
        self.parallel = read_parallel_form(fn, runtime_names(km.names, self.locals), km.loc)
        self.violations.extend(_Violation(e.loc, e.message, e.hint) for e in self.parallel.errors)
        body = fn.body.body
        self.docstring = _is_docstring(body[0]) if isinstance(fn.body, cst.IndentedBlock) and body else None

    # -- reporting ----------------------------------------------------------------------------

    def refuse(self, node: cst.CSTNode, message: str, hint: str) -> None:
        self.violations.append(_Violation(self.km.loc(node), message, hint))

    def refuses(self, check: Callable[[], None]) -> bool:
        """Runs ``check``; true if it refused something."""
        before = len(self.violations)
        check()
        return len(self.violations) > before

    # -- names --------------------------------------------------------------------------------

    def kind(self, name: str) -> str:
        """What ``name`` means inside this function, locals first as in CPython."""
        if name in self.locals:
            return "local"
        if name in self.parallel.runtime:
            return "parallel"  # the parallel-form reader accepts or refuses each use
        if name in self.km.math_aliases:
            return "math"
        binding = self.km.names.get(name)
        if binding is not None:
            return binding.kind
        if name in SUPPORTED_BUILTINS:
            return "builtin"
        if name in _BUILTIN_NAMES:
            return "other_builtin"
        return "undefined"

    def check_binding_name(self, node: cst.Name, is_param: bool = False) -> None:
        """A kernel may not rebind a module-level name (that would be a global write in spirit) nor
        hide a builtin, math function or kernel it might call."""
        name = node.value
        binding = self.km.names.get(name)
        if not is_param and name in self.km.constants:
            local = name.lower() if name.lower() != name else name + "_"
            self.refuse(
                node,
                f"{name} is a module constant; a kernel cannot assign it (a kernel never writes module state)",
                f"copy it into a local with another name, e.g. {local} = {name}, and update that",
            )
        elif binding is not None and (
            binding.kind in ("function", "class", "module") or name in self.km.math_aliases
        ):
            what = {"function": "a function", "class": "a class", "module": "an imported module"}.get(
                binding.kind, "an imported math name"
            )
            self.refuse(
                node,
                f"{name} is {what} of this module; a kernel cannot rebind it",
                f"give the {'parameter' if is_param else 'variable'} another name",
            )
        elif not is_param and name in self.km.toplevel_names:
            self.refuse(
                node,
                f"{name} is a module-level name; a kernel cannot assign it (a kernel never writes module state)",
                "give the local variable another name",
            )
        elif name in SUPPORTED_BUILTINS:
            what = "parameter" if is_param else "variable"
            self.refuse(
                node, f"the {what} {name} hides the builtin {name}()", f"give the {what} another name"
            )

    def read_name(self, node: cst.Name) -> None:
        name = node.value
        if name in ("True", "False"):
            return
        if name == "None":
            self.refuse(
                node,
                "None is not supported in a kernel",
                "use a bare `return` to return nothing; use a flag or a sentinel value such as -1 for 'no value'",
            )
            return
        kind = self.kind(name)
        binding = self.km.names.get(name)
        if kind in ("local", "parallel"):
            return
        if kind == "constant":
            self.check_constant_range(node)
        elif kind == "math":
            if self.km.math_aliases[name] != "inf":
                self.refuse(
                    node, f"{name} is a math function; a kernel can only call it", f"call it: {name}(x)"
                )
        elif kind in ("function", "builtin"):
            self.refuse(node, f"{name} is a function; a kernel can only call it", f"call it: {name}(...)")
        elif kind == "class":
            self.refuse(
                node,
                f"{name} is a class; classes and objects are not supported in a kernel",
                "pass numbers and arrays instead",
            )
        elif kind in ("module", "import"):
            assert binding is not None
            self.refuse_foreign(node, name, binding.origin)
        elif kind == "dict":
            self.refuse(
                node,
                f"{name} is a module-level dict; dicts are not supported in a kernel",
                f"turn {name} into an array indexed by the key and pass it in as a parameter",
            )
        elif kind == "list":
            self.refuse(
                node,
                f"{name} is a module-level list, not a compile-time constant",
                f"pass {name} to the kernel as a parameter",
            )
        elif kind == "value":
            assert binding is not None
            self.refuse(
                node,
                f"{name} is a module-level name but not a compile-time constant: {binding.reason}",
                "pass it in as a parameter, or define it at the top level as an int/float/bool constant expression",
            )
        elif kind == "other_builtin":
            self.refuse(
                node, f"{name} is not supported in a kernel", _BUILTIN_HINTS.get(name, _BUILTINS_HINT)
            )
        else:
            self.refuse(
                node,
                f"name {name} is not defined",
                "assign it before use, pass it as a parameter, or define it as a module constant",
            )

    def check_constant_range(self, node: cst.Name) -> None:
        value = self.km.constants[node.value]
        if isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value <= _INT64_MAX:
            self.refuse(
                node,
                f"module constant {node.value} = {value} does not fit in a 64-bit signed int",
                "kernel ints are 64-bit: use a smaller constant (for a mask, at most 0x7FFFFFFFFFFFFFFF)",
            )

    def refuse_foreign(self, node: cst.CSTNode, name: str, origin: str) -> None:
        if origin == "math":
            self.refuse(node, f"the math module can only be used as {name}.f(x) or {name}.inf", _MATH_HINT)
        elif origin.startswith("math."):
            self.refuse_math(node, origin[5:])
        else:
            what = (
                f"the module {origin}"
                if self.km.names[name].kind == "module"
                else f"imported from {origin.rsplit('.', 1)[0]}"
            )
            self.refuse(node, f"{name} is {what}; a kernel cannot use other modules", _foreign_hint(origin))

    def refuse_math(self, node: cst.CSTNode, fname: str) -> None:
        if fname == "inf":
            self.refuse(node, "math.inf is a number, not a function", "use it as a value: x = math.inf")
        elif fname in ("pi", "e", "tau"):
            value = getattr(math, fname)
            self.refuse(
                node,
                f"math.{fname} is not supported in a kernel",
                f"define a module constant {fname.upper()} = {value!r}",
            )
        else:
            self.refuse(node, f"math.{fname} is not supported in a kernel", _MATH_HINT)

    # -- the function -------------------------------------------------------------------------

    def check(self) -> None:
        fn = self.fn
        if fn.asynchronous is not None:
            self.refuse(
                fn.asynchronous, "async def is not supported: a kernel is a plain function", "remove async"
            )
        self.check_params(fn.params)
        self.block(fn.body)

    def check_params(self, p: cst.Parameters) -> None:
        for param in (*p.posonly_params, *p.params):
            if param.default is not None:
                self.refuse(
                    param,
                    f"parameter {param.name.value} has a default value; kernel parameters cannot have defaults",
                    "remove the default and pass every argument at the call",
                )
            self.check_binding_name(param.name, is_param=True)
        if isinstance(p.star_arg, cst.Param):
            self.refuse(
                p.star_arg,
                f"*{p.star_arg.name.value} parameters are not supported in a kernel",
                "list every parameter by name",
            )
        for param in p.kwonly_params:
            self.refuse(
                param,
                f"keyword-only parameter {param.name.value} is not supported in a kernel",
                "make it an ordinary positional parameter (remove the * before it)",
            )
        if p.star_kwarg is not None:
            self.refuse(
                p.star_kwarg,
                f"**{p.star_kwarg.name.value} parameters are not supported in a kernel",
                "list every parameter by name",
            )

    # -- statements ---------------------------------------------------------------------------

    def block(self, suite: cst.BaseSuite) -> None:
        if isinstance(suite, cst.IndentedBlock):
            for stmt in suite.body:
                self.statement(stmt)
        else:
            assert isinstance(suite, cst.SimpleStatementSuite)
            for small in suite.body:
                self.small_statement(small)

    def statement(self, stmt: cst.BaseStatement) -> None:
        match stmt:
            case cst.SimpleStatementLine():
                for small in stmt.body:
                    self.small_statement(small)
            case cst.If():
                self.if_statement(stmt)
            case cst.For():
                self.for_statement(stmt)
            case cst.While():
                self.expr(stmt.test)
                self.block(stmt.body)
                if stmt.orelse is not None:
                    self.refuse(
                        stmt.orelse,
                        "while ... else is not supported in a kernel",
                        "set a flag before break and test it after the loop",
                    )
            case cst.FunctionDef():
                self.refuse(
                    stmt,
                    f"a nested function ({stmt.name.value}) is not supported in a kernel",
                    "move it to the top level of the module: kernels may call other kernels",
                )
            case cst.ClassDef():
                self.refuse(
                    stmt,
                    "a class definition is not supported in a kernel",
                    "define classes outside kernels; kernels work on numbers and arrays",
                )
            case cst.Try() | cst.TryStar():
                self.refuse(
                    stmt,
                    "try/except/finally is not supported in a kernel",
                    "test the condition with if before the operation; exceptions a kernel raises reach its caller",
                )
            case cst.With():
                self.refuse(
                    stmt,
                    "a with statement is not supported in a kernel",
                    "do it in the caller, around the call to the kernel",
                )
            case cst.Match():
                self.refuse(stmt, "a match statement is not supported in a kernel", "use if/elif/else")
            case _:
                self.refuse(
                    stmt,
                    f"this statement ({type(stmt).__name__}) is not supported in a kernel",
                    "see KERNEL_LANGUAGE.md for the statements a kernel may use",
                )

    def if_statement(self, stmt: cst.If) -> None:
        self.expr(stmt.test)
        self.block(stmt.body)
        if isinstance(stmt.orelse, cst.If):
            self.if_statement(stmt.orelse)
        elif isinstance(stmt.orelse, cst.Else):
            self.block(stmt.orelse.body)

    def small_statement(self, small: cst.BaseSmallStatement) -> None:
        match small:
            case cst.Pass() | cst.Break() | cst.Continue():
                pass
            case cst.Expr():
                if small is not self.docstring:
                    self.expr_statement(small)
            case cst.Assign():
                self.assign(small)
            case cst.AugAssign():
                if isinstance(small.operator, cst.MatrixMultiplyAssign):
                    self.refuse(
                        small.operator,
                        "@= (matrix multiplication) is not supported in a kernel",
                        "write the loops over the elements",
                    )
                self.target(small.target)
                self.expr(small.value)
            case cst.AnnAssign():
                if small.value is None:
                    self.refuse(
                        small,
                        "an annotation without a value is not supported in a kernel",
                        f"give it a value: {_code(small.target)}: {_code(small.annotation.annotation)} = 0",
                    )
                    return
                self.target(small.target)
                self.expr(small.value)
            case cst.Return():
                self.return_statement(small)
            case cst.Assert():
                self.expr(small.test)
                self.assert_message(small.msg)
            case cst.Global():
                self.refuse(
                    small,
                    "a global statement is not supported: a kernel cannot write module state",
                    "return the new value and assign it in the caller",
                )
            case cst.Nonlocal():
                self.refuse(
                    small,
                    "a nonlocal statement is not supported in a kernel",
                    "return the new value and assign it in the caller",
                )
            case cst.Del():
                self.refuse(
                    small,
                    "del is not supported in a kernel",
                    "just stop using the variable (arrays keep their size)",
                )
            case cst.Import() | cst.ImportFrom():
                self.refuse(
                    small,
                    "import inside a kernel is not supported",
                    "import at the top of the module (import math)",
                )
            case cst.Raise():
                self.refuse(small, "raise is not supported in a kernel", 'use assert condition, "message"')
            case _:
                self.refuse(
                    small,
                    f"this statement ({type(small).__name__}) is not supported in a kernel",
                    "see KERNEL_LANGUAGE.md for the statements a kernel may use",
                )

    def expr_statement(self, stmt: cst.Expr) -> None:
        value = stmt.value
        if self.parallel.runtime_call(value) is not None:
            return  # wait(k) / signal(k), or a misuse the parallel-form reader reported
        if isinstance(value, cst.Call):
            if not self.refuses(lambda: self.call(value)) and not self.calls_kernel(value):
                self.refuse(
                    value,
                    f"the result of {_code(value.func)}() is discarded",
                    "assign it to a variable, or remove the call",
                )
        elif not self.refuses(lambda: self.expr(value)):
            self.refuse(
                value,
                "this expression statement has no effect",
                "assign its value to a variable, or remove it",
            )

    def parallel_object(self, node: cst.Attribute) -> str | None:
        """The name of the parallel object ``node`` is an attribute of, if it is one."""
        if isinstance(node.value, cst.Name) and node.value.value in self.parallel.objects:
            return node.value.value
        return None

    def calls_kernel(self, call: cst.Call) -> bool:
        return isinstance(call.func, cst.Name) and self.kind(call.func.value) == "function"

    def assign(self, node: cst.Assign) -> None:
        obj = self.parallel.object_at.get(node)
        if obj is not None:  # X = shared(k, a=..., ...): the initial values are kernel code
            self.target(node.targets[0].target)
            for _, value in obj.cells:
                self.expr(value)
            return
        if node in self.parallel.spawns:
            self.spawn(self.parallel.spawns[node])
            return
        if node in self.parallel.joins:
            target = node.targets[0].target
            for t in target.elements if isinstance(target, cst.Tuple) else [target]:
                self.target(t.value if isinstance(t, cst.Element) else t)
            return
        if self.parallel.runtime_call(node.value) is not None:
            return  # refused by the parallel-form reader
        if node in self.parallel.deferred:  # result = <a return value>, returned later
            self.target(node.targets[0].target)
            self.return_value(node.value)
            return
        targets = [t.target for t in node.targets]
        tuples = [t for t in targets if isinstance(t, (cst.Tuple, cst.List))]
        if tuples and len(targets) > 1:
            self.refuse(
                tuples[0],
                "a tuple target in a chained assignment is not supported",
                "split it into separate assignments",
            )
            return
        if tuples:
            self.tuple_assign(tuples[0], node.value)
            return
        for t in targets:
            self.target(t)
        self.expr(node.value)

    def spawn(self, spawn: TaskSpawn) -> None:
        """``h = spawn(task, args...)``: the task is another kernel of this module, called with
        kernel-language arguments; it spawns no task and runs no parallel loop itself."""
        self.check_binding_name(spawn.node.targets[0].target)  # type: ignore[arg-type]
        call, name = spawn.call, spawn.task
        task = call.args[0].value
        if name == self.fn.name.value:
            self.refuse(task, f"{name} spawns itself: a task is another kernel of the module",
                        "spawn a separate kernel function")
            return
        if self.kind(name) != "function":
            self.refuse(task, f"the task {name} is not a kernel function of this module",
                        f"define {name} as a top-level function in this module")
            return
        callee = self.km.functions[name]
        nparams = len(callee.params.posonly_params) + len(callee.params.params)
        args = call.args[1:]
        for arg in args:
            self.expr(arg.value)
        if len(args) != nparams:
            self.refuse(call, f"the task {name}() takes {nparams} argument{'s' * (nparams != 1)} but "
                        f"{len(args)} {'was' if len(args) == 1 else 'were'} given",
                        f"pass exactly the parameters {name} declares after it in spawn()")
        inner = parallel_form(self.km, name)
        if inner.spawns or inner.loops:
            what = "spawns tasks" if inner.spawns else "runs a parallel loop"
            self.refuse(task, f"the task {name} {what}: a task runs on the sibling context alone",
                        "spawn only kernels without spawn() or prange()")
        self.calls.append((name, call))

    def tuple_assign(self, target: cst.Tuple | cst.List, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.List):
            self.refuse(
                target, "a list as an assignment target is not supported", "write a, b = ... without brackets"
            )
            return
        for el in target.elements:
            if isinstance(el, cst.StarredElement) or isinstance(el.value, (cst.Tuple, cst.List)):
                self.refuse(
                    el,
                    "nested or starred targets in a tuple assignment are not supported",
                    "unpack one level at a time into plain names",
                )
            else:
                self.target(el.value)
        n = len(target.elements)
        if n == 1:
            self.refuse(
                target,
                "a one-element tuple target is not supported",
                f"write {_code(target.elements[0].value)} = ...",
            )
        if isinstance(value, cst.Tuple):
            if len(value.elements) != n:
                self.refuse(
                    value,
                    f"{len(value.elements)} values are assigned to {n} targets",
                    "give exactly one value per target",
                )
            for el in value.elements:
                self.expr(el) if isinstance(el, cst.StarredElement) else self.expr(el.value)
        elif isinstance(value, cst.Call):
            if not self.refuses(lambda: self.call(value)) and not self.calls_kernel(value):
                self.refuse(
                    value,
                    f"{_code(value.func)}() returns one value, which cannot be unpacked",
                    "only tuples and kernels that return tuples can be unpacked",
                )
        elif isinstance(value, cst.Attribute) and value.attr.value == "shape":
            dims = "; ".join(
                f"{_code(el.value)} = {_code(value)}[{i}]" for i, el in enumerate(target.elements)
            )
            self.refuse(
                value,
                f"{_code(value)} cannot be unpacked in a kernel",
                f"read one dimension at a time: {dims}",
            )
        else:
            self.refuse(
                value,
                "the right side of a tuple assignment must be a tuple of values or a call to a kernel that returns a tuple",
                "write a, b = x, y or a, b = kernel(...)",
            )

    def target(self, node: cst.BaseExpression) -> None:
        """An assignment target: a local name or an array element."""
        match node:
            case cst.Name():
                self.check_binding_name(node)
            case cst.Subscript():
                self.subscript(node, store=True)
            case cst.Attribute() if self.parallel_object(node) is not None:
                pass  # a cell, or a misuse the parallel-form reader reported
            case cst.Attribute():
                self.refuse(
                    node,
                    f"assigning to an attribute ({_code(node)}) is not supported in a kernel",
                    "kernels write only local variables and array elements; return the value instead",
                )
            case cst.Tuple() | cst.List():
                self.refuse(node, "a tuple target is not supported here", "assign each element separately")
            case _:
                self.refuse(
                    node,
                    "only a variable or an array element can be assigned in a kernel",
                    "write x = ... or a[i] = ...",
                )

    def for_statement(self, stmt: cst.For) -> None:
        if stmt.asynchronous is not None:
            self.refuse(
                stmt.asynchronous, "async for is not supported in a kernel", "use for i in range(...)"
            )
            return
        it = stmt.iter
        par = self.parallel.loops.get(stmt)
        if par is not None or self.parallel.runtime_call(it) is not None:
            # prange/prange_while (a bad call is the parallel-form reader's to report)
            if isinstance(stmt.target, cst.Name):
                self.check_binding_name(stmt.target)
            else:
                self.refuse(stmt.target, "a parallel loop variable must be a single name",
                            "for i in prange(...), as the transform writes it")
            for bound in par.bounds if par is not None else ():
                self.expr(bound)
        elif not (
            isinstance(it, cst.Call)
            and isinstance(it.func, cst.Name)
            and it.func.value == "range"
            and self.kind("range") == "builtin"
        ):
            self.refuse(it, "a for loop can only iterate over range(...) in a kernel", self.for_hint(stmt))
        else:
            if isinstance(stmt.target, cst.Name):
                self.check_binding_name(stmt.target)
            else:
                self.refuse(
                    stmt.target,
                    "a for loop variable must be a single name",
                    "for i in range(...), then unpack inside the loop",
                )
            self.range_call(it)
        self.block(stmt.body)
        if stmt.orelse is not None:
            self.refuse(
                stmt.orelse,
                "for ... else is not supported in a kernel",
                "set a flag before break and test it after the loop",
            )

    def for_hint(self, stmt: cst.For) -> str:
        it, target = stmt.iter, stmt.target
        var = _code(target) if isinstance(target, cst.Name) else "x"
        if isinstance(it, cst.Name):
            return f"loop over the indices: for i in range(len({it.value})): {var} = {it.value}[i]"
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name):
            if (
                it.func.value == "enumerate"
                and it.args
                and isinstance(target, cst.Tuple)
                and len(target.elements) == 2
            ):
                i, x, a = (
                    _code(target.elements[0].value),
                    _code(target.elements[1].value),
                    _code(it.args[0].value),
                )
                return f"for {i} in range(len({a})): {x} = {a}[{i}]"
            if it.func.value in _BUILTIN_HINTS:
                return _BUILTIN_HINTS[it.func.value]
        if (
            isinstance(it, cst.Call)
            and isinstance(it.func, cst.Attribute)
            and it.func.attr.value in ("items", "keys", "values")
        ):
            return "dicts are not supported: " + _DICT_HINT
        return "loop over the indices: for i in range(len(a)): x = a[i]"

    def range_call(self, call: cst.Call) -> None:
        if self.refuses(lambda: self.call_args(call)):
            return
        if not 1 <= len(call.args) <= 3:
            self.refuse(
                call,
                f"range() takes 1 to 3 arguments, not {len(call.args)}",
                "range(stop), range(start, stop) or range(start, stop, step)",
            )

    def return_statement(self, stmt: cst.Return) -> None:
        if stmt.value is not None:
            self.return_value(stmt.value)

    def return_value(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Tuple):
            if len(value.elements) == 1:
                self.refuse(
                    value,
                    "returning a one-element tuple is not supported",
                    f"return {_code(value.elements[0].value)}",
                )
            for el in value.elements:
                self.expr(el) if isinstance(el, cst.StarredElement) else self.expr(el.value)
        else:
            self.expr(value)

    def assert_message(self, msg: cst.BaseExpression | None) -> None:
        if msg is None:
            return
        if _has_fstring(msg):
            self.refuse(
                msg,
                "an assert message must be a plain string literal, not an f-string",
                'write assert cond, "message" and report values from the caller',
            )
        elif not isinstance(msg, (cst.SimpleString, cst.ConcatenatedString)):
            self.refuse(msg, "an assert message must be a string literal", 'write assert cond, "message"')

    # -- expressions --------------------------------------------------------------------------

    def expr(self, node: cst.BaseExpression) -> None:
        """A value: every expression form the language has, and a refusal for anything else."""
        match node:
            case cst.Integer():
                if node.evaluated_value > _INT64_MAX:
                    self.refuse(
                        node,
                        f"the integer {_code(node)} does not fit in a 64-bit signed int",
                        "kernel ints are 64-bit: use a smaller value",
                    )
            case cst.Float():
                pass
            case cst.Name():
                self.read_name(node)
            case cst.Attribute():
                self.attribute(node)
            case cst.Subscript():
                self.subscript(node)
            case cst.BinaryOperation():
                if isinstance(node.operator, cst.MatrixMultiply):
                    self.refuse(
                        node.operator,
                        "@ (matrix multiplication) is not supported in a kernel",
                        "write the loops over the elements",
                    )
                    return
                if not isinstance(node.operator, _BINARY_OPS):  # an operator newer than this list
                    self.refuse(
                        node.operator, f"the operator {_code(node.operator)} is not supported", _OPS_HINT
                    )
                    return
                self.expr(node.left)
                self.expr(node.right)
            case cst.UnaryOperation():
                if isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
                    if node.expression.evaluated_value == 2**63:  # -9223372036854775808 is an int64
                        return
                self.expr(node.expression)
            case cst.BooleanOperation():
                self.expr(node.left)
                self.expr(node.right)
            case cst.Comparison():
                self.comparison(node)
            case cst.IfExp():
                self.expr(node.body)
                self.expr(node.test)
                self.expr(node.orelse)
            case cst.Call():
                self.call(node)
            case cst.FormattedString():
                self.refuse(
                    node,
                    "f-strings are not supported in a kernel",
                    "return the numbers and format them in the caller",
                )
            case cst.SimpleString() | cst.ConcatenatedString():
                self.refuse(node, "strings are not supported in a kernel", _STRING_HINT)
            case cst.Imaginary():
                self.refuse(
                    node,
                    "complex numbers are not supported in a kernel",
                    "keep the real and imaginary parts in two floats",
                )
            case cst.Tuple():
                self.refuse(
                    node,
                    "a tuple is only allowed in a tuple assignment (a, b = x, y) or a return (return x, y)",
                    "use separate variables: a, b = x, y",
                )
            case cst.List():
                self.refuse(node, "a list is not supported in a kernel", _ALLOC_HINT)
            case cst.Set():
                self.refuse(
                    node,
                    "a set is not supported in a kernel",
                    "use an array of 0/1 flags indexed by the value, passed in as a parameter",
                )
            case cst.Dict():
                self.refuse(node, "a dict is not supported in a kernel", _DICT_HINT)
            case cst.ListComp() | cst.SetComp() | cst.DictComp() | cst.GeneratorExp():
                what = {
                    cst.ListComp: "a list comprehension",
                    cst.SetComp: "a set comprehension",
                    cst.DictComp: "a dict comprehension",
                }.get(type(node), "a generator expression")
                self.refuse(
                    node,
                    f"{what} is not supported in a kernel",
                    "write a for loop over range(...) that fills an array passed in as a parameter",
                )
            case cst.Lambda():
                self.refuse(
                    node,
                    "lambda is not supported in a kernel",
                    "define a top-level kernel function and call it",
                )
            case cst.NamedExpr():
                self.refuse(
                    node,
                    "the walrus operator := is not supported in a kernel",
                    "assign the value on its own line first",
                )
            case cst.Yield():
                self.refuse(
                    node,
                    "yield makes a generator, which is not supported in a kernel",
                    "write the results into an array passed in as a parameter",
                )
            case cst.Await():
                self.refuse(
                    node,
                    "await is not supported in a kernel",
                    "kernels are plain functions: remove async/await",
                )
            case cst.StarredElement():
                self.refuse(
                    node,
                    f"the starred expression *{_code(node.value)} is not supported in a kernel",
                    "write the elements out one by one",
                )
            case cst.Ellipsis():
                self.refuse(node, "... (Ellipsis) is not supported in a kernel", "use pass for an empty body")
            case _:
                self.refuse(
                    node,
                    f"this expression ({type(node).__name__}) is not supported in a kernel",
                    "see KERNEL_LANGUAGE.md for the expressions a kernel may use",
                )

    def comparison(self, node: cst.Comparison) -> None:
        self.expr(node.left)
        left = node.left
        for target in node.comparisons:
            op, right = target.operator, target.comparator
            if isinstance(op, (cst.Is, cst.IsNot)):
                if any(isinstance(x, cst.Name) and x.value == "None" for x in (left, right)):
                    self.refuse(
                        op,
                        "a comparison with None is not supported: kernels have no None",
                        "use a flag, or a sentinel value such as -1 for 'no value'",
                    )
                else:
                    self.refuse(
                        op,
                        "`is` compares object identity, which kernels do not have",
                        "compare values with == or !=",
                    )
                return
            if isinstance(op, (cst.In, cst.NotIn)):
                self.refuse(
                    op,
                    f"`{_code(op)}` (a membership test) is not supported in a kernel",
                    "loop over the indices and compare each element",
                )
                return
            if not isinstance(op, _COMPARE_OPS):  # `<>` (barry_as_FLUFL), or an operator newer than this list
                self.refuse(op, f"the comparison {_code(op)} is not supported", _OPS_HINT)
                return
            self.expr(right)
            left = right

    def attribute(self, node: cst.Attribute) -> None:
        """An attribute read that is not ``a.shape[d]`` (handled by subscript) nor a call's function."""
        if self.parallel_object(node) is not None:
            return  # a cell, or a misuse the parallel-form reader reported
        attr = node.attr.value
        root = _root_name(node)
        root_kind = self.kind(root.value) if root is not None else ""
        if root is not None and root_kind in ("module", "import") and isinstance(node.value, cst.Name):
            origin = self.km.names[root.value].origin
            if origin == "math":
                if attr == "inf":
                    return
                if attr in SUPPORTED_MATH:
                    self.refuse(
                        node,
                        f"{_code(node)} is a math function; a kernel can only call it",
                        f"call it: {_code(node)}(x)",
                    )
                else:
                    self.refuse_math(node, attr)
                return
        if root is not None and root.value == "math" and root_kind == "undefined":
            self.refuse(
                root,
                "math is used but not imported in this module",
                "add import math at the top of the module",
            )
        elif root is not None and root_kind in ("module", "import", "undefined"):
            dotted = _code(node)
            self.refuse(
                node,
                f"{dotted} reads from another module; a kernel cannot use other modules",
                _foreign_hint(dotted),
            )
        elif attr == "shape":
            self.refuse(
                node,
                f"{_code(node)} can only be read one dimension at a time",
                f"write {_code(node)}[0] (a constant index)",
            )
        else:
            hints = {
                "size": "use len(a) for a 1-D array, or a.shape[0] * a.shape[1]",
                "T": "index the transposed element directly: a[j, i]",
                "ndim": "the number of dimensions is fixed by the code: use a.shape[d]",
                "dtype": "convert explicitly with int(...) or float(...)",
                "real": "kernels have no complex numbers",
                "imag": "kernels have no complex numbers",
            }
            self.refuse(
                node,
                f"the attribute {_code(node)} is not supported; the only attribute a kernel may read is .shape[d]",
                hints.get(attr, "read .shape[d], or pass the value in as a parameter"),
            )

    def subscript(self, node: cst.Subscript, store: bool = False) -> None:
        """``a[i]``, ``a[i, j]``, ``a[i][j]`` (read or written) and ``a.shape[d]`` (read)."""
        if isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape":
            self.shape(node, store)
            return
        indices: list[cst.SubscriptElement] = []
        base: cst.BaseExpression = node
        while isinstance(base, cst.Subscript):
            indices[:0] = base.slice
            base = base.value
        if isinstance(base, cst.Name):
            array: cst.Name = base
            if self.refuses(lambda: self.read_name(array)):
                return
        elif isinstance(base, cst.Call) and self.calls_kernel(base):
            self.refuse(
                node, "the tuple a kernel returns cannot be indexed", f"unpack it: x, y = {_code(base)}"
            )
            return
        elif not self.refuses(lambda: self.expr(base)):
            self.refuse(
                node,
                "only arrays (named variables) can be indexed in a kernel",
                "assign the value to a variable, or index the array directly",
            )
            return
        else:
            return
        if len(indices) > 3:
            self.refuse(
                node,
                f"{len(indices)} indices: arrays in a kernel have at most 3 dimensions",
                "index with at most 3 subscripts, e.g. a[i, j, k]",
            )
        for el in indices:
            s = el.slice
            if isinstance(s, cst.Slice):
                self.refuse(
                    el,
                    f"the slice {_code(s)} is not supported in a kernel",
                    "loop over the indices: for i in range(start, stop): ... a[i] ...",
                )
            elif isinstance(s, cst.Index) and s.star is not None:
                self.refuse(
                    el,
                    f"the starred index {_code(s)} is not supported in a kernel",
                    "write the indices out: a[i, j]",
                )
            elif isinstance(s, cst.Index):
                self.expr(s.value)

    def shape(self, node: cst.Subscript, store: bool) -> None:
        attr = node.value
        assert isinstance(attr, cst.Attribute)
        text = _code(attr)
        if store:
            self.refuse(
                node,
                f"{text} cannot be assigned in a kernel",
                "arrays keep their shape; allocate a new one in the caller",
            )
            return
        if isinstance(attr.value, cst.Name):
            array: cst.Name = attr.value
            if self.refuses(lambda: self.read_name(array)):
                return
        else:
            self.refuse(
                node, f"{text} is only supported on a named array", "assign the array to a variable first"
            )
            return
        index: cst.BaseExpression | None = None
        if (
            len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and not node.slice[0].slice.star
        ):
            index = node.slice[0].slice.value
        if isinstance(index, cst.UnaryOperation) and isinstance(index.operator, cst.Minus):
            index = index.expression
        constant = isinstance(index, cst.Integer) or (
            isinstance(index, cst.Name)
            and index.value not in self.locals
            and isinstance(self.km.constants.get(index.value), int)
        )
        if not constant:
            self.refuse(
                node,
                f"{text} must be indexed with a constant dimension",
                f"write {text}[0], {text}[1] or {text}[2]",
            )

    def call(self, node: cst.Call) -> None:
        """A call: a kernel of this module, a supported builtin, or a supported math function."""
        func = node.func
        if isinstance(func, cst.Name):
            self.call_name(node, func.value)
        elif isinstance(func, cst.Attribute):
            self.call_attribute(node, func)
        else:
            self.refuse(node, "only named functions can be called in a kernel", _CALLABLE_HINT)

    def call_args(self, node: cst.Call) -> None:
        """Arguments: positional expressions only."""
        for arg in node.args:
            if arg.keyword is not None:
                self.refuse(
                    arg,
                    f"the keyword argument {arg.keyword.value}= is not supported in a kernel",
                    "pass arguments by position",
                )
            elif arg.star:
                self.refuse(
                    arg,
                    f"argument unpacking ({arg.star}{_code(arg.value)}) is not supported in a kernel",
                    "pass each argument explicitly",
                )
            else:
                self.expr(arg.value)

    def call_name(self, node: cst.Call, name: str) -> None:
        kind = self.kind(name)
        nargs = len(node.args)
        binding = self.km.names.get(name)
        if kind == "function":
            callee = self.km.functions[name]
            nparams = len(callee.params.posonly_params) + len(callee.params.params)
            if (
                not self.refuses(lambda: self.call_args(node))
                and nargs != nparams
                and not isinstance(callee.params.star_arg, cst.Param)
            ):
                self.refuse(
                    node,
                    f"{name}() takes {nparams} argument{'s' * (nparams != 1)} but {nargs} {'was' if nargs == 1 else 'were'} given",
                    f"pass exactly the parameters {name} declares",
                )
            self.calls.append((name, node))
        elif kind == "builtin":
            self.call_builtin(node, name)
        elif kind == "parallel":
            pass  # the parallel-form reader reported this use of a runtime name
        elif kind == "math":
            fname = self.km.math_aliases[name]
            if fname == "inf":
                self.refuse(node, f"{name} is a number, not a function", f"use it as a value: x = {name}")
            else:
                self.call_math(node, fname, name)
        elif kind in ("module", "import"):
            assert binding is not None
            if binding.origin.startswith("math."):
                self.refuse_math(node, binding.origin[5:])
            else:
                self.refuse(
                    node,
                    f"{name}() is {binding.origin}, a function of another module; a kernel cannot call into other modules",
                    _foreign_hint(binding.origin),
                )
        elif kind == "class":
            self.refuse(
                node,
                f"{name}() creates an object; classes and objects are not supported in a kernel",
                "keep the fields in parallel arrays and pass them in",
            )
        elif kind == "other_builtin":
            self.refuse(
                node, f"{name}() is not supported in a kernel", _BUILTIN_HINTS.get(name, _BUILTINS_HINT)
            )
        elif kind == "local":
            self.refuse(node, f"{name} is a variable, not a function", _CALLABLE_HINT)
        elif kind == "undefined":
            self.refuse(
                node,
                f"{name}() is not a kernel in this module",
                f"define {name} as a top-level function in this module, or inline it",
            )
        else:
            self.refuse(node, f"{name} is not a top-level function of this module", _CALLABLE_HINT)

    def call_builtin(self, node: cst.Call, name: str) -> None:
        nargs = len(node.args)
        if name == "range":
            self.refuse(node, "range() can only be the iterable of a for loop in a kernel", _LOOP_HINT)
            return
        if name == "float" and nargs == 1 and _is_string(node.args[0].value):
            self.refuse(
                node,
                "float() of a string is not supported in a kernel",
                "use math.inf or -math.inf (after import math)",
            )
            return
        if self.refuses(lambda: self.call_args(node)):
            return
        if name in ("min", "max") and nargs < 2:
            self.refuse(
                node,
                f"{name}() of a single argument (an iterable) is not supported in a kernel",
                f"use {name}(a, b, ...) with two or more numbers, or a loop over the array",
            )
        elif name == "int" and nargs == 2:
            self.refuse(node, "int() with a base is not supported in a kernel", "int() takes one number")
        elif name in ("abs", "int", "float", "bool", "len") and nargs != 1:
            self.refuse(node, f"{name}() takes exactly one argument in a kernel", f"{name}(x)")

    def call_attribute(self, node: cst.Call, func: cst.Attribute) -> None:
        root = _root_name(func)
        root_kind = self.kind(root.value) if root is not None else ""
        dotted = _code(func)
        if (
            root is not None
            and root.value in self.km.math_modules
            and root_kind == "module"
            and func.value is root
        ):
            self.call_math(node, func.attr.value, dotted)
        elif root is not None and root.value == "math" and root_kind == "undefined":
            self.refuse(
                root,
                "math is used but not imported in this module",
                "add import math at the top of the module",
            )
        elif root is not None and root_kind in ("module", "import", "undefined"):
            origin = self.km.names[root.value].origin if root.value in self.km.names else root.value
            self.refuse(
                node,
                f"{dotted}() calls into another module ({origin.split('.')[0]}); a kernel cannot call other modules",
                _foreign_hint(dotted),
            )
        elif _is_string(func.value):
            self.refuse(
                node,
                f"string methods such as {func.attr.value}() are not supported: kernels have no strings",
                _STRING_HINT,
            )
        else:
            self.refuse(
                node,
                f"the method call {dotted}() is not supported in a kernel",
                _METHOD_HINTS.get(func.attr.value, _CALLABLE_HINT),
            )

    def call_math(self, node: cst.Call, fname: str, shown: str) -> None:
        if fname not in SUPPORTED_MATH:
            self.refuse_math(node, fname)
            return
        if self.refuses(lambda: self.call_args(node)):
            return
        if fname == "log" and len(node.args) == 2:
            self.refuse(
                node,
                f"{shown}() with a base is not supported in a kernel",
                f"divide: {shown}(x) / {shown}(base)",
            )
        elif len(node.args) != 1:
            self.refuse(node, f"{shown}() takes exactly one argument", f"{shown}(x)")
