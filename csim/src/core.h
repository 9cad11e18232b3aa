/* The in-order core: a register scoreboard and the interpreter that executes the program.
 *
 * The core executes every instruction for real (registers, host memory) and times it on an
 * issue_width-wide in-order pipeline: an instruction issues in the cycle its sources are ready
 * and a slot is free, after any mispredict refill; with SMT, a slot of those the core's contexts
 * share (issue.h), and the cycles a sibling filled count as BUSY. Each cycle the core moves forward is charged
 * to one pc: one BUSY cycle for the issue, the rest to whatever it waited on (csim_cat).
 * Loads and stores look up the line of their element's first byte at sim_addr + the same byte
 * offset as the host access, in L1 then L2; a miss fills both levels.
 * With core_model 1 (ooo_on) the same interpreter times instructions on the out-of-order core
 * instead (ooo.h): x->cycle is then the context's retirement clock.
 */
#ifndef CSIM_CORE_H
#define CSIM_CORE_H

#include <stdint.h>

#include "api.h"
#include "bpred.h"
#include "cache.h"
#include "ctx.h"

/* Register slots below 0 in the scoreboard: unused sources read the always-ready slot; results
   of instructions that write no register go to the sink. */
#define CORE_REG_NONE (-1)
#define CORE_REG_SINK (-2)

/* An instruction decoded for the dispatch loop (sim.c validated it first). */
typedef struct core_instr {
    uint16_t op;             /* csim_opcode */
    uint16_t aux;            /* LOAD/STORE: array slot; RAISE: csim_status */
    int32_t dst;             /* register written, or CORE_REG_SINK */
    int32_t a, b, c;         /* source registers, CORE_REG_NONE when unused */
    int32_t s;               /* STORE_*: the value register (a fourth source); else NONE */
    int32_t target;          /* JMP/BRT/BRF: target pc */
    uint32_t lat;            /* cycles until dst is ready (loads: set per access) */
} core_instr;

/* Stops of core_step besides the csim_status codes: where the scheduler (sched.h) takes over. */
#define CORE_SYNC 100            /* stopped at the SYNC instruction x->pc, issued at x->cycle */
#define CORE_YIELD 101           /* stopped before a memory or SYNC instruction past the horizon */

struct sched;

/* The pipeline model and the program, shared by every context. */
typedef struct core {
    /* the program */
    core_instr *code;
    int32_t ncode;
    int32_t nregs;
    const csim_array *arrays;
    csim_pc_stats *stats;
    /* config values the loop needs */
    int64_t width, penalty;
    int ooo_on;              /* core_model 1: every context times instructions with ooo.h */
    int acquire;             /* ooo_on with ooo_wait_policy 1: WAIT, SIGNAL and ITER_END do not
                                drain the window (core_release_wait) */
    uint64_t budget;         /* max_instructions; 0 = unlimited */
    uint64_t instructions;   /* executed by all contexts */
    char *msg;               /* the sim's message buffer */
    int msg_size;
} core;

/* Decode the (validated) program. Returns CSIM_OK or CSIM_NO_MEMORY. */
int core_init(core *c, const csim_config *config, const csim_program *program,
              csim_pc_stats *stats, char *msg, int msg_size);
/* Run context x for up to max_steps instructions (0 = no slice). Before a memory or SYNC
   instruction that would issue after cycle horizon it returns CORE_YIELD, so memory is accessed
   in global time order; at a SYNC instruction it issues it and returns CORE_SYNC. Otherwise a
   csim_status as csim_run returns it (PAUSED when the slice ran out). s times memory accesses
   (sched_mem_latency). */
int core_step(core *c, ctx *x, struct sched *s, uint64_t max_steps, uint64_t horizon);
/* ooo_wait_policy acquire: the WAIT x stopped at (x->wait_pending) is released with its signals
   arriving at cycle at. The WAIT retires no earlier (the window behind it keeps dispatching),
   and x's memory operations inside a segment issue no earlier. The cycles retirement waited for
   the release go to x->wait, the rest to x's busy cycles; x's clock becomes the WAIT's
   retirement. Returns the cycles waited. */
uint64_t core_release_wait(core *c, ctx *x, uint64_t at);
void core_free(core *c);

#endif
