/* The public API: validate a config and a program, build the modeled machine, run it.
 *
 * Validation is complete, so that the dispatch loop in core.c needs no checks and no program can
 * crash it: every register operand is in range, every branch target is a pc, every array access
 * names a real array with the right number of indices, every segment number is below
 * CSIM_MAX_SEGMENTS, and the code ends in a terminator.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bpred.h"
#include "cache.h"
#include "core.h"
#include "ooo.h"
#include "sched.h"
#include "trace.h"
#include "opcodes.h"

#define SIM_MSG_SIZE 512
/* Bounds that keep latencies in the decoded instruction's 32 bits and the arithmetic of cycle
   counts far from overflow. */
#define MAX_LATENCY 1000000
#define MAX_ISSUE_WIDTH 64

struct csim_sim {
    cache *l1s;                  /* one per core */
    cache l2;
    bpred *bps;                  /* one per core */
    int32_t ncores;
    core core;
    sched sched;
    ooo ooo;                     /* the out-of-order core's state (core_model 1) */
    trace trace;                 /* used when tracing is enabled (sched.trace points to it) */
    csim_pc_stats *stats;
    csim_pc_stats *own_stats;    /* allocated when the caller passes no pc_stats */
    int32_t ncode;
    char msg[SIM_MSG_SIZE];
};

static int failf(char *err, int err_size, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && err_size > 0) {
        va_start(ap, fmt);
        vsnprintf(err, (size_t)err_size, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static int in_range(const char *field, int64_t value, int64_t lo, int64_t hi, char *err,
                    int err_size)
{
    if (value >= lo && value <= hi)
        return 1;
    return failf(err, err_size, "%s must be from %lld to %lld (got %lld)", field, (long long)lo,
                 (long long)hi, (long long)value);
}

static int is_pow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* The ring fields ring_init would reject, named as the machine config names them (checked
   whether or not ring_cache is on, as MachineConfig does). */
static int ring_geometry_ok(const csim_config *cfg, char *err, int err_size)
{
    int64_t set = cfg->ring_ways * 8;

    if (cfg->ring_size % set != 0 || !is_pow2(cfg->ring_size / set))
        return failf(err, err_size, "ring_size must be ring_ways * 8 (%lld * 8) times a power "
                     "of two, at most %d bytes (got %lld)", (long long)cfg->ring_ways, 1 << 20,
                     (long long)cfg->ring_size);
    if (cfg->smt == 3 || (cfg->smt >= 1 && cfg->smt <= 4 && cfg->cores * cfg->smt > CSIM_MAX_CORES))
        return failf(err, err_size, "smt must be 1, 2 or 4 with cores * smt at most %d (got "
                     "cores %lld, smt %lld)", (int)CSIM_MAX_CORES, (long long)cfg->cores,
                     (long long)cfg->smt);
    if (cfg->cores > 1 && cfg->l1_line < 8)
        return failf(err, err_size, "l1_line must be at least 8 bytes with cores > 1 (the "
                     "coherence directory's lines; got %lld)", (long long)cfg->l1_line);
    if (!is_pow2(cfg->ring_owner_line_bytes))
        return failf(err, err_size, "ring_owner_line_bytes must be a power of two from 8 to "
                     "4096 (got %lld)", (long long)cfg->ring_owner_line_bytes);
    return 1;
}

/* Whether the config describes a machine this model supports; if not, err says why. */
static int check_config(const csim_config *cfg, char *err, int err_size)
{
    const struct { const char *name; int64_t value, lo, hi; } fields[] = {
        {"issue_width", cfg->issue_width, 1, MAX_ISSUE_WIDTH},
        {"lat_int", cfg->lat_int, 1, MAX_LATENCY},
        {"lat_mul", cfg->lat_mul, 1, MAX_LATENCY},
        {"lat_div", cfg->lat_div, 1, MAX_LATENCY},
        {"lat_fadd", cfg->lat_fadd, 1, MAX_LATENCY},
        {"lat_fmul", cfg->lat_fmul, 1, MAX_LATENCY},
        {"lat_fdiv", cfg->lat_fdiv, 1, MAX_LATENCY},
        {"lat_sqrt", cfg->lat_sqrt, 1, MAX_LATENCY},
        {"lat_math", cfg->lat_math, 1, MAX_LATENCY},
        {"l1_latency", cfg->l1_latency, 1, MAX_LATENCY},
        {"l2_latency", cfg->l2_latency, 0, MAX_LATENCY},
        {"dram_latency", cfg->dram_latency, 0, MAX_LATENCY},
        {"bpred_kind", cfg->bpred_kind, 0, 1},
        {"bpred_table_bits", cfg->bpred_table_bits, 1, BPRED_MAX_TABLE_BITS},
        {"bpred_history_bits", cfg->bpred_history_bits, 0, BPRED_MAX_HISTORY_BITS},
        {"mispredict_penalty", cfg->mispredict_penalty, 0, MAX_LATENCY},
        {"max_instructions", cfg->max_instructions, 0, INT64_MAX},
        {"dram_channels", cfg->dram_channels, 1, DRAM_MAX_CHANNELS},
        {"dram_line_cycles", cfg->dram_line_cycles, 0, DRAM_MAX_CYCLES},
        {"cores", cfg->cores, 1, CSIM_MAX_CORES},
        {"smt", cfg->smt, 1, 4},
        {"smt_policy", cfg->smt_policy, 0, 1},
        {"dispatch_cost", cfg->dispatch_cost, 0, MAX_LATENCY},
        {"loop_start_cost", cfg->loop_start_cost, 0, MAX_LATENCY},
        {"loop_end_cost", cfg->loop_end_cost, 0, MAX_LATENCY},
        {"signal_latency", cfg->signal_latency, 0, MAX_LATENCY},
        {"signals", cfg->signals, 0, 2},
        {"ring_cache", cfg->ring_cache, 0, 1},
        {"ring_size", cfg->ring_size, 8, 1 << 20},
        {"ring_ways", cfg->ring_ways, 1, 64},
        {"ring_hit_latency", cfg->ring_hit_latency, 0, MAX_LATENCY},
        {"ring_inject_latency", cfg->ring_inject_latency, 0, MAX_LATENCY},
        {"ring_hop_latency", cfg->ring_hop_latency, 0, MAX_LATENCY},
        {"ring_data_bandwidth", cfg->ring_data_bandwidth, 1, 255},
        {"ring_signal_bandwidth", cfg->ring_signal_bandwidth, 1, 255},
        {"ring_owner_line_bytes", cfg->ring_owner_line_bytes, 8, 4096},
        {"ring_inject_queue", cfg->ring_inject_queue, 1, 1024},
        {"ring_signal_buffer", cfg->ring_signal_buffer, 1, 1024},
        {"c2c_latency", cfg->c2c_latency, 0, 1 << 20},
        {"upgrade_latency", cfg->upgrade_latency, 0, 1 << 20},
        {"check", cfg->check, 0, 1},
        {"core_model", cfg->core_model, 0, 1},
        {"rob_size", cfg->rob_size, 1, OOO_MAX_SIZE},
        {"iq_size", cfg->iq_size, 1, OOO_MAX_SIZE},
        {"lsq_size", cfg->lsq_size, 1, OOO_MAX_SIZE},
        {"smt_rob", cfg->smt_rob, 0, 1},
        {"smt_iq", cfg->smt_iq, 0, 1},
        {"smt_lsq", cfg->smt_lsq, 0, 1},
        {"ooo_wait_policy", cfg->ooo_wait_policy, 0, 1},
        {"relic_submit_cost", cfg->relic_submit_cost, 0, MAX_LATENCY},
        {"relic_wake_cost", cfg->relic_wake_cost, 0, MAX_LATENCY},
        {"relic_join_cost", cfg->relic_join_cost, 0, MAX_LATENCY},
        {"relic_queue", cfg->relic_queue, 1, 1024},
    };

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!in_range(fields[i].name, fields[i].value, fields[i].lo, fields[i].hi, err, err_size))
            return 0;
    return cache_geometry_ok("l1", cfg->l1_size, cfg->l1_assoc, cfg->l1_line, err, err_size)
           && cache_geometry_ok("l2", cfg->l2_size, cfg->l2_assoc, cfg->l2_line, err, err_size)
           && ring_geometry_ok(cfg, err, err_size)
           && ooo_config_ok(cfg, err, err_size);
}

static int check_arrays(const csim_program *p, char *err, int err_size)
{
    if (p->narrays < 0 || p->narrays > UINT16_MAX + 1)
        return failf(err, err_size, "narrays must be from 0 to %d (got %d)", UINT16_MAX + 1,
                     (int)p->narrays);
    if (p->narrays > 0 && p->arrays == NULL)
        return failf(err, err_size, "arrays is NULL but narrays is %d", (int)p->narrays);
    for (int32_t k = 0; k < p->narrays; k++) {
        const csim_array *arr = &p->arrays[k];
        int64_t size = 1;

        if (arr->dtype < CSIM_INT8 || arr->dtype > CSIM_BOOL)
            return failf(err, err_size, "array %d: dtype %d is not a csim_dtype", (int)k,
                         (int)arr->dtype);
        if (arr->ndim < 1 || arr->ndim > 3)
            return failf(err, err_size, "array %d: ndim must be 1 to 3 (got %d)", (int)k,
                         (int)arr->ndim);
        for (int d = 0; d < arr->ndim; d++) {
            if (arr->shape[d] < 0)
                return failf(err, err_size, "array %d: shape[%d] is negative (%lld)", (int)k, d,
                             (long long)arr->shape[d]);
            size *= arr->shape[d] > 0;
        }
        if (size != 0 && arr->host_addr == 0)
            return failf(err, err_size, "array %d: host_addr is NULL", (int)k);
    }
    return 1;
}

/* One register operand of the instruction at pc: in [0, nregs) when used, else -1. */
static int check_reg(const csim_program *p, int32_t pc, const char *field, int32_t reg, int used,
                     char *err, int err_size)
{
    const char *name = csim_op_table[p->code[pc].op].name;

    if (!used && reg != -1)
        return failf(err, err_size, "pc %d: %s does not use %s, which must be -1 (got %d)",
                     (int)pc, name, field, (int)reg);
    if (used && (reg < 0 || reg >= p->nregs))
        return failf(err, err_size, "pc %d: %s register %s=%d is out of range for %d registers",
                     (int)pc, name, field, (int)reg, (int)p->nregs);
    return 1;
}

static int check_instr(const csim_program *p, int32_t pc, char *err, int err_size)
{
    const csim_instr *in = &p->code[pc];

    if (in->op >= CSIM_NOPS)
        return failf(err, err_size, "pc %d: opcode %d is not in the table (%d opcodes)",
                     (int)pc, (int)in->op, (int)CSIM_NOPS);
    const csim_op_info *info = &csim_op_table[in->op];
    int nsrc = info->srcs[0] == '-' ? 0 : (int)strlen(info->srcs);

    if (info->cls == CLS_MEM) {
        if (in->aux >= p->narrays)
            return failf(err, err_size, "pc %d: %s names array %d but there are %d", (int)pc,
                         info->name, (int)in->aux, (int)p->narrays);
        nsrc = p->arrays[in->aux].ndim;     /* as many indices as the array has axes */
    }
    if (in->op == OP_PAR_BEGIN && in->a != -1)
        nsrc = 3;                           /* range(a, b, c); all -1 for an unbounded loop */
    if (!check_reg(p, pc, "a", in->a, nsrc > 0, err, err_size)
        || !check_reg(p, pc, "b", in->b, nsrc > 1, err, err_size)
        || !check_reg(p, pc, "c", in->c, nsrc > 2, err, err_size))
        return 0;

    switch (in->op) {
    case OP_JMP:
    case OP_BRT:
    case OP_BRF:
        if (in->dst < 0 || in->dst >= p->ncode)
            return failf(err, err_size, "pc %d: %s target %d is not a pc (0 to %d)", (int)pc,
                         info->name, (int)in->dst, (int)p->ncode - 1);
        return 1;
    case OP_RAISE:
        if (in->aux < CSIM_INDEX_ERROR || in->aux > CSIM_UNBOUND_LOCAL)
            return failf(err, err_size, "pc %d: RAISE status %d is not an exception status "
                         "(%d to %d)", (int)pc, (int)in->aux, (int)CSIM_INDEX_ERROR,
                         (int)CSIM_UNBOUND_LOCAL);
        return check_reg(p, pc, "dst", in->dst, 0, err, err_size);
    case OP_PAR_END:
        if (in->dst < 0 || in->dst >= p->ncode)
            return failf(err, err_size, "pc %d: PAR_END target %d is not a pc (0 to %d)", (int)pc,
                         (int)in->dst, (int)p->ncode - 1);
        if (pc == 0 || p->code[pc - 1].op != OP_PAR_BEGIN)
            return failf(err, err_size, "pc %d: PAR_END does not follow a PAR_BEGIN", (int)pc);
        return 1;
    case OP_RET:
    case OP_ITER_END:
    case OP_LOOP_EXIT:
    case OP_LOOP_RETURN:
        return check_reg(p, pc, "dst", in->dst, 0, err, err_size);
    case OP_PAR_BEGIN:
        if (in->aux > CSIM_MAX_SEGMENTS)
            return failf(err, err_size, "pc %d: PAR_BEGIN declares %d segments (at most %d)",
                         (int)pc, (int)in->aux, (int)CSIM_MAX_SEGMENTS);
        if (in->dst != 0 && in->dst != 1)
            return failf(err, err_size, "pc %d: PAR_BEGIN signals dst=%d is not 0 (uncoupled) or "
                         "1 (coupled)", (int)pc, (int)in->dst);
        if (pc + 2 >= p->ncode || p->code[pc + 1].op != OP_PAR_END)
            return failf(err, err_size, "pc %d: PAR_BEGIN is not followed by its PAR_END and the "
                         "first instruction of an iteration", (int)pc);
        return 1;
    case OP_SPAWN:
        if (in->dst < 0 || in->dst >= p->ncode || pc + 1 >= p->ncode)
            return failf(err, err_size, "pc %d: SPAWN continuation %d is not a pc, or no task "
                         "follows it", (int)pc, (int)in->dst);
        return 1;
    case OP_TASK_END:
    case OP_JOIN:
        if (in->aux > 0 && (in->dst < 0 || in->dst > p->nregs - in->aux))
            return failf(err, err_size, "pc %d: %s result registers %d to %d are out of range for "
                         "%d registers", (int)pc, info->name, (int)in->dst,
                         (int)in->dst + (int)in->aux - 1, (int)p->nregs);
        if (in->aux == 0 && in->dst != -1)
            return failf(err, err_size, "pc %d: %s has no results, so dst must be -1 (got %d)",
                         (int)pc, info->name, (int)in->dst);
        return 1;
    case OP_WAIT:
    case OP_SIGNAL:
        if (in->aux >= CSIM_MAX_SEGMENTS)
            return failf(err, err_size, "pc %d: %s segment %d is past the last possible one (%d)",
                         (int)pc, info->name, (int)in->aux, (int)CSIM_MAX_SEGMENTS - 1);
        return check_reg(p, pc, "dst", in->dst, 0, err, err_size);
    default:
        /* Everything else writes dst, or (STORE_*) reads the stored value from it. */
        return check_reg(p, pc, "dst", in->dst, 1, err, err_size);
    }
}

/* The reduction objects name 1-d arrays of CSIM_MAX_CORES int64, float64 or bool copies. */
static int check_reductions(const csim_program *p, char *err, int err_size)
{
    if (p->nreductions < 0 || (p->nreductions > 0 && p->reductions == NULL))
        return failf(err, err_size, "the program declares %d reductions but no table",
                     (int)p->nreductions);
    for (int32_t r = 0; r < p->nreductions; r++) {
        const csim_reduction *red = &p->reductions[r];
        if (red->op < CSIM_RED_ADD || red->op > CSIM_RED_LAST || red->ties < 0 || red->ties > 1)
            return failf(err, err_size, "reduction %d: op %d or ties %d out of range", (int)r,
                         (int)red->op, (int)red->ties);
        if (red->ncells < 1 || red->first_slot < 0 || red->first_slot + red->ncells > p->narrays
            || red->tag_slot < 0 || red->tag_slot >= p->narrays)
            return failf(err, err_size, "reduction %d: its arrays are not in the array table",
                         (int)r);
        for (int32_t k = -1; k < red->ncells; k++) {
            const csim_array *arr = &p->arrays[k < 0 ? red->tag_slot : red->first_slot + k];
            int dtype_ok = k < 0 ? arr->dtype == CSIM_INT64
                                 : arr->dtype == CSIM_INT64 || arr->dtype == CSIM_FLOAT64
                                       || arr->dtype == CSIM_BOOL;
            if (!dtype_ok || arr->ndim != 1 || arr->shape[0] < CSIM_MAX_CORES
                || arr->strides[0] != (arr->dtype == CSIM_BOOL ? 1 : 8))
                return failf(err, err_size, "reduction %d: array %d is not %d contiguous copies "
                             "of int64, float64 or bool (tags: int64)", (int)r,
                             (int)(arr - p->arrays), (int)CSIM_MAX_CORES);
        }
    }
    return 1;
}

static int check_program(const csim_program *p, char *err, int err_size)
{
    if (p->code == NULL || p->ncode < 1)
        return failf(err, err_size, "the program has no code");
    if (p->nregs < 0 || (p->nregs > 0 && p->regs == NULL))
        return failf(err, err_size, "the program has no register file for %d registers",
                     (int)p->nregs);
    if (!check_arrays(p, err, err_size))
        return 0;
    for (int32_t pc = 0; pc < p->ncode; pc++)
        if (!check_instr(p, pc, err, err_size))
            return 0;
    uint16_t last = p->code[p->ncode - 1].op;
    if (last != OP_JMP && last != OP_RET && last != OP_RAISE && last != OP_ITER_END
        && last != OP_LOOP_EXIT && last != OP_LOOP_RETURN && last != OP_TASK_END)
        return failf(err, err_size, "pc %d: the last instruction is %s, not JMP, RET, RAISE, "
                     "ITER_END, LOOP_EXIT, LOOP_RETURN or TASK_END (execution would run off the "
                     "end)",
                     (int)p->ncode - 1, csim_op_table[last].name);
    return check_reductions(p, err, err_size);
}

/* Give every context its out-of-order state (ooo.h) and switch the core to it. */
static int attach_ooo(csim_sim *sim, const csim_config *config)
{
    sched *s = &sim->sched;
    int st = ooo_init(&sim->ooo, config);

    if (st != CSIM_OK)
        return st;
    s->main.ooo = ooo_context(&sim->ooo, -1);
    ooo_ctx_reset(s->main.ooo, 0);
    for (int32_t k = 0; k < s->nworkers; k++)
        s->workers[k].ooo = ooo_context(&sim->ooo, k);
    sim->core.ooo_on = 1;
    sim->core.acquire = config->ooo_wait_policy == 1;
    return CSIM_OK;
}

csim_sim *csim_new(const csim_config *config, const csim_program *program,
                   csim_pc_stats *pc_stats, int *status, char *err, int err_size)
{
    int dummy, st;
    csim_sim *sim;

    if (status == NULL)
        status = &dummy;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    if (config == NULL || !check_config(config, err, err_size)) {
        if (config == NULL)
            failf(err, err_size, "config is NULL");
        *status = CSIM_BAD_CONFIG;
        return NULL;
    }
    if (program == NULL || !check_program(program, err, err_size)) {
        if (program == NULL)
            failf(err, err_size, "program is NULL");
        *status = CSIM_BAD_PROGRAM;
        return NULL;
    }
    sim = calloc(1, sizeof *sim);
    if (sim == NULL)
        goto no_memory;
    sim->ncode = program->ncode;
    sim->stats = pc_stats;
    if (pc_stats == NULL) {
        sim->own_stats = calloc((size_t)program->ncode, sizeof *sim->own_stats);
        if (sim->own_stats == NULL)
            goto no_memory;
        sim->stats = sim->own_stats;
    }
    sim->ncores = (int32_t)config->cores;
    sim->l1s = calloc((size_t)sim->ncores, sizeof *sim->l1s);
    sim->bps = calloc((size_t)sim->ncores, sizeof *sim->bps);
    if (sim->l1s == NULL || sim->bps == NULL)
        goto no_memory;
    st = cache_init(&sim->l2, config->l2_size, config->l2_assoc, config->l2_line);
    for (int32_t k = 0; k < sim->ncores && st == CSIM_OK; k++) {
        st = cache_init(&sim->l1s[k], config->l1_size, config->l1_assoc, config->l1_line);
        if (st == CSIM_OK)
            st = bpred_init(&sim->bps[k], config->bpred_kind, config->bpred_table_bits,
                            config->bpred_history_bits);
    }
    if (st == CSIM_OK)
        st = core_init(&sim->core, config, program, sim->stats, sim->msg, SIM_MSG_SIZE);
    if (st == CSIM_OK)
        st = sched_init(&sim->sched, config, program, &sim->core, sim->l1s, &sim->l2, sim->bps);
    if (st == CSIM_OK && config->core_model == 1)
        st = attach_ooo(sim, config);
    if (st == CSIM_BAD_CONFIG) {            /* a model's own check (the message names it) */
        failf(err, err_size, "%s", sim->msg);
        csim_free(sim);
        *status = CSIM_BAD_CONFIG;
        return NULL;
    }
    if (st != CSIM_OK)
        goto no_memory;
    *status = CSIM_OK;
    return sim;

no_memory:
    csim_free(sim);
    failf(err, err_size, "out of memory while building the simulated machine");
    *status = CSIM_NO_MEMORY;
    return NULL;
}

int csim_run(csim_sim *sim, uint64_t max_steps)
{
    return sched_step(&sim->sched, max_steps);
}

int32_t csim_fault_pc(const csim_sim *sim)
{
    return sim->sched.main.pc;
}

const char *csim_message(const csim_sim *sim)
{
    return sim->msg;
}

/* The contexts whose counters add up to the run's: the main context and the workers. */
static void add_ctx(csim_totals *out, const ctx *x)
{
    out->loads += x->loads;
    out->stores += x->stores;
    out->branches += x->branches;
    out->mispredicts += x->mispredicts;
}

void csim_get_totals(const csim_sim *sim, csim_totals *out)
{
    memset(out, 0, sizeof *out);
    for (int32_t pc = 0; pc < sim->ncode; pc++) {
        const csim_pc_stats *st = &sim->stats[pc];
        out->instructions += st->exec;
        for (int k = 0; k < CSIM_NCAT; k++)
            out->cat[k] += st->cycles[k];
    }
    out->cycles = sim->sched.main.cycle;
    add_ctx(out, &sim->sched.main);
    for (int32_t k = 0; k < sim->sched.nworkers; k++)
        add_ctx(out, &sim->sched.workers[k]);
    out->l2_hits = sim->l2.hits;
    out->l2_misses = sim->l2.misses;
    for (int32_t k = 0; k < sim->ncores; k++) {
        out->l1_hits += sim->l1s[k].hits;
        out->l1_misses += sim->l1s[k].misses;
    }
}

int csim_core_count(const csim_sim *sim)
{
    return sim->ncores;
}

/* Add context y's counters to out (idle is set by the caller). */
static void add_ctx_stats(csim_core_stats *out, const ctx *y)
{
    out->busy += y->busy;
    out->issue += y->cat[CSIM_CAT_BUSY];
    out->mem_l1 += y->cat[CSIM_CAT_MEM_L1];
    out->mem_l2 += y->cat[CSIM_CAT_MEM_L2];
    out->mem_dram += y->cat[CSIM_CAT_MEM_DRAM];
    out->branch += y->cat[CSIM_CAT_BRANCH];
    out->dependence += y->cat[CSIM_CAT_DEPENDENCE];
    out->comm += y->cat[CSIM_CAT_COMM];
    out->wait += y->wait;
    out->dispatch += y->dispatch;
    out->iterations += y->iterations;
    out->instructions += y->instructions;
}

/* idle: the run's cycles that nothing above accounts for, per context. */
static void set_idle(const sched *s, csim_core_stats *out, uint64_t contexts)
{
    uint64_t total = s->main.cycle * contexts, used = out->busy + out->wait + out->dispatch;
    out->idle = total > used ? total - used : 0;
}

int csim_context_count(const csim_sim *sim)
{
    return sim->sched.nworkers;
}

void csim_get_context_stats(const csim_sim *sim, int context, csim_core_stats *out)
{
    const sched *s = &sim->sched;

    memset(out, 0, sizeof *out);
    add_ctx_stats(out, &s->workers[context]);
    if (context == 0)                       /* the main context runs as worker 0's sibling */
        add_ctx_stats(out, &s->main);
    set_idle(s, out, 1);
}

void csim_get_core_stats(const csim_sim *sim, int core, csim_core_stats *out)
{
    const sched *s = &sim->sched;
    int32_t smt = s->nworkers / sim->ncores;

    memset(out, 0, sizeof *out);
    for (int32_t k = core * smt; k < (core + 1) * smt; k++)
        add_ctx_stats(out, &s->workers[k]);
    if (core == 0)                          /* the main context runs on core 0 too */
        add_ctx_stats(out, &s->main);
    set_idle(s, out, (uint64_t)smt);
}

int csim_loop_count(const csim_sim *sim, int *overflow)
{
    *overflow = sim->sched.stats_overflow;
    return sim->sched.nloop_stats;
}

void csim_get_loop_stats(const csim_sim *sim, int k, csim_loop_stats *out)
{
    if (k < 0 || k >= sim->sched.nloop_stats)
        memset(out, 0, sizeof *out);
    else
        *out = sim->sched.loop_stats[k];
}

void csim_get_dram_stats(const csim_sim *sim, csim_dram_stats *out)
{
    const dram_stats *d = &sim->sched.dram.stats;

    memset(out, 0, sizeof *out);
    if (!sim->sched.dram_on)
        return;
    out->accesses = d->accesses;
    out->queue_cycles = d->queue_cycles;
    out->max_queue_cycles = d->max_queue;
    out->pending_hits = d->pending_hits;
    out->pending_cycles = d->pending_cycles;
}

void csim_get_comm_stats(const csim_sim *sim, csim_comm_stats *out)
{
    const sched *s = &sim->sched;
    const ring_stats *r = &s->rc.stats;
    const coh_stats *c = &s->coh.stats;

    memset(out, 0, sizeof *out);
    if (s->ring_on) {
        out->ring_stores = r->stores;
        out->ring_data_hops = r->data_hops;
        out->ring_signals = r->signals;
        out->ring_signal_hops = r->signal_hops;
        out->ring_miss_messages = r->miss_messages;
        out->ring_link_stalls = r->link_stalls;
        out->ring_core_stalls = r->core_stalls;
        out->ring_peak_inject_queue = r->peak_inject_queue;
        out->ring_peak_signals = r->peak_signals;
        out->ring_hits = r->hits;
        out->ring_hits_in_flight = r->hits_in_flight;
        out->ring_misses = r->misses;
        out->ring_evictions = r->evictions;
        out->ring_writebacks = r->writebacks;
        out->ring_flushes = r->flushes;
        out->ring_private_loads = s->private_loads;
    }
    if (s->coh_on) {
        out->coh_c2c_transfers = c->c2c_transfers;
        out->coh_invalidations = c->invalidations;
        out->coh_upgrades = c->upgrades;
        out->coh_flag_transfers = c->flag_transfers;
    }
}

void csim_get_violation(const csim_sim *sim, csim_violation *out)
{
    const check_violation *v = &sim->sched.ck.first;

    memset(out, 0, sizeof *out);
    if (!sim->sched.check_on)
        return;
    out->kind = v->kind;
    out->pc = v->pc;
    out->iter = v->iter;
    out->other_pc = v->other_pc;
    out->other_iter = v->other_iter;
    out->addr = v->addr;
    out->tasks = sim->sched.check_tasks;
}

void csim_get_task_stats(const csim_sim *sim, csim_task_stats *out)
{
    const sched *s = &sim->sched;

    *out = s->task_stats;
    out->sibling_idle_cycles = 0;
    if (!s->inline_tasks) {
        const ctx *r = s->runner;
        uint64_t used = r->busy + r->wait + r->dispatch;
        out->sibling_idle_cycles = s->main.cycle > used ? s->main.cycle - used : 0;
    }
}

void csim_free(csim_sim *sim)
{
    if (sim == NULL)
        return;
    sched_free(&sim->sched);
    ooo_free(&sim->ooo);
    trace_free(&sim->trace);
    core_free(&sim->core);
    for (int32_t k = 0; k < sim->ncores; k++) {
        if (sim->bps != NULL)
            bpred_free(&sim->bps[k]);
        if (sim->l1s != NULL)
            cache_free(&sim->l1s[k]);
    }
    free(sim->bps);
    free(sim->l1s);
    cache_free(&sim->l2);
    free(sim->own_stats);
    free(sim);
}

int csim_trace_enable(csim_sim *sim, int64_t limit)
{
    if (limit < 1)
        return CSIM_BAD_CONFIG;
    trace_free(&sim->trace);
    trace_init(&sim->trace, limit);
    sim->sched.trace = &sim->trace;
    return CSIM_OK;
}

const csim_trace_event *csim_trace_events(const csim_sim *sim, int64_t *count, int64_t *dropped)
{
    *count = sim->trace.count;
    *dropped = sim->trace.dropped;
    return sim->trace.events;
}
