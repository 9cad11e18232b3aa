"""Type inference for kernel functions, per call signature.

Every variable of a kernel keeps one type (i64, f64 or bool) for the whole function, inferred from
its assignments; a variable whose type would depend on the path taken or on run-time values is
refused, because the simulator could not then match CPython bit for bit::

    s = 0               # s: i64 (line 2)
    for i in range(n):
        s += a[i]       # a is float64: s would become f64 here -> LanguageError, hint "s = 0.0"

Array elements narrower than 64 bits (and uint64, float32, bool) are *raw*: CPython hands them
out as NumPy scalars with NumPy's arithmetic, so they may only be converted with int()/float()/
bool(), compared, tested for truth or used as an index.

In the parallel form, each cell of a shared/reduction/lastprivate object is typed like a variable
named ``X.name``: the type of its initial value, kept by every write (``seg0 = shared(0, n=0)``
makes ``seg0.n`` an i64, and ``seg0.n = 0.5`` is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Union

import libcst as cst

from helixrc.csim.errors import LanguageError, Loc
from helixrc.passes.frontend import KernelModule, parallel_form
from helixrc.passes.ir import NARROW_DTYPES, ArrayType, Scalar
from helixrc.passes.loops import if_branches, suite_body
from helixrc.passes.parallel_form import IndependentCheck, ParallelForm, TaskSpawn, cell_key

I64, F64, BOOL = Scalar.I64, Scalar.F64, Scalar.BOOL
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Raw:
    """An element of a narrow array, not yet converted to a Python scalar."""

    array: str
    dtype: str
    #: "element" for an element read, "comparison" for the NumPy bool a comparison of one gives
    origin: str = "element"

    @property
    def is_float(self) -> bool:
        return self.dtype == "float32"

    @property
    def converter(self) -> str:
        """The conversion that turns it into the Python scalar CPython would otherwise not give."""
        return "float" if self.is_float else "bool" if self.dtype == "bool" else "int"


ExprType = Union[Scalar, Raw, ArrayType]


@dataclass(frozen=True)
class FnSig:
    """A helper or kernel instance: its name and the types of its arguments."""

    name: str
    args: tuple[ArrayType | Scalar, ...]


@dataclass
class FnTypes:
    """The result of inference for one function instance."""

    sig: FnSig
    vars: dict[str, Scalar | ArrayType]
    #: None when it returns nothing; a 1-tuple for a single value
    returns: tuple[Scalar, ...] | None
    returns_tuple: bool
    #: the type of every expression node of the function, for this signature
    node_types: dict[cst.CSTNode, ExprType]
    #: what every call calls: "helper", "math.<fn>" or the builtin's name ("len", "int", ...)
    call_kinds: dict[cst.Call, str]
    #: the parallel form's constructs (empty for a plain kernel)
    parallel: ParallelForm
    #: the type of every cell of the parallel form's objects, by ``"X.name"``
    cells: dict[str, Scalar]


ARITH_OPS = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo)
BIT_OPS = (cst.BitAnd, cst.BitOr, cst.BitXor)
SHIFT_OPS = (cst.LeftShift, cst.RightShift)
MATH_FLOAT = {"sqrt", "exp", "log", "fabs"}
MATH_INT = {"floor", "ceil"}
CONVERSIONS = {"int": I64, "float": F64, "bool": BOOL}

AUG_TO_BIN: dict[type, type] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo, cst.PowerAssign: cst.Power, cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift, cst.BitAndAssign: cst.BitAnd,
    cst.BitOrAssign: cst.BitOr, cst.BitXorAssign: cst.BitXor,
}


def scalar_of_value(value: object) -> Scalar:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return I64
    return F64


def type_name(t: ExprType) -> str:
    if isinstance(t, Raw):
        if t.origin == "comparison":
            return f"a comparison of an element of '{t.array}' (a NumPy bool in CPython)"
        return f"an element of {t.dtype} array '{t.array}'"
    return str(t)


class TypeChecker:
    """Infers variable and return types of function instances, memoized per signature."""

    def __init__(self, module: KernelModule) -> None:
        self.module = module
        self.done: dict[FnSig, FnTypes] = {}
        self.in_progress: set[FnSig] = set()
        self.forms: dict[str, ParallelForm] = {}

    def parallel_form(self, name: str) -> ParallelForm:
        """The parallel-form constructs of function ``name``, read once per function."""
        if name not in self.forms:
            self.forms[name] = parallel_form(self.module, name)
        return self.forms[name]

    # -- entry ------------------------------------------------------------------------------

    def infer(self, sig: FnSig) -> FnTypes:
        if sig in self.done:
            return self.done[sig]
        if sig in self.in_progress:
            fn = self.module.functions[sig.name]
            raise LanguageError(
                f"recursive call of kernel '{sig.name}'", self.module.loc(fn),
                "rewrite the recursion as a loop",
            )
        self.in_progress.add(sig)
        try:
            result = _FunctionInference(self, sig).run()
        finally:
            self.in_progress.discard(sig)
        self.done[sig] = result
        return result

    def loc(self, node: cst.CSTNode) -> Loc:
        return self.module.loc(node)


class _FunctionInference:
    """Fixpoint over one function's assignments; then a checking walk that reports conflicts."""

    def __init__(self, checker: TypeChecker, sig: FnSig) -> None:
        self.checker = checker
        self.module = checker.module
        self.sig = sig
        self.fn = self.module.functions[sig.name]
        self.form = checker.parallel_form(sig.name)
        #: variables and, as "X.name", the cells of the parallel form's objects
        self.vars: dict[str, Scalar | ArrayType] = {}
        self.node_types: dict[cst.CSTNode, ExprType] = {}
        self.call_kinds: dict[cst.Call, str] = {}
        self.first: dict[str, Loc] = {}
        #: variables that may hold a NumPy scalar in CPython (assigned from an array element),
        #: with the line of such an assignment
        self.np_vars: dict[str, Loc] = {}
        self.returns: list[tuple[tuple[Scalar, ...] | None, bool, cst.CSTNode]] = []
        #: each spawn's task results (types, returns a tuple), for its join
        self.task_results: dict[TaskSpawn, tuple[tuple[Scalar, ...], bool] | None] = {}
        params = [p.name.value for p in self.fn.params.params]
        if len(params) != len(sig.args):
            raise LanguageError(
                f"kernel '{sig.name}' takes {len(params)} arguments, {len(sig.args)} given",
                self.module.loc(self.fn),
            )
        for name, t in zip(params, sig.args):
            self.vars[name] = t
            self.first[name] = self.module.loc(self.fn)
        self.params = set(params)

    def run(self) -> FnTypes:
        # Assignments can be typed in any order (a later one may feed an earlier one through a
        # loop), so repeat until no new variable is typed, then walk once more reporting conflicts.
        for _ in range(50):
            before = len(self.vars)
            self.strict = False
            self.returns.clear()
            self.walk(suite_body(self.fn.body))
            if len(self.vars) == before:
                break
        self.strict = True
        self.returns.clear()
        self.walk(suite_body(self.fn.body))
        returns, returns_tuple = self.unify_returns()
        variables = {n: t for n, t in self.vars.items() if "." not in n}
        cells = {n: t for n, t in self.vars.items() if "." in n and isinstance(t, Scalar)}
        return FnTypes(self.sig, variables, returns, returns_tuple, self.node_types, self.call_kinds,
                       self.form, cells)

    def loc(self, node: cst.CSTNode) -> Loc:
        return self.module.loc(node)

    # -- statements -------------------------------------------------------------------------

    def walk(self, stmts: list[cst.CSTNode]) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small(small)
            elif isinstance(stmt, cst.If):
                self.cond(stmt.test)
                for branch in if_branches(stmt):
                    self.walk(branch)
                orelse = stmt.orelse
                while isinstance(orelse, cst.If):
                    self.cond(orelse.test)
                    orelse = orelse.orelse
            elif isinstance(stmt, cst.For):
                target = stmt.target
                assert isinstance(target, cst.Name)
                assert isinstance(stmt.iter, cst.Call)
                par = self.form.loops.get(stmt)
                bounds = par.bounds if par is not None else [a.value for a in stmt.iter.args]
                for bound in bounds:
                    t = self.expr(bound)
                    if t is not None and self.strict and not self.is_intlike(t):
                        raise LanguageError(
                            f"{par.kind if par else 'range'}() arguments must be integers, this one "
                            f"is {type_name(t)}", self.loc(bound), "convert with int(...)",
                        )
                self.bind(target.value, I64, target)
                self.walk(suite_body(stmt.body))
            elif isinstance(stmt, cst.While):
                self.cond(stmt.test)
                self.walk(suite_body(stmt.body))

    def small(self, node: cst.CSTNode) -> None:
        obj = self.form.object_at.get(node)  # type: ignore[call-overload]
        if obj is not None:
            for cell, value in obj.cells:
                t = self.value(value)
                if t is not None:
                    key = f"{obj.name}.{cell}"
                    self.bind(key, t, value)
                    if self.np_origin(value):
                        self.np_vars.setdefault(key, self.loc(value))
            return
        if node in self.form.syncs or node in self.form.deferred:
            return  # a return temporary's value is typed at its return
        spawn = self.form.spawns.get(node)  # type: ignore[call-overload]
        if spawn is not None:
            self.task_results[spawn] = self.call_kernel(spawn.task, spawn.args)
            self.bind(spawn.handle, I64, spawn.node.targets[0].target)
            return
        join = self.form.joins.get(node)  # type: ignore[call-overload]
        if join is not None:
            result = self.task_results.get(join.spawn)
            if join.target is None or result is None:
                return
            returns, is_tuple = result
            if not returns:
                raise LanguageError(f"the task '{join.spawn.task}' returns nothing; join() has no value "
                                    "to assign", self.loc(join.node), f"write join({join.spawn.handle}) alone")
            assert isinstance(join.node, cst.Assign)
            self.assign(join.target, list(returns) if is_tuple else returns[0], join.node.value)
            return
        if isinstance(node, cst.Assign):
            value_t = self.value_types(node.value)
            for target in node.targets:
                self.assign(target.target, value_t, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.value_types(node.value), node.value)
        elif isinstance(node, cst.AugAssign):
            op = AUG_TO_BIN[type(node.operator)]
            left = self.expr(node.target)
            right = self.expr(node.value)
            if left is None or right is None:
                return
            result = self.binary(op, left, right, node, node.value)
            name = self.variable(node.target)
            if name is not None:
                self.bind(name, result, node)
                if self.np_origin(node.value):
                    self.np_vars.setdefault(name, self.loc(node))
            else:
                self.store_check(node.target, result, node)
        elif isinstance(node, cst.Return):
            deferred = self.form.returns.get(node)
            value = deferred.value if deferred is not None else node.value
            if value is None:
                self.returns.append((None, False, node))
            elif isinstance(value, cst.Tuple):
                ts = [self.value(e.value) for e in value.elements]
                if all(t is not None for t in ts):
                    self.returns.append((tuple(ts), True, node))  # type: ignore[arg-type]
            elif isinstance(value, cst.Call) and self.helper_name(value) is not None:
                # `return helper(...)` passes the helper's results on, a tuple included
                result = self.call_helper(value)
                if result is not None:
                    returns, is_tuple = result
                    self.returns.append((returns or None, is_tuple, node))
            else:
                t = self.value(value)
                if t is not None:
                    self.returns.append(((t,), False, node))
        elif isinstance(node, cst.Assert):
            self.cond(node.test)
        elif isinstance(node, cst.Expr):
            if isinstance(node.value, cst.Call):
                self.expr(node.value, allow_none=True, allow_tuple=True)

    def value_types(self, node: cst.BaseExpression) -> list[Scalar | None] | Scalar | None:
        """A tuple literal or a tuple-returning call gives a list of element types."""
        if isinstance(node, cst.Tuple):
            return [self.value(e.value) for e in node.elements]
        if isinstance(node, cst.Call) and self.helper_name(node) is not None:
            result = self.call_helper(node)
            if result is None:
                return None
            returns, is_tuple = result
            if is_tuple:
                return list(returns)
            return returns[0] if returns else None
        return self.value(node)

    def assign(self, target: cst.BaseExpression, value_t, value_node: cst.CSTNode) -> None:  # type: ignore[no-untyped-def]
        if isinstance(target, (cst.Tuple, cst.List)):
            elems = [e.value for e in target.elements]
            if not isinstance(value_t, list):
                if value_t is None and not self.strict:
                    return
                raise LanguageError(
                    f"cannot unpack {type_name(value_t) if value_t else 'this value'} into "
                    f"{len(elems)} targets", self.loc(target),
                    "the right side must be a tuple of the same length or a kernel returning one",
                )
            if len(value_t) != len(elems):
                raise LanguageError(
                    f"{len(elems)} targets but {len(value_t)} values", self.loc(target),
                    "use as many names on the left as values on the right",
                )
            parts = (list(value_node.elements) if isinstance(value_node, cst.Tuple)
                     else [None] * len(elems))
            for elem, t, part in zip(elems, value_t, parts):
                if t is not None:
                    self.assign(elem, t, part.value if part is not None else value_node)
            return
        if isinstance(value_t, list):
            raise LanguageError(
                "a tuple can only be unpacked into as many targets", self.loc(value_node),
                "write `a, b = ...`",
            )
        if value_t is None:
            return
        name = self.variable(target)
        if name is not None:
            self.bind(name, value_t, value_node)
            if isinstance(value_node, cst.BaseExpression) and self.np_origin(value_node):
                self.np_vars.setdefault(name, self.loc(value_node))
        else:
            self.store_check(target, value_t, value_node)

    def variable(self, target: cst.BaseExpression) -> str | None:
        """The variable an assignment target binds: a name, or a cell as ``"X.name"``."""
        if isinstance(target, cst.Name):
            return target.value
        if isinstance(target, cst.Attribute) and target in self.form.cells:
            return cell_key(target)
        return None

    def np_origin(self, node: cst.BaseExpression) -> bool:
        """Whether CPython may compute this value as a NumPy scalar (it involves an element)."""
        if isinstance(node, cst.Subscript):
            return self.is_element(node)
        if isinstance(node, cst.Name):
            return node.value in self.np_vars
        if isinstance(node, cst.Attribute) and node in self.form.cells:
            return cell_key(node) in self.np_vars
        if isinstance(node, cst.BinaryOperation):
            return self.np_origin(node.left) or self.np_origin(node.right)
        if isinstance(node, cst.UnaryOperation):
            return not isinstance(node.operator, cst.Not) and self.np_origin(node.expression)
        if isinstance(node, cst.IfExp):
            return self.np_origin(node.body) or self.np_origin(node.orelse)
        if isinstance(node, cst.BooleanOperation):
            return self.np_origin(node.left) or self.np_origin(node.right)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            if node.func.value in ("abs", "min", "max") and node.func.value not in self.vars:
                return any(self.np_origin(a.value) for a in node.args)
        return False

    def np_refusal(self, node: cst.BaseExpression, what: str, at: cst.CSTNode) -> LanguageError:
        where = ""
        names = [n.value for n in _names_in(node) if n.value in self.np_vars]
        if names:
            where = f" ('{names[0]}' holds one: it is assigned from an array element at line {self.np_vars[names[0]].line})"
        return LanguageError(
            f"{what} follows NumPy's rules in CPython when a value comes from an array element{where}",
            self.loc(at), "convert the element with int(...) or float(...) where it is read",
        )

    def bind(self, name: str, t: ExprType, node: cst.CSTNode) -> None:
        if isinstance(t, Raw):
            raise LanguageError(
                f"{type_name(t)} must be converted before it is assigned to '{name}'",
                self.loc(node), f"write {name} = {t.converter}(...) around it",
            )
        if isinstance(t, ArrayType):
            raise LanguageError(
                f"arrays cannot be assigned to variables ('{name}')", self.loc(node),
                "use the array parameter directly, or pass it to a helper kernel",
            )
        if name in self.module.constants and name not in self.vars:
            raise LanguageError(
                f"'{name}' is a module constant; a kernel cannot assign it", self.loc(node),
                "use a local variable with another name",
            )
        have = self.vars.get(name)
        if have is None:
            self.vars[name] = t
            self.first[name] = self.loc(node)
        elif have != t and self.strict:
            if name in self.params and isinstance(have, ArrayType):
                raise LanguageError(
                    f"parameter '{name}' is an array and cannot be reassigned", self.loc(node),
                    "use a new local variable",
                )
            hint = f"make every assignment to '{name}' give {have}"
            keeps = "a variable keeps one type in a kernel"
            if "." in name:
                keeps = "a cell keeps the type of its initial value"
                hint = f"give '{name}' an initial value of the type every write gives it"
            elif have == F64 and t in (I64, BOOL):
                hint = f"write a float, e.g. float(...) or a literal with a decimal point, for '{name}'"
            elif have == I64 and t == F64:
                hint = f"initialise '{name}' with a float (e.g. {name} = 0.0) if it should be one"
            raise LanguageError(
                f"'{name}' is {have} (from line {self.first[name].line}) but {t} here; {keeps}",
                self.loc(node), hint,
            )

    def store_check(self, target: cst.BaseExpression, t: ExprType, node: cst.CSTNode) -> None:
        if not isinstance(target, cst.Subscript):
            raise LanguageError("cannot assign to this target", self.loc(target))
        arr = self.subscript_array(target)
        if arr is None:
            return
        name, atype = arr
        if isinstance(t, Raw):
            raise LanguageError(
                f"{type_name(t)} must be converted before it is stored into '{name}'",
                self.loc(node), "wrap it in int(...), float(...) or bool(...)",
            )
        if not isinstance(t, Scalar):
            raise LanguageError(f"cannot store {type_name(t)} into an array", self.loc(node))
        if atype.is_list and t != atype.element:
            raise LanguageError(
                f"storing {t} into list '{name}' of {atype.element} values would change the "
                "list's element type", self.loc(node),
                f"convert the value to {atype.element} first",
            )
        if t == F64 and atype.element != F64 and not atype.dtype == "bool":
            raise LanguageError(
                f"storing a float into {atype.dtype} array '{name}' truncates silently in NumPy",
                self.loc(node), "convert explicitly with int(...)",
            )

    # -- expressions ------------------------------------------------------------------------

    def is_intlike(self, t: ExprType) -> bool:
        return t in (I64, BOOL) or (isinstance(t, Raw) and not t.is_float and t.dtype != "bool")

    def cond(self, node: cst.BaseExpression) -> None:
        """A truth test: raw elements and mixed and/or operands are fine here."""
        if isinstance(node, cst.BooleanOperation):
            self.cond(node.left)
            self.cond(node.right)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            self.cond(node.expression)
        else:
            self.expr(node)

    def value(self, node: cst.BaseExpression) -> Scalar | None:
        """An expression whose value is kept: it must be a plain scalar."""
        t = self.expr(node)
        if t is None:
            return None
        if isinstance(t, Raw):
            raise LanguageError(
                f"{type_name(t)} must be converted before it is used as a value",
                self.loc(node), f"wrap it in {t.converter}(...)",
            )
        if isinstance(t, ArrayType):
            raise LanguageError(
                "an array cannot be used as a value here", self.loc(node),
                "index it, or pass it to a helper kernel",
            )
        return t

    def arith_operand(self, t: ExprType, node: cst.CSTNode) -> Scalar:
        if isinstance(t, Raw):
            raise LanguageError(
                f"arithmetic on {type_name(t)} follows NumPy's rules, not Python's",
                self.loc(node), f"wrap the element in {t.converter}(...)",
            )
        if isinstance(t, ArrayType):
            raise LanguageError("arithmetic on a whole array is not supported", self.loc(node),
                                "write a loop over its elements")
        return t

    def expr(self, node: cst.BaseExpression, allow_none: bool = False,
             allow_tuple: bool = False) -> ExprType | None:
        """The type of an expression, or None if it depends on a variable not yet typed."""
        t = self._expr(node, allow_none, allow_tuple)
        if self.strict and t is not None:
            self.node_types[node] = t
        return t

    def _expr(self, node: cst.BaseExpression, allow_none: bool,
              allow_tuple: bool) -> ExprType | None:
        if isinstance(node, cst.Integer):
            value = node.evaluated_value
            if not INT64_MIN <= value <= INT64_MAX:
                raise LanguageError(f"integer literal {node.value} does not fit in 64 bits",
                                    self.loc(node), "kernels compute with 64-bit integers")
            return I64
        if isinstance(node, cst.Float):
            return F64
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, cst.UnaryOperation):
            if isinstance(node.operator, cst.Not):
                self.cond(node.expression)
                return BOOL
            t = self.expr(node.expression)
            if t is None:
                return None
            t = self.arith_operand(t, node.expression)
            if isinstance(node.operator, cst.BitInvert) and t == F64:
                raise LanguageError("~ is not defined on floats", self.loc(node))
            return F64 if t == F64 else I64
        if isinstance(node, cst.BinaryOperation):
            left = self.expr(node.left)
            right = self.expr(node.right)
            if left is None or right is None:
                return None
            if (self.strict and isinstance(node.operator, cst.Divide)
                    and reg_kind(left) == "I" and reg_kind(right) == "I"
                    and (self.np_origin(node.left) or self.np_origin(node.right))):
                raise self.np_refusal(node, "true division of integers", node)
            if (isinstance(node.operator, cst.Power) and left in (I64, BOOL)
                    and self.np_origin(node.left)
                    and not isinstance(self.module_const_value(node.right) or 0, float)
                    and (self.module_const_value(node.right) or 0) < 0):
                raise LanguageError(
                    "an integer array element to a negative power raises ValueError under "
                    "NumPy's rules, where a Python int gives a float", self.loc(node),
                    "convert the element with float(...) or int(...) first",
                )
            return self.binary(type(node.operator), left, right, node, node.right)
        if isinstance(node, cst.BooleanOperation):
            left = self.expr(node.left)
            right = self.expr(node.right)
            if left is None or right is None:
                return None
            left, right = self.value(node.left), self.value(node.right)
            if left != right and self.strict:
                raise LanguageError(
                    f"'{'and' if isinstance(node.operator, cst.And) else 'or'}' returns one of "
                    f"its operands, here {left} or {right}: its type would depend on the values",
                    self.loc(node), "convert both operands to one type, or use it only as a condition",
                )
            return left
        if isinstance(node, cst.Comparison):
            self.comparison(node)
            # Comparing an array element gives a NumPy bool in CPython, whose arithmetic is
            # NumPy's (np.True_ + np.True_ is True): it is raw like a narrow element.
            for operand in [node.left, *(c.comparator for c in node.comparisons)]:
                if self.is_element(operand):
                    return Raw(self.element_array(operand), "bool", "comparison")
            return BOOL
        if isinstance(node, cst.IfExp):
            self.cond(node.test)
            a, b = self.expr(node.body), self.expr(node.orelse)
            if a is None or b is None:
                return a or b
            a, b = self.value(node.body), self.value(node.orelse)
            if a != b and self.strict:
                raise LanguageError(
                    f"the two branches of this conditional expression give {a} and {b}",
                    self.loc(node), "convert both branches to one type",
                )
            return a
        if isinstance(node, cst.Subscript):
            return self.subscript(node)
        if isinstance(node, cst.Call):
            return self.call(node, allow_none, allow_tuple)
        if isinstance(node, cst.Attribute):
            if node in self.form.cells:
                return self.cell(node)
            if self.module_math(node) == "inf":
                return F64
        raise LanguageError("this expression is not supported in a kernel", self.loc(node))

    def independent(self, check: IndependentCheck) -> ExprType | None:
        """``independent(...)`` is a bool: its array and index arrays 1-d, index elements and
        bounds integers."""
        node = check.node
        self.call_kinds[node] = "independent"
        names = [check.array, *(a.index for a in check.accesses if a.index is not None)]
        for k, name in enumerate(names):
            t = self.vars.get(name)
            if t is None and not self.strict:
                return None
            what = "the array" if k == 0 else "an index array"
            if not (isinstance(t, ArrayType) and t.ndim == 1 and (k == 0 or t.element == I64)):
                raise LanguageError(f"{what} of independent() must be a 1-d {'integer ' * (k > 0)}array, "
                                    f"{name} is {'not an array' if t is None else type_name(t)}", self.loc(node))
        for bound in check.bounds:
            t = self.expr(bound)
            if t is None:
                return None
            if self.strict and not self.is_intlike(t):
                raise LanguageError(f"the bounds of independent() must be integers, this one is {type_name(t)}",
                                    self.loc(bound), "convert with int(...)")
        return BOOL

    def array_check(self, node: cst.Call, which: str, names: tuple[str, ...]) -> ExprType | None:
        """``int64_arrays(...)`` / ``disjoint(...)`` is a bool of arrays (a constant of the signature)."""
        self.call_kinds[node] = which
        for name in names:
            t = self.vars.get(name)
            if t is None and not self.strict:
                return None
            if not isinstance(t, ArrayType):
                raise LanguageError(f"the arguments of {which}() must be arrays, {name} is "
                                    f"{'not an array' if t is None else type_name(t)}", self.loc(node))
        return BOOL

    def cell(self, node: cst.Attribute) -> ExprType | None:
        key = cell_key(node)
        if key in self.vars:
            return self.vars[key]
        if self.strict:  # its initial value could not be typed: that raised already
            raise LanguageError(f"the cell {key} has no type", self.loc(node))
        return None

    def name(self, node: cst.Name) -> ExprType | None:
        name = node.value
        if name in self.vars:
            return self.vars[name]
        if name in ("True", "False"):
            return BOOL
        if name in self.module.constants:
            return scalar_of_value(self.module.constants[name])
        if self.module.math_aliases.get(name) == "inf":
            return F64
        if self.strict:
            raise LanguageError(
                f"'{name}' is read before it is assigned anywhere in this kernel", self.loc(node),
                "assign it first",
            )
        return None

    def binary(self, op: type, left: ExprType, right: ExprType, node: cst.CSTNode,
               right_node: cst.CSTNode) -> Scalar:
        lt = self.arith_operand(left, node)
        rt = self.arith_operand(right, node)
        if op is cst.Divide:
            return F64
        if op is cst.Power:
            if F64 in (lt, rt):
                return F64
            exponent = self.module_const_value(right_node)
            if isinstance(exponent, int) and exponent >= 0:
                return I64
            if isinstance(exponent, int):
                return F64
            raise LanguageError(
                "int ** int gives an int or a float depending on the exponent's sign",
                self.loc(node),
                "use a non-negative integer literal exponent, or float(...) on the base",
            )
        if op in BIT_OPS:
            if F64 in (lt, rt):
                raise LanguageError("bitwise operators are not defined on floats", self.loc(node))
            return BOOL if lt == rt == BOOL else I64
        if op in SHIFT_OPS:
            if F64 in (lt, rt):
                raise LanguageError("shifts are not defined on floats", self.loc(node))
            return I64
        if op in ARITH_OPS:
            return F64 if F64 in (lt, rt) else I64
        raise LanguageError("this operator is not supported in a kernel", self.loc(node))

    def module_const_value(self, node: cst.CSTNode) -> object:
        """The value of a literal or module constant (with unary minus), else None."""
        if isinstance(node, cst.Integer):
            return node.evaluated_value
        if isinstance(node, cst.Name) and node.value in self.module.constants and node.value not in self.vars:
            return self.module.constants[node.value]
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self.module_const_value(node.expression)
            if isinstance(inner, int) and not isinstance(inner, bool):
                return -inner
        return None

    def comparison(self, node: cst.Comparison) -> None:
        left = self.expr(node.left)
        left_node: cst.BaseExpression = node.left
        direct = any(self.is_element(o) for o in [node.left, *(c.comparator for c in node.comparisons)])
        for target in node.comparisons:
            right = self.expr(target.comparator)
            if left is not None and right is not None:
                self.comparable(left, right, target.comparator)
                mixed = (reg_kind(left) == "F") != (reg_kind(right) == "F")
                if (self.strict and mixed and not direct
                        and (self.np_origin(left_node) or self.np_origin(target.comparator))):
                    raise self.np_refusal(node, "comparing an int with a float", node)
            left, left_node = right, target.comparator

    def is_element(self, node: cst.BaseExpression) -> bool:
        """An array element read (a subscript that is not `.shape[d]`), or a raw value."""
        if isinstance(node, cst.Subscript):
            return not (isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape")
        return isinstance(self.node_types.get(node), Raw)

    def element_array(self, node: cst.BaseExpression) -> str:
        while isinstance(node, cst.Subscript):
            node = node.value
        return node.value if isinstance(node, cst.Name) else "an array"

    def comparable(self, a: ExprType, b: ExprType, node: cst.CSTNode) -> None:
        for t in (a, b):
            if isinstance(t, Raw) and t.is_float:
                raise LanguageError(
                    f"comparing {type_name(t)} rounds the other side to float32 in NumPy",
                    self.loc(node), "wrap the element in float(...)",
                )
            if isinstance(t, ArrayType):
                raise LanguageError("arrays cannot be compared", self.loc(node),
                                    "compare their elements")

    def subscript_array(self, node: cst.Subscript) -> tuple[str, ArrayType] | None:
        """The array a (possibly chained) subscript indexes, checking the index count."""
        indices: list[cst.BaseExpression] = []
        base: cst.BaseExpression = node
        while isinstance(base, cst.Subscript):
            elems = [e.slice for e in base.slice]
            indices[:0] = [e.value for e in elems if isinstance(e, cst.Index)]
            base = base.value
        if not isinstance(base, cst.Name):
            raise LanguageError("only arrays passed as arguments can be indexed", self.loc(node))
        t = self.vars.get(base.value)
        if t is None:
            if self.strict:
                raise LanguageError(f"'{base.value}' is not an array argument", self.loc(base),
                                    "index only arrays passed to the kernel")
            return None
        if not isinstance(t, ArrayType):
            raise LanguageError(f"'{base.value}' is {t}, not an array; it cannot be indexed",
                                self.loc(node))
        if len(indices) != t.ndim:
            raise LanguageError(
                f"'{base.value}' has {t.ndim} dimension(s) but {len(indices)} index(es) are given",
                self.loc(node), "give one index per dimension (slices are not supported)",
            )
        for idx in indices:
            it = self.expr(idx)
            if it is not None and not self.is_intlike(it):
                raise LanguageError(
                    f"an index must be an integer, this one is {type_name(it)}", self.loc(idx),
                    "convert with int(...)",
                )
        return base.value, t

    def subscript(self, node: cst.Subscript) -> ExprType | None:
        if isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape":
            base = node.value.value
            t = self.vars.get(base.value) if isinstance(base, cst.Name) else None
            if isinstance(t, ArrayType) and t.is_list:
                raise LanguageError(f"'{base.value}' is a list: it has no .shape",  # type: ignore[union-attr]
                                    self.loc(node), f"use len({base.value})")  # type: ignore[union-attr]
            return I64
        arr = self.subscript_array(node)
        if arr is None:
            return None
        name, t = arr
        if not t.is_list and t.dtype in NARROW_DTYPES:
            return Raw(name, t.dtype)
        return t.element

    def helper_name(self, node: cst.Call) -> str | None:
        if isinstance(node.func, cst.Name) and node.func.value in self.module.functions:
            if node.func.value not in self.vars:
                return node.func.value
        return None

    def call_helper(self, node: cst.Call) -> tuple[tuple[Scalar, ...], bool] | None:
        name = self.helper_name(node)
        assert name is not None
        self.call_kinds[node] = "helper"
        return self.call_kernel(name, node.args)

    def call_kernel(self, name: str, call_args: Sequence[cst.Arg]) -> tuple[tuple[Scalar, ...], bool] | None:
        """The results of calling kernel ``name`` with these arguments (a helper call or a task),
        or None while an argument's type is still unknown."""
        args: list[Scalar | ArrayType] = []
        for arg in call_args:
            t = self.expr(arg.value)
            if t is None:
                return None
            if isinstance(t, Raw):
                raise LanguageError(
                    f"{type_name(t)} must be converted before it is passed to '{name}'",
                    self.loc(arg.value), "wrap it in int(...) or float(...)",
                )
            args.append(t)
        result = self.checker.infer(FnSig(name, tuple(args)))
        if result.returns is None:
            return ((), False)
        return (result.returns, result.returns_tuple)

    def module_math(self, node: cst.BaseExpression) -> str | None:
        """The math function an expression names (`math.sqrt`, an alias of it), else None."""
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            if node.value.value in self.module.math_modules:
                return node.attr.value
        if isinstance(node, cst.Name) and node.value not in self.vars:
            return self.module.math_aliases.get(node.value)
        return None

    def call(self, node: cst.Call, allow_none: bool, allow_tuple: bool) -> ExprType | None:
        check = self.form.checks.get(node)
        if check is not None:
            return self.independent(check)
        if node in self.form.dtype_checks:
            return self.array_check(node, "int64_arrays", self.form.dtype_checks[node])
        if node in self.form.overlap_checks:
            return self.array_check(node, "disjoint", self.form.overlap_checks[node])
        if self.helper_name(node) is not None:
            result = self.call_helper(node)
            if result is None:
                return None
            returns, is_tuple = result
            if not returns and not allow_none:
                raise LanguageError(f"'{self.helper_name(node)}' returns nothing; its value cannot be used",
                                    self.loc(node))
            if is_tuple and not allow_tuple:
                raise LanguageError(
                    f"'{self.helper_name(node)}' returns a tuple; unpack it with `a, b = ...`",
                    self.loc(node),
                )
            return returns[0] if returns else I64
        math_fn = self.module_math(node.func)
        if math_fn is not None:
            self.call_kinds[node] = f"math.{math_fn}"
        elif isinstance(node.func, cst.Name):
            self.call_kinds[node] = node.func.value
        args = [self.expr(a.value) for a in node.args]
        if any(a is None for a in args):
            return None
        if math_fn is not None:
            (arg,) = args
            if isinstance(arg, ArrayType):
                raise LanguageError(f"math.{math_fn} takes a scalar", self.loc(node))
            return I64 if math_fn in MATH_INT else F64
        assert isinstance(node.func, cst.Name)
        fname = node.func.value
        if fname in CONVERSIONS:
            (arg,) = args
            if isinstance(arg, ArrayType):
                raise LanguageError(f"{fname}() of an array is not supported", self.loc(node))
            return CONVERSIONS[fname]
        if fname == "abs":
            (arg,) = args
            t = self.arith_operand(arg, node)  # type: ignore[arg-type]
            return F64 if t == F64 else I64
        if fname in ("min", "max"):
            types = [self.arith_operand(a, node) for a in args]  # type: ignore[arg-type]
            if len(set(types)) != 1 and self.strict:
                raise LanguageError(
                    f"{fname}() of {', '.join(str(t) for t in types)}: it returns one of its "
                    "arguments, so its type would depend on the values",
                    self.loc(node), "convert the arguments to one type, e.g. float(...)",
                )
            return types[0]
        if fname == "len":
            (arg,) = args
            if not isinstance(arg, ArrayType):
                raise LanguageError("len() takes an array argument", self.loc(node))
            return I64
        raise LanguageError(f"call of '{fname}' is not supported in a kernel", self.loc(node))

    # -- returns ----------------------------------------------------------------------------

    def unify_returns(self) -> tuple[tuple[Scalar, ...] | None, bool]:
        if not self.returns:
            return None, False
        first_t, first_tuple, first_node = self.returns[0]
        for t, is_tuple, node in self.returns[1:]:
            if t != first_t or is_tuple != first_tuple:
                def show(x: tuple[Scalar, ...] | None, tup: bool) -> str:
                    if x is None:
                        return "nothing"
                    return f"({', '.join(map(str, x))})" if tup else str(x[0])
                raise LanguageError(
                    f"this return gives {show(t, is_tuple)} but line "
                    f"{self.loc(first_node).line} returns {show(first_t, first_tuple)}",
                    self.loc(node), "every return of a kernel must give the same types",
                )
        return first_t, first_tuple


def reg_kind(t: ExprType) -> str:
    """"F" for values held as floats, "I" for ints and bools, "A" for arrays."""
    if isinstance(t, ArrayType):
        return "A"
    if isinstance(t, Raw):
        return "F" if t.is_float else "I"
    return "F" if t == F64 else "I"


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    found: list[cst.Name] = []

    class Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n)

    node.visit(Names())
    return found
