"""P3: the two-byte frequency table that starts 256.bzip2's block sort (`mainSort`).

The loop runs backwards over the block and counts every pair of adjacent bytes into a 65,536-bucket
table. The pair index is not recomputed from scratch: it is shifted along from the previous
iteration, keeping the byte seen one step earlier in its low half.

Dependence pattern: `j` is a register recurrence (but each value can be rebuilt from two loads, so
it can be rematerialized), and `ftab[j] += 1` is a histogram update through a data-dependent index,
carried through memory; on skewed text the same buckets are hit again and again. Iterations are a
handful of operations, so one segment per increment cannot pay; chunking with a privatized table
and a merge is the only way to go faster.

Inputs: `nblock` bytes of word-like text over a Zipf vocabulary of `vocab` words (the `skew`
exponent makes frequent words, hence frequent bigrams, more dominant).
"""
import numpy as np


# Counts each (block[i], block[i + 1]) pair, wrapping around at the end, into ftab.
def bzip2_bigram_hist(block, ftab):
    nblock = len(block)
    j = int(block[0]) << 8
    for i in range(nblock - 1, -1, -1):
        j = (j >> 8) | (int(block[i]) << 8)
        ftab[j] += 1


_SIZES = {"small": {"nblock": 5000}, "medium": {"nblock": 300_000}, "large": {"nblock": 900_000}}


def _make_text(rng: np.random.Generator, n: int, vocab: int, skew: float) -> np.ndarray:
    """n bytes of word-like text: Zipf words over skewed letters, spaces, some punctuation."""
    letters = np.frombuffer(b"etaoinshrdlcumwfgypbvkjxqz", dtype=np.uint8)
    lp = 1.0 / np.arange(1, 27) ** 0.9
    lengths = rng.integers(2, 10, size=vocab)
    words = [letters[rng.choice(26, size=int(m), p=lp / lp.sum())].tobytes() for m in lengths]
    wp = 1.0 / np.arange(1, vocab + 1) ** skew
    idx = rng.choice(vocab, size=n // 3 + 16, p=wp / wp.sum())
    seps = rng.choice(np.array([b" ", b", ", b".\n"], dtype=object), size=len(idx),
                      p=[0.87, 0.08, 0.05])
    text = b"".join(w + s for w, s in zip((words[i] for i in idx.tolist()), seps))
    return np.frombuffer(text[:n], dtype=np.uint8).copy()


def make_inputs(size: str, seed: int, *, nblock: int | None = None, vocab: int = 2000,
                skew: float = 1.1) -> tuple:
    """Positional args: (block, ftab); ftab has the 65,536 buckets plus bzip2's spare one."""
    n = nblock if nblock is not None else _SIZES[size]["nblock"]
    rng = np.random.default_rng(seed)
    block = _make_text(rng, n, vocab, skew)
    ftab = np.zeros(65537, dtype=np.int64)
    return (block, ftab)
