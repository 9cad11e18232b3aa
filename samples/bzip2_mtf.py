"""P2: the move-to-front and zero-run coder of 256.bzip2 (`generateMTFValues`).

After the Burrows-Wheeler sort, each output byte is the byte just before a sorted rotation; the
loop fetches it through the sort order (a random gather), moves its symbol to the front of a short
recency list, and emits the list position. Repeats of the front symbol are not emitted one by one:
they extend a zero run, which is flushed as a bijective base-2 number of RUNA/RUNB symbols when the
run ends.

Dependence pattern: the recency list `order[]` is read and rewritten by every iteration that does
not extend a run, so it is carried through memory on nearly every iteration; the run length `zrun`
is carried on both paths; the output cursor `wr` and the `out[wr]` writes are carried only on the
emitting path; `freq[]` is a histogram. The shifting inner while loop has a data-dependent trip
count. Nothing here parallelizes well: the cost model should decline it.

Inputs: word-like text of `nblock` bytes (Zipf-distributed vocabulary of `vocab` words), its real
BWT sort order `ptr` (prefix doubling over the cyclic rotations), the byte-to-symbol remap of the
bytes in use, and the initial recency list 0..n_in_use-1.
"""
import numpy as np

RUNA = 0
RUNB = 1


# Emits a zero run of length zrun as RUNA/RUNB digits; returns the new output cursor.
def emit_runs(out, wr, zrun, freq):
    w = wr
    z = zrun - 1
    while True:
        if (z & 1) == 1:
            out[w] = RUNB
            freq[RUNB] += 1
        else:
            out[w] = RUNA
            freq[RUNA] += 1
        w += 1
        if z < 2:
            break
        z = (z - 2) // 2
    return w


# Returns the number of MTF symbols written to out (the last one is end-of-block).
def bzip2_mtf(block, ptr, remap, order, out, freq, n_in_use):
    nblock = len(block)
    eob = n_in_use + 1
    wr = 0
    zrun = 0
    for i in range(nblock):
        j = int(ptr[i]) - 1
        if j < 0:
            j += nblock
        sym = int(remap[block[j]])
        if order[0] == sym:
            zrun += 1
        else:
            if zrun > 0:
                wr = emit_runs(out, wr, zrun, freq)
                zrun = 0
            k = 0
            carry = int(order[0])
            while carry != sym:
                k += 1
                nxt = int(order[k])
                order[k] = carry
                carry = nxt
            order[0] = sym
            out[wr] = k + 1
            wr += 1
            freq[k + 1] += 1
    if zrun > 0:
        wr = emit_runs(out, wr, zrun, freq)
    out[wr] = eob
    wr += 1
    freq[eob] += 1
    return wr


_SIZES = {"small": {"nblock": 3000}, "medium": {"nblock": 100_000}, "large": {"nblock": 900_000}}


def _make_text(rng: np.random.Generator, n: int, vocab: int) -> np.ndarray:
    """n bytes of word-like text: Zipf words over skewed letters, spaces, some punctuation."""
    letters = np.frombuffer(b"etaoinshrdlcumwfgypbvkjxqz", dtype=np.uint8)
    lp = 1.0 / np.arange(1, 27) ** 0.9
    lengths = rng.integers(2, 10, size=vocab)
    words = [letters[rng.choice(26, size=int(m), p=lp / lp.sum())].tobytes() for m in lengths]
    wp = 1.0 / np.arange(1, vocab + 1) ** 1.1
    idx = rng.choice(vocab, size=n // 3 + 16, p=wp / wp.sum())
    seps = rng.choice(np.array([b" ", b", ", b".\n", b" the "], dtype=object), size=len(idx),
                      p=[0.82, 0.08, 0.05, 0.05])
    text = b"".join(w + s for w, s in zip((words[i] for i in idx.tolist()), seps))
    return np.frombuffer(text[:n], dtype=np.uint8).copy()


def _bwt_order(block: np.ndarray) -> np.ndarray:
    """Sorted order of the cyclic rotations of block (prefix doubling on rank pairs)."""
    n = len(block)
    rank = block.astype(np.int64)
    k = 1
    while True:
        key = rank * (n + 1) + rank[(np.arange(n) + k) % n]
        sa = np.argsort(key, kind="stable")
        ks = key[sa]
        new = np.empty(n, dtype=np.int64)
        new[sa] = np.concatenate(([0], np.cumsum(ks[1:] != ks[:-1])))
        rank = new
        if rank.max() == n - 1 or k >= n:
            return sa
        k *= 2


def make_inputs(size: str, seed: int, *, nblock: int | None = None, vocab: int = 2000) -> tuple:
    """Positional args: (block, ptr, remap, order, out, freq, n_in_use)."""
    n = nblock if nblock is not None else _SIZES[size]["nblock"]
    rng = np.random.default_rng(seed)
    block = _make_text(rng, n, vocab)
    ptr = _bwt_order(block).astype(np.int32)
    in_use = np.unique(block)
    remap = np.zeros(256, dtype=np.uint8)
    remap[in_use] = np.arange(len(in_use), dtype=np.uint8)
    n_in_use = len(in_use)
    order = np.zeros(256, dtype=np.uint8)
    order[:n_in_use] = np.arange(n_in_use, dtype=np.uint8)
    out = np.zeros(n + 1, dtype=np.uint16)
    freq = np.zeros(258, dtype=np.int64)
    return (block, ptr, remap, order, out, freq, n_in_use)
