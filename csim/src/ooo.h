/* The out-of-order core's timing (machine field core_model = 1; docs/multicore.md section 13).
 *
 * A dataflow model in the style of ZSim's OoO core. The interpreter (core.c) still executes every
 * instruction in program order on real registers and memory; this model only gives each one its
 * cycles, all known when it executes:
 *
 *   dispatch  in order, issue_width per cycle, once the fetch has refilled (a mispredict) and the
 *             ROB, the issue queue (IQ) and, for loads and stores, the load/store queue (LSQ) have
 *             a free entry;
 *   issue     at the first cycle >= dispatch with its sources ready and a free slot on the core's
 *             issue timeline (issue.h; shared by the core's SMT contexts);
 *   complete  issue + its latency (a load's from sched_mem_latency, so independent misses overlap);
 *   retire    in order, issue_width per cycle, at or after completing.
 *
 * An entry of the ROB and the LSQ frees when its instruction retires, of the IQ when it issues.
 * Retirement is in order, so the ROB and the LSQ are rings of the cycles their entries free, in
 * dispatch order: the next dispatch needs the oldest entry free. Issue is not in order, so the IQ
 * is a calendar: per future cycle, how many of its entries issue then, and how many are in it now;
 * when full, the next dispatch waits for the first cycle with an issue. A partitioned structure
 * has size / smt entries per context, a shared one size entries per core (its contexts' entries
 * mixed in the order the scheduler runs them: an approximation). The main context, alone on its
 * core while it runs, always has whole structures of its own.
 *
 * The CPI stack is charged at retirement (the top-down rule): a cycle in which the context
 * retires is busy; the cycles before it in which nothing retires go to the oldest unretired
 * instruction: to its own latency (its memory level for a load, dependence otherwise) from its
 * issue on, and before that to what held its issue back (its sources' producers, the fetch
 * refill after a mispredict, or busy for a full window or issue slots).
 */
#ifndef CSIM_OOO_H
#define CSIM_OOO_H

#include <stdint.h>
#include <string.h>

#include "api.h"
#include "issue.h"

#define OOO_ISSUE_WINDOW 65536   /* cycles the issue timeline remembers: ROB * DRAM latency */
#define OOO_MAX_SIZE 4096        /* bound on rob_size, iq_size and lsq_size */

/* A window structure. The ROB and the LSQ: a ring of cap entries in dispatch order, each the
   (cycle it frees << 3 | the csim_cat of its wait), key[head] the oldest (0: free from the start).
   The IQ: a calendar of the issue cycles after now of its live entries (count[t & mask] issue at
   t, cat[t & mask] the wait of the last of them), over OOO_ISSUE_WINDOW cycles. */
typedef struct ooo_queue {
    uint64_t *key;
    int32_t cap, head;
    uint16_t *count;
    uint8_t *cat;
    uint64_t now;
    int32_t live;
} ooo_queue;

enum { OOO_ROB = 0, OOO_IQ, OOO_LSQ, OOO_NSTRUCT };

/* One context's pipeline state. */
typedef struct ooo_ctx {
    ooo_queue own[OOO_NSTRUCT];      /* its partitions (all three for the main context) */
    ooo_queue *q[OOO_NSTRUCT];       /* the structures it uses: its own or its core's */
    issue_slots *slots;              /* its core's issue timeline */
    uint64_t dcycle, rcycle;         /* cycle of the last dispatch / retirement */
    int64_t dcount, rcount;          /* instructions dispatched / retired in that cycle */
    int64_t width;
} ooo_ctx;

/* Per core: the shared structures and the issue timeline. */
typedef struct ooo_core {
    ooo_queue shared[OOO_NSTRUCT];
    issue_slots slots;
} ooo_core;

typedef struct ooo {
    ooo_core *cores;                 /* [cores] */
    ooo_ctx *ctxs;                   /* [cores * smt + 1]: the workers, then the main context */
    int32_t ncores, nctxs;
} ooo;

/* Whether a partitioned structure leaves every SMT context an entry; if not, err says which
   field (the ranges are checked by the caller). Returns 1 or 0. */
int ooo_config_ok(const csim_config *config, char *err, int err_size);
/* Build the model for config (core_model 1; the sizes are validated). Returns CSIM_OK or
   CSIM_NO_MEMORY. */
int ooo_init(ooo *m, const csim_config *config);
/* The state of worker w, or of the main context for w = -1. */
ooo_ctx *ooo_context(ooo *m, int32_t w);
/* Empty the context's own structures and start its clocks at cycle (a new iteration). */
void ooo_ctx_reset(ooo_ctx *o, uint64_t cycle);
/* Go on with the window as it is (a new iteration after a non-draining ITER_END): retirement
   from cycle on; returns the first cycle the next instruction may dispatch, as many cycles after
   the last dispatch as cycle is after the last retirement (the dispatch cost). */
uint64_t ooo_ctx_carry(ooo_ctx *o, uint64_t cycle);
void ooo_free(ooo *m);

/* The first cycle >= d at which ring r has a free entry (*cat: the cause when it binds). */
static inline uint64_t ooo_ring_free_at(const ooo_queue *r, uint64_t d, unsigned *cat)
{
    uint64_t oldest = r->key[r->head];

    if ((oldest >> 3) > d) {
        d = oldest >> 3;
        *cat = (unsigned)(oldest & 7);
    }
    return d;
}

/* Replace the oldest entry of ring r (free by now) with one freeing at cycle t, cause cat. */
static inline void ooo_ring_take(ooo_queue *r, uint64_t t, unsigned cat)
{
    r->key[r->head] = t << 3 | cat;
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
}

/* The first cycle >= d at which calendar q has a free entry (*cat: the cause when it binds); q
   moves to that cycle (dispatch cycles only grow, but a shared calendar's contexts interleave:
   one a little behind the other sees it a little emptier than it was). */
static inline uint64_t ooo_calendar_free_at(ooo_queue *q, uint64_t d, unsigned *cat)
{
    const uint64_t mask = OOO_ISSUE_WINDOW - 1;

    if (d > q->now && (q->live == 0 || d - q->now >= OOO_ISSUE_WINDOW)) {
        if (q->live != 0) {                 /* every entry has issued by d */
            memset(q->count, 0, OOO_ISSUE_WINDOW * sizeof *q->count);
            q->live = 0;
        }
        q->now = d;                         /* nothing to issue: skip the empty cycles */
        return d;
    }
    while (q->now < d) {
        uint64_t t = ++q->now & mask;
        q->live -= q->count[t];
        q->count[t] = 0;
    }
    while (q->live >= q->cap) {             /* full: wait for the next issue */
        uint64_t t = ++q->now & mask;
        if (q->count[t] != 0) {
            q->live -= q->count[t];
            q->count[t] = 0;
            *cat = q->cat[t];
        }
    }
    return q->now > d ? q->now : d;
}

/* An entry issuing at cycle t (>= q->now), its wait cause cat. */
static inline void ooo_calendar_take(ooo_queue *q, uint64_t t, unsigned cat)
{
    if (t <= q->now)                        /* issued in its dispatch cycle: never waits there */
        return;
    if (t - q->now >= OOO_ISSUE_WINDOW)     /* past the window: kept at its end */
        t = q->now + OOO_ISSUE_WINDOW - 1;
    t &= OOO_ISSUE_WINDOW - 1;
    q->count[t]++;
    q->cat[t] = (uint8_t)cat;
    q->live++;
}

/* The first cycle the next instruction can dispatch: in order, width per cycle, after the fetch
   refill (fetch_ready, cause fetch_cat), with a free ROB and IQ entry and, for mem, LSQ entry.
   *cat gets the cause of the wait (busy when nothing but the dispatch width held it). */
static inline uint64_t ooo_dispatch_cycle(ooo_ctx *o, uint64_t fetch_ready,
                                          unsigned fetch_cat, int mem, unsigned *cat)
{
    uint64_t d = o->dcycle + (o->dcount >= o->width);

    *cat = CSIM_CAT_BUSY;
    if (fetch_ready > d) {
        d = fetch_ready;
        *cat = fetch_cat;
    }
    d = ooo_ring_free_at(o->q[OOO_ROB], d, cat);
    d = ooo_calendar_free_at(o->q[OOO_IQ], d, cat);
    if (mem)
        d = ooo_ring_free_at(o->q[OOO_LSQ], d, cat);
    return d;
}

/* Record an instruction dispatched at d, issued at issue, complete at done: it takes its
   structures' entries and retires; the cycles retirement moved forward are charged to pc_cycles
   and ctx_cat (both indexed by csim_cat): wait_cat before its issue, own_cat from then on. */
static inline void ooo_commit(ooo_ctx *o, uint64_t d, uint64_t issue, uint64_t done,
                              unsigned wait_cat, unsigned own_cat, int mem,
                              uint64_t *pc_cycles, uint64_t *ctx_cat)
{
    uint64_t r = done > o->rcycle ? done : o->rcycle;

    if (d > o->dcycle) {
        o->dcycle = d;
        o->dcount = 1;
    } else {
        o->dcount++;
    }
    if (r == o->rcycle && o->rcount >= o->width)
        r++;
    if (r > o->rcycle) {
        uint64_t gap = r - o->rcycle - 1;   /* cycles in which nothing retired */
        uint64_t from = issue > o->rcycle + 1 ? issue : o->rcycle + 1;
        uint64_t own = r > from ? r - from : 0;
        if (own > gap)
            own = gap;
        pc_cycles[CSIM_CAT_BUSY]++;
        ctx_cat[CSIM_CAT_BUSY]++;
        pc_cycles[own_cat] += own;
        ctx_cat[own_cat] += own;
        pc_cycles[wait_cat] += gap - own;
        ctx_cat[wait_cat] += gap - own;
        o->rcycle = r;
        o->rcount = 1;
    } else {
        o->rcount++;
    }
    /* A WAIT released by its signals (own_cat CSIM_NCAT, core_release_wait) holds the entries
       dispatched behind it for communication: the queues keep only real categories, which
       later dispatch stalls index the stats with. */
    unsigned held = own_cat < CSIM_NCAT ? own_cat : CSIM_CAT_COMM;
    ooo_ring_take(o->q[OOO_ROB], r, held);
    ooo_calendar_take(o->q[OOO_IQ], issue, wait_cat);
    if (mem)
        ooo_ring_take(o->q[OOO_LSQ], r, held);
}

#endif
