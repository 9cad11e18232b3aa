"""The Python API of the HELIX transform: rewrite a kernel into parallel form and get it back runnable.

    >>> import helixrc
    >>> t = helixrc.transform("samples/dfa_match_batch.py::dfa_match_batch")
    >>> t.loops
    {'dfa_match_batch/L1': 'HELIX, uncoupled, 1 segment', 'dfa_match_batch/L1.1': 'refused: ...'}
    >>> t.function(*args)            # the parallel form, run by CPython: the original's results
    >>> print(t.source)              # the whole transformed module
    >>> print(t.report)              # the verdict table, then what happened to each loop
    >>> Path("plan.toml").write_text(t.plan.to_toml())    # the choices, as an editable plan
    >>> helixrc.transform(dfa_match_batch, plan="plan.toml")

``plan`` decides per loop (``doall``, ``helix`` or ``sequential``; see :mod:`helixrc.passes.plan`);
without one the outermost parallelizable loop is transformed with ``signals``.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import linecache
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Union

import libcst as cst

from helixrc.csim.errors import HelixError, LanguageError, PlanError
from helixrc.csim.machine import MachineConfig, resolve_machine
from helixrc.passes.analysis import KernelAnalysis, analyze_kernel, format_explain
from helixrc.passes.frontend import KernelModule, check_kernel
from helixrc.passes.plan import PARALLEL_TECHNIQUES, SIGNALS, TASK_TECHNIQUES, LoopPlan, Plan, load_plan, parse_plan
from helixrc.passes.transform.cst_tools import add_import, add_tasks
from helixrc.passes.transform.helix import TransformResult, transform_source
from helixrc.resolve import resolve_kernel

__all__ = [
    "PlanLike", "Transformed", "format_report", "is_kernel", "load_function", "to_plan",
    "transform", "transform_kernel", "transform_kernels", "transform_result",
]

#: What ``plan=`` accepts: a Plan, a TOML/JSON plan file, or the file's contents as plain data.
PlanLike = Union[Plan, str, "os.PathLike[str]", Mapping[str, Any]]

#: The filename :func:`helixrc.resolve.resolve_kernel` gives a kernel handed over as source text.
_TEXT_FILENAME = "<kernel>"

_serial = itertools.count(1)  # makes each transformed module's __name__ unique


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Transformed:
    """One kernel in parallel form.

    ``function`` is the transformed kernel, runnable in CPython (``helixrc.parallel`` gives the
    parallel form its sequential meaning); ``source`` is the whole transformed module; ``plan``
    the plan applied (the one given, or the transform's own choices as a plan); ``loops`` maps
    each loop id to its outcome; ``report`` is the verdict table followed by those outcomes.
    """

    name: str
    source: str
    function: Callable[..., Any]
    plan: Plan
    loops: dict[str, str]
    report: str

    def __repr__(self) -> str:
        loops = ", ".join(f"{lid.split('/', 1)[1]} {_short(outcome)}" for lid, outcome in self.loops.items())
        return f"<Transformed {self.name}: {loops or 'no loops'}>"


def transform(
    kernel_or_source: Callable[..., Any] | str | os.PathLike[str],
    plan: PlanLike | None = None,
    signals: str | None = None,
    name: str | None = None,
    machine: str | MachineConfig | None = None,
) -> Transformed:
    """Rewrite a kernel into HELIX parallel form; the result runs in CPython with the original's results.

    ``kernel_or_source`` is a kernel function (its module file is read), ``"FILE::FUNC"``, or
    source text; for text, ``name`` picks the kernel (default: the one kernel no other calls).
    ``plan`` is a :class:`~helixrc.passes.plan.Plan`, a plan file (TOML or JSON), or a dict shaped
    like the file; loops it does not name stay sequential. Without a plan the outermost
    parallelizable loop is transformed with ``signals`` (``"uncoupled"``, the default, or
    ``"coupled"``); with one, the plan sets the signals and ``signals`` must be left out.
    ``machine`` (a preset name or config) gives the signals its ``signals`` field names, so the
    result runs on it: simulating a loop transformed for the other semantics is an error.

    >>> source = '''
    ... def count_hits(xs, out):
    ...     n = 0
    ...     for i in range(len(xs)):
    ...         if xs[i] > 0:
    ...             out[n] = i
    ...             n += 1
    ...     return n
    ... '''
    >>> t = helixrc.transform(source)
    >>> t
    <Transformed count_hits: L1 HELIX uncoupled>
    >>> t.function(np.array([3, -1, 2]), np.zeros(3, dtype=np.int64))
    2
    >>> helixrc.transform(source, plan={"signals": "coupled", "loops": {"count_hits/L1": {"technique": "helix"}}})
    <Transformed count_hits: L1 HELIX coupled>

    Raises :class:`~helixrc.HelixError`: :class:`~helixrc.LanguageError` for code outside the
    kernel language, :class:`~helixrc.PlanError` (with the plan's ``file:line:col``) for a plan
    that names an unknown loop or a technique the analysis finds illegal.
    """
    if plan is not None and signals is not None:
        raise HelixError(
            "pass signals or a plan, not both: the plan sets the signals",
            hint='write signals = "coupled" at the top of the plan, or per loop',
        )
    if machine is not None:
        signals = machine_signals(resolve_machine(machine), signals)
    module, kernel = _resolve(kernel_or_source, name)
    return transform_kernel(module, kernel, to_plan(plan) if plan is not None else None, signals or "uncoupled")


def transform_kernel(module: KernelModule, name: str, plan: Plan | None = None,
                     signals: str = "uncoupled") -> Transformed:
    """:func:`transform` for a parsed module and a kernel name, plan and signals already resolved."""
    result = transform_result(module, name, plan, signals)
    analysis = analyze_kernel(module, name)
    applied = plan if plan is not None else _chosen_plan(result.loops, signals, name)
    return Transformed(
        name=name,
        source=result.source,
        function=load_function(result.source, name, _needed_names(module, name) | set(result.tasks)),
        plan=applied,
        loops=dict(result.loops),
        report=format_report(analysis, result.loops, plan, signals),
    )


# ---------------------------------------------------------------------------------------------
# Inputs: the kernel, the plan, the signals
# ---------------------------------------------------------------------------------------------


def _resolve(kernel: Callable[..., Any] | str | os.PathLike[str], name: str | None) -> tuple[KernelModule, str]:
    if isinstance(kernel, os.PathLike):
        kernel = os.fspath(kernel)
    module, func = resolve_kernel(kernel, name)
    if name is None and module.filename == _TEXT_FILENAME:
        func = _only_kernel(module)  # resolve_kernel would take the last function of the text
    return module, func


def _only_kernel(module: KernelModule) -> str:
    """The function to transform when none is named: the only one, or the one kernel no other calls."""
    functions = list(module.functions)
    if len(functions) == 1:
        return functions[0]  # if it is not a kernel, its LanguageError is the useful message
    kernels: dict[str, list[str]] = {}  # kernel -> its helpers, then itself
    for n in functions:
        try:
            kernels[n] = check_kernel(module, n)
        except LanguageError:
            pass
    called = {callee for order in kernels.values() for callee in order[:-1]}
    roots = [n for n in kernels if n not in called]
    if len(roots) == 1:
        return roots[0]
    listed = ", ".join(functions) or "none"
    what = f"{len(roots)} kernels ({', '.join(roots)})" if roots else "no kernel"
    raise HelixError(f"the source text defines {what}; its functions: {listed}",
                     hint="name the kernel with name=")


def _check_name(module: KernelModule, name: str) -> None:
    if name not in module.functions:
        listed = ", ".join(module.functions) or "none"
        raise HelixError(f"{module.filename}: no function {name!r} (functions: {listed})",
                         hint=_did_you_mean(name, list(module.functions)))


def machine_signals(config: MachineConfig, signals: str | None) -> str | None:
    """The signals to transform with for config: its own, which an explicit ``signals`` must match."""
    wanted = config.signal_semantics
    if wanted is None:
        return signals
    if signals is not None and signals != wanted:
        raise HelixError(f"signals={signals!r} but machine {config.name!r} runs {wanted} signals",
                         hint="leave signals out to use the machine's, or pick a machine with signals = \"either\"")
    return wanted


def _check_signals(signals: object) -> None:
    if signals not in SIGNALS:
        hint = _did_you_mean(signals, SIGNALS) if isinstance(signals, str) else None
        raise HelixError(f"signals must be one of {', '.join(SIGNALS)}, not {signals!r}", hint=hint)


def to_plan(plan: PlanLike) -> Plan:
    """A :class:`Plan` from what ``plan=`` accepts: a Plan, a plan file's path, or its data as a dict."""
    if isinstance(plan, Plan):
        return plan
    if isinstance(plan, (str, os.PathLike)):
        return load_plan(plan)
    if isinstance(plan, Mapping):
        # through the JSON reader, so a dict gets exactly the checks and messages a file gets
        try:
            text = json.dumps(plan, indent=2)
        except (TypeError, ValueError) as err:
            raise PlanError(f"a plan dict holds only strings, booleans, lists and dicts: {err}") from None
        return parse_plan(text, "<plan dict>", fmt="json")
    raise PlanError(f"a plan is a Plan, a plan file's path or a dict, not {type(plan).__name__}")


def _did_you_mean(word: str, valid: list[str] | tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, list(valid), n=1)
    return f"did you mean {close[0]!r}?" if close else None


# ---------------------------------------------------------------------------------------------
# The transform and what it chose
# ---------------------------------------------------------------------------------------------


def transform_result(module: KernelModule, name: str, plan: Plan | None = None,
                     signals: str = "uncoupled") -> TransformResult:
    """Check the inputs, then :func:`transform_source`: the module source with kernel ``name`` transformed."""
    _check_signals(signals)
    _check_name(module, name)
    if plan is None:
        return transform_source(module, name, signals)
    return transform_source(module, name, plan=plan)  # the plan sets the signals


def transform_kernels(module: KernelModule, names: list[str], plan: Plan | None = None,
                      signals: str = "uncoupled") -> tuple[str, dict[str, TransformResult]]:
    """Transform several kernels of one module: the merged source, and each kernel's result.

    Each kernel is transformed in the original module, so a kernel that calls a transformed
    helper is still analysed against the helper's kernel-language form, and every loop comment
    gives its line in the original file; the transformed functions are then put together.
    """
    results = {name: transform_result(module, name, plan, signals) for name in names}
    merged: cst.Module | None = None
    for name, result in results.items():
        if result.source == module.source:
            continue
        tree = cst.parse_module(result.source)
        # the first changed result brings the runtime import; later ones bring only their function
        # and its Relic tasks (and their runtime names)
        if merged is None:
            merged = tree
            continue
        merged = _replace_def(merged, name, _last_def(tree, name))
        if result.tasks:
            merged = add_tasks(merged, name, [_last_def(tree, t) for t in result.tasks])
        merged = add_import(merged, _runtime_names(tree), base=False)
    return (module.source if merged is None else merged.code), results


def _runtime_names(tree: cst.Module) -> set[str]:
    """The names a transformed module imports from ``helixrc.parallel``."""
    for st in tree.body:
        if isinstance(st, cst.SimpleStatementLine) and isinstance(imp := st.body[0], cst.ImportFrom) and (
            isinstance(imp.module, cst.Attribute) and imp.module.attr.value == "parallel"
        ) and not isinstance(imp.names, cst.ImportStar):
            return {a.name.value for a in imp.names if isinstance(a.name, cst.Name)}
    return set()


def _last_def(tree: cst.Module, name: str) -> cst.FunctionDef:
    """The top-level def of ``name`` that binds it (the last one, as in KernelModule.functions)."""
    return [s for s in tree.body if isinstance(s, cst.FunctionDef) and s.name.value == name][-1]


def _replace_def(tree: cst.Module, name: str, new: cst.FunctionDef) -> cst.Module:
    body = list(tree.body)
    at = max(i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == name)
    body[at] = new
    return tree.with_changes(body=body)


def _chosen_plan(loops: Mapping[str, str], signals: str, name: str) -> Plan:
    """The transform's own choices as a plan: the technique and signals of each transformed loop.

    A loop that kept ordered segments is ``helix`` even if its verdict is DOALL (a float sum stays
    in a segment): a plan may not call such a loop ``doall`` without ``reassociate``.
    """
    chosen: dict[str, LoopPlan] = {}
    for loop_id, outcome in loops.items():
        parts = outcome.split(", ")  # "DOALL, uncoupled, 1 segment"
        if len(parts) < 3 or parts[0].lower() not in PARALLEL_TECHNIQUES:
            continue
        segments = parts[2].split(" ", 1)[0]
        technique = "helix" if segments.isdigit() and int(segments) > 0 else parts[0].lower()
        chosen[loop_id] = LoopPlan(technique, parts[1])
    return Plan(chosen, signals, source=f"<plan chosen for {name}>")


def _short(outcome: str) -> str:
    """``HELIX uncoupled`` / ``Relic blocked`` for a transformed loop, ``sequential`` for the others (for reprs)."""
    parts = outcome.split(", ")
    if parts[0].lower() in PARALLEL_TECHNIQUES and len(parts) >= 2:
        return f"{parts[0]} {parts[1]}"
    if parts[0].lower() in TASK_TECHNIQUES and len(parts) >= 2:
        return f"{parts[0]} {parts[1].split(' ', 1)[0]}"
    return "sequential"


def format_report(analysis: KernelAnalysis, loops: Mapping[str, str], plan: Plan | None = None,
                  signals: str = "uncoupled") -> str:
    """The verdict table of ``analysis``, then each loop's id, line and outcome."""
    lines = {lid: loop.loc.line for lid, loop in analysis.loops.items()}
    how = f"plan {plan.source}" if plan is not None else f"outermost parallelizable loop, {signals}"
    out = [format_explain(analysis), f"transform ({how}):"]
    out += [f"  {lid} (line {lines[lid]}): {outcome}" if lid in lines else f"  {lid}: {outcome}"
            for lid, outcome in loops.items()]
    if not loops:
        out.append("  (no loops)")
    return "\n".join(out)


def is_kernel(module: KernelModule, name: str) -> bool:
    """Whether function ``name`` of ``module`` is in the kernel language (helpers it calls too)."""
    try:
        check_kernel(module, name)
    except LanguageError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Running the result in CPython
# ---------------------------------------------------------------------------------------------


def _needed_names(module: KernelModule, name: str) -> set[str]:
    """What the kernel can refer to at module level: itself, the helpers it calls, the constants."""
    return {*check_kernel(module, name), *module.constants}


def load_function(source: str, name: str, keep: set[str]) -> Callable[..., Any]:
    """Run the module ``source`` in a fresh namespace and return its function ``name``.

    Only the (absolute) imports, the docstring and the top-level definitions of ``keep`` run, the
    functions without their decorators: the rest of a module (a script's own calls, perhaps of
    helixrc.transform itself) must not run again. The source is registered with linecache, so
    tracebacks and ``inspect.getsource`` show its lines.
    """
    filename = _register_source(name, source)
    tree = ast.parse(source, filename)
    tree.body = [stmt for i, stmt in enumerate(tree.body) if _keeps(stmt, i, keep)]
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            # the kernel itself, not what a decorator makes of it (@helixrc.parallelize would
            # wrap the transformed kernel again; the simulator ignores decorators too)
            stmt.decorator_list = []
    code = compile(tree, filename, "exec", dont_inherit=True)
    namespace = ModuleType(f"helixrc_transformed_{name}_{next(_serial)}")
    exec(code, namespace.__dict__)
    return namespace.__dict__[name]  # type: ignore[no-any-return]


def _keeps(stmt: ast.stmt, index: int, keep: set[str]) -> bool:
    if isinstance(stmt, ast.Import):
        return True
    if isinstance(stmt, ast.ImportFrom):
        return stmt.level == 0  # a relative import needs the package; a kernel uses no other module
    if isinstance(stmt, ast.FunctionDef):
        return stmt.name in keep
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Name) and t.id in keep for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id in keep and stmt.value is not None
    return index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)  # docstring


def _register_source(name: str, source: str) -> str:
    """A synthetic filename holding ``source`` in linecache; equal sources share one entry."""
    lines = source.splitlines(keepends=True)
    for n in itertools.count(1):
        filename = f"<helixrc transform of {name}>" if n == 1 else f"<helixrc transform of {name} #{n}>"
        entry = linecache.cache.get(filename)
        if entry is None or (len(entry) == 4 and entry[2] == lines):
            # mtime None: linecache.checkcache leaves the entry alone (there is no file to stat)
            linecache.cache[filename] = (len(source), None, lines, filename)
            return filename
    raise AssertionError("unreachable")
