/* The scheduler: runs the main context, and a parallel loop's iterations on the worker contexts
 * in global simulated-time order (docs/multicore.md sections 2-4).
 *
 * Iteration it runs on worker it mod W (W = cores), from a copy of the main context's registers
 * at PAR_BEGIN. The scheduler always advances the READY context with the smallest clock; a context
 * runs ahead only through instructions that touch neither memory nor synchronization (core_step's
 * horizon), so every load and store happens in time order on the one real memory. A blocked
 * context leaves the ready set and comes back at the time of the event that releases it.
 *
 * Segments: per segment k the watermark wm[k] is the first iteration that has not signalled k
 * with every earlier one signalled. WAIT k of iteration i is released, uncoupled, when
 * wm[k] > i - 1, at the latest arrival of those signals at the waiting context
 * (sched_signal_arrival); coupled, by the arrival of iteration i - 1's signal. A core holds at
 * most SCHED_MAX_INFLIGHT signals of a segment that the watermark has not passed; one more SIGNAL
 * stalls it.
 *
 * The end of a loop: the exit is the lowest iteration that executed LOOP_EXIT or LOOP_RETURN or
 * raised. No iteration past a known exit starts, and one running past it is squashed at once.
 * While a loop runs every store is recorded in an undo log with the old bytes and the storing
 * iteration; when the loop is over the stores of iterations past the exit are undone, newest
 * first, so they never become visible (a correctly synchronized program never writes a word after
 * a later iteration did, so undoing restores what the sequential order leaves). Then, for an
 * exception, the one of the lowest iteration is reported, as CPython would raise it; for
 * LOOP_RETURN the main context returns the exiting iteration's registers; otherwise the main
 * context combines the reduction copies and resumes at PAR_END.
 */
#ifndef CSIM_SCHED_H
#define CSIM_SCHED_H

#include <stdint.h>

#include "api.h"
#include "cache.h"
#include "core.h"
#include "ctx.h"

#define SCHED_MAX_INFLIGHT 2

/* How a loop ended, for its exit iteration. */
typedef enum sched_exit {
    SCHED_EXIT_NONE = 0,     /* the trip count ran out */
    SCHED_EXIT_BREAK,        /* LOOP_EXIT */
    SCHED_EXIT_RETURN,       /* LOOP_RETURN */
    SCHED_EXIT_RAISE         /* an exception */
} sched_exit;

/* One signal of a segment, in a ring indexed by iteration. */
typedef struct sched_signal {
    int64_t iteration;       /* -1: empty */
    uint64_t sent;           /* the signalling context's clock */
    int32_t worker;
} sched_signal;

/* One stored word's old bytes. */
typedef struct sched_undo {
    unsigned char *addr;
    int64_t iteration;
    uint64_t old;
    int size;
} sched_undo;

typedef struct sched {
    core *core;
    const csim_instr *code;  /* the program as given (PAR_BEGIN's bounds registers) */
    ctx main;                /* the main context (core 0) */
    ctx *workers;            /* nworkers contexts, worker w on core w */
    int32_t nworkers;
    cache *l1s;              /* one per core */
    cache *l2;               /* shared */
    uint64_t lat_l1, lat_l2, lat_dram;
    uint64_t signal_latency, dispatch_cost, loop_start_cost, loop_end_cost;
    const csim_reduction *reductions;
    int32_t nreductions;
    /* the running loop */
    int active;
    int32_t begin_pc;
    int64_t trip;            /* INT64_MAX: until an exit */
    int32_t segments;
    int coupled;
    int64_t exit_iter;       /* INT64_MAX: none yet */
    sched_exit exit_kind;
    int exit_status;         /* SCHED_EXIT_RAISE: the csim_status */
    int32_t exit_pc;
    int32_t exit_worker;
    char *exit_msg;          /* the exception's message */
    /* segments: watermarks, signal rings, in-flight counts, arrivals per receiving worker */
    int64_t *wm;             /* [segments] */
    sched_signal *ring;      /* [segments * ring_size] */
    int64_t ring_size;
    int32_t *inflight;       /* [segments * nworkers] */
    uint64_t *wm_arrival;    /* [segments * nworkers]: latest arrival of the signals below wm */
    /* the undo log of the running loop */
    int undo_on;
    sched_undo *undo;
    int64_t nundo, undo_cap, undo_pruned;
    /* stop state */
    int done;
    int final_status;
    uint64_t loops;          /* parallel loops run */
    struct trace *trace;     /* the event trace (trace.h); NULL when tracing is off */
} sched;

/* Set up the main context (on the caller's register file) and cores worker contexts, each with
   its core's l1 and bp. Returns CSIM_OK or CSIM_NO_MEMORY. */
int sched_init(sched *s, const csim_config *config, const csim_program *program, core *c,
               cache *l1s, cache *l2, bpred *bps);
/* Run up to max_steps instructions over all contexts (0 = no slice): a csim_status. */
int sched_step(sched *s, uint64_t max_steps);
void sched_free(sched *s);

/* Plug-in points for the memory and communication models. */

/* The load-to-use latency of an access by context x to simulated address addr (0 for a store,
   which still allocates); *level (if not NULL) gets the csim_cat of a load's stall. Today: the
   private L1 of x's core, then the shared L2, then DRAM. */
uint64_t sched_mem_latency(sched *s, const ctx *x, uint64_t addr, int is_store, unsigned *level);
/* The cycle at which worker to sees the signal of segment seg sent by worker from at cycle
   sent. Today: sent + signal_latency across cores, sent on the same core. */
uint64_t sched_signal_arrival(const sched *s, int32_t seg, int32_t from, int32_t to,
                              uint64_t sent);
/* Record the size bytes at addr before a store by x (a no-op outside parallel loops). Returns
   CSIM_OK or CSIM_NO_MEMORY. */
int sched_log_store(sched *s, const ctx *x, unsigned char *addr, int size);

#endif
