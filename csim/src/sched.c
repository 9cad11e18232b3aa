/* The scheduler: see sched.h for the execution model. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opcodes.h"
#include "sched.h"
#include "trace.h"

/* Ring slots per worker and segment: the in-flight limit keeps the signalled iterations past the
   watermark within 2 per worker, so 4 per worker never wrap over one still needed. */
#define RING_PER_WORKER 4
/* loop_step's answer when the loop ended by LOOP_RETURN: the kernel returned. */
#define SCHED_RETURNED 200

/* The ring cache, the coherence directory, the DRAM controller and the checker the config asks
   for. */
static int init_models(sched *s, const csim_config *config, core *c)
{
    int st;

    if (config->ring_cache) {
        ring_params p;
        ring_default_params(&p, config->cores);
        p.size_bytes = config->ring_size;
        p.ways = config->ring_ways;
        p.hit_latency = config->ring_hit_latency;
        p.inject_latency = config->ring_inject_latency;
        p.hop_latency = config->ring_hop_latency;
        p.data_bandwidth = config->ring_data_bandwidth;
        p.signal_bandwidth = config->ring_signal_bandwidth;
        p.owner_line_bytes = config->ring_owner_line_bytes;
        p.inject_queue = config->ring_inject_queue;
        p.signal_buffer = config->ring_signal_buffer;
        st = ring_init(&s->rc, &p, c->msg, (size_t)c->msg_size);
        if (st != CSIM_OK)
            return st;
        s->ring_on = 1;
    }
    if (config->cores > 1) {
        coh_params p;
        coh_default_params(&p);
        p.cores = config->cores;
        p.line_bytes = config->l1_line;
        p.c2c_latency = config->c2c_latency;
        p.upgrade_latency = config->upgrade_latency;
        if (!coh_params_ok(&p, c->msg, c->msg_size))
            return CSIM_BAD_CONFIG;
        st = coh_init(&s->coh, &p);
        if (st != CSIM_OK)
            return st;
        s->coh_on = 1;
    }
    if (config->dram_line_cycles > 0) {
        dram_params p;
        dram_default_params(&p);
        p.channels = config->dram_channels;
        p.line_cycles = config->dram_line_cycles;
        p.line_bytes = config->l2_line;
        p.latency = config->dram_latency;
        st = dram_init(&s->dram, &p, c->msg, (size_t)c->msg_size);
        if (st != CSIM_OK)
            return st;
        s->dram_on = 1;
    }
    if (config->check) {
        st = check_init(&s->ck, 0);
        if (st != CSIM_OK)
            return st;
        s->check_on = 1;
    }
    return CSIM_OK;
}

/* The simulated bytes [*lo, *hi) an array's elements may touch; 8 bytes past the last element
   (the widest dtype) so that the extent never falls short. */
static void array_extent(const csim_array *a, uint64_t *lo, uint64_t *hi)
{
    *lo = *hi = a->sim_addr;
    for (int32_t d = 0; d < a->ndim; d++) {
        if (a->shape[d] == 0) {
            *hi = *lo;
            return;
        }
        int64_t span = (a->shape[d] - 1) * a->strides[d];
        if (span < 0)
            *lo -= (uint64_t)-span;
        else
            *hi += (uint64_t)span;
    }
    *hi += 8;
}

/* out[k] = 1 for each array slot whose memory overlaps another's: the lowering marks a LOAD_RO
   by slot, so a store through an overlapping slot could write what it reads. */
static void mark_overlapping(const csim_array *arrays, int32_t n, uint8_t *out)
{
    for (int32_t i = 0; i < n; i++) {
        uint64_t lo1, hi1;
        array_extent(&arrays[i], &lo1, &hi1);
        for (int32_t j = 0; j < i; j++) {
            uint64_t lo2, hi2;
            array_extent(&arrays[j], &lo2, &hi2);
            if (lo1 < hi2 && lo2 < hi1)
                out[i] = out[j] = 1;
        }
    }
}

int sched_init(sched *s, const csim_config *config, const csim_program *program, core *c,
               cache *l1s, cache *l2, bpred *bps)
{
    int32_t ncores = (int32_t)config->cores, smt = (int32_t)config->smt;
    int32_t w = ncores * smt;

    memset(s, 0, sizeof *s);
    s->smt = smt;
    s->smt_policy = (int)config->smt_policy;
    s->core = c;
    s->code = program->code;
    s->nworkers = w;
    s->l1s = l1s;
    s->l2 = l2;
    s->lat_l1 = (uint64_t)config->l1_latency;
    s->lat_l2 = (uint64_t)config->l2_latency;
    s->lat_dram = (uint64_t)config->dram_latency;
    s->signal_latency = (uint64_t)config->signal_latency;
    s->signals = config->signals;
    s->dispatch_cost = (uint64_t)config->dispatch_cost;
    s->loop_start_cost = (uint64_t)config->loop_start_cost;
    s->loop_end_cost = (uint64_t)config->loop_end_cost;
    s->reductions = program->reductions;
    s->nreductions = program->nreductions;
    s->ring_size = (int64_t)RING_PER_WORKER * w;
    s->inline_tasks = smt == 1;
    if (!s->inline_tasks) {                 /* inline, a task is a plain (inlined) call */
        s->submit_cost = (uint64_t)config->relic_submit_cost;
        s->wake_cost = (uint64_t)config->relic_wake_cost;
        s->join_cost = (uint64_t)config->relic_join_cost;
    }
    s->queue_cap = config->relic_queue;
    s->workers = calloc((size_t)w, sizeof *s->workers);
    s->exit_msg = calloc(1, (size_t)c->msg_size);
    s->main_msg = calloc(1, (size_t)c->msg_size);
    if (s->main_msg == NULL)
        return CSIM_NO_MEMORY;
    s->unshadowed = calloc(program->narrays > 0 ? (size_t)program->narrays : 1, 1);
    s->overlapping = calloc(program->narrays > 0 ? (size_t)program->narrays : 1, 1);
    if (s->workers == NULL || s->exit_msg == NULL || s->unshadowed == NULL
        || s->overlapping == NULL)
        return CSIM_NO_MEMORY;
    mark_overlapping(program->arrays, program->narrays, s->overlapping);
    for (int32_t r = 0; r < program->nreductions; r++) {
        const csim_reduction *red = &program->reductions[r];
        s->unshadowed[red->tag_slot] = 1;
        for (int32_t cell = 0; cell < red->ncells; cell++)
            s->unshadowed[red->first_slot + cell] = 1;
    }
    int st = init_models(s, config, c);
    if (st != CSIM_OK)
        return st;
    if (ctx_init(&s->main, program->nregs, program->regs, 0, 0, &l1s[0], &bps[0]) != CSIM_OK)
        return CSIM_NO_MEMORY;
    s->main.slots = config->issue_width;     /* a full cycle 0: the first issue opens cycle 1 */
    s->main.state = CTX_READY;
    for (int32_t k = 0; k < w; k++) {
        if (ctx_init(&s->workers[k], program->nregs, NULL, k, k / smt, &l1s[k / smt],
                     &bps[k / smt]) != CSIM_OK)
            return CSIM_NO_MEMORY;
        s->workers[k].bp_thread = k % smt;   /* the main context shares context 0's history */
    }
    s->runner = &s->workers[smt > 1 ? 1 : 0];
    if (readyq_init(&s->ready, w) != CSIM_OK)
        return CSIM_NO_MEMORY;
    if (smt > 1) {
        s->issue = calloc((size_t)ncores, sizeof *s->issue);
        s->last_pick = calloc((size_t)ncores, sizeof *s->last_pick);
        if (s->issue == NULL || s->last_pick == NULL)
            return CSIM_NO_MEMORY;
        for (int32_t k = 0; k < ncores; k++)
            if (issue_init(&s->issue[k], config->issue_width) != CSIM_OK)
                return CSIM_NO_MEMORY;
        for (int32_t k = 0; k < w; k++)
            s->workers[k].issue = &s->issue[k / smt];
    }
    return CSIM_OK;
}

void sched_free(sched *s)
{
    if (s->ring_on)
        ring_free(&s->rc);
    if (s->coh_on)
        coh_free(&s->coh);
    if (s->check_on)
        check_free(&s->ck);
    if (s->dram_on)
        dram_free(&s->dram);
    free(s->sig_arrive);
    free(s->regs_at);
    free(s->regs_len);
    free(s->reg_pool);
    readyq_free(&s->ready);
    free(s->unshadowed);
    free(s->overlapping);
    if (s->workers != NULL)
        for (int32_t k = 0; k < s->nworkers; k++)
            ctx_free(&s->workers[k]);
    ctx_free(&s->main);
    if (s->issue != NULL)
        for (int32_t k = 0; k < s->nworkers / s->smt; k++)
            issue_free(&s->issue[k]);
    free(s->issue);
    free(s->last_pick);
    s->issue = NULL;
    free(s->workers);
    free(s->exit_msg);
    free(s->main_msg);
    for (int32_t k = 0; k < s->ntasks; k++)
        free(s->tasks[k].regs);
    free(s->tasks);
    s->tasks = NULL;
    s->ntasks = 0;
    free(s->wm);
    free(s->ring);
    free(s->inflight);
    free(s->wm_arrival);
    free(s->blocked);
    free(s->sig_blocked);
    free(s->undo);
    s->workers = NULL;
}

/* -- plug-in points ------------------------------------------------------------------------- */

/* The private L1 l1, then the shared L2, then DRAM (0 for a store, which still allocates), for
   an access issued at cycle t. With the DRAM model an L2 miss queues for its channel (a store's
   fill too, though the store buffer hides it), and an L2 hit on a line whose fill is still in
   flight waits for it (charged to DRAM). */
static uint64_t cache_path(sched *s, cache *l1, uint64_t addr, uint64_t t, int is_store,
                           unsigned *level)
{
    if (cache_access(l1, addr)) {
        if (level != NULL)
            *level = CSIM_CAT_MEM_L1;
        return is_store ? 0 : s->lat_l1;
    }
    uint64_t at_l2 = t + s->lat_l1 + s->lat_l2;
    if (cache_access(s->l2, addr)) {
        uint64_t fill = s->dram_on && !is_store ? dram_pending(&s->dram, addr, at_l2) : 0;
        if (level != NULL)
            *level = fill ? CSIM_CAT_MEM_DRAM : CSIM_CAT_MEM_L2;
        return is_store ? 0 : fill ? fill - t : s->lat_l1 + s->lat_l2;
    }
    if (level != NULL)
        *level = CSIM_CAT_MEM_DRAM;
    if (s->dram_on) {
        uint64_t ready = dram_read(&s->dram, addr, at_l2);
        return is_store ? 0 : ready - t;
    }
    return is_store ? 0 : s->lat_l1 + s->lat_l2 + s->lat_dram;
}

/* An access of core's L1 at cycle t through the coherent hierarchy: the cache levels, then the
   directory (a store invalidates the other copies; a load of a line another core wrote pays the
   transfer, charged to communication). */
static uint64_t coherent_path(sched *s, int32_t core, uint64_t addr, uint64_t t, int is_store,
                              unsigned *level)
{
    uint64_t lat = cache_path(s, &s->l1s[core], addr, t, is_store, level);
    if (!s->coh_on)
        return lat;
    coh_result r;
    int st = is_store ? coh_store(&s->coh, core, addr, (int64_t)t, &r)
                      : coh_load(&s->coh, core, addr, (int64_t)t, &r);
    if (st != CSIM_OK) {
        s->model_status = st;
        return lat;
    }
    for (uint64_t m = r.invalidated; m != 0; m &= m - 1)
        cache_invalidate(&s->l1s[__builtin_ctzll(m)], addr);
    if (is_store || r.extra <= 0)
        return lat;
    if (level != NULL)
        *level = CSIM_CAT_COMM;
    return lat + (uint64_t)r.extra;
}

/* The words the ring's owners just wrote back to their L1s are those cores' stores to the
   coherent hierarchy: other cores' copies of the lines go stale. */
static void apply_writebacks(sched *s)
{
    if (s->rc.nwritten == 0)                /* the common case: no eviction, no flush */
        return;
    int64_t n;
    const ring_writeback *w = ring_take_writebacks(&s->rc, &n);
    for (int64_t i = 0; i < n; i++)
        coherent_path(s, (int32_t)ring_owner(&s->rc, w[i].addr), w[i].addr, w[i].t, 1, NULL);
}

uint64_t sched_mem_latency(sched *s, ctx *x, uint64_t addr, uint64_t t, int is_store,
                           int shared, unsigned *level)
{
    if (!s->ring_on || x->nopen == 0)
        return coherent_path(s, x->core, addr, t, is_store, level);
    if (!shared) {                          /* not shared data: the L1 path, as outside segments */
        s->private_loads++;
        return coherent_path(s, x->core, addr, t, is_store, level);
    }
    uint64_t ready;
    if (is_store) {
        ready = ring_store(&s->rc, x->core, addr, t);
    } else {
        unsigned from = CSIM_CAT_COMM;
        ready = ring_load(&s->rc, x->core, addr, t);
        if (ready == RING_MISS) {           /* the owner fetches it through its L1 */
            int32_t owner = (int32_t)ring_owner(&s->rc, addr);
            uint64_t fetch = coherent_path(s, owner, addr, t, 0, &from);
            ready = ring_fill(&s->rc, x->core, addr, t, fetch);
        }
        if (level != NULL)
            *level = from;
    }
    apply_writebacks(s);                    /* a store or a fill may have evicted a dirty word */
    return ready - t;
}

uint64_t sched_signal_arrival(sched *s, int32_t seg, const sched_signal *sig, int32_t to)
{
    int32_t core = to / s->smt, from = sig->worker / s->smt;

    if (s->ring_on)
        return s->sig_arrive[(sig - s->ring) * s->nworkers + core];
    if (from == core)
        return sig->sent;
    if (s->coh_on) {
        int64_t at = coh_wait_release(&s->coh, core, seg, from, (int64_t)sig->sent,
                                      (int64_t)sig->sent);
        if (at >= 0)
            return (uint64_t)at;
    }
    return sig->sent + s->signal_latency;
}

int sched_check(sched *s, const ctx *x, int32_t slot, uint64_t addr, int is_store, int32_t pc,
                uint64_t cycle)
{
    if (s->unshadowed[slot])
        return CSIM_OK;
    int k = is_store ? check_write_at(&s->ck, addr, x->iteration, pc, cycle)
                     : check_read_at(&s->ck, addr, x->iteration, pc, cycle);
    if (k == CHECK_OK)
        return CSIM_OK;
    if (k < 0) {
        snprintf(s->core->msg, (size_t)s->core->msg_size, "out of memory for the checker's "
                 "shadow of the shared memory");
        return CSIM_NO_MEMORY;
    }
    s->check_tasks = s->ntasks > 0;
    if (s->check_tasks)
        snprintf(s->core->msg, (size_t)s->core->msg_size, "checking mode: the %s at pc %d broke "
                 "sequential order with the %s at pc %d", x == &s->main ? "continuation" : "task",
                 (int)s->ck.first.pc, s->ck.first.other_iter % 2 ? "continuation" : "task",
                 (int)s->ck.first.other_pc);
    else
        snprintf(s->core->msg, (size_t)s->core->msg_size, "checking mode: iteration %" PRId64
                 " at pc %d broke sequential order with iteration %" PRId64 " at pc %d",
                 s->ck.first.iter, (int)s->ck.first.pc, s->ck.first.other_iter,
                 (int)s->ck.first.other_pc);
    return CSIM_CHECK_VIOLATION;
}

int sched_log_store(sched *s, const ctx *x, unsigned char *addr, int size)
{
    /* In a loop the iterations' stores; between a spawn and its join the continuation's (a task
       that raises undoes those made after its spawn). */
    if (s->ntasks > 0 ? x != &s->main || s->running == NULL : x == &s->main)
        return CSIM_OK;
    if (s->nundo == s->undo_cap) {
        int64_t cap = s->undo_cap ? 2 * s->undo_cap : 4096;
        sched_undo *grown = realloc(s->undo, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return CSIM_NO_MEMORY;
        s->undo = grown;
        s->undo_cap = cap;
    }
    sched_undo *u = &s->undo[s->nundo++];
    u->addr = addr;
    u->iteration = x->iteration;
    u->size = size;
    u->old = 0;
    memcpy(&u->old, addr, (size_t)size);
    return CSIM_OK;
}

/* Drop the undo records no exit can reach any more: those of iterations below every running or
   future one. Amortized: runs when the log has doubled since the last time. */
static void prune_undo(sched *s)
{
    if (s->nundo < 2 * s->undo_pruned + 4096)
        return;
    int64_t low = INT64_MAX;
    for (int32_t k = 0; k < s->nworkers; k++) {
        const ctx *x = &s->workers[k];
        if (x->state != CTX_IDLE && x->iteration < low)
            low = x->iteration;
    }
    int64_t kept = 0;
    for (int64_t j = 0; j < s->nundo; j++)
        if (s->undo[j].iteration >= low)
            s->undo[kept++] = s->undo[j];
    s->nundo = kept;
    s->undo_pruned = kept;
}

/* -- loops ---------------------------------------------------------------------------------- */

static int failf(sched *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(sched *s, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->core->msg, (size_t)s->core->msg_size, fmt, ap);
    va_end(ap);
    return status;
}

/* len(range(start, stop, step)) for step != 0. */
static int64_t trip_count(int64_t start, int64_t stop, int64_t step)
{
    if (step > 0 && start < stop)
        return (int64_t)(((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1);
    if (step < 0 && start > stop)
        return (int64_t)(((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1);
    return 0;
}

/* Worker x's state or when changed: its key in the ready index (pick) follows. */
static inline void requeue(sched *s, const ctx *x)
{
    readyq_set(&s->ready, x->worker, x->state == CTX_READY ? x->when : UINT64_MAX);
}

static void start_iteration(sched *s, ctx *x, int64_t it, uint64_t at)
{
    ctx_start(x, &s->main, s->core->nregs, s->loop_regs, s->nloop_regs, s->begin_pc + 2, at,
              s->core->width);
    x->iteration = it;
    TRACE_EVENT(s->trace, CSIM_TRACE_ITER_BEGIN, at, x->core, x->worker, it, -1, 0);
}

/* The context's iteration is over (ended, exited, raised or squashed): start its next one, if
   any, after the dispatch cost. */
static void next_iteration(sched *s, ctx *x)
{
    int64_t it = x->iteration + s->nworkers;

    x->state = CTX_IDLE;
    if (it < s->trip && it < s->exit_iter && it >= 0) {
        x->dispatch += s->dispatch_cost;
        start_iteration(s, x, it, x->cycle + s->dispatch_cost);
    }
    x->keep_window = 0;                     /* kept for that iteration only */
}

/* Iteration it ends the loop (kind): squash every running iteration past it. */
static void set_exit(sched *s, int64_t it, sched_exit kind, int32_t worker, int32_t pc)
{
    if (it >= s->exit_iter)
        return;
    s->exit_iter = it;
    s->exit_kind = kind;
    s->exit_worker = worker;
    s->exit_pc = pc;
    for (int32_t k = 0; k < s->nworkers; k++) {
        ctx *y = &s->workers[k];
        if (y->state != CTX_IDLE && y->iteration > it) {
            y->state = CTX_IDLE;
            requeue(s, y);
            TRACE_EVENT(s->trace, CSIM_TRACE_ITER_END, y->cycle, y->core, y->worker, y->iteration,
                        -1, CSIM_TRACE_END_SQUASHED);
        }
    }
}

/* Set up copies 1.. of every reduction object from copy 0 (the value before the loop): the
   identity for + * & | ^, copy 0's value for the others; every copy's tag -1. */
static void init_copies(sched *s)
{
    const csim_array *arrays = s->core->arrays;

    for (int32_t r = 0; r < s->nreductions; r++) {
        const csim_reduction *red = &s->reductions[r];
        int64_t *tags = (int64_t *)(uintptr_t)arrays[red->tag_slot].host_addr;
        for (int32_t w = 0; w < s->nworkers; w++)
            tags[w] = -1;
        for (int32_t cell = 0; cell < red->ncells; cell++) {
            const csim_array *arr = &arrays[red->first_slot + cell];
            unsigned char *base = (unsigned char *)(uintptr_t)arr->host_addr;
            int is_float = arr->dtype == CSIM_FLOAT64, is_bool = arr->dtype == CSIM_BOOL;
            size_t size = is_bool ? 1 : 8;
            csim_value id;
            switch ((csim_reduce_op)red->op) {
            case CSIM_RED_ADD:
            case CSIM_RED_OR:
            case CSIM_RED_XOR:
                if (is_float)
                    id.f = -0.0;            /* x + -0.0 == x for every x, -0.0 included */
                else
                    id.i = 0;
                break;
            case CSIM_RED_MUL:
                if (is_float)
                    id.f = 1.0;
                else
                    id.i = 1;
                break;
            case CSIM_RED_AND:
                id.i = is_bool ? 1 : -1;
                break;
            default:
                id.i = 0;
                memcpy(&id, base, size);    /* min, max, arg*, last: start at copy 0's value */
                break;
            }
            for (int32_t w = 1; w < s->nworkers; w++)
                memcpy(base + (size_t)w * size, &id, size);
        }
    }
}

static csim_value copy_value(const csim_array *arr, int32_t w)
{
    const unsigned char *base = (const unsigned char *)(uintptr_t)arr->host_addr;
    csim_value v;

    v.i = 0;
    if (arr->dtype == CSIM_BOOL)
        v.i = base[w] != 0;
    else
        memcpy(&v, base + (size_t)w * 8, 8);
    return v;
}

static void set_copy(const csim_array *arr, int32_t w, csim_value v)
{
    unsigned char *base = (unsigned char *)(uintptr_t)arr->host_addr;

    if (arr->dtype == CSIM_BOOL)
        base[w] = v.i != 0;
    else
        memcpy(base + (size_t)w * 8, &v, 8);
}

/* Whether copy b's compared value beats copy a's; equal values go by the tags and ties. */
static int beats(const csim_reduction *red, int is_float, csim_value a, int64_t ta,
                 csim_value b, int64_t tb)
{
    int less = is_float ? b.f < a.f : b.i < a.i;
    int greater = is_float ? b.f > a.f : b.i > a.i;
    int want_less = red->op == CSIM_RED_MIN || red->op == CSIM_RED_ARGMIN;

    if (less || greater)
        return want_less ? less : greater;
    return red->ties ? tb > ta : tb < ta;
}

/* Fold the copies of an arithmetic reduction's cell into copy 0, in worker order. */
static int fold_cell(sched *s, const csim_reduction *red, const csim_array *arr)
{
    csim_value acc = copy_value(arr, 0);

    for (int32_t w = 1; w < s->nworkers; w++) {
        csim_value v = copy_value(arr, w);
        int overflow = 0;
        if (arr->dtype == CSIM_FLOAT64) {
            acc.f = red->op == CSIM_RED_ADD ? acc.f + v.f : acc.f * v.f;
            continue;
        }
        switch ((csim_reduce_op)red->op) {
        case CSIM_RED_ADD: overflow = __builtin_add_overflow(acc.i, v.i, &acc.i); break;
        case CSIM_RED_MUL: overflow = __builtin_mul_overflow(acc.i, v.i, &acc.i); break;
        case CSIM_RED_AND: acc.i &= v.i; break;
        case CSIM_RED_OR: acc.i |= v.i; break;
        default: acc.i ^= v.i; break;
        }
        if (overflow)
            return failf(s, CSIM_OVERFLOW, "integer overflow: the reduction's combined value does "
                         "not fit in the simulator's 64-bit ints");
    }
    set_copy(arr, 0, acc);
    return CSIM_OK;
}

/* Combine every reduction object's copies into copy 0 (the main context's). */
static int combine_copies(sched *s)
{
    const csim_array *arrays = s->core->arrays;

    for (int32_t r = 0; r < s->nreductions; r++) {
        const csim_reduction *red = &s->reductions[r];
        int64_t *tags = (int64_t *)(uintptr_t)arrays[red->tag_slot].host_addr;
        const csim_array *first = &arrays[red->first_slot];
        int32_t best = 0;

        if (red->op <= CSIM_RED_XOR) {
            for (int32_t cell = 0; cell < red->ncells; cell++) {
                int st = fold_cell(s, red, &arrays[red->first_slot + cell]);
                if (st != CSIM_OK)
                    return st;
            }
        } else if (red->op == CSIM_RED_LAST) {
            for (int32_t w = 1; w < s->nworkers; w++)
                if (tags[w] > tags[best])
                    best = w;
        } else {
            int is_float = first->dtype == CSIM_FLOAT64;
            for (int32_t w = 1; w < s->nworkers; w++)
                if (beats(red, is_float, copy_value(first, best), tags[best],
                          copy_value(first, w), tags[w]))
                    best = w;
        }
        for (int32_t cell = 0; best != 0 && cell < red->ncells; cell++) {
            const csim_array *arr = &arrays[red->first_slot + cell];
            set_copy(arr, 0, copy_value(arr, best));
        }
        tags[0] = -1;
    }
    return CSIM_OK;
}

/* The stats entry of the loop at pc (a new one on its first run), or NULL past the limits. */
static csim_loop_stats *loop_entry(sched *s, int32_t pc, int32_t segments)
{
    csim_loop_stats *e = NULL;

    for (int32_t k = 0; k < s->nloop_stats && e == NULL; k++)
        if (s->loop_stats[k].pc == pc)
            e = &s->loop_stats[k];
    if (e == NULL && s->nloop_stats < CSIM_STAT_LOOPS) {
        e = &s->loop_stats[s->nloop_stats++];
        e->pc = pc;
        e->segments = segments;
    }
    if (e == NULL || segments > CSIM_STAT_SEGMENTS)
        s->stats_overflow = 1;
    return e;
}

/* Whether op ends a path through a loop body (no fall-through to the next pc). */
static int ends_path(int op)
{
    return op == OP_JMP || op == OP_RET || op == OP_RAISE || op == OP_ITER_END
           || op == OP_LOOP_EXIT || op == OP_LOOP_RETURN;
}

/* Sets s->loop_regs to the registers that the iterations of the loop at PAR_BEGIN pc begin can
   read or write, so that a worker copies only those at each iteration's start (a big kernel has
   hundreds of registers and a loop may run a few iterations per worker): every operand field of
   the body, begin + 2 up to PAR_END's target, when control cannot leave the body but by its
   exits (branch targets inside, no fall-through out, no task). Otherwise NULL: all registers.
   Computed at the loop's first run. Returns CSIM_OK or CSIM_NO_MEMORY. */
static int loop_registers(sched *s, int32_t begin)
{
    const csim_instr *code = s->code;
    int32_t ncode = s->core->ncode, nregs = s->core->nregs;

    if (s->regs_at == NULL) {
        s->regs_at = calloc((size_t)ncode, sizeof *s->regs_at);
        s->regs_len = calloc((size_t)ncode, sizeof *s->regs_len);
        if (s->regs_at == NULL || s->regs_len == NULL)
            return CSIM_NO_MEMORY;
    }
    if (s->regs_at[begin] == 0) {
        int32_t lo = begin + 2, hi = begin + 1 < ncode && code[begin + 1].op == OP_PAR_END
                                         ? code[begin + 1].dst : -1;
        /* the list names each register at most once */
        int64_t most = (int64_t)s->reg_pool_len + nregs;
        int ok = lo < hi && hi <= ncode && ends_path(code[hi - 1].op) && most <= INT32_MAX;
        for (int32_t pc = lo; ok && pc < hi; pc++) {
            int op = code[pc].op;
            if (op == OP_JMP || op == OP_BRT || op == OP_BRF)
                ok = code[pc].dst >= lo && code[pc].dst < hi;
            else if (op == OP_SPAWN || op == OP_TASK_END || op == OP_JOIN || op == OP_PAR_BEGIN
                     || op == OP_PAR_END)
                ok = 0;
        }
        s->regs_at[begin] = -1;
        if (ok) {
            if (most > s->reg_pool_cap) {
                int32_t *pool = realloc(s->reg_pool, (size_t)most * sizeof *pool);
                if (pool == NULL)
                    return CSIM_NO_MEMORY;
                s->reg_pool = pool;
                s->reg_pool_cap = (int32_t)most;
            }
            unsigned char *seen = calloc(nregs > 0 ? (size_t)nregs : 1, 1);
            if (seen == NULL)
                return CSIM_NO_MEMORY;
            int32_t start = s->reg_pool_len;
            for (int32_t pc = lo; pc < hi; pc++) {
                /* any field that names a register (a pc or a flag among them costs a copy) */
                const int32_t f[4] = {code[pc].dst, code[pc].a, code[pc].b, code[pc].c};
                for (int k = 0; k < 4; k++)
                    if (f[k] >= 0 && f[k] < nregs && !seen[f[k]]) {
                        seen[f[k]] = 1;
                        s->reg_pool[s->reg_pool_len++] = f[k];
                    }
            }
            free(seen);
            s->regs_at[begin] = start + 1;
            s->regs_len[begin] = s->reg_pool_len - start;
        }
    }
    s->loop_regs = s->regs_at[begin] < 0 ? NULL : s->reg_pool + (s->regs_at[begin] - 1);
    s->nloop_regs = s->regs_at[begin] < 0 ? 0 : s->regs_len[begin];
    return CSIM_OK;
}

/* The main context reached PAR_BEGIN (issued at its clock). */
static int begin_loop(sched *s)
{
    ctx *m = &s->main;
    const csim_instr *in = &s->code[m->pc];
    int32_t w = s->nworkers;
    size_t nseg = in->aux > 0 ? in->aux : 1;

    if (s->ntasks > 0)
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: a parallel loop starts while task %" PRId64
                     " is not joined: join the tasks before the loop", (int)m->pc,
                     s->tasks[0].handle);
    s->begin_pc = m->pc;
    s->trip = INT64_MAX;
    if (in->a >= 0) {
        int64_t step = m->regs[in->c].i;
        if (step == 0)
            return failf(s, CSIM_VALUE_ERROR, "range() arg 3 must not be zero");
        s->trip = trip_count(m->regs[in->a].i, m->regs[in->b].i, step);
    }
    s->segments = in->aux;
    s->coupled = in->dst == 1;
    if (s->signals != 2 && s->coupled != (s->signals == 1))
        return failf(s, CSIM_BAD_PARALLEL, "the parallel loop at pc %d was transformed with %s "
                     "signals, but the machine's signals field is %s: transform it for this "
                     "machine (helixrc.transform(..., machine=...))", (int)m->pc,
                     s->coupled ? "coupled" : "uncoupled", s->coupled ? "uncoupled" : "coupled");
    if (loop_registers(s, s->begin_pc) != CSIM_OK)
        return failf(s, CSIM_NO_MEMORY, "out of memory starting a parallel loop");
    s->exit_iter = INT64_MAX;
    s->exit_kind = SCHED_EXIT_NONE;
    free(s->wm);
    free(s->ring);
    free(s->inflight);
    free(s->wm_arrival);
    free(s->blocked);
    free(s->sig_blocked);
    /* Each row is written by its signal's ring_signal before anything reads it, so the array
       needs no clearing and is kept for the next loop (a fresh one per loop cost more host time
       than many short loops' simulation). */
    size_t arrivals = nseg * (size_t)s->ring_size * (size_t)w;
    if (s->ring_on && arrivals > s->sig_arrive_cap) {
        free(s->sig_arrive);
        s->sig_arrive_cap = 0;
        s->sig_arrive = malloc(arrivals * sizeof *s->sig_arrive);
        if (s->sig_arrive == NULL)
            return failf(s, CSIM_NO_MEMORY, "out of memory starting a parallel loop");
        s->sig_arrive_cap = arrivals;
    }
    if (s->check_on)
        check_reset(&s->ck);
    s->checking = s->check_on;
    s->wm = calloc(nseg, sizeof *s->wm);
    s->ring = malloc(nseg * (size_t)s->ring_size * sizeof *s->ring);
    s->inflight = calloc(nseg * (size_t)w, sizeof *s->inflight);
    s->wm_arrival = calloc(nseg * (size_t)w, sizeof *s->wm_arrival);
    s->blocked = calloc(nseg, sizeof *s->blocked);
    s->sig_blocked = calloc(nseg, sizeof *s->sig_blocked);
    if (s->wm == NULL || s->ring == NULL || s->inflight == NULL || s->wm_arrival == NULL
        || s->blocked == NULL || s->sig_blocked == NULL)
        return failf(s, CSIM_NO_MEMORY, "out of memory starting a parallel loop");
    for (size_t j = 0; j < nseg * (size_t)s->ring_size; j++)
        s->ring[j].iteration = -1;
    init_copies(s);
    s->nundo = 0;
    s->undo_pruned = 0;
    s->undo_on = 1;
    s->active = 1;
    s->loops++;
    s->cur = loop_entry(s, s->begin_pc, s->segments);
    s->loop_begin = m->cycle;
    m->state = CTX_IDLE;
    TRACE_EVENT(s->trace, CSIM_TRACE_LOOP_BEGIN, m->cycle, 0, -1,
                s->trip == INT64_MAX ? -1 : s->trip, s->segments, s->begin_pc);
    uint64_t at = m->cycle + s->loop_start_cost;
    for (int32_t k = 0; k < w; k++) {
        ctx *x = &s->workers[k];
        x->state = CTX_IDLE;
        x->iteration = -1;
        if (x->cycle < m->cycle)            /* idle since its last loop (its idle time) */
            x->cycle = m->cycle;
        if (k < s->trip) {
            x->dispatch += at - x->cycle;
            start_iteration(s, x, k, at);
        }
        requeue(s, x);
    }
    return CSIM_OK;
}

/* Every worker is idle: the loop is over. Returns CSIM_OK when the main context goes on. */
static int end_loop(sched *s)
{
    ctx *m = &s->main;
    uint64_t end = m->cycle;

    for (int32_t k = 0; k < s->nworkers; k++)
        if (s->workers[k].cycle > end)
            end = s->workers[k].cycle;
    if (s->ring_on) {                       /* the owners write the dirty words back */
        uint64_t flushed = ring_flush(&s->rc, end);
        apply_writebacks(s);
        m->busy += flushed - end;
        m->cat[CSIM_CAT_COMM] += flushed - end;
        end = flushed;
    }
    s->checking = 0;
    /* Undo the stores of the iterations past the exit, newest first. */
    for (int64_t j = s->nundo - 1; j >= 0; j--) {
        const sched_undo *u = &s->undo[j];
        if (u->iteration > s->exit_iter)
            memcpy(u->addr, &u->old, (size_t)u->size);
    }
    s->nundo = 0;
    s->undo_on = 0;
    s->active = 0;
    m->cycle = m->when = end;
    m->state = CTX_READY;
    TRACE_EVENT(s->trace, CSIM_TRACE_LOOP_END, end, 0, -1, -1, -1,
                s->exit_iter == INT64_MAX ? -1 : s->exit_iter);
    if (s->cur != NULL) {
        int resumes = s->exit_kind == SCHED_EXIT_NONE || s->exit_kind == SCHED_EXIT_BREAK;
        s->cur->invocations++;
        s->cur->iterations += (uint64_t)(s->exit_iter == INT64_MAX ? s->trip : s->exit_iter + 1);
        s->cur->cycles += end + (resumes ? s->loop_end_cost : 0) - s->loop_begin;
    }
    switch (s->exit_kind) {
    case SCHED_EXIT_RAISE:
        m->pc = s->exit_pc;
        snprintf(s->core->msg, (size_t)s->core->msg_size, "%s", s->exit_msg);
        return s->exit_status;
    case SCHED_EXIT_RETURN:
        if (s->loop_regs == NULL) {
            memcpy(m->regs, s->workers[s->exit_worker].regs,
                   (size_t)s->core->nregs * sizeof *m->regs);
        } else {                            /* the others are main's: the loop never wrote them */
            for (int32_t k = 0; k < s->nloop_regs; k++)
                m->regs[s->loop_regs[k]] = s->workers[s->exit_worker].regs[s->loop_regs[k]];
        }
        m->pc = s->exit_pc;
        s->core->msg[0] = '\0';
        return CSIM_OK;
    default:
        break;
    }
    int32_t pc = s->begin_pc + 1;           /* PAR_END */
    int st = combine_copies(s);
    if (st != CSIM_OK) {
        m->pc = pc;
        return st;
    }
    s->core->stats[pc].exec++;           /* PAR_END: the main context's next instruction */
    s->core->instructions++;
    m->instructions++;
    m->dispatch += s->loop_end_cost;
    m->cycle = m->when = end + s->loop_end_cost;
    m->slots = s->core->width;
    m->pc = s->core->code[pc].target;
    return CSIM_OK;
}

/* -- segments ------------------------------------------------------------------------------- */

/* Whether WAIT seg by x is released; if so *at is when its signals arrive at x. */
static int wait_released(sched *s, const ctx *x, int32_t seg, uint64_t *at)
{
    int64_t i = x->iteration;

    *at = 0;
    if (i == 0)
        return 1;
    if (s->coupled) {
        const sched_signal *sig = &s->ring[(int64_t)seg * s->ring_size + (i - 1) % s->ring_size];
        if (sig->iteration != i - 1)
            return 0;
        *at = sched_signal_arrival(s, seg, sig, x->worker);
        return 1;
    }
    if (s->wm[seg] < i)
        return 0;
    *at = s->wm_arrival[(int64_t)seg * s->nworkers + (s->ring_on ? x->core : x->worker)];
    return 1;
}

static void block(sched *s, ctx *x, int32_t seg, int in_signal)
{
    s->blocked[seg] |= UINT64_C(1) << x->worker;
    if (in_signal)
        s->sig_blocked[seg] |= UINT64_C(1) << x->worker;
    x->state = CTX_WAITING;
    x->wait_seg = seg;
    x->wait_signal = in_signal;
}

/* Move x's clock forward to at (if later), as waiting time. */
static void wait_until(ctx *x, uint64_t at)
{
    if (at > x->cycle) {
        x->wait += at - x->cycle;
        x->cycle = at;
    }
    x->when = x->cycle;
}

/* The stats of segment seg of the running loop, or NULL past the limits. */
static csim_segment_stats *seg_stats(sched *s, int32_t seg)
{
    return s->cur != NULL && seg < CSIM_STAT_SEGMENTS ? &s->cur->seg[seg] : NULL;
}

/* WAIT seg by x is released with its signals arriving at at: x waits until then and enters the
   segment. */
static void enter_segment(sched *s, ctx *x, int32_t seg, uint64_t at)
{
    csim_segment_stats *st = seg_stats(s, seg);
    uint64_t waited = at > x->cycle ? at - x->cycle : 0;

    if (x->wait_pending)                    /* OoO acquire: the WAIT retires at its release */
        waited = core_release_wait(s->core, x, at);
    else
        wait_until(x, at);
    if (st != NULL) {
        st->instances++;
        st->wait_cycles += waited;
    }
    TRACE_EVENT(s->trace, CSIM_TRACE_WAIT_RELEASE, x->cycle, x->core, x->worker, x->iteration,
                seg, x->iteration - 1);
    x->pc++;                                /* past the WAIT */
    ctx_open_segment(x, seg);
    if (seg < CSIM_STAT_SEGMENTS) {
        x->seg_cycle[seg] = x->cycle;
        x->seg_instr[seg] = x->instructions;
    }
}

/* SIGNAL seg by x at its clock: the length of the segment it closes (none on a skip path). */
static void leave_segment(sched *s, ctx *x, int32_t seg)
{
    csim_segment_stats *st = seg_stats(s, seg);

    if (st != NULL && (x->open_segs[seg / 64] >> (seg % 64) & 1)) {
        st->closed++;
        st->cycles += x->cycle - x->seg_cycle[seg];
        st->instructions += x->instructions - x->seg_instr[seg];
    }
    ctx_close_segment(x, seg);
}

static int do_signal(sched *s, ctx *x, int32_t seg);

/* Wake the contexts among `maybe` blocked on seg that an event at cycle now released, in worker
   order. The set is narrowed afresh at each step to s->blocked[seg] (a signal that goes through
   here may wake others in turn). */
static void wake(sched *s, int32_t seg, uint64_t now, uint64_t maybe)
{
    uint64_t *blocked = &s->blocked[seg];

    for (uint64_t later = *blocked & maybe; later != 0; ) {
        int32_t k = __builtin_ctzll(later);
        uint64_t bit = UINT64_C(1) << k, past = ~(bit | (bit - 1)) & maybe;
        ctx *y = &s->workers[k];
        uint64_t at = now;
        later = *blocked & past;
        if (y->state != CTX_WAITING || y->wait_seg != seg) {
            *blocked &= ~bit;
            continue;
        }
        if (y->wait_signal) {
            if (s->inflight[(int64_t)seg * s->nworkers + k] >= SCHED_MAX_INFLIGHT)
                continue;
            /* Its SIGNAL, issued when it stalled, goes through now (under the limit, it cannot
               stall again; the watermark it moves may wake others in turn). */
            *blocked &= ~bit;
            wait_until(y, now);
            y->state = CTX_READY;
            requeue(s, y);
            do_signal(s, y, seg);
            y->pc++;
            later = *blocked & past;
            continue;
        }
        if (!wait_released(s, y, seg, &at))
            continue;
        *blocked &= ~bit;
        enter_segment(s, y, seg, at);
        y->state = CTX_READY;
        requeue(s, y);
    }
}

/* The workers whose WAIT the watermark's move from wm0 to wm1 may release (uncoupled): those
   running iterations wm0 + 1 to wm1, which worker i % nworkers runs (round-robin). */
static uint64_t released_by(const sched *s, int64_t wm0, int64_t wm1)
{
    int32_t w = s->nworkers;
    uint64_t all = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1, m = 0;

    if (wm1 - wm0 >= w)
        return all;
    for (int64_t i = wm0 + 1; i <= wm1; i++)
        m |= UINT64_C(1) << (i % w);
    return m;
}

/* The watermark of seg moves past next: each worker's release time becomes at least next's
   arrival at it. With the ring a signal arrives at a core's contexts together, so the release
   times are kept per core (the first `cores` entries of the row), raised from next's row of
   sig_arrive directly (the per-worker call was a large share of host time on SMT machines). */
static void raise_arrivals(sched *s, int32_t seg, const sched_signal *next, uint64_t *arrival)
{
    int32_t w = s->nworkers;

    if (s->ring_on) {
        const uint64_t *row = &s->sig_arrive[(next - s->ring) * w];
        for (int32_t c = 0, n = w / s->smt; c < n; c++)
            arrival[c] = row[c] > arrival[c] ? row[c] : arrival[c];
        return;
    }
    for (int32_t r = 0; r < w; r++) {
        uint64_t at = sched_signal_arrival(s, seg, next, r);
        if (at > arrival[r])
            arrival[r] = at;
    }
}

/* SIGNAL seg by x: returns 1 if it went through, 0 if x stalls on the in-flight limit. */
static int do_signal(sched *s, ctx *x, int32_t seg)
{
    int32_t w = s->nworkers;
    int32_t *inflight = &s->inflight[(int64_t)seg * w];
    sched_signal *ring = &s->ring[(int64_t)seg * s->ring_size];
    uint64_t *arrival = &s->wm_arrival[(int64_t)seg * w];

    if (inflight[x->worker] >= SCHED_MAX_INFLIGHT) {
        block(s, x, seg, 1);
        return 0;
    }
    TRACE_EVENT(s->trace, CSIM_TRACE_SIGNAL, x->cycle, x->core, x->worker, x->iteration, seg, 0);
    sched_signal *sig = &ring[x->iteration % s->ring_size];
    sig->iteration = x->iteration;
    sig->sent = x->cycle;
    sig->worker = x->worker;
    inflight[x->worker]++;
    leave_segment(s, x, seg);
    if (s->ring_on) {                       /* the signal follows the data on the ring */
        uint64_t go = ring_signal(&s->rc, x->core, x->cycle,
                                  &s->sig_arrive[(sig - s->ring) * w]);
        x->busy += go - x->cycle;           /* a full signal buffer stalls the core */
        x->cat[CSIM_CAT_COMM] += go - x->cycle;
        x->cycle = go;
    } else if (s->coh_on) {                 /* a store to the flag line waiters spin on */
        coh_result r;
        int st = coh_signal(&s->coh, x->core, seg, (int64_t)x->cycle, &r);
        if (st != CSIM_OK)
            s->model_status = st;
    }
    /* Advance the watermark over consecutive signalled iterations. */
    int64_t wm0 = s->wm[seg];
    for (;;) {
        int64_t j = s->wm[seg];
        const sched_signal *next = &ring[j % s->ring_size];
        if (next->iteration != j)
            break;
        if (!s->coupled)                    /* coupled: wait_released */
            raise_arrivals(s, seg, next, arrival);
        inflight[next->worker]--;
        s->wm[seg] = j + 1;
    }
    /* Uncoupled, a blocked context is released only by the watermark (its WAIT) or by an
       in-flight count falling below the limit (its SIGNAL), and both move only with the
       watermark; coupled, this very signal may release the next iteration's WAIT. */
    if (s->coupled)
        wake(s, seg, x->cycle, ~UINT64_C(0));
    else if (s->wm[seg] != wm0)
        wake(s, seg, x->cycle, released_by(s, wm0, s->wm[seg]) | s->sig_blocked[seg]);
    return 1;
}

static int spawn(sched *s);
static int join(sched *s);

/* x stopped at the SYNC instruction at its pc (issued at its clock). */
static int sync_op(sched *s, ctx *x)
{
    const csim_instr *in = &s->code[x->pc];
    const char *name = csim_op_table[in->op].name;

    if (x == &s->main) {
        if (in->op == OP_PAR_BEGIN)
            return begin_loop(s);
        if (in->op == OP_SPAWN)
            return spawn(s);
        if (in->op == OP_JOIN)
            return join(s);
        if (in->op == OP_TASK_END)
            return failf(s, CSIM_BAD_PARALLEL, "pc %d: TASK_END outside a task", (int)x->pc);
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: %s outside a parallel loop", (int)x->pc, name);
    }
    switch ((csim_opcode)in->op) {
    case OP_WAIT:
    case OP_SIGNAL:
        if (in->aux >= s->segments)
            return failf(s, CSIM_BAD_PARALLEL, "pc %d: %s %d in iteration %" PRId64 " of the "
                         "parallel loop at pc %d, which declares %d segments", (int)x->pc, name,
                         (int)in->aux, x->iteration, (int)s->begin_pc, (int)s->segments);
        if (in->op == OP_SIGNAL) {
            if (do_signal(s, x, in->aux))
                x->pc++;
            return CSIM_OK;
        }
        uint64_t at;
        TRACE_EVENT(s->trace, CSIM_TRACE_WAIT_START, x->cycle, x->core, x->worker, x->iteration,
                    in->aux, 0);
        if (!wait_released(s, x, in->aux, &at)) {
            block(s, x, in->aux, 0);
            return CSIM_OK;
        }
        enter_segment(s, x, in->aux, at);
        return CSIM_OK;
    case OP_ITER_END:
        x->iterations++;
        TRACE_EVENT(s->trace, CSIM_TRACE_ITER_END, x->cycle, x->core, x->worker, x->iteration, -1,
                    CSIM_TRACE_END_NEXT);
        next_iteration(s, x);
        return CSIM_OK;
    case OP_LOOP_EXIT:
    case OP_LOOP_RETURN:
        x->iterations++;
        TRACE_EVENT(s->trace, CSIM_TRACE_ITER_END, x->cycle, x->core, x->worker, x->iteration, -1,
                    CSIM_TRACE_END_EXIT);
        set_exit(s, x->iteration, in->op == OP_LOOP_EXIT ? SCHED_EXIT_BREAK : SCHED_EXIT_RETURN,
                 x->worker, x->pc);
        x->state = CTX_IDLE;                /* no iteration past the exit starts */
        return CSIM_OK;
    case OP_SPAWN:
    case OP_JOIN:
    case OP_TASK_END:
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: %s inside iteration %" PRId64 " of the "
                     "parallel loop at pc %d: tasks are spawned and joined outside parallel "
                     "loops", (int)x->pc, name, x->iteration, (int)s->begin_pc);
    default:
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: %s inside iteration %" PRId64 " of the "
                     "parallel loop at pc %d: one parallel loop runs at a time", (int)x->pc, name,
                     x->iteration, (int)s->begin_pc);
    }
}

/* No context is ready but some wait: name the lowest waiting iteration and what it waits for. */
static int deadlock(sched *s, const ctx *low)
{
    for (int32_t k = 0; k < s->nworkers; k++) {
        const ctx *y = &s->workers[k];
        if (y->state == CTX_WAITING && y->iteration < low->iteration)
            low = y;
    }
    s->main.pc = low->pc;
    if (low->wait_signal)
        return failf(s, CSIM_DEADLOCK, "deadlock in the parallel loop at pc %d: segment %d: "
                     "iteration %" PRId64 " cannot signal at pc %d with %d signals of its core "
                     "in flight, and iteration %" PRId64 " never signals", (int)s->begin_pc,
                     (int)low->wait_seg, low->iteration, (int)low->pc, SCHED_MAX_INFLIGHT,
                     s->wm[low->wait_seg]);
    int64_t awaited = s->coupled ? low->iteration - 1 : s->wm[low->wait_seg];
    return failf(s, CSIM_DEADLOCK, "deadlock in the parallel loop at pc %d: segment %d: "
                 "iteration %" PRId64 " waits at pc %d for iteration %" PRId64 ", which never "
                 "signals it", (int)s->begin_pc, (int)low->wait_seg, low->iteration,
                 (int)low->pc, awaited);
}

/* Whether y goes before its sibling best, ready at the same cycle: round-robin, the one not
   picked last on their core; ICOUNT, the one with fewer instructions issued so far (the proxy
   for fewer in flight: it is the one that stalled more). */
static int sibling_first(const sched *s, const ctx *y, const ctx *best)
{
    if (s->smt_policy == 1)
        return y->instructions < best->instructions;
    return best->worker == s->last_pick[best->core];
}

/* The READY worker that next needs the global order (lowest number on ties, but between SMT
   siblings the policy's); *horizon gets the next such time among the others.
   The ready index gives the earliest time, the lowest worker at it and the earliest among the
   others (equal to the earliest on a tie); only that worker's later siblings can then take its
   place, so the policy runs on them alone. */
static ctx *pick(sched *s, uint64_t *horizon)
{
    int32_t low = readyq_min(&s->ready);

    if (readyq_key(&s->ready, low) == UINT64_MAX) {   /* none READY before UINT64_MAX */
        low = -1;
        for (int32_t k = 0; k < s->nworkers && low < 0; k++)
            if (s->workers[k].state == CTX_READY)
                low = k;
        *horizon = UINT64_MAX;
        if (low < 0)
            return NULL;
    } else {
        *horizon = readyq_others(&s->ready, low);
    }
    ctx *best = &s->workers[low];
    if (s->smt > 1) {
        int32_t end = (best->core + 1) * s->smt;
        for (int32_t k = low + 1; k < end; k++) {
            ctx *y = &s->workers[k];
            if (y->state == CTX_READY && y->when == best->when && sibling_first(s, y, best))
                best = y;
        }
        s->last_pick[best->core] = best->worker;
    }
    return best;
}

/* After a SYNC instruction: a ready context next needs the global order at its clock. */
static void settle(ctx *x)
{
    if (x->state == CTX_READY && x->when < x->cycle)
        x->when = x->cycle;
}

/* A run-stopping status of x's instruction: it is the fault pc. */
static int fault_at(sched *s, const ctx *x, int st)
{
    s->main.pc = x->pc;
    return st;
}

/* -- Relic tasks (docs/multicore.md section 15) --------------------------------------------- */

/* The outstanding task with this handle, or NULL. */
static sched_task *find_task(sched *s, int64_t handle)
{
    for (int32_t k = 0; k < s->ntasks; k++)
        if (s->tasks[k].handle == handle)
            return &s->tasks[k];
    return NULL;
}

static int64_t queued_tasks(const sched *s)
{
    int64_t n = 0;

    for (int32_t k = 0; k < s->ntasks; k++)
        n += s->tasks[k].state == TASK_QUEUED;
    return n;
}

/* Whether a task is queued or running (a parked continuation waits for them). */
static int tasks_unfinished(const sched *s)
{
    for (int32_t k = 0; k < s->ntasks; k++)
        if (s->tasks[k].state != TASK_DONE)
            return 1;
    return 0;
}

static int spawn_go(sched *s);

/* The runner takes the oldest queued task, if any: it starts wake_cost cycles after the task was
   enqueued or the runner's previous task ended. A main context stalled on the full queue gets
   the freed entry at that moment. */
static int runner_next(sched *s)
{
    ctx *r = s->runner, *m = &s->main;
    sched_task *t = NULL;

    for (int32_t k = 0; k < s->ntasks && t == NULL; k++)
        if (s->tasks[k].state == TASK_QUEUED)
            t = &s->tasks[k];
    s->running = t;
    if (t == NULL) {
        r->state = CTX_IDLE;
        r->iteration = -1;
        return CSIM_OK;
    }
    uint64_t taken = t->enqueued > s->runner_free ? t->enqueued : s->runner_free;
    if (r->cycle < taken)                   /* spinning for work: idle */
        r->cycle = taken;
    r->dispatch += s->wake_cost;
    s->task_stats.wake_cycles += s->wake_cost;
    t->state = TASK_RUNNING;
    t->start = taken + s->wake_cost;
    ctx_start_regs(r, t->regs, s->core->nregs, t->pc, t->start, s->core->width);
    r->iteration = t->iteration;
    TRACE_EVENT(s->trace, CSIM_TRACE_TASK_BEGIN, t->start, r->core, r->worker, t->handle, -1, t->pc);
    if (s->main_wait == MAIN_QUEUE_FULL) {  /* its SPAWN goes through now */
        wait_until(m, taken);
        s->task_stats.queue_full_cycles += m->cycle - s->main_blocked;
        s->main_wait = MAIN_RUNS;
        m->state = CTX_READY;
        return spawn_go(s);
    }
    return CSIM_OK;
}

/* The main context's SPAWN goes through (a queue entry is free): it pays the submit cost, the
   task gets the next handle and a copy of the registers, and the main context goes on at the
   continuation (inline: waits for the task). */
static int spawn_go(sched *s)
{
    ctx *m = &s->main;
    const csim_instr *in = &s->code[m->pc];

    if (s->ntasks == s->tasks_cap) {
        int32_t cap = s->tasks_cap ? 2 * s->tasks_cap : 8;
        sched_task *grown = realloc(s->tasks, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return failf(s, CSIM_NO_MEMORY, "out of memory spawning a task");
        if (s->running != NULL)
            s->running = grown + (s->running - s->tasks);
        s->tasks = grown;
        s->tasks_cap = cap;
    }
    sched_task *t = &s->tasks[s->ntasks];
    t->regs = malloc((size_t)(s->core->nregs > 0 ? s->core->nregs : 1) * sizeof *t->regs);
    if (t->regs == NULL)
        return failf(s, CSIM_NO_MEMORY, "out of memory spawning a task");
    memcpy(t->regs, m->regs, (size_t)s->core->nregs * sizeof *t->regs);
    if (s->ntasks == 0) {                   /* a new group of tasks and their continuation */
        s->nundo = 0;
        s->undo_on = 1;
        if (s->check_on)
            check_reset(&s->ck);
        s->checking = s->check_on;
        m->iteration = -1;
        if (s->smt > 1)                     /* it now shares core 0's slots with the sibling */
            m->issue = &s->issue[0];
    }
    s->ntasks++;
    t->handle = ++s->last_handle;
    t->pc = m->pc + 1;
    t->state = TASK_QUEUED;
    t->iteration = m->iteration + 1;        /* before the continuation in sequential order */
    m->iteration = t->iteration + 1;
    m->dispatch += s->submit_cost;
    m->cycle += s->submit_cost;
    m->when = m->cycle;
    s->task_stats.submit_cycles += s->submit_cost;
    s->task_stats.spawned++;
    t->enqueued = m->cycle;
    m->regs[in->a].i = t->handle;
    m->ready[in->a] = m->cycle;
    TRACE_EVENT(s->trace, CSIM_TRACE_SPAWN, m->cycle, 0, -1, t->handle, -1, t->pc);
    m->pc = in->dst;
    if (s->inline_tasks) {
        s->task_stats.inline_tasks++;
        m->state = CTX_WAITING;
        s->main_wait = MAIN_INLINE;
    }
    return s->running == NULL ? runner_next(s) : CSIM_OK;
}

/* The main context issued SPAWN. */
static int spawn(sched *s)
{
    ctx *m = &s->main;

    if (queued_tasks(s) >= s->queue_cap) {
        m->state = CTX_WAITING;
        s->main_wait = MAIN_QUEUE_FULL;
        s->main_blocked = m->cycle;
        return CSIM_OK;
    }
    return spawn_go(s);
}

/* JOIN of task t, which has ended: the main context goes on at the latest of its clock and the
   task's end plus the join cost, with the task's results. */
static void join_go(sched *s, sched_task *t)
{
    ctx *m = &s->main;
    const csim_instr *in = &s->code[m->pc];
    uint64_t from = s->main_wait == MAIN_JOIN ? s->main_blocked : m->cycle;
    uint64_t release = t->end + s->join_cost;

    wait_until(m, release);
    s->task_stats.join_wait_cycles += m->cycle - from;
    TRACE_EVENT(s->trace, CSIM_TRACE_JOIN, m->cycle, 0, -1, t->handle, -1, (int64_t)from);
    for (int32_t k = 0; k < in->aux; k++) {
        m->regs[in->dst + k] = t->regs[in->dst + k];
        m->ready[in->dst + k] = m->cycle;
    }
    free(t->regs);
    int32_t k = (int32_t)(t - s->tasks);
    memmove(t, t + 1, (size_t)(s->ntasks - k - 1) * sizeof *t);
    s->ntasks--;
    if (s->running != NULL && s->running > t)
        s->running--;
    s->task_stats.joined++;
    s->main_wait = MAIN_RUNS;
    m->state = CTX_READY;
    m->pc++;
    if (s->ntasks == 0) {                   /* the group is over */
        s->undo_on = 0;
        s->nundo = 0;
        m->iteration = -1;
        s->checking = 0;
        m->issue = NULL;
    }
}

/* The main context issued JOIN. */
static int join(sched *s)
{
    ctx *m = &s->main;
    const csim_instr *in = &s->code[m->pc];
    int64_t handle = m->regs[in->a].i;
    sched_task *t = find_task(s, handle);

    if (t == NULL)
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: JOIN of handle %" PRId64 ", which no SPAWN "
                     "gave or which was already joined", (int)m->pc, handle);
    if (t->state == TASK_DONE) {
        join_go(s, t);
        return CSIM_OK;
    }
    m->state = CTX_WAITING;
    s->main_wait = MAIN_JOIN;
    s->main_join = handle;
    s->main_blocked = m->cycle;
    return CSIM_OK;
}

/* A task of sequential place iteration raised: the continuation's stores after its spawn never
   happened, sequentially; undo them, newest first. (The log holds the continuation's stores
   only while a task is queued or running: none of them can be undone otherwise.) */
static void undo_continuation(sched *s, int64_t iteration)
{
    for (int64_t j = s->nundo - 1; j >= 0; j--) {
        const sched_undo *u = &s->undo[j];
        if (u->iteration > iteration)
            memcpy(u->addr, &u->old, (size_t)u->size);
    }
    s->nundo = 0;
}

/* The parked continuation's exception, once no task can raise an earlier one. */
static int report_parked(sched *s)
{
    s->main_parked = 0;
    s->main.pc = s->main_fault_pc;
    snprintf(s->core->msg, (size_t)s->core->msg_size, "%s", s->main_msg);
    return s->main_status;
}

/* The runner stopped at the SYNC instruction at its pc: TASK_END, or a misuse. */
static int task_end(sched *s)
{
    ctx *r = s->runner, *m = &s->main;
    const csim_instr *in = &s->code[r->pc];
    sched_task *t = s->running;

    if (in->op != OP_TASK_END) {
        s->main.pc = r->pc;                 /* the misused instruction is the fault pc */
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: %s inside a task: a task spawns nothing and "
                     "runs no parallel loop", (int)r->pc, csim_op_table[in->op].name);
    }
    for (int32_t k = 0; k < in->aux; k++)
        t->regs[in->dst + k] = r->regs[in->dst + k];
    t->state = TASK_DONE;
    t->end = r->cycle;
    TRACE_EVENT(s->trace, CSIM_TRACE_TASK_END, t->end, r->core, r->worker, t->handle, -1, 0);
    s->runner_free = r->cycle;
    s->task_stats.task_cycles += t->end - t->start;
    int64_t handle = t->handle;
    uint64_t end = t->end;
    int st = runner_next(s);                /* may move the task records (a spawn grows them) */
    if (st != CSIM_OK)
        return st;
    if (s->main_wait == MAIN_INLINE) {      /* the call returns: the main context goes on */
        m->cycle = m->when = end > m->cycle ? end : m->cycle;
        m->state = CTX_READY;
        s->main_wait = MAIN_RUNS;
    } else if (s->main_wait == MAIN_JOIN && s->main_join == handle) {
        join_go(s, find_task(s, handle));
    }
    if (!tasks_unfinished(s))
        s->nundo = 0;                       /* no task left that could raise */
    if (s->main_parked && !tasks_unfinished(s))
        return report_parked(s);
    return CSIM_OK;
}

/* One scheduling decision while tasks are outstanding: the main context and the runner in time
   order (SMT siblings: the policy breaks ties). CSIM_OK to go on, or how the run stops. */
static int task_step(sched *s, uint64_t left)
{
    ctx *m = &s->main, *r = s->runner, *x, *other = NULL;
    int mr = m->state == CTX_READY, rr = r->state == CTX_READY;

    if (!mr && !rr)
        return failf(s, CSIM_BAD_PARALLEL, "the main context waits at pc %d for a task that "
                     "never ends", (int)m->pc);
    if (mr && rr) {
        int runner_first = r->when < m->when
                           || (r->when == m->when && !s->inline_tasks && sibling_first(s, r, m));
        x = runner_first ? r : m;
        other = runner_first ? m : r;
    } else {
        x = mr ? m : r;
    }
    if (s->smt > 1)
        s->last_pick[0] = x->worker;
    int st = core_step(s->core, x, s, left, other != NULL ? other->when : UINT64_MAX);
    if (s->model_status != CSIM_OK)
        return failf(s, s->model_status, "out of memory in the coherence directory");
    if (st == CORE_YIELD || st == CSIM_PAUSED)
        return CSIM_OK;
    if (st == CORE_SYNC) {
        st = x == r ? task_end(s) : sync_op(s, m);
        settle(x);
        return st;
    }
    if (st == CSIM_BUDGET || st == CSIM_NO_MEMORY || st == CSIM_CHECK_VIOLATION)
        return fault_at(s, x, st);
    if (st == CSIM_OK && x == r) {
        s->main.pc = r->pc;
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: RET inside a task", (int)r->pc);
    }
    if (st == CSIM_OK)
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: the kernel returns with task %" PRId64 " not "
                     "joined", (int)m->pc, s->tasks[0].handle);
    /* An exception. The task's comes first in sequential order; the continuation's waits until
       every task it follows has ended without one. */
    if (x == r) {
        TRACE_EVENT(s->trace, CSIM_TRACE_TASK_END, r->cycle, r->core, r->worker,
                    s->running->handle, -1, 1);
        undo_continuation(s, r->iteration);
        return fault_at(s, x, st);
    }
    if (!tasks_unfinished(s))
        return fault_at(s, x, st);
    s->main_parked = 1;
    s->main_status = st;
    s->main_fault_pc = m->pc;
    snprintf(s->main_msg, (size_t)s->core->msg_size, "%s", s->core->msg);
    m->state = CTX_IDLE;
    return CSIM_OK;
}

static int loop_run(sched *s, ctx *x, uint64_t left, uint64_t horizon);

/* One scheduling decision while a loop runs: CSIM_OK to go on, or how the run stops. */
static int loop_step(sched *s, uint64_t left)
{
    uint64_t horizon;
    ctx *x = pick(s, &horizon);

    int st = loop_run(s, x, left, horizon);
    if (x != NULL)
        requeue(s, x);                      /* the others' changes requeue where they happen */
    return st;
}

/* loop_step's work once x (or none, at the loop's end) is picked. */
static int loop_run(sched *s, ctx *x, uint64_t left, uint64_t horizon)
{
    if (s->model_status != CSIM_OK)
        return failf(s, s->model_status, "out of memory in the coherence directory");

    if (x == NULL) {
        for (int32_t k = 0; k < s->nworkers; k++)
            if (s->workers[k].state == CTX_WAITING)
                return deadlock(s, &s->workers[k]);
        int st = end_loop(s);
        return st == CSIM_OK && s->exit_kind == SCHED_EXIT_RETURN ? SCHED_RETURNED : st;
    }
    int st = core_step(s->core, x, s, left, horizon);
    switch (st) {
    case CORE_YIELD:
    case CSIM_PAUSED:
        return CSIM_OK;
    case CORE_SYNC:
        st = sync_op(s, x);
        if (st != CSIM_OK)
            s->main.pc = x->pc;             /* the misused instruction is the fault pc */
        settle(x);
        prune_undo(s);
        return st;
    case CSIM_BUDGET:
    case CSIM_NO_MEMORY:
    case CSIM_CHECK_VIOLATION:
        return fault_at(s, x, st);
    case CSIM_OK:
        s->main.pc = x->pc;
        return failf(s, CSIM_BAD_PARALLEL, "pc %d: RET inside iteration %" PRId64 " of the "
                     "parallel loop at pc %d", (int)x->pc, x->iteration, (int)s->begin_pc);
    default:
        /* An exception: the iteration ends the loop unless an earlier one already did. */
        if (x->iteration < s->exit_iter) {
            s->exit_status = st;
            snprintf(s->exit_msg, (size_t)s->core->msg_size, "%s", s->core->msg);
            set_exit(s, x->iteration, SCHED_EXIT_RAISE, x->worker, x->pc);
        }
        x->state = CTX_IDLE;
        TRACE_EVENT(s->trace, CSIM_TRACE_ITER_END, x->cycle, x->core, x->worker, x->iteration, -1,
                    CSIM_TRACE_END_RAISED);
        return CSIM_OK;
    }
}

int sched_step(sched *s, uint64_t max_steps)
{
    core *c = s->core;
    uint64_t start = c->instructions;
    int st;

    if (s->done)
        return s->final_status;
    for (;;) {
        uint64_t left = 0;
        if (max_steps != 0) {
            uint64_t ran = c->instructions - start;
            if (ran >= max_steps)
                return CSIM_PAUSED;
            left = max_steps - ran;
        }
        if (s->active) {
            st = loop_step(s, left);
            if (st == CSIM_OK)
                continue;
            if (st == SCHED_RETURNED)
                st = CSIM_OK;
            break;
        }
        if (s->ntasks > 0 || s->main_parked) {
            st = task_step(s, left);
            if (st == CSIM_OK)
                continue;
            break;
        }
        st = core_step(c, &s->main, s, left, UINT64_MAX);
        if (s->model_status != CSIM_OK)
            st = failf(s, s->model_status, "out of memory in the coherence directory");
        if (st == CORE_SYNC)
            st = sync_op(s, &s->main);
        if (st == CSIM_OK && (s->active || s->ntasks > 0))
            continue;                       /* a loop began, or a task was spawned */
        if (st == CSIM_PAUSED)
            continue;
        break;
    }
    s->done = 1;
    s->final_status = st;
    return st;
}
