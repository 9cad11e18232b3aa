/* The in-order core: a register scoreboard and the interpreter that executes the program.
 *
 * The core executes every instruction for real (registers, host memory) and times it on an
 * issue_width-wide in-order pipeline: an instruction issues in the cycle its sources are ready
 * and a slot is free, after any mispredict refill. Each cycle the core moves forward is charged
 * to one pc: one BUSY cycle for the issue, the rest to whatever it waited on (csim_cat).
 * Loads and stores look up the line of their element's first byte at sim_addr + the same byte
 * offset as the host access, in L1 then L2; a miss fills both levels.
 */
#ifndef CSIM_CORE_H
#define CSIM_CORE_H

#include <stdint.h>

#include "api.h"
#include "bpred.h"
#include "cache.h"

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

typedef struct core {
    /* the program */
    core_instr *code;
    int32_t ncode;
    csim_value *regs;
    const csim_array *arrays;
    /* the memory system and predictor, owned by the sim */
    cache *l1, *l2;
    bpred *bp;
    csim_pc_stats *stats;
    /* timing state */
    uint64_t *ready_mem;     /* nregs + 2 slots; ready = ready_mem + 2 */
    uint64_t *ready;         /* cycle at which each register's value is available */
    uint8_t *why_mem;
    uint8_t *why;            /* csim_cat of each register's producer */
    uint64_t cycle;          /* cycle of the last issue */
    int64_t slots;           /* instructions issued in that cycle */
    uint64_t fetch_ready;    /* first cycle after a mispredict refill */
    /* config values the loop needs */
    int64_t width, lat_l1, lat_l2, lat_dram, penalty;
    uint64_t budget;         /* max_instructions; 0 = unlimited */
    /* where execution stands */
    int32_t pc;              /* next pc to run; after a stop, the RET or faulting pc */
    int done;                /* the program returned or raised: no more steps */
    int final_status;        /* the status it stopped with */
    uint64_t instructions, loads, stores, branches, mispredicts;
    char *msg;               /* the sim's message buffer */
    int msg_size;
} core;

/* Decode the (validated) program and set up an idle core. Returns CSIM_OK or CSIM_NO_MEMORY. */
int core_init(core *c, const csim_config *config, const csim_program *program, cache *l1,
              cache *l2, bpred *bp, csim_pc_stats *stats, char *msg, int msg_size);
/* Run up to max_steps instructions (0 = no slice): a csim_status as csim_run returns it. */
int core_step(core *c, uint64_t max_steps);
void core_free(core *c);

#endif
