"""P1: the LZ77 hash-chain search of 164.gzip (`longest_match` in deflate).

The loop walks one hash chain backwards through the sliding window: every position that hashed
like the current one is a match candidate, and `prev[]` links each candidate to the one before it.
For each candidate a quick one-byte test at offset `best` throws away candidates that cannot beat
the best match so far; the survivors are compared byte by byte.

Dependence pattern: the chain pointer `cur` is carried through a load of `prev[]` on every
iteration (pointer chasing), `best`/`best_at` are written rarely but `best` is read at the very top
of every iteration by the quick reject, and the loop exits early on a long enough match or when the
chain budget runs out. The whole body therefore sits in one sequential segment.

`gzip_longest_match_norej` is the same search without the quick reject (which can never skip a
longer match, so both give the same answer): its carried work shrinks to "walk the chain" and
"compare with best, update, stop?".

Inputs are a window of log-like records (`|id=<value>`) whose key trigram starts every record, so
the chain of the scanned record visits every record in the window; values repeat earlier values
with probability `p_copy`, which makes matches of varied length. `wbits` above gzip's 15 only
lengthens the chain (more work per call); `max_chain` is the chain budget (128 at level 6, 4096 at
level 9), `nice` the early-exit length, `prev_len` the length of the match already known.
"""
import numpy as np

MAXM = 258  # MAX_MATCH: longest match deflate emits
MIN_MATCH = 3
MIN_LOOKAHEAD = MAXM + MIN_MATCH + 1
NIL = -1  # end of a hash chain
KERNELS = ("gzip_longest_match", "gzip_longest_match_norej")  # both take make_inputs' arguments


# Returns (best, best_at): the longest match for position `scan` found along the chain that
# starts at `cur_match`, and where it starts (-1 if nothing beat prev_len).
def gzip_longest_match(win, prev, scan, cur_match, prev_len, max_chain, limit, nice):
    wmask = len(prev) - 1
    best = prev_len
    best_at = -1
    cur = cur_match
    budget = max_chain
    while cur > limit and budget > 0:
        if win[cur + best] == win[scan + best]:
            n = 0
            while n < MAXM and win[cur + n] == win[scan + n]:
                n += 1
            if n > best:
                best = n
                best_at = cur
                if n >= nice:
                    break
        cur = int(prev[cur & wmask])
        budget -= 1
    return best, best_at


# Same search, same answer, without the quick reject: every candidate is compared in full.
def gzip_longest_match_norej(win, prev, scan, cur_match, prev_len, max_chain, limit, nice):
    wmask = len(prev) - 1
    best = prev_len
    best_at = -1
    cur = cur_match
    budget = max_chain
    while cur > limit and budget > 0:
        n = 0
        while n < MAXM and win[cur + n] == win[scan + n]:
            n += 1
        if n > best:
            best = n
            best_at = cur
            if n >= nice:
                break
        cur = int(prev[cur & wmask])
        budget -= 1
    return best, best_at


_SIZES = {
    "small": {"wbits": 13, "max_chain": 4096},
    "medium": {"wbits": 20, "max_chain": 1 << 20},
    "large": {"wbits": 23, "max_chain": 1 << 23},
}

_KEY = np.frombuffer(b"|id=", dtype=np.uint8)


def _gzip_hash(win: np.ndarray) -> np.ndarray:
    """deflate's rolling hash of the 3 bytes at each position (HASH_BITS=15, H_SHIFT=5)."""
    b = win.astype(np.int64)
    return ((b[:-2] << 10) ^ (b[1:-1] << 5) ^ b[2:]) & 0x7FFF


def _make_window(rng: np.random.Generator, n: int, alphabet: int, val_len: tuple[int, int],
                 p_copy: float) -> np.ndarray:
    """Concatenated records `|id=<value>` until n bytes; values sometimes copy an earlier one."""
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)[:alphabet]
    n_rec = n // (len(_KEY) + val_len[0]) + 2
    lens = rng.integers(val_len[0], val_len[1] + 1, size=n_rec)
    chars = letters[rng.integers(0, alphabet, size=int(lens.sum()))]
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    # a copied value repeats an earlier record's value: the first min(len) bytes are taken over
    copy = np.nonzero(rng.random(n_rec) < p_copy)[0]
    copy = copy[copy > 0]
    src = copy - np.minimum(rng.geometric(1.0 / 200.0, size=len(copy)), copy)
    m = np.minimum(lens[copy], lens[src])
    within = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    chars[np.repeat(starts[copy], m) + within] = chars[np.repeat(starts[src], m) + within]
    rec_len = lens + len(_KEY)
    out = np.empty(int(rec_len.sum()), dtype=np.uint8)
    rstart = np.concatenate(([0], np.cumsum(rec_len)[:-1]))
    for i in range(len(_KEY)):
        out[rstart + i] = _KEY[i]
    pos = np.repeat(rstart + len(_KEY) - starts, lens) + np.arange(int(lens.sum()))
    out[pos] = chars
    return out[:n]


def make_inputs(size: str, seed: int, *, wbits: int | None = None, max_chain: int | None = None,
                nice: int = MAXM, prev_len: int = MIN_MATCH - 1, alphabet: int = 16,
                val_len: tuple[int, int] = (2, 8), p_copy: float = 0.3) -> tuple:
    """Positional args of both kernels: (win, prev, scan, cur_match, prev_len, max_chain, limit, nice)."""
    cfg = dict(_SIZES[size])
    if wbits is not None:
        cfg["wbits"] = wbits
    if max_chain is not None:
        cfg["max_chain"] = max_chain
    rng = np.random.default_rng(seed)
    wsize = 1 << cfg["wbits"]
    # the window holds wsize bytes of history plus deflate's lookahead
    win = _make_window(rng, wsize + 2 * MIN_LOOKAHEAD, alphabet, val_len, p_copy)
    # scan: the last record start that still leaves MIN_LOOKAHEAD bytes, as deflate guarantees
    starts = np.nonzero((win[:-3] == _KEY[0]) & (win[1:-2] == _KEY[1]) & (win[2:-1] == _KEY[2]))[0]
    scan = int(starts[starts + MIN_LOOKAHEAD <= len(win)][-1])
    # prev_pos[p]: previous position with the same hash (what insert_string leaves in prev[])
    h = _gzip_hash(win)
    order = np.argsort(h, kind="stable")
    prev_pos = np.full(len(h), NIL, dtype=np.int64)
    same = h[order[1:]] == h[order[:-1]]
    prev_pos[order[1:][same]] = order[:-1][same]
    # prev[] is indexed modulo the window size; only positions within reach matter
    prev = np.full(wsize, NIL, dtype=np.int32)
    reach = np.arange(max(0, scan - wsize + 1), scan + 1)
    prev[reach & (wsize - 1)] = prev_pos[reach]
    max_dist = wsize - MIN_LOOKAHEAD
    limit = scan - max_dist if scan > max_dist else NIL
    cur_match = int(prev_pos[scan])
    return (win, prev, scan, cur_match, prev_len, cfg["max_chain"], limit, nice)
