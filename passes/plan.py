"""The plan: which technique each loop gets, written as a small TOML (or JSON) file.

A plan names loops by their stable ids (``func/L1``, ``func/L1.2``; see :mod:`helixrc.passes.loops`)
and gives each a technique and its options::

    signals = "uncoupled"                 # the default for every loop below

    [loops."mcf_pricing/L1"]
    technique = "helix"                   # doall | helix | sequential
    segments = "auto"                     # or [["nb", "bask_arc", "bask_rc"], ["x"]]

    [loops."art_f2_match/L1.1"]
    technique = "doall"
    reassociate = true                    # float reductions may be combined out of order

    [loops."kv_tree_batch_get/L1"]
    technique = "relic"                   # split across the main context and its SMT sibling
    chunks = "blocked"                    # or "interleaved"

    [loops."prepare/L2"]
    technique = "relic"
    split = "statements"                  # the loop stays sequential; its body is split in two

    [loops."prepare/body"]                # the function's own body, split in two
    technique = "relic"

Technique ``relic`` (:mod:`helixrc.passes.transform.relic`, ``docs/relic.md``) splits the
iterations of a ``for ... in range(...)`` loop between two tasks: the SMT sibling runs one half
(``spawn``), the main context the other, and ``join`` waits for it. ``chunks = "blocked"`` (the
default) gives the sibling the first half of the range and the main context the second;
``"interleaved"`` gives the sibling the even-numbered iterations and the main context the odd
ones. It is legal where ``doall`` is (reductions: integer ``+ * & | ^ min max``, float sums and
products only with ``reassociate``) and the loop leaves nothing else behind: no scalar but the
reductions and the loop variable is read after it, and the range step is an integer literal.
With ``split = "statements"`` (:mod:`helixrc.passes.transform.relic_statements`) the loop itself
stays sequential and two independent runs of statements of its body become a spawned task and the
continuation; the id ``func/body`` asks the same of the function's own body.

Loops a plan does not name stay sequential. Reading checks the form and points at the offending
line; :func:`validate_plan` then checks the plan against what the analysis found legal::

    >>> plan = parse_plan(text, "plan.toml")
    >>> plan.loops["mcf_pricing/L1"].technique, plan.loops["mcf_pricing/L1"].signals
    ('helix', 'uncoupled')
    >>> validate_plan(plan, {"mcf_pricing/L1": {"helix": None, "doall": "nb is carried (line 37)"},
    ...                      "art_f2_match/L1": {"doall"}, "art_f2_match/L1.1": {"doall", "helix"}})
    >>> parse_plan(plan.to_toml(), "again.toml") == plan
    True

Errors are :class:`PlanError` with ``file:line:col``. tomllib gives no positions for keys, so the
line of a loop id or key is found by a text search in the source (comments are skipped).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Union

from helixrc.csim.errors import Loc, PlanError

__all__ = [
    "CHUNKS", "LOOP_KEYS", "Legality", "LoopPlan", "Plan", "SIGNALS", "SPLITS", "TASK_TECHNIQUES",
    "TECHNIQUES", "is_body_id", "load_plan", "parse_plan", "validate_plan",
]

TECHNIQUES: tuple[str, ...] = ("doall", "helix", "relic", "sequential")
#: the techniques that make a loop a ``prange`` (one parallel loop at a time)
PARALLEL_TECHNIQUES: frozenset[str] = frozenset({"doall", "helix"})
#: the techniques that split a loop into tasks for the SMT sibling (``spawn``/``join``)
TASK_TECHNIQUES: frozenset[str] = frozenset({"relic"})
CHUNKS: tuple[str, ...] = ("blocked", "interleaved")
SPLITS: tuple[str, ...] = ("iterations", "statements")
SIGNALS: tuple[str, ...] = ("coupled", "uncoupled")
LOOP_KEYS: tuple[str, ...] = ("technique", "signals", "segments", "reassociate", "assume_independent", "chunks", "split")
TOP_KEYS: tuple[str, ...] = ("signals", "loops")

#: ``"auto"`` or an explicit grouping: each inner tuple names the variables/arrays of one segment.
Segments = Union[Literal["auto"], tuple[tuple[str, ...], ...]]

#: What the analysis says about one loop: the legal techniques, or technique -> None when legal
#: and the reason when not (``{"helix": None, "doall": "nb is carried (line 37)"}``). "sequential"
#: is always legal; a technique missing from a mapping is illegal with no reason given.
Legality = Union[Collection[str], Mapping[str, Union[str, None]]]

_LOOP_ID = re.compile(r"(?P<func>[^/]+)/(?:L[1-9][0-9]*(?:\.[1-9][0-9]*)*|body)")


@dataclass(frozen=True)
class LoopPlan:
    """What to do with one loop. ``signals`` is resolved: the loop's own value or the plan's default."""

    technique: str
    signals: str = "uncoupled"
    segments: Segments = "auto"
    reassociate: bool = False
    assume_independent: tuple[str, ...] = ()
    #: relic: how the iterations are dealt to the two tasks, "blocked" halves or "interleaved"
    chunks: str = "blocked"
    #: relic: split the loop's "iterations" into two tasks, or its body's "statements" (a function body: always)
    split: str = "iterations"
    #: where the loop's table starts, and where each of its keys is (for later errors)
    loc: Loc | None = field(default=None, compare=False, repr=False)
    key_locs: Mapping[str, Loc] = field(default_factory=dict, compare=False, repr=False)

    @property
    def parallel(self) -> bool:
        """The loop becomes a ``prange`` (doall, helix)."""
        return self.technique in PARALLEL_TECHNIQUES

    @property
    def concurrent(self) -> bool:
        """The loop runs on more than one context: a ``prange`` or a task split."""
        return self.technique in PARALLEL_TECHNIQUES or self.technique in TASK_TECHNIQUES


@dataclass(frozen=True)
class Plan:
    """A whole plan: loop id -> :class:`LoopPlan` (read-only, in file order) and the default signals."""

    loops: Mapping[str, LoopPlan] = field(default_factory=dict)
    signals: str = "uncoupled"
    source: str = field(default="<plan>", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loops", MappingProxyType(dict(self.loops)))

    def __hash__(self) -> int:
        return hash((tuple(self.loops.items()), self.signals))

    def technique_of(self, loop_id: str) -> str:
        """The loop's technique; loops the plan does not name stay sequential."""
        loop = self.loops.get(loop_id)
        return loop.technique if loop is not None else "sequential"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what the TOML/JSON file holds); keys at their defaults are left out."""
        return {
            "signals": self.signals,
            "loops": {lid: dict(_loop_entries(lp, self.signals)) for lid, lp in self.loops.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_toml(self) -> str:
        """The plan as TOML that :func:`parse_plan` reads back to an equal plan."""
        lines = [
            "# helixrc plan: one table per loop id; technique = doall | helix | relic | sequential",
            f"signals = {_toml_value(self.signals)}",
        ]
        for loop_id, loop in self.loops.items():
            lines += ["", f"[loops.{_toml_value(loop_id)}]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in _loop_entries(loop, self.signals)]
        return "\n".join(lines) + "\n"


def _loop_entries(loop: LoopPlan, default_signals: str) -> Iterator[tuple[str, Any]]:
    yield "technique", loop.technique
    if loop.signals != default_signals:
        yield "signals", loop.signals
    if loop.technique == "helix" or loop.segments != "auto":
        yield "segments", loop.segments if loop.segments == "auto" else [list(g) for g in loop.segments]
    if loop.reassociate:
        yield "reassociate", True
    if loop.assume_independent:
        yield "assume_independent", list(loop.assume_independent)
    if loop.chunks != "blocked":
        yield "chunks", loop.chunks
    if loop.split != "iterations":
        yield "split", loop.split


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A TOML basic string: escape the quote, the backslash and control characters.
        body = "".join(
            "\\" + ch if ch in '"\\' else f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch
            for ch in value
        )
        return f'"{body}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def load_plan(path: str | PathLike[str]) -> Plan:
    """Read a plan file: JSON if it ends in ``.json`` (or looks like JSON), TOML otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PlanError(f"cannot read plan file {str(path)!r}: {err.strerror or err}") from None
    suffix = path.suffix.lower()
    fmt: Literal["toml", "json"] | None = "json" if suffix == ".json" else "toml" if suffix == ".toml" else None
    return parse_plan(text, str(path), fmt)


def parse_plan(text: str, filename: str = "<plan>", fmt: Literal["toml", "json"] | None = None) -> Plan:
    """Parse plan text; ``fmt`` None means JSON if the text starts with ``{``, TOML otherwise."""
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "toml"
    if fmt not in ("toml", "json"):
        raise ValueError(f"plan format must be 'toml' or 'json', not {fmt!r}")
    where = _Locator(text, filename, fmt)
    data = _load_json(text, where) if fmt == "json" else _load_toml(text, where)
    plan = _build(data, where)
    _check_nesting(plan)
    return plan


def _load_toml(text: str, where: _Locator) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        pos = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if pos:
            loc = Loc(where.filename, int(pos.group(1)), int(pos.group(2)) - 1)
            message = message[: pos.start()]
        else:  # "(at end of document)"
            message = re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
            loc = where.end()
        raise PlanError(f"not valid TOML: {message}", loc) from None


def _load_json(text: str, where: _Locator) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise PlanError(f"duplicate key {key!r}", where.duplicate_json_key(key))
            seen[key] = value
        return seen

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as err:
        raise PlanError(f"not valid JSON: {err.msg}", Loc(where.filename, err.lineno, err.colno - 1)) from None


def _build(data: Any, where: _Locator) -> Plan:
    if not isinstance(data, dict):
        raise PlanError(f"a plan is a table with keys 'signals' and 'loops', not {_kind(data)}", where.start())
    for key in data:
        if key not in TOP_KEYS:
            raise PlanError(f"unknown top-level key {key!r} (valid keys: {', '.join(TOP_KEYS)})",
                            where.key(key), _did_you_mean(key, TOP_KEYS))
    signals = _choice(data.get("signals", "uncoupled"), "signals", SIGNALS, where.key("signals"))
    raw_loops = data.get("loops", {})
    if not isinstance(raw_loops, dict):
        raise PlanError(f"'loops' must be a table of loop tables, not {_kind(raw_loops)}", where.key("loops"),
                        'write one table per loop: [loops."func/L1"]')
    loops: dict[str, LoopPlan] = {}
    for loop_id, body in raw_loops.items():
        loc = where.loop(loop_id)
        _check_loop_id(loop_id, loc)
        if not isinstance(body, dict):
            raise PlanError(f"loop {loop_id!r} must be a table of settings, not {_kind(body)}", loc,
                            f'write [loops."{loop_id}"] followed by technique = "..."')
        loops[loop_id] = _build_loop(loop_id, body, signals, where, loc)
    return Plan(loops, signals, source=where.filename)


def _build_loop(loop_id: str, body: dict[str, Any], default_signals: str, where: _Locator, loc: Loc) -> LoopPlan:
    key_locs = {key: where.key(key, loop_id) for key in body}
    for key in body:
        if key not in LOOP_KEYS:
            raise PlanError(f"unknown key {key!r} in loop {loop_id!r} (valid keys: {', '.join(LOOP_KEYS)})",
                            key_locs[key], _did_you_mean(key, LOOP_KEYS))
    if "technique" not in body:
        raise PlanError(f"loop {loop_id!r} has no technique", loc,
                        f"add technique = one of {', '.join(TECHNIQUES)}")
    technique = _choice(body["technique"], "technique", TECHNIQUES, key_locs["technique"])
    signals = _choice(body.get("signals", default_signals), "signals", SIGNALS, key_locs.get("signals", loc))

    segments: Segments = "auto"
    if "segments" in body:
        segments = _segments(body["segments"], key_locs["segments"])
        if segments != "auto" and technique != "helix":
            raise PlanError(
                f"loop {loop_id!r} is {technique}: an explicit segment grouping applies only to helix loops",
                key_locs["segments"], 'remove segments, or use technique = "helix"',
            )

    reassociate = body.get("reassociate", False)
    if not isinstance(reassociate, bool):
        raise PlanError(f"reassociate must be a boolean (true or false), not {_kind(reassociate)}",
                        key_locs["reassociate"])

    independent = body.get("assume_independent", [])
    if not isinstance(independent, list):
        raise PlanError(f"assume_independent must be a list of array names, not {_kind(independent)}",
                        key_locs["assume_independent"], 'for example assume_independent = ["bask_arc"]')
    for i, name in enumerate(independent):
        _check_name(name, f"assume_independent[{i}]", key_locs["assume_independent"])
    if independent and technique in TASK_TECHNIQUES:
        raise PlanError(
            f"loop {loop_id!r} is {technique}: assume_independent applies only to doall and helix loops "
            "(their run-time check guards a prange)",
            key_locs["assume_independent"], "remove assume_independent, or use technique = \"doall\"",
        )

    chunks = "blocked"
    if "chunks" in body:
        chunks = _choice(body["chunks"], "chunks", CHUNKS, key_locs["chunks"])
        if technique not in TASK_TECHNIQUES:
            raise PlanError(f"loop {loop_id!r} is {technique}: chunks applies only to relic loops",
                            key_locs["chunks"], 'remove chunks, or use technique = "relic"')

    body_split = loop_id.endswith("/body")
    split = "statements" if body_split else "iterations"
    if "split" in body:
        split = _choice(body["split"], "split", SPLITS, key_locs["split"])
        if technique not in TASK_TECHNIQUES:
            raise PlanError(f"loop {loop_id!r} is {technique}: split applies only to relic loops",
                            key_locs["split"], 'remove split, or use technique = "relic"')
    if body_split and (technique not in (*TASK_TECHNIQUES, "sequential") or split != "statements"):
        raise PlanError(f"{loop_id!r} names a function's body: it takes technique = \"relic\" and splits statements",
                        key_locs.get("split", key_locs["technique"]))

    return LoopPlan(technique, signals, segments, reassociate, tuple(independent), chunks, split, loc, key_locs)


def _segments(value: Any, loc: Loc) -> Segments:
    hint = 'write segments = "auto", or groups of names: segments = [["nb", "bask_arc"], ["total"]]'
    if value == "auto":
        return "auto"
    if isinstance(value, str):
        raise PlanError(f'segments must be "auto" or a list of lists of names, not the string {value!r}', loc, hint)
    if not isinstance(value, list):
        raise PlanError(f'segments must be "auto" or a list of lists of names, not {_kind(value)}', loc, hint)
    if not value:
        raise PlanError("segments is an empty list", loc, hint)
    owner: dict[str, int] = {}
    groups: list[tuple[str, ...]] = []
    for i, group in enumerate(value):
        if not isinstance(group, list):
            raise PlanError(f"segments[{i}] must be a list of names, not {_kind(group)}", loc, hint)
        if not group:
            raise PlanError(f"segments[{i}] is empty: a segment protects at least one name", loc, hint)
        for j, name in enumerate(group):
            _check_name(name, f"segments[{i}][{j}]", loc)
            if name in owner:
                raise PlanError(f"{name!r} is in segments[{owner[name]}] and segments[{i}]", loc,
                                "a variable or array belongs to one segment")
            owner[name] = i
        groups.append(tuple(group))
    return tuple(groups)


def _choice(value: Any, key: str, valid: tuple[str, ...], loc: Loc | None) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{key} must be a string (one of {', '.join(valid)}), not {_kind(value)}", loc)
    if value not in valid:
        raise PlanError(f"unknown {key} {value!r} (valid: {', '.join(valid)})", loc, _did_you_mean(value, valid))
    return value


def _check_name(name: Any, what: str, loc: Loc) -> None:
    if not isinstance(name, str):
        raise PlanError(f"{what} must be a variable or array name (a string), not {_kind(name)}", loc)
    if not name.isidentifier():
        raise PlanError(f"{what}: {name!r} is not a variable or array name", loc)


def _check_loop_id(loop_id: str, loc: Loc | None) -> None:
    match = _LOOP_ID.fullmatch(loop_id)
    if match is None or not match.group("func").isidentifier():
        raise PlanError(f"malformed loop id {loop_id!r}", loc,
                        "loop ids are func/L<n> with .<n> per nesting level: mcf_pricing/L1, f/L2.1; func/body for a function's body")


def _kind(value: Any) -> str:
    """The TOML name of a value's type, with an article, for messages."""
    for cls, name in ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
                      (list, "an array"), (dict, "a table")):
        if isinstance(value, cls):
            return name
    return "a date/time" if hasattr(value, "isoformat") else type(value).__name__


def _did_you_mean(word: str, valid: Collection[str]) -> str | None:
    close = difflib.get_close_matches(word, list(valid), n=1)
    return f"did you mean {close[0]!r}?" if close else None


# ---------------------------------------------------------------------------------------------
# Checks against the analysis
# ---------------------------------------------------------------------------------------------


def validate_plan(plan: Plan, loop_ids: Mapping[str, Legality]) -> None:
    """Check ``plan`` against the loops the analysis found, raising :class:`PlanError` at the plan's line.

    ``loop_ids`` maps every known loop id to its :data:`Legality`: a collection of legal
    techniques, or technique -> None (legal) / reason (illegal) so that the error can say why::

        {"f/L1": {"helix": None, "doall": "nb is carried (line 37)"}, "f/L1.1": {"doall", "helix"}}
    """
    known = sorted(loop_ids, key=_natural)
    for loop_id, loop in plan.loops.items():
        loc = loop.loc
        if loop_id not in loop_ids:
            close = difflib.get_close_matches(loop_id, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "loops are numbered per function in source order"
            raise PlanError(f"unknown loop id {loop_id!r} (known: {', '.join(known) or 'none'})", loc, hint)
        technique_loc = loop.key_locs.get("technique", loc)
        _choice(loop.technique, "technique", TECHNIQUES, technique_loc)  # plans built in code
        _choice(loop.signals, "signals", SIGNALS, loop.key_locs.get("signals", loc))
        legal, reason = _legality(loop_ids[loop_id], loop.technique)
        if not legal:
            allowed = [t for t in TECHNIQUES if _legality(loop_ids[loop_id], t)[0]]
            because = f": {reason}" if reason else ""
            raise PlanError(
                f"loop {loop_id!r} cannot be {loop.technique}{because}; legal here: {', '.join(allowed)}",
                technique_loc,
            )
    _check_nesting(plan)


def _legality(spec: Legality, technique: str) -> tuple[bool, str | None]:
    if technique == "sequential":
        return True, None
    if isinstance(spec, Mapping):
        if technique not in spec:
            return False, None
        reason = spec[technique]
        return reason is None, reason
    return technique in spec, None


def _check_nesting(plan: Plan) -> None:
    """One parallel loop at a time: no parallel loop inside another parallel loop; a task split
    neither holds one nor sits in one (a task spawns nothing, no spawn inside a ``prange``)."""
    parallel = [(lid, lp) for lid, lp in plan.loops.items() if lp.concurrent]
    for inner_id, inner in parallel:
        for outer_id, outer in parallel:
            func = outer_id.removesuffix("/body")
            if inner_id.startswith(outer_id + ".") or (
                outer_id.endswith("/body") and inner_id != outer_id and inner_id.split("/", 1)[0] == func
            ):
                at = f", line {outer.loc.line}" if outer.loc is not None else ""
                raise PlanError(
                    f"loop {inner_id!r} ({inner.technique}) is nested in loop {outer_id!r} "
                    f"({outer.technique}{at}): " + (
                        "one parallel loop runs at a time" if inner.parallel and outer.parallel
                        else "a task split neither holds nor sits in a parallel loop or another task split"
                    ),
                    inner.key_locs.get("technique", inner.loc),
                    "make one of them sequential",
                )


def is_body_id(loop_id: str) -> bool:
    """``func/body``: a plan entry for the statements of a function's body, not for a loop."""
    return loop_id.endswith("/body")


def _natural(loop_id: str) -> list[Any]:
    """Sort key that puts f/L2 before f/L10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", loop_id)]


# ---------------------------------------------------------------------------------------------
# Positions by text search
# ---------------------------------------------------------------------------------------------


class _Locator:
    """Finds the line:col of loop ids and keys in the plan's source text."""

    def __init__(self, text: str, filename: str, fmt: str) -> None:
        self.text = text
        self.filename = filename
        self.fmt = fmt
        self.masked = _mask_toml_comments(text) if fmt == "toml" else text
        # Offsets where TOML table headers start: a loop's keys lie before the next one.
        self.headers = [m.start() for m in re.finditer(r"^[ \t]*\[", self.masked, re.MULTILINE)]
        # JSON: the nesting depth at each offset, to tell a loop's keys from the top-level ones.
        self.depths = _json_depths(text) if fmt == "json" else []

    def _loc(self, offset: int) -> Loc:
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1)
        return Loc(self.filename, line, col)

    def start(self) -> Loc:
        return Loc(self.filename, 1, 0)

    def end(self) -> Loc:
        return self._loc(len(self.text.rstrip()))

    def _loop_offset(self, loop_id: str) -> int | None:
        quotes = ('"',) if self.fmt == "json" else ('"', "'")
        found = [i for q in quotes if (i := self.masked.find(f"{q}{loop_id}{q}")) >= 0]
        return min(found) if found else None

    def loop(self, loop_id: str) -> Loc:
        offset = self._loop_offset(loop_id)
        return self._loc(offset) if offset is not None else self.start()

    def key(self, key: str, loop_id: str | None = None) -> Loc:
        """The position of ``key``: at top level, or inside the table of ``loop_id``."""
        start, end = 0, len(self.masked)
        if loop_id is not None:
            offset = self._loop_offset(loop_id)
            if offset is None:
                return self.start()
            start = offset + len(loop_id) + 2
            if self.fmt == "toml":
                line_end = self.masked.find("\n", start)
                end = next((h for h in self.headers if h > line_end >= 0), end)
        elif self.fmt == "toml":
            end = self.headers[0] if self.headers else end
        fallback = self.loop(loop_id) if loop_id is not None else self.start()
        k = re.escape(key)
        if self.fmt == "json":
            # the first "key": one level inside the loop's object (or in the top-level object)
            depth = self.depths[start - 1] + 1 if loop_id is not None else 1
            for found in re.finditer(rf'"({k})"\s*:', self.text[start:]):
                if self.depths[start + found.start()] == depth:
                    return self._loc(start + found.start(1))
            return fallback
        # key = ..., "key" = ..., dotted loops."f/L1".key = ..., inline { key = ... }
        match = re.compile(rf'(?:^|[\s{{,.])(["\']?)({k})\1\s*=', re.MULTILINE).search(self.masked, start, end)
        if match is None and loop_id is None:  # a table header: [key] or [key."..."]
            match = re.compile(rf"^[ \t]*\[\s*()({k})\b", re.MULTILINE).search(self.masked)
        return self._loc(match.start(2)) if match is not None else fallback

    def duplicate_json_key(self, key: str) -> Loc:
        matches = list(re.finditer(rf'"({re.escape(key)})"\s*:', self.text))
        return self._loc(matches[1].start()) if len(matches) > 1 else self.start()


def _json_depths(text: str) -> list[int]:
    """The object/array nesting depth before each character of a JSON text (strings skipped)."""
    depths: list[int] = []
    depth, in_string, escaped = 0, False, False
    for ch in text:
        depths.append(depth)
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    depths.append(depth)
    return depths


def _mask_toml_comments(text: str) -> str:
    """``text`` with TOML comments blanked out (strings are kept), so searches skip them."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"' and i + 1 < len(text):
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == quote or ch == "\n":
                quote = None
            out.append(ch)
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)
