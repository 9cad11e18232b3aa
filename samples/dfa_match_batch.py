"""P12: a table-driven DFA filter over a batch of log records (regex / tokenizer inner loop).

Each record is run through a DFA one byte at a time until the record ends or the automaton enters
one of its two sinks: DEAD (the record can no longer match) or ACCEPT (it already matched). The
indices of matching records are appended, in order, to the output.

Dependence pattern: records are independent; the only carried state is the hit counter `nhit`
and the `out[nhit]` write, both only on the accept path (ordered append). The per-record while
loop has a data-dependent length (malformed lines die at the first byte, matches stop early,
others run to the end), so iterations are unbalanced and branchy.

Inputs: log lines `YYYY-MM-DD hh:mm:ss LEVEL component: words...` of 20 to 200 bytes
(`rec_len`), some malformed (`p_malformed`, e.g. stack-trace continuation lines), and a DFA for
`^[0-9]{4}-.*ERROR.*timeout` (fixed prefix, then two KMP substring automata in sequence). Lines
are ERROR with probability `p_error` and mention a timeout with probability `p_timeout`.
"""
import numpy as np

START = 0
DEAD = 1
ACCEPT = 2


# Appends to out the index of every record the DFA accepts; returns how many were appended.
def dfa_match_batch(text, rec_lo, delta, out):
    nhit = 0
    for r in range(len(rec_lo) - 1):
        s = START
        pos = rec_lo[r]
        end = rec_lo[r + 1]
        while pos < end and s != DEAD and s != ACCEPT:
            s = int(delta[s, text[pos]])
            pos += 1
        if s == ACCEPT:
            out[nhit] = r
            nhit += 1
    return nhit


_SIZES = {"small": {"nrec": 150}, "medium": {"nrec": 5000}, "large": {"nrec": 60_000}}

_WORDS = [b"connection", b"request", b"user", b"session", b"cache", b"miss", b"retry", b"closed",
          b"opened", b"queue", b"worker", b"shard", b"replica", b"lag", b"ms", b"ok", b"failed",
          b"upstream", b"timer", b"time", b"out", b"Error", b"ERR", b"handler", b"GET", b"PUT",
          b"/api/v1/items", b"status=200", b"status=503", b"bytes=512", b"id=42", b"to", b"from"]
_LEVELS = [b"INFO", b"DEBUG", b"WARN"]
_COMPONENTS = [b"auth", b"db", b"http", b"sched", b"store", b"net"]


def _kmp_table(pat: bytes) -> np.ndarray:
    """KMP automaton: next matched length after reading byte c with j bytes matched."""
    m = len(pat)
    tab = np.zeros((m, 256), dtype=np.int64)
    tab[0, pat[0]] = 1
    x = 0
    for j in range(1, m):
        tab[j] = tab[x]
        tab[j, pat[j]] = j + 1
        x = tab[x, pat[j]]
    return tab


def _build_dfa() -> np.ndarray:
    """States: START, DEAD, ACCEPT, 4 states for the digits/dash prefix, then KMP for the words."""
    pats = [b"ERROR", b"timeout"]
    n_states = 3 + 4 + sum(len(p) for p in pats)
    delta = np.full((n_states, 256), DEAD, dtype=np.int16)
    delta[ACCEPT, :] = ACCEPT
    digits = np.frombuffer(b"0123456789", dtype=np.uint8)
    prefix = [START, 3, 4, 5, 6]  # after 0..4 digits
    for i in range(4):
        delta[prefix[i], digits] = prefix[i + 1]
    base = 7  # first state of the first pattern (0 bytes of it matched)
    delta[6, ord("-")] = base
    for pi, pat in enumerate(pats):
        tab = _kmp_table(pat)
        nxt = base + len(pat) if pi + 1 < len(pats) else ACCEPT
        for j in range(len(pat)):
            row = tab[j]
            delta[base + j] = np.where(row == len(pat), nxt, base + row)
        base += len(pat)
    return delta


def _record(rng: np.random.Generator, lo: int, hi: int, p_malformed: float, p_error: float,
            p_timeout: float) -> bytes:
    target = int(rng.integers(lo, hi + 1))
    if rng.random() < p_malformed:
        head = b"    at com.example." + _COMPONENTS[rng.integers(len(_COMPONENTS))] + b".run"
    else:
        level = b"ERROR" if rng.random() < p_error else _LEVELS[rng.integers(len(_LEVELS))]
        head = b"%04d-%02d-%02d %02d:%02d:%02d %s %s:" % (
            2020 + rng.integers(6), 1 + rng.integers(12), 1 + rng.integers(28), rng.integers(24),
            rng.integers(60), rng.integers(60), level, _COMPONENTS[rng.integers(len(_COMPONENTS))])
    words = []
    n = len(head)
    timeout_at = int(rng.integers(0, 6)) if rng.random() < p_timeout else -1
    while n < target:
        w = b"timeout" if len(words) == timeout_at else _WORDS[rng.integers(len(_WORDS))]
        words.append(w)
        n += len(w) + 1
    line = head + b" " + b" ".join(words)
    return line[:max(target, len(head) + 1)] + b"\n"


def make_inputs(size: str, seed: int, *, nrec: int | None = None,
                rec_len: tuple[int, int] = (20, 200), p_malformed: float = 0.1,
                p_error: float = 0.3, p_timeout: float = 0.3) -> tuple:
    """Positional args: (text, rec_lo, delta, out)."""
    n = nrec if nrec is not None else _SIZES[size]["nrec"]
    rng = np.random.default_rng(seed)
    recs = [_record(rng, rec_len[0], rec_len[1], p_malformed, p_error, p_timeout) for _ in range(n)]
    rec_lo = np.concatenate(([0], np.cumsum([len(r) for r in recs]))).astype(np.int64)
    text = np.frombuffer(b"".join(recs), dtype=np.uint8).copy()
    out = np.full(n, -1, dtype=np.int32)
    return (text, rec_lo, _build_dfa(), out)
