/* The scheduler: runs the main context, and a parallel loop's iterations on the worker contexts
 * in global simulated-time order (docs/multicore.md sections 2-4).
 *
 * Iteration it runs on worker it mod W (W = cores * smt; worker w on core w / smt), from a copy of the main context's registers
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
#include "check.h"
#include "coherence.h"
#include "core.h"
#include "ctx.h"
#include "dram.h"
#include "readyq.h"
#include "ring.h"

#define SCHED_MAX_INFLIGHT 2

/* How a loop ended, for its exit iteration. */
typedef enum sched_exit {
    SCHED_EXIT_NONE = 0,     /* the trip count ran out */
    SCHED_EXIT_BREAK,        /* LOOP_EXIT */
    SCHED_EXIT_RETURN,       /* LOOP_RETURN */
    SCHED_EXIT_RAISE         /* an exception */
} sched_exit;

/* A Relic task's state (docs/multicore.md section 15). */
typedef enum sched_task_state {
    TASK_QUEUED = 0,         /* in the SPSC queue */
    TASK_RUNNING,            /* on the runner */
    TASK_DONE                /* its TASK_END ran; its results wait for the JOIN */
} sched_task_state;

/* A task from its SPAWN to its JOIN. */
typedef struct sched_task {
    int64_t handle;          /* 1, 2, ... in spawn order (what SPAWN writes, JOIN reads) */
    int32_t pc;              /* its first instruction: SPAWN's pc + 1 */
    sched_task_state state;
    int64_t iteration;       /* checking mode: its place in sequential order */
    uint64_t enqueued;       /* the main context's clock when the submit completed */
    uint64_t start, end;     /* on the runner: first issue cycle allowed, TASK_END */
    csim_value *regs;        /* the main context's registers at the spawn; TASK_END's results */
} sched_task;

/* What the main context is blocked on while tasks are outstanding. */
typedef enum sched_main_wait {
    MAIN_RUNS = 0,
    MAIN_QUEUE_FULL,         /* in SPAWN: no queue entry free */
    MAIN_JOIN,               /* in JOIN: the task has not ended */
    MAIN_INLINE              /* smt == 1: its task runs in its place */
} sched_main_wait;

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
    ctx *workers;            /* nworkers contexts, worker w on core w / smt */
    int32_t nworkers;
    int32_t smt;             /* contexts per core */
    int smt_policy;          /* 0 round-robin, 1 ICOUNT (pick's ties between siblings) */
    issue_slots *issue;      /* smt > 1: per core, the slots its contexts share */
    int32_t *last_pick;      /* smt > 1: per core, the context picked last (round-robin) */
    readyq ready;            /* workers by when they next need the global order (pick) */
    cache *l1s;              /* one per core */
    cache *l2;               /* shared */
    uint64_t lat_l1, lat_l2, lat_dram;
    uint64_t signal_latency, dispatch_cost, loop_start_cost, loop_end_cost;
    int64_t signals;         /* the machine's: 0 uncoupled, 1 coupled, 2 either */
    const csim_reduction *reductions;
    int32_t nreductions;
    /* the running loop */
    int active;
    int32_t begin_pc;
    const int32_t *loop_regs; /* the registers its iterations use (loop_registers), or NULL: all */
    int32_t nloop_regs;
    /* loop_registers' lists, per PAR_BEGIN pc, computed at its first run */
    int32_t *regs_at;        /* [ncode] or NULL: 0 not yet, -1 all registers, k + 1 reg_pool + k */
    int32_t *regs_len;       /* [ncode] */
    int32_t *reg_pool;
    int32_t reg_pool_len, reg_pool_cap;
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
    uint64_t *wm_arrival;    /* [segments * nworkers]: latest arrival of the signals below wm
                                at each worker (with the ring: at each core, the first entries) */
    uint64_t *blocked;       /* [segments]: bit k set once worker k blocked in the segment (a
                                superset of the blocked ones: a wake checks each, and clears the
                                bits of the others; cores * smt <= 64) */
    uint64_t *sig_blocked;   /* [segments]: the same for blocking at a SIGNAL (in-flight limit),
                                never cleared within a loop: such blocks are rare */
    /* the undo log of the running loop */
    int undo_on;
    sched_undo *undo;
    int64_t nundo, undo_cap, undo_pruned;
    /* communication: the ring cache (segment accesses and signals), the coherence directory
       (every other access when cores > 1; signals too without the ring) */
    int ring_on, coh_on;
    ring rc;
    coh coh;
    int dram_on;             /* dram_line_cycles > 0: L2 misses queue for DRAM bandwidth */
    dram dram;
    uint64_t *sig_arrive;    /* ring: [segments * ring_size * nworkers] each signal at each node */
    size_t sig_arrive_cap;   /* its length: kept from loop to loop, grown when a loop needs more */
    int model_status;        /* a model's CSIM_NO_MEMORY, reported by the next step */
    /* checking mode (docs/multicore.md section 7) */
    int check_on, checking;  /* checking: check_on while a loop runs */
    check ck;
    uint8_t *unshadowed;     /* per array slot: 1 for reduction copies and tags (private) */
    uint8_t *overlapping;    /* per array slot: 1 if its memory may overlap another slot's (its
                                LOAD_RO stays on the ring: a store through the other may alias) */
    uint64_t private_loads;  /* LOAD_RO in an open segment sent to the L1 instead of the ring */
    /* stop state */
    int done;
    int final_status;
    uint64_t loops;          /* parallel loops run */
    /* per-loop and per-segment stats (api.h's csim_loop_stats) */
    csim_loop_stats loop_stats[CSIM_STAT_LOOPS];
    int32_t nloop_stats;
    int stats_overflow;      /* a loop or segment past the limits was not counted */
    csim_loop_stats *cur;    /* the running loop's entry; NULL if past the limit */
    uint64_t loop_begin;     /* the main context's clock at PAR_BEGIN */
    struct trace *trace;     /* the event trace (trace.h); NULL when tracing is off */
    /* Relic tasks (section 15): spawned and not yet joined, in spawn order */
    ctx *runner;             /* core 0's context 1 (the SMT sibling), or worker 0 when smt == 1 */
    int inline_tasks;        /* smt == 1: a task runs at its spawn while the main context waits */
    uint64_t submit_cost, wake_cost, join_cost;
    int64_t queue_cap;
    sched_task *tasks;
    int32_t ntasks, tasks_cap;
    int64_t last_handle;
    sched_task *running;     /* the runner's task, or NULL */
    uint64_t runner_free;    /* the end of the runner's last task */
    sched_main_wait main_wait;
    int64_t main_join;       /* MAIN_JOIN: the handle */
    uint64_t main_blocked;   /* the main context's clock when it blocked */
    int main_parked;         /* the continuation raised with tasks unfinished: */
    int main_status;         /* its status, */
    int32_t main_fault_pc;   /* pc */
    char *main_msg;          /* and message, reported once they are done */
    int check_tasks;         /* the checker's first violation was between tasks */
    csim_task_stats task_stats;
} sched;

/* Set up the main context (on the caller's register file) and cores * smt worker contexts, each
   with its core's l1 and bp (and, smt > 1, issue slots). Returns CSIM_OK or CSIM_NO_MEMORY. */
int sched_init(sched *s, const csim_config *config, const csim_program *program, core *c,
               cache *l1s, cache *l2, bpred *bps);
/* Run up to max_steps instructions over all contexts (0 = no slice): a csim_status. */
int sched_step(sched *s, uint64_t max_steps);
void sched_free(sched *s);

/* Plug-in points for the memory and communication models. */

/* The load-to-use latency of a load by context x, issued at cycle t, of simulated address addr
   (*level, if not NULL, gets the csim_cat of its stall), or the cycles a store stalls the core.
   Inside a segment with the ring cache, for shared data (shared != 0: every store, and every load
   but a LOAD_RO of an array that overlaps no other): x's ring node (a miss is fetched by the
   owner through its L1 path); otherwise the private L1 of x's core, the shared L2, DRAM (with dram_on, an
   L2 miss queues for its channel and an L2 hit on a line in flight waits for its fill), plus
   the coherence directory's transfer (cores > 1; a store invalidates the other L1s' copies and
   does not stall: the store buffer hides it). */
uint64_t sched_mem_latency(sched *s, ctx *x, uint64_t addr, uint64_t t, int is_store,
                           int shared, unsigned *level);
/* The cycle at which worker to sees signal sig of segment seg: with the ring, its arrival at
   to's core's node; with coherence, when to's spin on the sender's flag line sees it; otherwise
   sig->sent + signal_latency across cores, sig->sent on the same core (SMT siblings too). */
uint64_t sched_signal_arrival(sched *s, int32_t seg, const sched_signal *sig, int32_t to);
/* Checking mode: x's access at pc, issued at cycle, to the element at addr of array slot (a
   no-op for reduction copies). Returns CSIM_OK, CSIM_CHECK_VIOLATION (the message says which) or CSIM_NO_MEMORY. */
int sched_check(sched *s, const ctx *x, int32_t slot, uint64_t addr, int is_store, int32_t pc,
                uint64_t cycle);
/* Record the size bytes at addr before a store by x (a no-op outside parallel loops). Returns
   CSIM_OK or CSIM_NO_MEMORY. */
int sched_log_store(sched *s, const ctx *x, unsigned char *addr, int size);

#endif
