/* Branch direction predictors with 2-bit saturating counters: bimodal (indexed by the branch pc)
 * and gshare (pc xor global history). Counters start weakly not-taken.
 * SMT contexts of a core share the counters but each has its own global history, as SMT cores
 * keep one history register per thread: interleaving two threads' outcomes in one history would
 * make each thread's history patterns noise to the other.
 */
#ifndef CSIM_BPRED_H
#define CSIM_BPRED_H

#include <stdint.h>

#define BPRED_MAX_THREADS 4    /* SMT contexts per core (the machine's smt field) */

typedef struct bpred {
    uint8_t *counters;       /* 1 << table_bits counters, each 0..3; >= 2 predicts taken */
    uint64_t index_mask;     /* (1 << table_bits) - 1 */
    uint64_t history[BPRED_MAX_THREADS];  /* gshare, per SMT context: the last outcomes, newest
                                             in bit 0 */
    uint64_t history_mask;   /* gshare: (1 << history_bits) - 1; bimodal: 0 */
} bpred;

/* Bounds on the config fields, shared with the validator in sim.c. */
#define BPRED_MAX_TABLE_BITS 24
#define BPRED_MAX_HISTORY_BITS 32

/* kind: 0 bimodal, 1 gshare (history_bits ignored for bimodal). Returns CSIM_OK or
   CSIM_NO_MEMORY; the caller has checked the bounds. */
int bpred_init(bpred *p, int64_t kind, int64_t table_bits, int64_t history_bits);
void bpred_free(bpred *p);

/* The counter of the branch at pc for SMT context thread: pc xor that context's history. */
static inline uint64_t bpred_index(const bpred *p, int thread, int32_t pc)
{
    /* With history_mask 0 (bimodal) the history stays 0 and this is plain pc indexing. */
    return ((uint64_t)(uint32_t)pc ^ p->history[thread]) & p->index_mask;
}

/* Whether the branch at pc is predicted taken. */
static inline int bpred_predict(const bpred *p, int thread, int32_t pc)
{
    return p->counters[bpred_index(p, thread, pc)] >= 2;
}

/* Train on the actual outcome of the branch at pc (and shift the context's global history). */
static inline void bpred_update(bpred *p, int thread, int32_t pc, int taken)
{
    uint8_t *ctr = &p->counters[bpred_index(p, thread, pc)];

    if (taken && *ctr < 3)
        (*ctr)++;
    else if (!taken && *ctr > 0)
        (*ctr)--;
    p->history[thread] = ((p->history[thread] << 1) | (uint64_t)(taken != 0)) & p->history_mask;
}

/* Predict then update: returns 1 when the prediction was wrong. */
static inline int bpred_step(bpred *p, int thread, int32_t pc, int taken)
{
    int wrong = bpred_predict(p, thread, pc) != (taken != 0);

    bpred_update(p, thread, pc, taken);
    return wrong;
}

#endif
