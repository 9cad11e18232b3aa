"""P13: BM25 scoring of a posting list into a top-k heap (xapian-style query evaluation).

For each posting (document, term frequency) the loop computes the BM25 weight, which needs the
document's length (a gather into a big per-document table), and compares it with the smallest of
the k best scores kept so far, the root of a min-heap. A better score replaces the root and is
sifted down.

Dependence pattern: `heap[0]` is read by every iteration, but only at the end, after the scoring,
and written rarely: once the heap has warmed up, a posting beats the k-th best with probability
about k/t. So the carried part is a short tail segment (compare, maybe replace and sift), and all
the scoring before it is independent.

Inputs: a collection of `n_docs` documents with log-normal lengths, one term's posting list of
`npost` increasing document ids with geometric term frequencies, its idf, and an empty heap of
`k` entries (-inf scores, doc -1).
"""
import math

import numpy as np

K1 = 1.2
B = 0.75


# Restores the min-heap order after heap[0] was replaced.
def sift_down(heap, hdoc, k):
    i = 0
    while True:
        c = 2 * i + 1
        if c >= k:
            break
        if c + 1 < k and heap[c + 1] < heap[c]:
            c += 1
        if heap[c] < heap[i]:
            tmp = heap[i]
            heap[i] = heap[c]
            heap[c] = tmp
            td = hdoc[i]
            hdoc[i] = hdoc[c]
            hdoc[c] = td
            i = c
        else:
            break


# Keeps the k best-scoring documents of the posting list in (heap, hdoc).
def topk_bm25(post_doc, tf, dlen, idf, avgdl, heap, hdoc):
    k = len(heap)
    for t in range(len(post_doc)):
        d = int(post_doc[t])
        f = float(tf[t])
        s = idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * float(dlen[d]) / avgdl))
        if s > heap[0]:
            heap[0] = s
            hdoc[0] = d
            sift_down(heap, hdoc, k)


_SIZES = {
    "small": {"npost": 600, "n_docs": 5000, "k": 10},
    "medium": {"npost": 100_000, "n_docs": 1_000_000, "k": 100},
    "large": {"npost": 2_000_000, "n_docs": 8_000_000, "k": 100},
}


def make_inputs(size: str, seed: int, *, npost: int | None = None, n_docs: int | None = None,
                k: int | None = None, mean_tf: float = 2.0, mean_dlen: float = 400.0) -> tuple:
    """Positional args: (post_doc, tf, dlen, idf, avgdl, heap, hdoc)."""
    cfg = dict(_SIZES[size])
    for key, val in (("npost", npost), ("n_docs", n_docs), ("k", k)):
        if val is not None:
            cfg[key] = val
    rng = np.random.default_rng(seed)
    nd = max(cfg["n_docs"], cfg["npost"])
    dlen = np.maximum(1, rng.lognormal(np.log(mean_dlen), 0.8, size=nd)).astype(np.int32)
    avgdl = float(dlen.mean())
    post_doc = np.sort(rng.choice(nd, size=cfg["npost"], replace=False)).astype(np.int32)
    tf = rng.geometric(1.0 / mean_tf, size=cfg["npost"]).astype(np.uint16)
    df = cfg["npost"]
    idf = math.log((nd - df + 0.5) / (df + 0.5) + 1.0)
    heap = np.full(cfg["k"], -np.inf, dtype=np.float64)
    hdoc = np.full(cfg["k"], -1, dtype=np.int64)
    return (post_doc, tf, dlen, idf, avgdl, heap, hdoc)
