/* The scheduler's index of worker contexts by the time they next need the global order.
 *
 * A tournament tree over n keys (a READY context's `when`, UINT64_MAX for any other): each inner
 * node holds the winner of its two children, the lower key and, on a tie, the lower index (the
 * left child), so the root is the lowest-numbered context with the smallest key, as a scan in
 * worker order finds it. Changing one key replays its path to the root (log2 n steps) instead of
 * the scheduler scanning every context per decision, which grew with the context count.
 */
#ifndef CSIM_READYQ_H
#define CSIM_READYQ_H

#include <stdint.h>

typedef struct readyq {
    int32_t leaves;          /* a power of two >= n; keys past n stay UINT64_MAX */
    uint64_t *key;           /* [leaves] */
    int32_t *win;            /* [2 * leaves]: win[leaves + k] = k; win[i] of inner node i */
} readyq;

/* n keys, all UINT64_MAX. Returns CSIM_OK or CSIM_NO_MEMORY. */
int readyq_init(readyq *q, int32_t n);
void readyq_free(readyq *q);

/* Key k becomes v. */
static inline void readyq_set(readyq *q, int32_t k, uint64_t v)
{
    if (q->key[k] == v)
        return;
    q->key[k] = v;
    const uint64_t *key = q->key;
    int32_t *win = q->win;
    for (int32_t i = (q->leaves + k) >> 1; i >= 1; i >>= 1) {
        int32_t a = win[2 * i], b = win[2 * i + 1];
        int32_t w = key[b] < key[a] ? b : a;
        if (w == win[i] && w != k)
            return;     /* the same winner with the same key: nothing above changes */
        win[i] = w;
    }
}

/* The index of the smallest key (the lowest such index on ties). */
static inline int32_t readyq_min(const readyq *q)
{
    return q->win[1];
}

static inline uint64_t readyq_key(const readyq *q, int32_t k)
{
    return q->key[k];
}

/* The smallest key of every index but k: the winners of the siblings on k's path to the root
   cover the others exactly once. */
static inline uint64_t readyq_others(const readyq *q, int32_t k)
{
    uint64_t best = UINT64_MAX;
    for (int32_t i = q->leaves + k; i > 1; i >>= 1) {
        uint64_t v = q->key[q->win[i ^ 1]];
        if (v < best)
            best = v;
    }
    return best;
}

#endif
