"""The LibCST toolbox of the transform: walking and reading statements, building new ones, the
small transformers that rewrite names, jumps and loops in place, and the runtime import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import libcst as cst
from helixrc.passes.transform.records import Refused

BASE_IMPORTS = ("prange", "shared", "signal", "wait")


def walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from walk(child)


def variables(node: cst.CSTNode) -> Iterable[cst.Name]:
    """The names in ``node`` that stand for variables (not an attribute's or a keyword argument's)."""
    skip: set[cst.CSTNode] = set()
    for n in walk(node):  # pre-order: an attribute or argument comes before its own name
        if isinstance(n, cst.Attribute):
            skip.add(n.attr)
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            skip.add(n.keyword)
        elif isinstance(n, cst.Name) and n not in skip:
            yield n


def loops(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    return (n for n in walk(node) if isinstance(n, (cst.For, cst.While)))


def block(suite: cst.BaseSuite) -> list[cst.BaseStatement]:
    """The statements of a suite; a one-line suite becomes one statement line."""
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    assert isinstance(suite, cst.SimpleStatementSuite)
    return [cst.SimpleStatementLine(body=suite.body)]


def indented(suite: cst.BaseSuite, body: Sequence[cst.BaseStatement]) -> cst.IndentedBlock:
    if isinstance(suite, cst.IndentedBlock):
        return suite.with_changes(body=list(body))
    return cst.IndentedBlock(body=list(body))


def call(fn: str, k: int) -> cst.SimpleStatementLine:
    return cst.parse_statement(f"{fn}({k})")  # type: ignore[return-value]


def lines_text(lines: Iterable[int]) -> str:
    ordered = sorted(set(lines))
    runs: list[list[int]] = []
    for x in ordered:
        if runs and x == runs[-1][1] + 1:
            runs[-1][1] = x
        else:
            runs.append([x, x])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    return ("line " if len(ordered) == 1 else "lines ") + ", ".join(parts)


def range_args(node: cst.For) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.BaseExpression]:
    """``(start, stop, step)`` of ``for ... in range(...)``; any other loop is refused."""
    it = node.iter
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range"):
        raise Refused("the loop does not iterate over range(...)")
    args = [a.value for a in it.args]
    if any(a.keyword is not None or a.star for a in it.args) or not 1 <= len(args) <= 3:
        raise Refused("range(...) with unusual arguments")
    if len(args) == 1:
        return cst.Integer("0"), args[0], cst.Integer("1")
    return args[0], args[1], args[2] if len(args) == 3 else cst.Integer("1")


def bound_before(fn: cst.FunctionDef, target: cst.CSTNode, name: str) -> bool:
    """``name`` is certainly bound when ``target`` starts: a parameter, or assigned by a statement
    that runs before it on every path (earlier in one of the blocks that lead to it)."""
    params = fn.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return True
    path: set[cst.CSTNode] = set()

    def find(node: cst.CSTNode) -> bool:
        if node is target or any(find(c) for c in node.children):
            path.add(node)
            return True
        return False

    find(fn)

    def search(stmts: Sequence[cst.BaseStatement]) -> bool:
        for st in stmts:
            if st in path:
                if st is target:
                    return False
                return any(search(b) for b in sub_blocks(st) if any(x in path for x in b))
            if _binds(st, name):
                return True
        return False

    return search(block(fn.body))


def _binds(st: cst.BaseStatement, name: str) -> bool:
    if not isinstance(st, cst.SimpleStatementLine):
        return False
    for small in st.body:
        targets: list[cst.CSTNode] = []
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, (cst.AugAssign, cst.AnnAssign)) and (
            not isinstance(small, cst.AnnAssign) or small.value is not None
        ):
            targets = [small.target]
        for t in targets:
            if any(isinstance(n, cst.Name) and n.value == name for n in walk(t)):
                return True
    return False


def bound_names(target: cst.BaseExpression) -> Iterable[str]:
    """The names a target binds (``a``, ``a, b``; not the array of ``a[i]``)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from bound_names(el.value)


def assigned_names(node: cst.CSTNode) -> set[str]:
    """Every name that an assignment or a for statement inside ``node`` binds."""
    out: set[str] = set()
    for n in walk(node):
        if isinstance(n, cst.AssignTarget):
            out.update(bound_names(n.target))
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign, cst.For)):
            out.update(bound_names(n.target))
    return out


def enclosing_targets(fn: cst.FunctionDef, target: cst.CSTNode) -> set[str]:
    """The variables of the ``for`` loops around ``target``: bound whenever it runs."""
    out: set[str] = set()

    def find(node: cst.CSTNode) -> bool:
        if node is target:
            return True
        if any(find(c) for c in node.children):
            if isinstance(node, cst.For):
                out.update(bound_names(node.target))
            return True
        return False

    find(fn)
    return out


def names_used(node: cst.CSTNode) -> list[str]:
    """The variable names read or written in ``node``, in order of first appearance."""
    return list(dict.fromkeys(n.value for n in variables(node)))


def call_text(head: str, args: list[str], indent: int, width: int = 100) -> str:
    """``head(args)`` on one line, or with the arguments wrapped under it (for a statement at ``indent``)."""
    line = f"{head}({', '.join(args)})"
    if indent + len(line) <= width:
        return line
    rows: list[str] = []
    for arg in args:
        if rows and indent + 4 + len(rows[-1]) + len(arg) + 2 <= width:
            rows[-1] += f" {arg},"
        else:
            rows.append(f"{arg},")
    # LibCST indents continuation lines by the enclosing block's indentation itself
    return f"{head}(\n" + "".join(f"    {row}\n" for row in rows) + ")"


def fresh_name(base: str, taken: set[str]) -> str:
    """``base``, with leading underscores until it is not in ``taken``; added to ``taken``."""
    name = base
    while name in taken:
        name = "_" + name
    taken.add(name)
    return name


def code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def parse_expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


def stmt(text: str) -> cst.BaseStatement:
    return cst.parse_statement(text)


def if_(test: str, body: list[cst.BaseStatement]) -> cst.If:
    return cst.If(test=parse_expr(test), body=cst.IndentedBlock(body=body))


def sub_blocks(st: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    """The statement lists nested directly in a compound statement."""
    out: list[list[cst.BaseStatement]] = []
    if isinstance(st, cst.If):
        out.append(block(st.body))
        if isinstance(st.orelse, cst.If):
            out.append([st.orelse])
        elif st.orelse is not None:
            out.append(block(st.orelse.body))
    elif isinstance(st, (cst.For, cst.While)):
        out.append(block(st.body))
        if st.orelse is not None:
            out.append(block(st.orelse.body))
    return out


def level_jumps(node: cst.CSTNode, kinds: type | tuple[type, ...]) -> Iterable[cst.CSTNode]:
    """The jumps of the enclosing loop: ``continue``/``break`` not in a nested loop, any ``return``."""
    if isinstance(node, kinds):
        yield node
        return
    for child in node.children:
        if isinstance(child, (cst.For, cst.While)):
            if cst.Return in (kinds if isinstance(kinds, tuple) else (kinds,)):
                yield from (n for n in walk(child) if isinstance(n, cst.Return))
            continue
        yield from level_jumps(child, kinds)


def is_call(st: cst.CSTNode, fn: str) -> bool:
    if not isinstance(st, cst.SimpleStatementLine) or len(st.body) != 1:
        return False
    e = st.body[0]
    return (
        isinstance(e, cst.Expr) and isinstance(e.value, cst.Call)
        and isinstance(e.value.func, cst.Name) and e.value.func.value == fn
    )


def is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


class Splice(cst.CSTTransformer):
    """Replace each transformed ``for`` statement by its parallel form (setup, loop, copy-back)."""

    def __init__(self, replacements: dict[cst.CSTNode, list[cst.BaseStatement]]) -> None:
        super().__init__()
        self.replacements = replacements

    def _swap(self, original: cst.CSTNode, updated: cst.BaseStatement) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        stmts = self.replacements.get(original)
        return updated if stmts is None else cst.FlattenSentinel(stmts)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        return self._swap(original_node, updated_node)

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        return self._swap(original_node, updated_node)


class Cells(cst.CSTTransformer):
    """Rewrite the chosen ``Name`` nodes (by identity) into ``cellvar.name``."""

    def __init__(self, names: dict[cst.Name, str]) -> None:
        super().__init__()
        self.names = names

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        cellvar = self.names.get(original_node)
        if cellvar is None:
            return updated_node
        return cst.Attribute(value=cst.Name(cellvar), attr=cst.Name(original_node.value))


class Rename(cst.CSTTransformer):
    """Rewrite every use of the given variables (by name) into ``accvar.name``."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # the attribute's own name is not a variable
        return False

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return updated_node.with_changes(value=original_node.value.visit(self))

    def visit_Arg(self, node: cst.Arg) -> bool:
        return True

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        acc = self.names.get(original_node.value)
        return updated_node if acc is None else cst.Attribute(value=cst.Name(acc), attr=cst.Name(original_node.value))


class Jumps(cst.CSTTransformer):
    """Expand the jumps that leave an iteration: ``continue``/``break`` of this loop level and any
    ``return`` (nested loops included) get the statements ``expand`` gives them."""

    def __init__(self, expand: Callable[[cst.BaseSmallStatement], list[cst.BaseStatement] | None]) -> None:
        super().__init__()
        self.expand = expand
        self.depth = 0

    def visit_For(self, node: cst.For) -> None:
        self.depth += 1

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        self.depth -= 1
        return updated_node

    def visit_While(self, node: cst.While) -> None:
        self.depth += 1

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.While:
        self.depth -= 1
        return updated_node

    def _line(self, line: cst.SimpleStatementLine) -> list[cst.BaseStatement]:
        smalls = list(line.body)
        for at, small in enumerate(smalls):
            if isinstance(small, cst.Return) or (isinstance(small, (cst.Continue, cst.Break)) and not self.depth):
                out = self.expand(small)
                if out is None:
                    continue
                before = [cst.SimpleStatementLine(body=smalls[:at])] if at else []
                return [*before, *out]
        return [line]

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        out = self._line(updated_node)
        if out == [updated_node]:
            return updated_node
        out[0] = out[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel(out)

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.BaseSuite:
        line = cst.SimpleStatementLine(body=updated_node.body)
        out = self._line(line)
        return updated_node if out == [line] else cst.IndentedBlock(body=out)


def add_tasks(tree: cst.Module, kernel: str, tasks: Sequence[cst.FunctionDef]) -> cst.Module:
    """Put the task functions of a Relic split just before the def of ``kernel`` (the last one)."""
    if not tasks:
        return tree
    body = list(tree.body)
    at = max(i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == kernel)
    head = list(body[at].leading_lines)
    blanks = next((i for i, line in enumerate(head) if line.comment is not None), len(head))
    if blanks < 2:  # keep two blank lines between the last task and the kernel
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()] * (2 - blanks) + head)
    body[at:at] = tasks
    return tree.with_changes(body=body)


def add_import(tree: cst.Module, extra: set[str], base: bool = True) -> cst.Module:
    """Add the runtime import after the module docstring and ``from __future__`` imports; ``base``
    adds the names every ``prange`` loop uses (``prange``, ``shared``, ``signal``, ``wait``)."""
    names = sorted({*(BASE_IMPORTS if base else ()), *extra})
    statement = f"from helixrc.parallel import {', '.join(names)}"
    body = list(tree.body)
    if any(isinstance(s, cst.SimpleStatementLine) and tree.code_for_node(s).strip() == statement for s in body):
        return tree
    prefix = "from helixrc.parallel import "
    for i, s in enumerate(body):  # one import of the runtime: a second kernel's names join the first's
        text = tree.code_for_node(s).strip() if isinstance(s, cst.SimpleStatementLine) else ""
        if text.startswith(prefix) and "(" not in text and "*" not in text:
            have = {n.strip() for n in text.removeprefix(prefix).split(",")}
            merged = cst.parse_statement(f"{prefix}{', '.join(sorted(have | set(names)))}")
            body[i] = merged.with_changes(leading_lines=s.leading_lines)  # type: ignore[call-arg]
            return tree.with_changes(body=body)
    at = 0
    while at < len(body):
        line = body[at]
        if not isinstance(line, cst.SimpleStatementLine):
            break
        small = line.body[0]
        docstring = at == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        future = isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) and (
            small.module.value == "__future__"
        )
        if not (docstring or future):
            break
        at += 1
    if at < len(body) and not body[at].leading_lines:  # keep the import apart from the code after it
        blank = 2 if isinstance(body[at], (cst.FunctionDef, cst.ClassDef)) else 1
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()] * blank)
    body.insert(at, cst.parse_statement(statement))
    return tree.with_changes(body=body)
