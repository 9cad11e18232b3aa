"""L3: a JSON tokenizer over a batch of structured log lines (NDJSON), answering a log query.

A log query ("latency of the server errors in this chunk") runs over newline-delimited JSON
records. Each line is tokenized byte by byte: strings (with backslash escapes, hashed with
FNV-1a as they are scanned, so a key can be recognized without copying it), numbers (integer
part and up to three fraction digits, as fixed point), the literals true/false/null, and the
structural characters, tracking the nesting depth. A string directly followed by ':' at depth 1
is a top-level key; the number after the key `status` or `latency_ms` is kept. Lines that do not
start with '{' (plain-text lines mixed into the stream) are skipped.

Dependence pattern: the hot loop is the per-byte while loop inside each line; it carries the
position, the depth and the current key, and its next step depends on the class of the byte just
read (a chain of unpredictable compares). Lines are independent: the line loop writes only its own
output slots (`status[r]`, `lat_us[r]`, `ntok[r]`) and carries the int reductions `n5xx` and
`lat5xx`, updated on the server-error path.

Why latency-bound: the branch that classifies each byte is data-dependent with six outcomes and
is fed directly by the byte's load, the string and number scanners exit after data-dependent
lengths, and the text streams from memory (at `large` the batch is larger than L2). Busy cycles
are still the largest share on the in-order atom1 core: a tokenizer does real work per byte.

Transform: the line loop becomes DOALL: its outputs are indexed by the loop counter, and `n5xx`
and `lat5xx` are privatized as int reductions. The byte loop is refused (position, key, depth
carried on every path), as are the string, integer and literal scanners; the fraction-digit loop
alone would be HELIX (its exit and `scale` in segments, `frac` a reduction) but it is nested in
the parallel line loop and stays sequential there.

Inputs: `nrec` log lines from a web service: JSON objects with a timestamp, level, method, path,
status (mostly 200, some 3xx/4xx, `p_5xx` server errors), latency_ms (log-normal, errors slower),
a user agent or message with escaped quotes, optional nested objects and arrays, in a varying
key order; a fraction `p_text` of plain-text lines (stack traces), and a fraction `p_trunc` cut
short (a partial write at the end of a file).
"""
import numpy as np

FNV_BASIS = 2166136261
FNV_PRIME = 16777619


# Tokenizes every line r (bytes line_lo[r]..line_lo[r+1] of text); status[r], lat_us[r] get the
# fields (-1 if absent) and ntok[r] the token count. Returns (server errors, their latency sum).
def json_log_scan(text, line_lo, kh_status, kh_latency, status, lat_us, ntok):
    n5xx = 0
    lat5xx = 0
    for r in range(len(line_lo) - 1):
        pos = line_lo[r]
        end = line_lo[r + 1]
        depth = 0
        key = 0
        tokens = 0
        st = -1
        lt = -1
        if text[pos] != 123:
            end = pos
        while pos < end:
            c = int(text[pos])
            if c == 34:
                h = FNV_BASIS
                pos += 1
                while pos < end and text[pos] != 34:
                    if text[pos] == 92 and pos + 1 < end:
                        pos += 1
                    h = ((h ^ int(text[pos])) * FNV_PRIME) & 0xFFFFFFFF
                    pos += 1
                pos += 1
                tokens += 1
                if depth == 1 and pos < end and text[pos] == 58:
                    key = h
            elif c == 45 or 48 <= c <= 57:
                neg = c == 45
                if neg:
                    pos += 1
                v = 0
                while pos < end and 48 <= text[pos] <= 57:
                    v = v * 10 + int(text[pos]) - 48
                    pos += 1
                frac = 0
                scale = 1000
                if pos < end and text[pos] == 46:
                    pos += 1
                    while pos < end and 48 <= text[pos] <= 57:
                        if scale > 1:
                            scale = scale // 10
                            frac += (int(text[pos]) - 48) * scale
                        pos += 1
                if neg:
                    v = -v
                tokens += 1
                if depth == 1 and key == kh_status:
                    st = v
                elif depth == 1 and key == kh_latency:
                    lt = v * 1000 + frac
            elif 97 <= c <= 122:
                while pos < end and 97 <= text[pos] <= 122:
                    pos += 1
                tokens += 1
            elif c == 123 or c == 91:
                depth += 1
                tokens += 1
                pos += 1
            elif c == 125 or c == 93:
                depth -= 1
                tokens += 1
                pos += 1
            elif c == 44:
                if depth == 1:
                    key = 0
                tokens += 1
                pos += 1
            else:
                pos += 1
        status[r] = st
        lat_us[r] = lt
        ntok[r] = tokens
        if st >= 500 and lt >= 0:
            n5xx += 1
            lat5xx += lt
    return n5xx, lat5xx


_SIZES = {"small": {"nrec": 120}, "medium": {"nrec": 4000}, "large": {"nrec": 30_000}}

_METHODS = [b"GET", b"GET", b"GET", b"POST", b"PUT", b"DELETE"]
_PATHS = [b"/api/v1/items/%d", b"/api/v1/users/%d/orders", b"/health", b"/api/v2/search",
          b"/static/app.%d.js", b"/cart/%d"]
_LEVELS = [b"info", b"info", b"info", b"debug", b"warn"]
_MSGS = [b"request served", b"cache miss for key \\\"item:%d\\\"", b"slow upstream: db-%d",
         b"retrying after \\\"connection reset\\\"", b"user agent \\\"curl/8.4.0\\\""]
_TEXT = [b"java.lang.IllegalStateException: pool exhausted",
         b"\tat com.example.db.Pool.acquire(Pool.java:%d)", b"Caused by: timeout after %dms"]


def fnv1a(s: bytes) -> int:
    h = FNV_BASIS
    for b in s:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFF
    return h


def _fill(rng: np.random.Generator, s: bytes) -> bytes:
    return s % rng.integers(1, 100_000) if b"%d" in s else s


def _line(rng: np.random.Generator, p_5xx: float, p_text: float, p_trunc: float) -> bytes:
    if rng.random() < p_text:
        return _fill(rng, _TEXT[rng.integers(len(_TEXT))])
    u = rng.random()
    status = (int(rng.choice([500, 502, 503, 504])) if u < p_5xx else
              int(rng.choice([301, 304, 400, 401, 404])) if u < p_5xx + 0.1 else 200)
    lat = rng.lognormal(3.0 if status < 500 else 5.0, 1.0)
    fields = [
        b'"ts":%d' % (1_764_800_000_000 + rng.integers(0, 86_400_000)),
        b'"level":"%s"' % (b"error" if status >= 500 else _LEVELS[rng.integers(len(_LEVELS))]),
        b'"method":"%s"' % _METHODS[rng.integers(len(_METHODS))],
        b'"path":"%s"' % _fill(rng, _PATHS[rng.integers(len(_PATHS))]),
        b'"status":%d' % status,
        b'"latency_ms":%.*f' % (int(rng.integers(0, 5)), lat),
        b'"msg":"%s"' % _fill(rng, _MSGS[rng.integers(len(_MSGS))]),
    ]
    if rng.random() < 0.4:
        fields.append(b'"upstream":{"host":"db-%d","status":%d,"retries":%d}' % (
            rng.integers(0, 16), 200 if rng.random() < 0.8 else 503, rng.integers(0, 3)))
    if rng.random() < 0.3:
        fields.append(b'"tags":[%s]' % b",".join(b'"t%d"' % rng.integers(0, 50)
                                                  for _ in range(int(rng.integers(1, 5)))))
    if rng.random() < 0.2:
        fields.append(b'"sampled":%s' % (b"true" if rng.random() < 0.5 else b"null"))
    head, rest = fields[:1], fields[1:]
    order = rng.permutation(len(rest))
    sep = b", " if rng.random() < 0.3 else b","
    line = b"{" + sep.join(head + [rest[i] for i in order]) + b"}"
    if rng.random() < p_trunc:
        line = line[:int(rng.integers(2, len(line)))]
    return line


def make_inputs(size: str, seed: int, *, nrec: int | None = None, p_5xx: float = 0.08,
                p_text: float = 0.05, p_trunc: float = 0.02) -> tuple:
    """Positional args: (text, line_lo, kh_status, kh_latency, status, lat_us, ntok)."""
    n = nrec if nrec is not None else _SIZES[size]["nrec"]
    rng = np.random.default_rng(seed)
    lines = [_line(rng, p_5xx, p_text, p_trunc) + b"\n" for _ in range(n)]
    line_lo = np.concatenate(([0], np.cumsum([len(x) for x in lines]))).astype(np.int64)
    text = np.frombuffer(b"".join(lines), dtype=np.uint8).copy()
    return (text, line_lo, fnv1a(b"status"), fnv1a(b"latency_ms"), np.zeros(n, dtype=np.int16),
            np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int32))
