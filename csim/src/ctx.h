/* A hardware context: the registers, scoreboard, pc and local clock of one thread of execution.
 *
 * The main context runs the code outside parallel loops on core 0; each worker context runs the
 * iterations the scheduler (sched.h) gives it, on its core with that core's L1, branch
 * predictor and (SMT) issue slots, shared with the core's other contexts. The in-order pipeline
 * model (core.h) advances one context at a time.
 */
#ifndef CSIM_CTX_H
#define CSIM_CTX_H

#include <stdint.h>

#include "api.h"
#include "bpred.h"
#include "cache.h"
#include "issue.h"

/* What a context is doing, as the scheduler sees it. */
typedef enum ctx_state {
    CTX_IDLE = 0,            /* no iteration to run (or the main context during a loop) */
    CTX_READY,               /* runnable from its clock on */
    CTX_WAITING              /* blocked in a WAIT, or in a SIGNAL over the in-flight limit */
} ctx_state;

typedef struct ctx {
    csim_value *regs;        /* nregs registers (the main context's are the caller's) */
    csim_value *own_regs;    /* allocated by ctx_init for a worker; NULL for the main context */
    uint64_t *ready_mem;     /* nregs + 2 slots; ready = ready_mem + 2 (see core.h's REG_NONE) */
    uint64_t *ready;         /* cycle at which each register's value is available */
    uint8_t *why_mem;
    uint8_t *why;            /* csim_cat of each register's producer */
    uint64_t cycle;          /* the local clock: cycle of the last issue */
    uint64_t when;           /* when it next needs the global order: its clock, or the issue
                                cycle of the memory or SYNC instruction it yielded before */
    int64_t slots;           /* instructions issued in that cycle */
    uint64_t fetch_ready;    /* first cycle after a mispredict refill or a store stall */
    uint8_t fetch_cat;       /* csim_cat of that stall (branch, or comm for a ring store) */
    int32_t pc;
    int32_t worker;          /* the worker number CTX reads (the main context: 0) */
    int32_t core;            /* the core it runs on */
    int64_t iteration;       /* the iteration it runs; -1 for none */
    ctx_state state;
    int32_t wait_seg;        /* CTX_WAITING: the segment */
    int wait_signal;         /* CTX_WAITING: 1 stalled in SIGNAL (in-flight limit), 0 in WAIT */
    uint64_t open_segs[CSIM_MAX_SEGMENTS / 64];  /* segments waited for and not yet signalled */
    int32_t nopen;           /* how many: its memory operations go to the ring cache if any */
    uint64_t seg_cycle[CSIM_STAT_SEGMENTS];  /* clock and instructions at the open segments' */
    uint64_t seg_instr[CSIM_STAT_SEGMENTS];  /* WAIT release (sched's segment stats) */
    cache *l1;               /* its core's */
    bpred *bp;               /* its core's */
    int32_t bp_thread;       /* its global history in bp: its SMT context number on the core */
    issue_slots *issue;      /* its core's shared issue slots (smt > 1); NULL: its own */
    struct ooo_ctx *ooo;     /* the out-of-order core's state (ooo.h); NULL: in order */
    /* ooo_wait_policy acquire (docs/multicore.md section 13) */
    uint64_t acquire;        /* the latest release of its iteration's WAITs: its memory
                                operations inside a segment issue no earlier */
    int wait_pending;        /* stopped at a WAIT the window holds until its release */
    uint64_t wait_dispatch, wait_issue;  /* that WAIT's dispatch and issue cycles */
    uint8_t wait_cat;        /* and what held its issue back (csim_cat) */
    int keep_window;         /* an ITER_END left the window full: the next ctx_start goes on
                                with it (the scheduler clears it when none follows) */
    /* counters */
    uint64_t instructions, loads, stores, branches, mispredicts;
    uint64_t busy, wait, dispatch, iterations;
    uint64_t cat[CSIM_NCAT]; /* busy split by csim_cat (issue cycles, then stalls) */
} ctx;

/* Set up a context for nregs registers. regs: the register file to use (the main context's),
   or NULL to allocate one. Returns CSIM_OK or CSIM_NO_MEMORY. */
int ctx_init(ctx *x, int32_t nregs, csim_value *regs, int32_t worker, int32_t core, cache *l1,
             bpred *bp);
/* Start running from pc at cycle with the registers of from, all ready: the nused registers in
   used, or all nregs when used is NULL. The others keep stale values and ready times: only for
   code that never reads them (a parallel loop's body: the scheduler lists its registers). */
void ctx_start(ctx *x, const ctx *from, int32_t nregs, const int32_t *used, int32_t nused,
               int32_t pc, uint64_t cycle, int64_t issue_width);
/* The same from a register file. */
void ctx_start_regs(ctx *x, const csim_value *regs, int32_t nregs, int32_t pc, uint64_t cycle,
                    int64_t issue_width);
void ctx_free(ctx *x);
/* WAIT seg released / SIGNAL seg issued: the segment opens / closes for x. */
void ctx_open_segment(ctx *x, int32_t seg);
void ctx_close_segment(ctx *x, int32_t seg);

#endif
