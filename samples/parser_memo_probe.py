"""P8: the memo-table probes of 197.parser (`count` and its `table_pointer` lookups).

The link-grammar parser counts linkages of sub-ranges of a sentence and memoizes every count in a
chained hash table keyed by the sub-problem. This loop runs a batch of such sub-problems: hash the
three-part key, walk the bucket's chain comparing keys; on a miss compute the count the slow way
and push a new entry at the head of the bucket; either way add the weighted count to the total.

Dependence pattern: `total` is an int reduction. The free-entry cursor `nfree`, `bucket[]` and
`enext[]` are carried only on the miss path. A key repeated within the batch is a true dependence:
the later probe must find the entry the earlier miss inserted. With a high hit rate most
iterations skip the carried segment, so fast signalling pays.

Inputs: a table already holding `n_pre` entries with `load` entries per bucket on average (the
chain length), and `nq` queries of which a fraction `p_hit` hit: most of those hit a preloaded
entry, a fraction `p_repeat` of them repeat a key first missed earlier in the same batch.
"""
import numpy as np


# 32-bit mix of a three-part key.
def mix3(a, b, c):
    h = (a * 0x9E3779B1 + b * 0x85EBCA77 + c * 0xC2B2AE3D) & 0xFFFFFFFF
    h = h ^ (h >> 15)
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h = h ^ (h >> 12)
    return h


# Stand-in for the recursive linkage count of a sub-problem: a short dependent computation.
def slow_count(a, b, c):
    s = 1
    for i in range((c & 15) + 8):
        s = (s * 31 + (a ^ (b + i))) & 0xFFFFF
    return s


# Returns (total, nfree): the weighted sum of the counts, and the next free entry.
def parser_memo_probe(qa, qb, qc, wgt, bucket, enext, ka, kb, kc, val, nfree0):
    mask = len(bucket) - 1
    total = 0
    nfree = nfree0
    for q in range(len(qa)):
        a = int(qa[q])
        b = int(qb[q])
        c = int(qc[q])
        h = mix3(a, b, c) & mask
        e = bucket[h]
        while e != -1 and not (ka[e] == a and kb[e] == b and kc[e] == c):
            e = enext[e]
        if e == -1:
            e = nfree
            nfree += 1
            ka[e] = a
            kb[e] = b
            kc[e] = c
            val[e] = slow_count(a, b, c)
            enext[e] = bucket[h]
            bucket[h] = e
        total += val[e] * wgt[q]
    return total, nfree


_SIZES = {
    "small": {"nq": 300, "n_pre": 400},
    "medium": {"nq": 30_000, "n_pre": 40_000},
    "large": {"nq": 400_000, "n_pre": 500_000},
}


def _mix3_np(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    h = (a * 0x9E3779B1 + b * 0x85EBCA77 + c * 0xC2B2AE3D) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    return h ^ (h >> 12)


def _slow_count_py(a: int, b: int, c: int) -> int:
    s = 1
    for i in range((c & 15) + 8):
        s = (s * 31 + (a ^ (b + i))) & 0xFFFFF
    return s


def _random_keys(rng: np.random.Generator, n: int, n_words: int) -> np.ndarray:
    """n distinct keys (left word, right word, connector/cost) as rows of an int64 array."""
    keys = np.empty((0, 3), dtype=np.int64)
    while len(keys) < n:
        more = np.stack([rng.integers(0, n_words, size=2 * n), rng.integers(0, n_words, size=2 * n),
                         rng.integers(0, 64, size=2 * n)], axis=1)
        keys = np.unique(np.concatenate((keys, more)), axis=0)
    return keys[rng.permutation(len(keys))[:n]]


def make_inputs(size: str, seed: int, *, nq: int | None = None, n_pre: int | None = None,
                p_hit: float = 0.85, p_repeat: float = 0.2, load: float = 2.0,
                n_words: int = 1 << 16) -> tuple:
    """Positional args: (qa, qb, qc, wgt, bucket, enext, ka, kb, kc, val, nfree0)."""
    cfg = dict(_SIZES[size])
    if nq is not None:
        cfg["nq"] = nq
    if n_pre is not None:
        cfg["n_pre"] = n_pre
    nq, n_pre = cfg["nq"], cfg["n_pre"]
    if not 0 < n_words <= 1 << 24:
        raise ValueError("n_words must be in 1..2**24 so that mix3 stays within 64 bits")
    rng = np.random.default_rng(seed)
    n_miss = int(round(nq * (1.0 - p_hit)))
    keys = _random_keys(rng, n_pre + n_miss, n_words)
    pre, fresh = keys[:n_pre], keys[n_pre:]
    # the table: n_pre entries inserted in order at the head of their bucket
    ts = 1 << max(1, int(np.ceil(np.log2(max(n_pre / load, 2)))))
    cap = n_pre + nq
    ka = np.zeros(cap, dtype=np.int32)
    kb = np.zeros(cap, dtype=np.int32)
    kc = np.zeros(cap, dtype=np.int32)
    val = np.zeros(cap, dtype=np.int64)
    enext = np.full(cap, -1, dtype=np.int64)
    bucket = np.full(ts, -1, dtype=np.int64)
    ka[:n_pre], kb[:n_pre], kc[:n_pre] = pre[:, 0], pre[:, 1], pre[:, 2]
    val[:n_pre] = [_slow_count_py(int(a), int(b), int(c)) for a, b, c in pre.tolist()]
    hb = _mix3_np(pre[:, 0], pre[:, 1], pre[:, 2]) & (ts - 1)
    for e, h in enumerate(hb.tolist()):
        enext[e] = bucket[h]
        bucket[h] = e
    # query stream: misses are the fresh keys in order; hits mostly preloaded, some repeats
    is_miss = np.zeros(nq, dtype=bool)
    is_miss[rng.choice(nq, size=n_miss, replace=False)] = True
    q = np.empty((nq, 3), dtype=np.int64)
    q[is_miss] = fresh
    missed_before = np.cumsum(is_miss) - is_miss  # fresh keys already queried before q
    for i in np.nonzero(~is_miss)[0].tolist():
        if missed_before[i] > 0 and rng.random() < p_repeat:
            q[i] = fresh[rng.integers(0, missed_before[i])]
        else:
            q[i] = pre[rng.integers(0, n_pre)]
    wgt = rng.integers(1, 100, size=nq).astype(np.int64)
    return (q[:, 0].astype(np.int32), q[:, 1].astype(np.int32), q[:, 2].astype(np.int32), wgt,
            bucket, enext, ka, kb, kc, val, n_pre)
