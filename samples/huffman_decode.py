"""L2: Huffman decoding of a batch of HTTP/2 header strings (the HPACK string decoder).

Each header value arrives Huffman-coded, padded with at most 7 one-bits to a whole byte. The
decoder keeps a bit accumulator, refills it a byte at a time (feeding ones past the end of the
string, as the padding is a prefix of the all-ones code), looks up the next `LUT_BITS` bits in a
first-level table that gives the symbol and its code length, and for the rare long codes looks up
a second-level table selected by the first; it stops when the next code would run past the last
real bit. Symbols go to the string's slot of the output buffer (sized by the caller, as an
HPACK decoder sizes it from the encoded length).

Dependence pattern: the hot loop is the per-symbol while loop, and it is a serial chain: where
the next code starts (`acc`, `nbits`, `left`) depends on the length of the current one, which is
the result of a table load. Strings are independent of one another: the outer loop carries
only the int reduction `total`; each string's output region and length slot belong to it alone.

Why latency-bound: every symbol waits for a load whose address depends on the previous load
(lookup -> length -> shift -> lookup), and the refill, long-code and padding branches depend on
the data. The tables stay in L1, so this is the least stall-bound kernel of the suite: on the
in-order atom1 core most cycles are busy (the stalls are the input and output streams and the
refill branch). It is in the suite because a wide out-of-order core cannot overlap the symbols of
one string either: the chain is serial, and its idle issue slots are what a sibling could use.

Transform: nothing is transformed. The string loop is refused: the symbol writes `out[w]` go
through an index that starts at `out_lo[s]`, loaded from memory, so the analysis cannot prove
that two strings' regions are disjoint; it keeps the writes ordered, and as they sit in the
inner symbol loop the segment would span the whole iteration. At run time the regions never
overlap (the loop is really parallel, with `total` an int reduction). The symbol loop and the
refill loop are refused: their exits and the accumulator are carried on every path.

Inputs: `nstr` header values drawn from HTTP-like templates (paths, user agents, cookies, dates,
tokens; 9 to about 250 bytes, 50 on average), encoded with a canonical Huffman code built over
all 256 byte values from a training sample of the same traffic (a floor count keeps every byte
codable).
"""
import heapq

import numpy as np

LUT_BITS = 9
LUT_MASK = 511


# Decodes every string s (bytes in_lo[s]..in_lo[s+1] of data) into out[out_lo[s]:], its symbol
# count into out_len[s]; returns the number of symbols decoded.
def huffman_decode(data, in_lo, out_lo, lut_sym, lut_len, sub_sym, sub_len, maxlen, out, out_len):
    submask = (1 << (maxlen - LUT_BITS)) - 1
    total = 0
    for s in range(len(in_lo) - 1):
        p = in_lo[s]
        end = in_lo[s + 1]
        w = out_lo[s]
        acc = 0
        nbits = 0
        left = 8 * (end - p)
        while left > 0:
            while nbits < maxlen:
                if p < end:
                    acc = (acc << 8) | int(data[p])
                else:
                    acc = (acc << 8) | 0xFF
                p += 1
                nbits += 8
            idx = (acc >> (nbits - LUT_BITS)) & LUT_MASK
            n = int(lut_len[idx])
            sym = int(lut_sym[idx])
            if n == 0:
                j = sym + ((acc >> (nbits - maxlen)) & submask)
                n = int(sub_len[j])
                sym = int(sub_sym[j])
            if n > left:
                break
            out[w] = sym
            w += 1
            nbits -= n
            left -= n
            acc = acc & ((1 << nbits) - 1)
        out_len[s] = w - out_lo[s]
        total += w - out_lo[s]
    return total


_SIZES = {"small": {"nstr": 60}, "medium": {"nstr": 2000}, "large": {"nstr": 30_000}}

_PATHS = [b"/api/v1/items/", b"/api/v2/users/", b"/static/js/app.", b"/images/", b"/search?q=",
          b"/cart/checkout", b"/login?next=%2Faccount"]
_AGENTS = [b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           b"Chrome/120.0.0.0 Safari/537.36",
           b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
           b"(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
           b"curl/8.4.0", b"okhttp/4.12.0", b"python-requests/2.31.0"]
_TYPES = [b"application/json", b"text/html; charset=utf-8", b"application/grpc",
          b"image/webp", b"text/plain"]
_DAYS = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"]
_MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
           b"Nov", b"Dec"]
_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                     dtype=np.uint8)


def _token(rng: np.random.Generator, n: int) -> bytes:
    return _B64[rng.integers(0, 64, size=n)].tobytes()


def _header(rng: np.random.Generator) -> bytes:
    kind = int(rng.integers(0, 6))
    if kind == 0:
        path = _PATHS[rng.integers(len(_PATHS))]
        return path + b"%d" % rng.integers(1, 10 ** int(rng.integers(1, 8)))
    if kind == 1:
        return _AGENTS[rng.integers(len(_AGENTS))]
    if kind == 2:
        return b"; ".join(b"%s=%s" % (_token(rng, int(rng.integers(2, 10))),
                                      _token(rng, int(rng.integers(8, 48))))
                          for _ in range(int(rng.integers(1, 6))))
    if kind == 3:
        return b"%s, %02d %s 2026 %02d:%02d:%02d GMT" % (
            _DAYS[rng.integers(7)], rng.integers(1, 29), _MONTHS[rng.integers(12)],
            rng.integers(24), rng.integers(60), rng.integers(60))
    if kind == 4:
        return b"Bearer " + _token(rng, int(rng.integers(20, 120)))
    return _TYPES[rng.integers(len(_TYPES))]


def _code_lengths(counts: np.ndarray) -> np.ndarray:
    """Huffman code lengths for the 256 byte values (every count positive)."""
    heap = [(int(c), i, [i]) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    lengths = np.zeros(len(counts), dtype=np.int64)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
        tie += 1
    return lengths


def _canonical(lengths: np.ndarray) -> np.ndarray:
    """Canonical codes: by (length, symbol), each code the previous one plus one, shifted."""
    codes = np.zeros(len(lengths), dtype=np.int64)
    code, prev = 0, 0
    for sym in sorted(range(len(lengths)), key=lambda i: (lengths[i], i)):
        code <<= int(lengths[sym]) - prev
        prev = int(lengths[sym])
        codes[sym] = code
        code += 1
    return codes


def _tables(lengths: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, ...]:
    maxlen = int(lengths.max())
    sub_bits = maxlen - LUT_BITS
    lut_sym = np.zeros(1 << LUT_BITS, dtype=np.int32)
    lut_len = np.zeros(1 << LUT_BITS, dtype=np.int8)
    sub_sym: list[np.ndarray] = []
    sub_len: list[np.ndarray] = []
    sub_of: dict[int, int] = {}  # first-level prefix -> its sub-table
    for sym in range(len(lengths)):
        n, c = int(lengths[sym]), int(codes[sym])
        if n <= LUT_BITS:
            lo = c << (LUT_BITS - n)
            lut_sym[lo:lo + (1 << (LUT_BITS - n))] = sym
            lut_len[lo:lo + (1 << (LUT_BITS - n))] = n
            continue
        prefix = c >> (n - LUT_BITS)
        if prefix not in sub_of:
            sub_of[prefix] = len(sub_sym)
            sub_sym.append(np.zeros(1 << sub_bits, dtype=np.int32))
            sub_len.append(np.zeros(1 << sub_bits, dtype=np.int8))
            lut_sym[prefix] = sub_of[prefix] << sub_bits  # lut_len stays 0: look in the sub-table
        k = sub_of[prefix]
        lo = (c & ((1 << (n - LUT_BITS)) - 1)) << (maxlen - n)
        sub_sym[k][lo:lo + (1 << (maxlen - n))] = sym
        sub_len[k][lo:lo + (1 << (maxlen - n))] = n
    return lut_sym, lut_len, np.concatenate(sub_sym), np.concatenate(sub_len), maxlen


def _encode(s: bytes, lengths: np.ndarray, codes: np.ndarray) -> bytes:
    bits = "".join(format(int(codes[b]), "0%db" % int(lengths[b])) for b in s)
    bits += "1" * (-len(bits) % 8)  # EOS padding
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def make_inputs(size: str, seed: int, *, nstr: int | None = None) -> tuple:
    """Positional args: (data, in_lo, out_lo, lut_sym, lut_len, sub_sym, sub_len, maxlen, out,
    out_len)."""
    n = nstr if nstr is not None else _SIZES[size]["nstr"]
    rng = np.random.default_rng(seed)
    training = b"".join(_header(rng) for _ in range(400))
    counts = np.bincount(np.frombuffer(training, dtype=np.uint8), minlength=256)
    counts = np.maximum(counts * 64, 1)  # unseen bytes stay codable, with long codes
    lengths = _code_lengths(counts)
    codes = _canonical(lengths)
    lut_sym, lut_len, sub_sym, sub_len, maxlen = _tables(lengths, codes)
    strings = [_header(rng) for _ in range(n)]
    enc = [_encode(s, lengths, codes) for s in strings]
    in_lo = np.concatenate(([0], np.cumsum([len(e) for e in enc]))).astype(np.int64)
    # an HPACK decoder sizes its buffer from the encoded length: at most 8/5 bytes per byte here
    cap = [len(e) * 8 // int(lengths.min()) + 1 for e in enc]
    out_lo = np.concatenate(([0], np.cumsum(cap))).astype(np.int64)
    data = np.frombuffer(b"".join(enc), dtype=np.uint8).copy()
    out = np.zeros(int(out_lo[-1]), dtype=np.uint8)
    out_len = np.full(n, -1, dtype=np.int32)
    return (data, in_lo, out_lo[:-1].copy(), lut_sym, lut_len, sub_sym, sub_len, maxlen, out,
            out_len)
