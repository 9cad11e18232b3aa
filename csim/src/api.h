/* The public API of the simulator core: everything Python sees through cffi.
 *
 * The cffi build script feeds this file to cdef() with its preprocessor lines removed, so the
 * declarations below must stay plain C that cffi can parse (no macros inside declarations).
 * Memory ownership: the caller allocates the program, its register file, the array table and the
 * per-pc statistics, and keeps them alive while the simulation exists; the simulator owns only
 * its modeled state (caches, predictor, scoreboard).
 */
#ifndef CSIM_API_H
#define CSIM_API_H

#include <stdint.h>

/* Status codes: every entry point returns one; csim_strerror() names it. */
typedef enum csim_status {
    CSIM_OK = 0,             /* the program returned */
    CSIM_PAUSED,             /* the step slice ran out; call csim_run again to continue */
    CSIM_INDEX_ERROR,        /* IndexError at csim_fault_pc() */
    CSIM_ZERO_DIVISION,      /* ZeroDivisionError */
    CSIM_OVERFLOW,           /* OverflowError: a value past 64 bits or past the destination dtype */
    CSIM_VALUE_ERROR,        /* ValueError: math domain, int(nan), negative shift, range step 0 */
    CSIM_ASSERTION,          /* AssertionError: a failed assert */
    CSIM_UNBOUND_LOCAL,      /* UnboundLocalError: a variable read before any assignment */
    CSIM_BUDGET,             /* the instruction budget (config max_instructions) ran out */
    CSIM_BAD_PROGRAM,        /* the program failed validation (see csim_message) */
    CSIM_BAD_CONFIG,         /* the machine config is invalid (see csim_message) */
    CSIM_NO_MEMORY,          /* allocation failed */
    CSIM_DEADLOCK,           /* every context of a parallel loop waits (see csim_message) */
    CSIM_BAD_PARALLEL,       /* the parallel form misused at run time, e.g. a PAR_BEGIN inside an
                                iteration (see csim_message) */
    CSIM_CHECK_VIOLATION     /* checking mode: an access broke sequential order (csim_get_violation) */
} csim_status;

/* Element types of arrays. */
typedef enum csim_dtype {
    CSIM_INT8 = 0, CSIM_INT16, CSIM_INT32, CSIM_INT64,
    CSIM_UINT8, CSIM_UINT16, CSIM_UINT32, CSIM_UINT64,
    CSIM_FLOAT32, CSIM_FLOAT64, CSIM_BOOL
} csim_dtype;

/* Where cycles went: the CPI-stack categories, charged per pc. */
typedef enum csim_cat {
    CSIM_CAT_BUSY = 0,       /* a cycle in which the core issued at least one instruction */
    CSIM_CAT_MEM_L1,         /* waiting on a load that hit in L1 */
    CSIM_CAT_MEM_L2,         /* waiting on a load that missed L1 and hit L2 */
    CSIM_CAT_MEM_DRAM,       /* waiting on a load that went to DRAM */
    CSIM_CAT_BRANCH,         /* refilling after a mispredicted branch */
    CSIM_CAT_DEPENDENCE,     /* waiting on the result of a multi-cycle arithmetic instruction */
    CSIM_CAT_COMM,           /* communication: a ring-cache load or stall, a coherence transfer */
    CSIM_NCAT
} csim_cat;

/* Limits of the program format that both sides check. */
typedef enum csim_limit {
    CSIM_MAX_SEGMENTS = 256, /* sequential segments of one parallel loop (PAR_BEGIN's aux) */
    CSIM_MAX_CORES = 64      /* machine config cores; also the per-context copies of a reduction */
} csim_limit;

/* A 64-bit register: i64 (bools are 0/1) or f64, as the opcode table says. */
typedef union csim_value {
    int64_t i;
    double f;
} csim_value;

/* One instruction; the meaning of each field per opcode is in opcodes.def. */
typedef struct csim_instr {
    uint16_t op;             /* csim_opcode */
    uint16_t aux;            /* LOAD/STORE: array slot; RAISE: csim_status; PAR_BEGIN: segments;
                                WAIT/SIGNAL: segment */
    int32_t dst;             /* register written; control ops: target pc; STORE_*: value register;
                                PAR_BEGIN: 1 for coupled signals, 0 for uncoupled */
    int32_t a, b, c;         /* source registers, -1 when unused */
} csim_instr;

/* An array argument: real host memory plus the simulated address the cache model sees. */
typedef struct csim_array {
    uint64_t host_addr;      /* host address of element [0, 0, 0] */
    uint64_t sim_addr;       /* simulated address of element [0, 0, 0] */
    int32_t dtype;           /* csim_dtype */
    int32_t ndim;            /* 1 to 3 */
    int32_t writable;        /* 0: a store raises ValueError, as NumPy's read-only arrays do */
    int64_t shape[3];
    int64_t strides[3];      /* in bytes; may be negative */
} csim_array;

/* How the copies of a reduction or lastprivate object are combined after a parallel loop. */
typedef enum csim_reduce_op {
    CSIM_RED_ADD = 0, CSIM_RED_MUL, CSIM_RED_AND, CSIM_RED_OR, CSIM_RED_XOR,
    CSIM_RED_MIN, CSIM_RED_MAX, CSIM_RED_ARGMIN, CSIM_RED_ARGMAX,
    CSIM_RED_LAST            /* lastprivate: the copy written by the highest iteration */
} csim_reduce_op;

/* A reduction or lastprivate object: ncells consecutive arrays from first_slot, each holding one
   copy per worker context (CSIM_MAX_CORES elements; copy 0 is also the main context's), and an
   int64 array at tag_slot with the iteration of each copy's last write (-1: none). MIN..ARGMAX
   compare the first cell; ties (0: first, 1: last) says which iteration wins equal values. */
typedef struct csim_reduction {
    int32_t op;              /* csim_reduce_op */
    int32_t ties;
    int32_t first_slot;
    int32_t ncells;
    int32_t tag_slot;
} csim_reduction;

/* A program ready to run: code, register file (preloaded with constants and arguments), arrays. */
typedef struct csim_program {
    const csim_instr *code;
    int32_t ncode;
    int32_t nregs;
    csim_value *regs;        /* nregs registers, preloaded by the caller */
    const csim_array *arrays;
    int32_t narrays;
    const csim_reduction *reductions;  /* combined after every parallel loop */
    int32_t nreductions;
} csim_program;

/* The machine: every parameter a user may vary. Python's MachineConfig mirrors these names. */
typedef struct csim_config {
    int64_t issue_width;         /* instructions issued per cycle, in order */
    int64_t lat_int;             /* simple integer ops, moves, compares */
    int64_t lat_mul;             /* integer multiply */
    int64_t lat_div;             /* integer divide and modulo */
    int64_t lat_fadd;            /* float add, compare, convert */
    int64_t lat_fmul;            /* float multiply */
    int64_t lat_fdiv;            /* float divide */
    int64_t lat_sqrt;            /* float square root */
    int64_t lat_math;            /* exp, log, pow */
    int64_t l1_size;             /* bytes */
    int64_t l1_assoc;
    int64_t l1_line;             /* bytes */
    int64_t l1_latency;          /* load-to-use cycles on an L1 hit */
    int64_t l2_size;
    int64_t l2_assoc;
    int64_t l2_line;
    int64_t l2_latency;          /* added on an L1 miss */
    int64_t dram_latency;        /* added on an L2 miss */
    int64_t bpred_kind;          /* 0 = bimodal, 1 = gshare */
    int64_t bpred_table_bits;    /* log2 of the number of 2-bit counters */
    int64_t bpred_history_bits;  /* gshare global history length */
    int64_t mispredict_penalty;  /* cycles */
    int64_t max_instructions;    /* instruction budget; 0 = unlimited */
    int64_t dram_channels;       /* memory channels; lines interleaved over them (dram.h) */
    int64_t dram_line_cycles;    /* cycles a channel spends per L2 line (its bandwidth), so
                                    concurrent misses queue; 0 = unlimited bandwidth: every L2
                                    miss costs dram_latency */
    int64_t cores;               /* cores running a parallel loop's iterations, 1 to 64 */
    int64_t smt;                 /* hardware contexts per core: 1, 2 or 4 (cores * smt <= 64) */
    int64_t smt_policy;          /* 0 round-robin, 1 ICOUNT: which of a core's contexts ready
                                    at the same cycle issues first */
    int64_t dispatch_cost;       /* cycles from an iteration's end to the worker's next start */
    int64_t loop_start_cost;     /* cycles from PAR_BEGIN to the first iterations' start */
    int64_t loop_end_cost;       /* cycles from the loop's last iteration end to PAR_END */
    int64_t signal_latency;      /* cycles from a SIGNAL to the WAIT it releases on another core
                                    (used when cores share no communication model: cores == 1) */
    int64_t signals;             /* 0 uncoupled, 1 coupled, 2 either: a loop transformed for the
                                    other semantics is CSIM_BAD_PARALLEL */
    int64_t ring_cache;          /* 1: segment accesses (but LOAD_RO) and signals go through the
                                    ring cache */
    int64_t ring_size;           /* bytes of one ring node's array */
    int64_t ring_ways;
    int64_t ring_hit_latency;    /* a load served by the core's own node */
    int64_t ring_inject_latency; /* core to node, for stores and signals */
    int64_t ring_hop_latency;    /* node to next node */
    int64_t ring_data_bandwidth; /* words per link per cycle */
    int64_t ring_signal_bandwidth; /* signals per link per cycle */
    int64_t ring_owner_line_bytes; /* every word of such a line has one owner node */
    int64_t ring_inject_queue;   /* stores a node holds before they leave; full: the core stalls */
    int64_t ring_signal_buffer;  /* signals of one sender in transit; full: the core stalls */
    int64_t c2c_latency;         /* coherence: a line last written by another core */
    int64_t upgrade_latency;     /* coherence: a store to a line others hold too */
    int64_t check;               /* 1: shadow shared memory, stop at the first order violation */
    /* The out-of-order core (docs/multicore.md section 13); the sizes are unused in order. */
    int64_t core_model;          /* 0 in-order, 1 out-of-order */
    int64_t rob_size;            /* reorder buffer: instructions dispatched and not retired */
    int64_t iq_size;             /* issue queue: instructions dispatched and not issued */
    int64_t lsq_size;            /* load/store queue: loads and stores dispatched and not retired */
    int64_t smt_rob;             /* SMT: 0 the core's contexts share the ROB, 1 partitioned (each
                                    context gets rob_size / smt entries) */
    int64_t smt_iq;              /* the same for the issue queue */
    int64_t smt_lsq;             /* the same for the load/store queue */
    int64_t ooo_wait_policy;     /* 0 drain: WAIT, SIGNAL and ITER_END drain the window; 1 acquire:
                                    WAIT is an acquire (only its segment's memory operations wait
                                    for the release), SIGNAL a release seen when it retires */
    /* Relic tasks (SPAWN/JOIN, docs/multicore.md section 15); smt == 1 runs them inline, free */
    int64_t relic_submit_cost;   /* cycles SPAWN costs the main context (writing a queue entry) */
    int64_t relic_wake_cost;     /* cycles from a task's enqueue (or the sibling's previous task
                                    end) to its start on the spinning sibling */
    int64_t relic_join_cost;     /* cycles from a task's end to the JOIN that waits for it */
    int64_t relic_queue;         /* entries of the SPSC queue; full: SPAWN stalls */
} csim_config;

/* Per-pc counters, filled by the simulator (the caller zeroes them). */
typedef struct csim_pc_stats {
    uint64_t exec;               /* times the instruction executed */
    uint64_t cycles[7];          /* cycles charged to it, per csim_cat */
} csim_pc_stats;

/* Whole-run counters. */
typedef struct csim_totals {
    uint64_t cycles;             /* the main context's clock at the end */
    uint64_t instructions;
    uint64_t cat[7];             /* per csim_cat, over every context: sums to cycles on a program
                                    with no parallel loop */
    uint64_t loads, stores;
    uint64_t l1_hits, l1_misses, l2_hits, l2_misses;
    uint64_t branches, mispredicts;
} csim_totals;

/* One core's counters: where its cycles went over the whole run (busy + wait + dispatch + idle
   = the run's cycles; core 0's busy includes the main context's). busy splits into the issue
   cycles and the stalls per csim_cat (its CPI stack). */
typedef struct csim_core_stats {
    uint64_t busy;               /* executing instructions, stalls on their operands included */
    uint64_t issue;              /* cycles in which it issued (csim_cat busy) */
    uint64_t mem_l1, mem_l2, mem_dram, branch, dependence;
    uint64_t comm;               /* ring loads and stalls, coherence transfers, the ring flush */
    uint64_t wait;               /* blocked in WAIT, or in a SIGNAL over the in-flight limit */
    uint64_t dispatch;           /* loop start, iteration dispatch and loop end costs */
    uint64_t idle;               /* no iteration to run (and, but for core 0, no loop running) */
    uint64_t iterations;         /* parallel-loop iterations it finished */
    uint64_t instructions;
} csim_core_stats;

/* The ring cache's and the coherence directory's counters (docs/multicore.md sections 9, 10). */
typedef struct csim_comm_stats {
    uint64_t ring_stores, ring_data_hops, ring_signals, ring_signal_hops, ring_miss_messages;
    uint64_t ring_link_stalls, ring_core_stalls, ring_peak_inject_queue, ring_peak_signals;
    uint64_t ring_hits, ring_hits_in_flight, ring_misses, ring_evictions, ring_writebacks;
    uint64_t ring_flushes;
    uint64_t ring_private_loads; /* LOAD_RO in a segment: not shared data, served by the L1 */
    uint64_t coh_c2c_transfers, coh_invalidations, coh_upgrades, coh_flag_transfers;
} csim_comm_stats;

/* The DRAM controller's counters (dram.h; all 0 when dram_line_cycles is 0). */
typedef struct csim_dram_stats {
    uint64_t accesses;           /* lines read from DRAM (L2 misses, stores' fills included) */
    uint64_t queue_cycles;       /* summed queueing delays before a channel served them */
    uint64_t max_queue_cycles;   /* the longest one */
    uint64_t pending_hits;       /* L2 hits that waited for the line's fill still in flight */
    uint64_t pending_cycles;     /* their summed wait beyond an L2 hit's latency */
} csim_dram_stats;

/* The first checking-mode violation (check.h's check_violation): the access at pc by iteration
   iter broke the order with the access at other_pc by other_iter, at simulated address addr. */
typedef struct csim_violation {
    int32_t kind;                /* 1 read of a later write, 2 write after a later read,
                                    3 write after a later write */
    int32_t pc;
    int64_t iter;
    int32_t other_pc;
    int32_t tasks;               /* 1: between a task (even iter) and the continuation (odd) */
    int64_t other_iter;
    uint64_t addr;
} csim_violation;

/* Per parallel loop (its PAR_BEGIN pc) and per sequential segment: what csim_get_loop_stats
   gives. A run keeps the first CSIM_STAT_LOOPS distinct loops and, of each, the first
   CSIM_STAT_SEGMENTS segments; csim_loop_count's *overflow says whether any were left out. */
enum { CSIM_STAT_LOOPS = 16, CSIM_STAT_SEGMENTS = 64 };

typedef struct csim_segment_stats {
    uint64_t instances;          /* WAITs released (segment entries) */
    uint64_t closed;             /* of those, closed by their SIGNAL (lengths below) */
    uint64_t instructions;       /* summed over closed instances: WAIT release to SIGNAL */
    uint64_t cycles;
    uint64_t wait_cycles;        /* contexts blocked in WAIT k */
} csim_segment_stats;

typedef struct csim_loop_stats {
    int32_t pc;                  /* PAR_BEGIN */
    int32_t segments;            /* declared (segment stats kept for the first 64) */
    uint64_t invocations;
    uint64_t iterations;         /* trip count, or up to and including the exit iteration */
    uint64_t cycles;             /* the main context's clock from PAR_BEGIN to its resume */
    csim_segment_stats seg[CSIM_STAT_SEGMENTS];
} csim_loop_stats;

typedef struct csim_sim csim_sim;

/* Validate config and program, allocate modeled state. On failure returns NULL and writes a
   message into err (err_size bytes) and the status into *status. */
csim_sim *csim_new(const csim_config *config, const csim_program *program,
                   csim_pc_stats *pc_stats, int *status, char *err, int err_size);
/* Run up to max_steps instructions (0 = no slice). Returns CSIM_OK when the program returned,
   CSIM_PAUSED when the slice ran out, or the error status. */
int csim_run(csim_sim *sim, uint64_t max_steps);
/* The pc of the RET or of the faulting instruction after csim_run stopped. */
int32_t csim_fault_pc(const csim_sim *sim);
/* A message for the last error, naming values (e.g. the index and the axis size). */
const char *csim_message(const csim_sim *sim);
void csim_get_totals(const csim_sim *sim, csim_totals *out);
/* The number of cores, and one core's counters. */
int csim_core_count(const csim_sim *sim);
void csim_get_core_stats(const csim_sim *sim, int core, csim_core_stats *out);
/* The number of worker contexts (cores * smt), and one context's counters (the main context's
   count with worker 0's, as csim_get_core_stats counts them with core 0's). */
int csim_context_count(const csim_sim *sim);
void csim_get_context_stats(const csim_sim *sim, int context, csim_core_stats *out);
void csim_get_comm_stats(const csim_sim *sim, csim_comm_stats *out);
void csim_get_dram_stats(const csim_sim *sim, csim_dram_stats *out);
/* The parallel loops run (at most CSIM_STAT_LOOPS; *overflow 1 if loops or segments were left
   out), and loop k's counters in first-run order. */
int csim_loop_count(const csim_sim *sim, int *overflow);
void csim_get_loop_stats(const csim_sim *sim, int k, csim_loop_stats *out);
/* Relic tasks over the run (docs/multicore.md section 15). */
typedef struct csim_task_stats {
    uint64_t spawned, joined;
    uint64_t inline_tasks;       /* run on the main context's core at the spawn (smt == 1) */
    uint64_t submit_cycles;      /* the main context's SPAWN costs */
    uint64_t queue_full_cycles;  /* the main context stalled in SPAWN on a full queue */
    uint64_t join_wait_cycles;   /* the main context blocked in JOIN */
    uint64_t task_cycles;        /* from each task's start to its TASK_END, summed */
    uint64_t wake_cycles;        /* the sibling's wake-up costs */
    uint64_t sibling_idle_cycles;  /* the sibling's cycles without a task (smt > 1) */
} csim_task_stats;

void csim_get_task_stats(const csim_sim *sim, csim_task_stats *out);
/* After CSIM_CHECK_VIOLATION: the violation. */
void csim_get_violation(const csim_sim *sim, csim_violation *out);
void csim_free(csim_sim *sim);

const char *csim_strerror(int status);
/* The opcode table as C sees it, for Python's consistency check. */
int csim_opcode_count(void);
const char *csim_opcode_name(int op);

/* Tracing (off unless enabled; see docs/multicore.md, "Tracing"). Events come in the order the
   scheduler made them; cycles are the acting context's clock. */
typedef enum csim_trace_kind {
    CSIM_TRACE_LOOP_BEGIN = 0,   /* the main context issued PAR_BEGIN; iteration: the trip count
                                    (-1: until an exit), seg: segments, arg: its pc */
    CSIM_TRACE_LOOP_END,         /* the loop's last iteration ended; arg: the exit iteration (-1:
                                    the trip count ran out) */
    CSIM_TRACE_ITER_BEGIN,       /* worker starts iteration */
    CSIM_TRACE_ITER_END,         /* worker's iteration is over; arg: csim_trace_end */
    CSIM_TRACE_WAIT_START,       /* WAIT seg issued */
    CSIM_TRACE_WAIT_RELEASE,     /* WAIT seg released; arg: the iteration whose signal it needed */
    CSIM_TRACE_SIGNAL,           /* SIGNAL seg went through */
    CSIM_TRACE_SPAWN,            /* the main context's SPAWN went through; iteration: the handle,
                                    arg: the task's pc */
    CSIM_TRACE_TASK_BEGIN,       /* the runner starts a task; iteration: its handle, arg: its pc */
    CSIM_TRACE_TASK_END,         /* the runner's task ended; arg: 0 at TASK_END, 1 raised */
    CSIM_TRACE_JOIN              /* the main context's JOIN released; iteration: the handle, arg:
                                    the cycle it was issued */
} csim_trace_kind;

/* How an iteration ended (CSIM_TRACE_ITER_END's arg). */
typedef enum csim_trace_end {
    CSIM_TRACE_END_NEXT = 0,     /* ITER_END */
    CSIM_TRACE_END_EXIT,         /* LOOP_EXIT or LOOP_RETURN */
    CSIM_TRACE_END_SQUASHED,     /* past an earlier iteration's exit */
    CSIM_TRACE_END_RAISED        /* an exception */
} csim_trace_end;

typedef struct csim_trace_event {
    uint64_t cycle;
    int64_t iteration;           /* -1 for the main context's events but LOOP_BEGIN; the handle
                                    for task events */
    int64_t arg;                 /* per kind, above */
    int32_t kind;                /* csim_trace_kind */
    int32_t core;
    int32_t worker;              /* -1: the main context */
    int32_t seg;                 /* WAIT/SIGNAL: the segment */
} csim_trace_event;

/* Record events from now on, keeping at most limit (>= 1) of them; call before csim_run. Returns
   CSIM_OK, or CSIM_BAD_CONFIG for a limit below 1. */
int csim_trace_enable(csim_sim *sim, int64_t limit);
/* The events kept (NULL when tracing is off); *count gets how many, *dropped how many past the
   limit were not kept. The buffer lives until csim_free. */
const csim_trace_event *csim_trace_events(const csim_sim *sim, int64_t *count, int64_t *dropped);

#endif
