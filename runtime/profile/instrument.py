"""Rewrite a function's CPython 3.11 bytecode (with the ``bytecode`` package) to report accesses.

Each rewrite keeps the instruction's own effect and location; the hook is a closure passed as a
constant and called through the ordinary call protocol::

    BINARY_SUBSCR            ->  LOAD_CONST load_hook; SWAP 3; SWAP 2; PRECALL 1; CALL 1
                                 (stack [c, i] -> [hook, c, i]: hook(c, i) does c[i] and records)
    STORE_SUBSCR             ->  LOAD_CONST store_hook; SWAP 4; SWAP 3; SWAP 2; PRECALL 2; CALL 2; POP_TOP
    LOAD_FAST x              ->  PUSH_NULL; LOAD_CONST read_x; PRECALL 0; CALL 0; POP_TOP; LOAD_FAST x
    STORE_FAST x             ->  STORE_FAST x; <call write_x>
    FOR_ITER exit            ->  FOR_ITER exit; <call iterate(L)>         (only when an item came)
    first instruction of a while body  ->  <call iterate(L)>; the instruction

3.11 calls ``[f, a, b]`` with ``PRECALL 1`` as ``f(a, b)`` (the method form), so the operands
already on the stack become the hook's arguments. Scalar hooks are placed only inside loops and
only for locals the function assigns (a parameter never assigned cannot carry a dependence).
Followed helpers (``follow_calls``) and nested code (comprehensions, lambdas) get the subscript
hooks only; their accesses are attributed to the call in the profiled function that runs them.
"""

from __future__ import annotations

from types import CodeType, FunctionType
from typing import Any

from bytecode import Bytecode, Instr, Label

from helixrc.csim.errors import Loc, ProfileError
from helixrc.profile.recorder import Recorder, make_hooks
from helixrc.profile.source import FunctionSource, Pos

_LOADS = ("LOAD_FAST", "LOAD_DEREF", "LOAD_GLOBAL")
_STORES = ("STORE_FAST", "STORE_DEREF", "DELETE_FAST", "DELETE_DEREF", "STORE_GLOBAL", "DELETE_GLOBAL")
#: methods that change a container without a subscript: not observed, so noted
_MUTATORS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault",
    "popitem", "add", "discard", "fill", "put", "itemset", "resize", "appendleft", "popleft",
})
_SUBSCRIPTS = ("BINARY_SUBSCR", "STORE_SUBSCR", "DELETE_SUBSCR")
_GENERATOR_FLAGS = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async gen


def _call(hook: Any, loc: Any) -> list[Instr]:
    """A call of ``hook()`` that leaves the stack as it was."""
    return [Instr("PUSH_NULL", location=loc), Instr("LOAD_CONST", hook, location=loc),
            Instr("PRECALL", 0, location=loc), Instr("CALL", 0, location=loc), Instr("POP_TOP", location=loc)]


def _var(ins: Instr) -> str:
    """The variable an instruction names (cell and free variables are objects in ``bytecode``,
    LOAD_GLOBAL's argument is (push NULL, name))."""
    if isinstance(ins.arg, tuple):
        return str(ins.arg[1])
    return str(getattr(ins.arg, "name", ins.arg))


def _span(ins: Instr) -> tuple[Pos, Pos] | None:
    loc = ins.location
    if loc is None or loc.lineno is None:
        return None
    end_line = loc.end_lineno if loc.end_lineno is not None else loc.lineno
    return (loc.lineno, loc.col_offset or 0), (end_line, loc.end_col_offset or 0)


def _producer(items: list[Any], k: int, depth: int) -> int | None:
    """The index of the instruction that pushed the stack item ``depth`` (1 = top) seen by
    ``items[k]``, searching back within the basic block; None if it lies beyond a label."""
    j = k - 1
    while j >= 0:
        ins = items[j]
        if isinstance(ins, Label):
            return None
        if not isinstance(ins, Instr):
            j -= 1
            continue
        if ins.name == "COPY":
            depth = ins.arg if depth == 1 else depth - 1
        elif ins.name == "SWAP":
            depth = ins.arg if depth == 1 else 1 if depth == ins.arg else depth
        elif ins.has_jump() or ins.is_final():
            return None
        else:
            pre, post = ins.pre_and_post_stack_effect(jump=False)
            pops, pushes = (0, pre + post) if pre >= 0 else (-pre, post)
            if depth <= pushes:
                return j
            depth = depth - pushes + pops
        j -= 1
    return None


class Instrumenter:
    """Makes the instrumented copies of one profiled function and the helpers it follows."""

    def __init__(self, rec: Recorder, follow_calls: bool) -> None:
        self.rec = rec
        self.hooks = make_hooks(rec)
        self.follow = follow_calls
        self._loop_index: dict[int, int] = {id(lp): k for k, lp in enumerate(rec.loops)}
        self._helpers: dict[CodeType, FunctionType] = {}
        self._nested: dict[CodeType, CodeType] = {}

    def top(self, src: FunctionSource) -> FunctionType:
        if src.code.co_flags & _GENERATOR_FLAGS:
            raise ProfileError(f"{src.name} is a generator or coroutine; profile a function that returns",
                               src.loc(src.code.co_firstlineno))
        code = self._rewrite(src.code, src, src.fn.__globals__)
        return _copy_function(src.fn, code)

    # -- helpers and nested code ---------------------------------------------------------------

    def _helper(self, fn: FunctionType) -> FunctionType:
        copy = self._helpers.get(fn.__code__)
        if copy is None:
            copy = _copy_function(fn, fn.__code__)
            self._helpers[fn.__code__] = copy  # first: a recursive helper finds its own copy
            copy.__code__ = self._rewrite(fn.__code__, None, fn.__globals__)
        return copy

    def _nested_code(self, code: CodeType, globals_: dict[str, Any]) -> CodeType:
        new = self._nested.get(code)
        if new is None:
            new = self._nested[code] = self._rewrite(code, None, globals_)
        return new

    def _follows(self, name: str, globals_: dict[str, Any]) -> FunctionType | None:
        value = globals_.get(name)
        if (
            self.follow and isinstance(value, FunctionType)
            and (value.__module__ or "").split(".")[0] != "helixrc"  # not the profiler's own code
            and not value.__code__.co_flags & _GENERATOR_FLAGS
        ):
            return value
        return None

    # -- the rewrite ---------------------------------------------------------------------------

    def _rewrite(self, code: CodeType, src: FunctionSource | None, globals_: dict[str, Any]) -> CodeType:
        """Instrument ``code``: fully for the profiled function (``src`` given), subscripts only
        for a helper or nested code."""
        try:
            bc = Bytecode.from_code(code)
        except Exception as e:  # the bytecode package refuses code it cannot model
            raise ProfileError(f"cannot read the bytecode of {code.co_name}: {e}",
                               Loc(code.co_filename, code.co_firstlineno)) from e
        items = list(bc)
        spans: list[tuple[Pos, Pos] | None] = []
        last: tuple[Pos, Pos] | None = None
        for ins in items:
            if isinstance(ins, Instr):
                last = _span(ins) or last
            spans.append(last if isinstance(ins, Instr) else None)
        loops = [self._loop_of(src, ins, span) if src is not None and span is not None else None
                 for ins, span in zip(items, spans)]
        names, chained = self._subscript_names(items)
        assigned = {_var(ins) for ins in items if isinstance(ins, Instr) and ins.name in _STORES}
        starts = self._while_starts(src, items, spans) if src is not None else {}
        via = None if src is not None else code.co_name
        nested = any(isinstance(c, CodeType) for c in code.co_consts)
        call_hooks = src is not None and (self.follow or nested)
        out: list[Any] = []
        for k, ins in enumerate(items):
            if not isinstance(ins, Instr):
                out.append(ins)
                continue
            loc = ins.location
            line = spans[k][0][0] if spans[k] is not None else code.co_firstlineno
            loop = loops[k]
            if k in starts:
                out += _call(self.hooks["iterate"](starts[k]), loc)
            name = ins.name
            if src is not None and loop is not None:
                self._note_unobserved(ins, line)
            if name in _SUBSCRIPTS:
                write = name != "BINARY_SUBSCR"
                site = self.rec.site(line, names[k], write, "array", loop, k in chained,
                                     f"{via}:{line}" if via else None)
                if name == "STORE_SUBSCR":
                    out += [Instr("LOAD_CONST", self.hooks["store"](site), location=loc),
                            Instr("SWAP", 4, location=loc), Instr("SWAP", 3, location=loc),
                            Instr("SWAP", 2, location=loc), Instr("PRECALL", 2, location=loc),
                            Instr("CALL", 2, location=loc), Instr("POP_TOP", location=loc)]
                else:
                    hook = self.hooks["load" if name == "BINARY_SUBSCR" else "delete"](site)
                    out += [Instr("LOAD_CONST", hook, location=loc), Instr("SWAP", 3, location=loc),
                            Instr("SWAP", 2, location=loc), Instr("PRECALL", 1, location=loc),
                            Instr("CALL", 1, location=loc)]
                    if name == "DELETE_SUBSCR":
                        out.append(Instr("POP_TOP", location=loc))
            elif src is not None and loop is not None and name in _LOADS and _var(ins) in assigned:
                site = self.rec.site(line, _var(ins), False, "scalar", loop)
                out += _call(self.hooks["scalar"](site), loc) + [ins]
            elif src is not None and loop is not None and name in _STORES:
                site = self.rec.site(line, _var(ins), True, "scalar", loop)
                out += [ins] + _call(self.hooks["scalar"](site), loc)
            elif src is not None and name == "FOR_ITER":
                out.append(ins)
                header = self._for_loop(src, ins)
                if header is not None:
                    out += _call(self.hooks["iterate"](header), loc)
            elif name == "PRECALL" and call_hooks:
                site = self.rec.site(line, "", False, "call", loop)
                hook = _call(self.hooks["call"](site), loc)
                if out and isinstance(out[-1], Instr) and out[-1].name == "KW_NAMES":
                    out[-1:-1] = hook  # KW_NAMES must stay right before its call
                else:
                    out += hook
                out.append(ins)
            elif name == "LOAD_GLOBAL" and (target := self._follows(ins.arg[1], globals_)) is not None:
                if ins.arg[0]:
                    out.append(Instr("PUSH_NULL", location=loc))
                out.append(Instr("LOAD_CONST", self._helper(target), location=loc))
            elif name == "LOAD_CONST" and isinstance(ins.arg, CodeType):
                out.append(Instr("LOAD_CONST", self._nested_code(ins.arg, globals_), location=loc))
            else:
                out.append(ins)
        bc[:] = out
        try:
            return bc.to_code()
        except Exception as e:
            raise ProfileError(f"cannot assemble the instrumented bytecode of {code.co_name}: {e}",
                               Loc(code.co_filename, code.co_firstlineno)) from e

    def _note_unobserved(self, ins: Instr, line: int) -> None:
        """Say which writes in a loop the profile cannot see (they could carry dependences)."""
        if ins.name == "STORE_ATTR":
            note = f"line {line}: attribute stores (.{ins.arg} = ...) are not tracked"
        elif ins.name == "LOAD_METHOD" and ins.arg in _MUTATORS:
            note = f"line {line}: .{ins.arg}() changes a container without a subscript: not observed"
        else:
            return
        if note not in self.rec.notes:
            self.rec.notes.append(note)

    def _loop_of(self, src: FunctionSource, ins: Instr, span: tuple[Pos, Pos]) -> int | None:
        if ins.name == "FOR_ITER":
            return None  # the header runs in the enclosing region (its hook marks the iteration)
        loop = src.innermost(*span)
        return self._loop_index[id(loop)] if loop is not None else None

    def _for_loop(self, src: FunctionSource, ins: Instr) -> int | None:
        loc = ins.location
        for lp in src.loops:
            if lp.kind == "for" and loc is not None and lp.line == loc.lineno:
                return self._loop_index[id(lp)]
        return None

    def _while_starts(self, src: FunctionSource, items: list[Any],
                      spans: list[tuple[Pos, Pos] | None]) -> dict[int, int]:
        """Item index of each while loop's first body instruction -> the loop's index."""
        out: dict[int, int] = {}
        for lp in src.loops:
            if lp.kind != "while":
                continue
            for k, (ins, span) in enumerate(zip(items, spans)):
                if isinstance(ins, Instr) and span is not None and lp.in_body(*span):
                    out[k] = self._loop_index[id(lp)]
                    break
        return out

    def _subscript_names(self, items: list[Any]) -> tuple[dict[int, str], set[int]]:
        """Per subscript instruction: the container's name; and the subscripts whose result is
        the container of another subscript."""
        names: dict[int, str] = {}
        chained: set[int] = set()

        def name_of(k: int, depth: int) -> str:
            j = _producer(items, k, depth)
            if j is None:
                return "<expr>"
            p = items[j]
            if p.name in ("LOAD_FAST", "LOAD_DEREF", "LOAD_NAME", "LOAD_CLASSDEREF"):
                return _var(p)
            if p.name == "LOAD_GLOBAL":
                return str(p.arg[1])
            if p.name in ("LOAD_ATTR", "LOAD_METHOD"):
                return f"{name_of(j, 1)}.{p.arg}"
            if p.name == "BINARY_SUBSCR":
                chained.add(j)
                return name_of(j, 2)
            return "<expr>"

        for k, ins in enumerate(items):
            if isinstance(ins, Instr) and ins.name in _SUBSCRIPTS:
                names[k] = name_of(k, 2)
        return names, chained


def _copy_function(fn: FunctionType, code: CodeType) -> FunctionType:
    new = FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__qualname__ = fn.__qualname__
    new.__dict__.update(fn.__dict__)
    return new


__all__ = ["Instrumenter"]
