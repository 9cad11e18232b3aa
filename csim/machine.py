"""Machine configurations: the :class:`MachineConfig` dataclass, its presets and overrides.

A config holds every parameter of the modeled machine a user may vary; its fields are exactly
the C struct ``csim_config``'s (``helixrc.csim.binding`` checks this at import) plus a ``name`` and
a ``description``. Presets live in ``presets/<name>.toml``. Overrides come as keyword arguments
or ``key=value`` strings with K/M/G suffixes::

    >>> cfg = resolve_machine("atom1", l1_size="64K")
    >>> cfg.l1_size
    65536
    >>> parse_override("l2_size=4M")
    ('l2_size', 4194304)

Every config is validated when it is built, with the same bounds the C core checks, so an invalid
machine raises :class:`MachineError` naming the field and what it accepts.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .errors import MachineError

PRESET_DIR = Path(__file__).resolve().parent / "presets"

# -- the out-of-order core (docs/multicore.md section 13) --
#: core_model values by name.
CORE_MODELS: Mapping[str, int] = MappingProxyType({"inorder": 0, "ooo": 1})
#: smt_rob, smt_iq, smt_lsq values by name: how a core's SMT contexts share the structure.
SMT_SHARING: Mapping[str, int] = MappingProxyType({"shared": 0, "partitioned": 1})
#: ooo_wait_policy values by name: how WAIT, SIGNAL and ITER_END meet the out-of-order window.
OOO_WAIT_POLICIES: Mapping[str, int] = MappingProxyType({"drain": 0, "acquire": 1})
_OOO_STRUCTS = (("rob_size", "smt_rob"), ("iq_size", "smt_iq"), ("lsq_size", "smt_lsq"))
_OOO_NAMED: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {"core_model": CORE_MODELS, "ooo_wait_policy": OOO_WAIT_POLICIES, **{split: SMT_SHARING for _, split in _OOO_STRUCTS}}
)
# Bounds shared with check_config() in src/sim.c and ooo_config_ok() in src/ooo.c.
_OOO_MAX_SIZE = 4096
_OOO_RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "core_model": (0, 1),
        "ooo_wait_policy": (0, 1),
        **{size: (1, _OOO_MAX_SIZE) for size, _ in _OOO_STRUCTS},
        **{split: (0, 1) for _, split in _OOO_STRUCTS},
    }
)


def _validate_ooo(cfg: "MachineConfig") -> None:
    for size, split in _OOO_STRUCTS:
        if getattr(cfg, split) == 1 and getattr(cfg, size) < cfg.smt:
            raise MachineError(f"{size} must be at least smt ({cfg.smt}) when {split} is partitioned "
                               f"(got {getattr(cfg, size)})")
# -- end of the out-of-order core --

#: bpred_kind values by name.
BPRED_KINDS: Mapping[str, int] = MappingProxyType({"bimodal": 0, "gshare": 1})
#: signals values by name: the wait/signal semantics the machine runs (DESIGN.md); "either" runs
#: each loop with the semantics it was transformed for.
SIGNAL_KINDS: Mapping[str, int] = MappingProxyType({"uncoupled": 0, "coupled": 1, "either": 2})
#: On/off fields: True and False stand for 1 and 0.
_FLAGS = frozenset({"ring_cache", "check"})
#: Fields given by name in presets and --set, with their values by name.
#: smt_policy values by name: which of a core's contexts ready in the same cycle issues first.
SMT_POLICIES: Mapping[str, int] = MappingProxyType({"round-robin": 0, "icount": 1})
_NAMED: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {"bpred_kind": BPRED_KINDS, "signals": SIGNAL_KINDS, "smt_policy": SMT_POLICIES, **_OOO_NAMED}
)

# Bounds shared with check_config() in src/sim.c and cache_geometry_ok() in src/cache.c.
_MAX_LATENCY = 1_000_000
_RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "issue_width": (1, 64),
        **{f"lat_{c}": (1, _MAX_LATENCY) for c in ("int", "mul", "div", "fadd", "fmul", "fdiv", "sqrt", "math")},
        "l1_latency": (1, _MAX_LATENCY),
        "l2_latency": (0, _MAX_LATENCY),
        "dram_latency": (0, _MAX_LATENCY),
        "dram_channels": (1, 64),
        "dram_line_cycles": (0, _MAX_LATENCY),
        "bpred_kind": (0, 1),
        "bpred_table_bits": (1, 24),
        "bpred_history_bits": (0, 32),
        "mispredict_penalty": (0, _MAX_LATENCY),
        "max_instructions": (0, 2**63 - 1),
        "cores": (1, 64),
        "smt": (1, 4),
        "smt_policy": (0, 1),
        "dispatch_cost": (0, _MAX_LATENCY),
        "loop_start_cost": (0, _MAX_LATENCY),
        "loop_end_cost": (0, _MAX_LATENCY),
        "signal_latency": (0, _MAX_LATENCY),
        "signals": (0, 2),
        "ring_cache": (0, 1),
        "ring_ways": (1, 64),
        **{f"ring_{k}_latency": (0, _MAX_LATENCY) for k in ("hit", "inject", "hop")},
        "ring_data_bandwidth": (1, 255),
        "ring_signal_bandwidth": (1, 255),
        "ring_inject_queue": (1, 1024),
        "ring_signal_buffer": (1, 1024),
        "c2c_latency": (0, 2**20),
        "upgrade_latency": (0, 2**20),
        "check": (0, 1),
        **_OOO_RANGES,
        "relic_submit_cost": (0, _MAX_LATENCY),
        "relic_wake_cost": (0, _MAX_LATENCY),
        "relic_join_cost": (0, _MAX_LATENCY),
        "relic_queue": (1, 1024),
    }
)
# Bounds shared with check_config() in src/sim.c and params_ok() in src/ring.c.
_RING_WORD = 8
_RING_MAX_SIZE = 2**20
_RING_MAX_OWNER_LINE = 4096
_CACHE_MAX_LINES = 2**24
_CACHE_MAX_LINE = 4096
_CACHE_MAX_ASSOC = 1024

_SUFFIX = re.compile(r"^\s*([+-]?\d[\d_]*)\s*(?:([KMG])(?:i?B)?)?\s*$", re.I)
_SCALE = {"K": 2**10, "M": 2**20, "G": 2**30}


@dataclass(frozen=True)
class MachineConfig:
    """A modeled machine; build one with :func:`resolve_machine` (it is validated either way)."""

    name: str
    description: str
    issue_width: int
    lat_int: int
    lat_mul: int
    lat_div: int
    lat_fadd: int
    lat_fmul: int
    lat_fdiv: int
    lat_sqrt: int
    lat_math: int
    l1_size: int
    l1_assoc: int
    l1_line: int
    l1_latency: int
    l2_size: int
    l2_assoc: int
    l2_line: int
    l2_latency: int
    dram_latency: int
    bpred_kind: int
    bpred_table_bits: int
    bpred_history_bits: int
    mispredict_penalty: int
    max_instructions: int
    #: DRAM bandwidth (docs/multicore.md section 14): lines interleave over dram_channels
    #: channels, each serving one L2 line per dram_line_cycles cycles, so concurrent L2 misses
    #: queue; 0 = unlimited bandwidth (every miss costs dram_latency, no fill tracking). The
    #: default, two channels of 8 cycles per 64-byte line, is 25.6 GB/s at a 1.6 GHz clock
    #: (two DDR3-1600 channels)
    dram_channels: int = 2
    dram_line_cycles: int = 8
    #: cores running a parallel loop's iterations (core 0 also runs the code outside it)
    cores: int = 1
    #: hardware contexts per core (1, 2 or 4; cores * smt <= 64): the worker contexts are
    #: cores * smt, numbered core-major; a core's contexts share its issue slots, L1, branch
    #: predictor, ring node and coherence state
    smt: int = 1
    #: which of a core's contexts ready in the same cycle issues first (SMT_POLICIES):
    #: 0 round-robin, 1 ICOUNT
    smt_policy: int = 0
    #: cycles from one iteration's end to the next one's start on the same worker
    dispatch_cost: int = 4
    #: cycles from PAR_BEGIN to the first iterations' start, and from the last end to PAR_END
    loop_start_cost: int = 20
    loop_end_cost: int = 20
    #: cycles from a SIGNAL to the WAIT it releases on another core (no ring or coherence model)
    signal_latency: int = 10
    #: the wait/signal semantics: 0 uncoupled, 1 coupled, 2 either (SIGNAL_KINDS); a loop
    #: transformed for the other semantics is an error
    signals: int = 2
    #: 1: memory operations inside sequential segments, and signals, go through the ring cache
    ring_cache: int = 0
    #: one ring node: a ring_ways-way array of one-word (8-byte) lines
    ring_size: int = 1024
    ring_ways: int = 8
    ring_hit_latency: int = 1
    ring_inject_latency: int = 2
    ring_hop_latency: int = 1
    #: per link per cycle
    ring_data_bandwidth: int = 1
    ring_signal_bandwidth: int = 5
    #: owner node = (addr / ring_owner_line_bytes) mod cores
    ring_owner_line_bytes: int = 64
    #: stores a node holds before they leave / signals of one sender in transit; full: a stall
    ring_inject_queue: int = 8
    ring_signal_buffer: int = 16
    #: coherence: a line last written by another core (75; 10 is the optimistic case)
    c2c_latency: int = 75
    #: coherence: a store to a line other cores hold too
    upgrade_latency: int = 0
    #: 1: checking mode (shadow shared memory, raise CheckError at the first order violation)
    check: int = 0
    #: the core's pipeline (CORE_MODELS): 0 in-order, 1 out-of-order (the sizes below apply)
    core_model: int = 0
    #: reorder buffer entries: instructions dispatched and not yet retired
    rob_size: int = 224
    #: issue queue entries: instructions dispatched and not yet issued
    iq_size: int = 97
    #: load/store queue entries: loads and stores dispatched and not yet retired
    lsq_size: int = 128
    #: SMT: how a core's contexts share each structure (SMT_SHARING): 0 shared, 1 partitioned
    #: (each context gets size / smt entries)
    smt_rob: int = 1
    smt_iq: int = 0
    smt_lsq: int = 1
    #: how WAIT, SIGNAL and ITER_END meet the window (OOO_WAIT_POLICIES): 1 acquire (the default,
    #: as a core runs a spin on a flag: only the segment's memory operations wait for the release,
    #: a SIGNAL is seen when it retires, iterations follow each other without a drain); 0 drain
    #: (each of them empties the window first: the model before issue 6, kept for comparison)
    ooo_wait_policy: int = 1
    #: Relic tasks (docs/multicore.md section 15), on a machine with smt >= 2 (smt 1 runs a task
    #: inline at its spawn, as a plain call): SMT siblings talk through their shared L1 in 4-10 ns
    #: (simulators-smt.md section 5), a few tens of cycles at 3-4 GHz. The main context's cost
    #: of a SPAWN (writing a queue entry and its arguments' line), the spinning sibling's delay
    #: from an enqueue to the task's start (seeing the line change), the delay from a task's end
    #: to the JOIN that waits for it, and the SPSC queue's entries (a full queue stalls SPAWN).
    relic_submit_cost: int = 20
    relic_wake_cost: int = 30
    relic_join_cost: int = 20
    relic_queue: int = 8

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def signal_semantics(self) -> str | None:
        """``"coupled"`` or ``"uncoupled"``: what helixrc.transform should write for this machine;
        None when the machine runs either."""
        return {0: "uncoupled", 1: "coupled"}.get(self.signals)

    def to_dict(self) -> dict[str, Any]:
        """All fields, name and description first (what results echo)."""
        return dataclasses.asdict(self)

    def csim_fields(self) -> dict[str, int]:
        """The fields of csim_config only."""
        return {f: getattr(self, f) for f in CSIM_FIELDS}


#: Field names, in order.
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MachineConfig))
#: Fields with a default: a preset may leave them out.
_DEFAULTED: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(MachineConfig) if f.default is not dataclasses.MISSING
)
#: The fields that mirror csim_config (everything but name and description).
CSIM_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f not in ("name", "description"))


def _is_pow2(x: int) -> bool:
    return x > 0 and x & (x - 1) == 0


def _validate(cfg: MachineConfig) -> None:
    for field in ("name", "description"):
        if not isinstance(getattr(cfg, field), str):
            raise MachineError(f"machine config field {field} must be a string")
    for field in CSIM_FIELDS:
        value = getattr(cfg, field)
        if not isinstance(value, int) or isinstance(value, bool):
            raise MachineError(f"machine config field {field} must be an int (got {value!r})")
    for field, (lo, hi) in _RANGES.items():
        value = getattr(cfg, field)
        if not lo <= value <= hi:
            raise MachineError(f"{field} must be from {lo} to {hi} (got {value})")
    for level in ("l1", "l2"):
        size, assoc, line = (getattr(cfg, f"{level}_{k}") for k in ("size", "assoc", "line"))
        if not (_is_pow2(line) and 2 <= line <= _CACHE_MAX_LINE):
            raise MachineError(f"{level}_line must be a power of two from 2 to {_CACHE_MAX_LINE} bytes (got {line})")
        if not 1 <= assoc <= _CACHE_MAX_ASSOC:
            raise MachineError(f"{level}_assoc must be from 1 to {_CACHE_MAX_ASSOC} (got {assoc})")
        if not (size >= 1 and size % (assoc * line) == 0 and _is_pow2(size // (assoc * line))
                and size // line <= _CACHE_MAX_LINES):
            raise MachineError(
                f"{level}_size must be {level}_assoc * {level}_line ({assoc} * {line}) times a power of two, "
                f"and at most {_CACHE_MAX_LINES} lines (got {size})"
            )
    if cfg.smt not in (1, 2, 4) or cfg.cores * cfg.smt > 64:
        raise MachineError(f"smt must be 1, 2 or 4 with cores * smt at most 64 (got cores {cfg.cores}, smt {cfg.smt})")
    _validate_ooo(cfg)
    if cfg.cores > 1 and cfg.l1_line < 8:
        raise MachineError(f"l1_line must be at least 8 bytes with cores > 1 (the coherence directory's lines; "
                           f"got {cfg.l1_line})")
    ring_set = cfg.ring_ways * _RING_WORD
    if not (cfg.ring_size % ring_set == 0 and _is_pow2(cfg.ring_size // ring_set) and cfg.ring_size <= _RING_MAX_SIZE):
        raise MachineError(
            f"ring_size must be ring_ways * {_RING_WORD} ({cfg.ring_ways} * {_RING_WORD}) times a power of two, "
            f"at most {_RING_MAX_SIZE} bytes (got {cfg.ring_size})"
        )
    if not (_is_pow2(cfg.ring_owner_line_bytes) and _RING_WORD <= cfg.ring_owner_line_bytes <= _RING_MAX_OWNER_LINE):
        raise MachineError(
            f"ring_owner_line_bytes must be a power of two from {_RING_WORD} to {_RING_MAX_OWNER_LINE} "
            f"(got {cfg.ring_owner_line_bytes})"
        )


def _unknown_field(key: str) -> MachineError:
    return MachineError(f"unknown machine config field {key!r} (valid: {', '.join(FIELDS)})")


def _coerce(key: str, value: Any) -> Any:
    """A field value from TOML, a keyword or a ``--set`` string: sizes may carry K/M/G."""
    if key not in FIELDS:
        raise _unknown_field(key)
    if key in ("name", "description"):
        return str(value)
    if isinstance(value, bool) and key in _FLAGS:     # check=True, ring_cache=False
        return int(value)
    names = _NAMED.get(key, {})
    if isinstance(value, str) and value.strip().lower() in names:
        return names[value.strip().lower()]
    if isinstance(value, str):
        m = _SUFFIX.match(value)
        if m is None:
            kinds = f" or one of {', '.join(names)}" if names else ""
            raise MachineError(f"{key} must be an integer, optionally with a K, M or G suffix{kinds} (got {value!r})")
        return int(m.group(1)) * _SCALE[m.group(2).upper()] if m.group(2) else int(m.group(1))
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """``"l1_size=64K"`` -> ``("l1_size", 65536)``; MachineError for an unknown key or bad value."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep:
        raise MachineError(f"a machine override is key=value (got {text!r})")
    return key, _coerce(key, value.strip())


def _load_preset(path: Path) -> MachineConfig:
    with path.open("rb") as f:
        data = tomllib.load(f)
    if data.get("name") != path.stem:
        raise MachineError(f"{path}: name must be {path.stem!r} (got {data.get('name')!r})")
    missing = [f for f in FIELDS if f not in data and f not in _DEFAULTED]
    if missing:
        raise MachineError(f"{path}: missing fields {', '.join(missing)}")
    return MachineConfig(**{k: _coerce(k, v) for k, v in data.items()})


#: Presets by name, from presets/*.toml.
PRESETS: Mapping[str, MachineConfig] = MappingProxyType(
    {p.stem: _load_preset(p) for p in sorted(PRESET_DIR.glob("*.toml"))}
)


#: Set to 1, every ``helixrc.simulate`` call that does not pass ``check=`` itself runs in checking
#: mode (the test suite sets it, as a user's suite may); unset, empty or 0, the machine's own
#: ``check`` field decides (off in every preset).
CHECK_ENV = "HELIXRC_SIM_CHECK"


def check_from_env() -> bool:
    """Whether :data:`CHECK_ENV` asks for checking mode; MachineError for a value other than 0 or 1."""
    value = os.environ.get(CHECK_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise MachineError(f"{CHECK_ENV} must be 0 or 1 (got {value!r})")
    return value == "1"


def resolve_machine(machine: str | MachineConfig = "atom1", **overrides: Any) -> MachineConfig:
    """A preset (by name) or a config, with fields replaced by overrides, validated."""
    if isinstance(machine, MachineConfig):
        base = machine
    elif isinstance(machine, str) and machine in PRESETS:
        base = PRESETS[machine]
    else:
        raise MachineError(f"unknown machine preset {machine!r} (valid: {', '.join(PRESETS)})")
    if not overrides:
        return base
    return dataclasses.replace(base, **{k: _coerce(k, v) for k, v in overrides.items()})
