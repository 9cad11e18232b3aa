/* The coherence baseline: a directory of owners and sharers per line, and signal flag lines. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "coherence.h"

#define COH_MAX_CORES 64
#define COH_MAX_LATENCY (INT64_C(1) << 20)

/* A directory entry: who wrote the line last, who holds it, and its transfer in flight. */
typedef struct coh_line {
    uint64_t sharers;         /* cores with a valid copy (bit c), the owner included */
    int64_t busy_until;       /* cycle the last transfer of the line completes */
    int32_t owner;            /* the last core that wrote the line, or -1 */
    int32_t busy_core;        /* the core that transfer goes to, or -1 */
} coh_line;

/* The flag line of one (segment, signalling core): only that core writes it. */
typedef struct coh_flag {
    uint64_t sharers;         /* cores with a copy of the current value, the writer included */
    int64_t t_written;        /* cycle of the last write, or -1 */
} coh_flag;

static const coh_line COH_LINE_NEW = {0, 0, -1, -1};

void coh_default_params(coh_params *p)
{
    p->cores = 16;
    p->line_bytes = 64;
    p->c2c_latency = 75;
    p->upgrade_latency = 0;
}

int coh_params_ok(const coh_params *p, char *err, int err_size)
{
    if (p->cores < 1 || p->cores > COH_MAX_CORES) {
        snprintf(err, err_size, "cores must be from 1 to %d (got %lld)", COH_MAX_CORES,
                 (long long)p->cores);
        return 0;
    }
    if (p->line_bytes < 8 || p->line_bytes > 4096 || (p->line_bytes & (p->line_bytes - 1))) {
        snprintf(err, err_size, "line_bytes must be a power of two from 8 to 4096 (got %lld)",
                 (long long)p->line_bytes);
        return 0;
    }
    if (p->c2c_latency < 0 || p->c2c_latency > COH_MAX_LATENCY) {
        snprintf(err, err_size, "c2c_latency must be from 0 to %lld cycles (got %lld)",
                 (long long)COH_MAX_LATENCY, (long long)p->c2c_latency);
        return 0;
    }
    if (p->upgrade_latency < 0 || p->upgrade_latency > COH_MAX_LATENCY) {
        snprintf(err, err_size, "upgrade_latency must be from 0 to %lld cycles (got %lld)",
                 (long long)COH_MAX_LATENCY, (long long)p->upgrade_latency);
        return 0;
    }
    return 1;
}

static int64_t nflags(const coh *c)
{
    return (int64_t)CSIM_MAX_SEGMENTS * c->p.cores;
}

static void clear_flags(coh *c)
{
    coh_flag *flags = c->flags;

    for (int64_t i = 0; i < nflags(c); i++) {
        flags[i].sharers = 0;
        flags[i].t_written = -1;
    }
}

int coh_init(coh *c, const coh_params *p)
{
    char unused[160];

    c->flags = NULL;
    c->lines.slots = NULL;
    c->lines.max_rec = NULL;
    if (!coh_params_ok(p, unused, (int)sizeof unused))
        return CSIM_BAD_CONFIG;
    c->p = *p;
    c->line_shift = 0;
    while ((INT64_C(1) << c->line_shift) < p->line_bytes)
        c->line_shift++;
    if (addrmap_init(&c->lines, (int64_t)sizeof(coh_line), 0) != CSIM_OK)
        return CSIM_NO_MEMORY;
    c->flags = malloc((size_t)nflags(c) * sizeof(coh_flag));
    if (c->flags == NULL) {
        addrmap_free(&c->lines);
        return CSIM_NO_MEMORY;
    }
    coh_reset(c);
    return CSIM_OK;
}

void coh_free(coh *c)
{
    addrmap_free(&c->lines);
    free(c->flags);
    c->flags = NULL;
}

void coh_reset(coh *c)
{
    addrmap_clear(&c->lines);
    clear_flags(c);
    c->stats = (coh_stats){0, 0, 0, 0};
}

static int popcount64(uint64_t x)
{
    int n = 0;

    for (; x; x &= x - 1)
        n++;
    return n;
}

/* The directory entry of addr's line, created on first use; sets core's sharer bit in *bit and
   whether core holds a copy in r. NULL when the access cannot be made (the reason in *status). */
static coh_line *line_of(coh *c, int32_t core, uint64_t addr, uint64_t *bit, coh_result *r,
                         int *status)
{
    void *rec = NULL;

    *status = CSIM_BAD_PROGRAM;
    if (core < 0 || core >= c->p.cores)
        return NULL;
    *bit = UINT64_C(1) << core;
    *status = addrmap_put(&c->lines, addr >> c->line_shift, &COH_LINE_NEW, &rec);
    coh_line *line = rec;
    if (line != NULL) {
        r->had_copy = (line->sharers & *bit) != 0;
        r->invalidated = 0;
    }
    return line;
}

/* Cycles until the line's transfer in flight to core (if any) has arrived. */
static int64_t own_wait(const coh_line *line, int32_t core, int64_t t)
{
    return line->busy_core == core && line->busy_until > t ? line->busy_until - t : 0;
}

/* A transfer to core costing cost cycles, after the line's transfer in flight: its extra. */
static int64_t transfer(coh_line *line, int32_t core, int64_t t, int64_t cost)
{
    int64_t start = line->busy_until > t ? line->busy_until : t;

    line->busy_until = start + cost;
    line->busy_core = core;
    return start + cost - t;
}

int coh_load(coh *c, int32_t core, uint64_t addr, int64_t t, coh_result *r)
{
    uint64_t bit;
    int status;
    coh_line *line = line_of(c, core, addr, &bit, r, &status);

    if (line == NULL)
        return status;
    if (r->had_copy) {
        r->extra = own_wait(line, core, t);
    } else if (line->owner >= 0 && line->owner != core) {
        r->extra = transfer(line, core, t, c->p.c2c_latency);
        c->stats.c2c_transfers++;
    } else {
        r->extra = 0;         /* from L2 or memory: the core's caches time it */
    }
    line->sharers |= bit;
    return CSIM_OK;
}

int coh_store(coh *c, int32_t core, uint64_t addr, int64_t t, coh_result *r)
{
    uint64_t bit;
    int status;
    coh_line *line = line_of(c, core, addr, &bit, r, &status);

    if (line == NULL)
        return status;
    uint64_t others = line->sharers & ~bit;
    r->invalidated = others;
    if (r->had_copy && others == 0) {
        r->extra = own_wait(line, core, t);   /* already exclusive */
    } else if (r->had_copy) {
        r->extra = transfer(line, core, t, c->p.upgrade_latency);
        c->stats.upgrades++;
    } else if (line->owner >= 0 && line->owner != core) {
        r->extra = transfer(line, core, t, c->p.c2c_latency);   /* read for ownership */
        c->stats.c2c_transfers++;
    } else if (others != 0) {
        r->extra = transfer(line, core, t, c->p.upgrade_latency);
    } else {
        r->extra = 0;
    }
    c->stats.invalidations += (uint64_t)popcount64(others);
    line->owner = core;
    line->sharers = bit;
    return CSIM_OK;
}

static coh_flag *flag_of(coh *c, int32_t core, int32_t seg)
{
    if (core < 0 || core >= c->p.cores || seg < 0 || seg >= CSIM_MAX_SEGMENTS)
        return NULL;
    return (coh_flag *)c->flags + (int64_t)seg * c->p.cores + core;
}

int coh_signal(coh *c, int32_t core, int32_t seg, int64_t t, coh_result *r)
{
    coh_flag *flag = flag_of(c, core, seg);

    if (flag == NULL)
        return CSIM_BAD_PROGRAM;
    uint64_t bit = UINT64_C(1) << core;
    uint64_t others = flag->sharers & ~bit;
    /* The writer keeps its flag line from its first signal on: only spinning waiters share it. */
    r->had_copy = (flag->sharers & bit) != 0;
    r->invalidated = others;
    r->extra = others != 0 ? c->p.upgrade_latency : 0;
    if (others != 0 && r->had_copy)
        c->stats.upgrades++;
    c->stats.invalidations += (uint64_t)popcount64(others);
    flag->sharers = bit;
    flag->t_written = t;
    return CSIM_OK;
}

int64_t coh_wait_release(coh *c, int32_t core, int32_t seg, int32_t from_core, int64_t t_sent,
                         int64_t t_wait)
{
    coh_flag *flag = flag_of(c, from_core, seg);

    if (flag == NULL || core < 0 || core >= c->p.cores)
        return -2;
    uint64_t bit = UINT64_C(1) << core;
    if (t_sent < 0 || flag->t_written < t_sent) {
        flag->sharers |= bit;   /* the waiter reads the old flag and spins on its copy */
        return -1;
    }
    int64_t seen = t_wait > t_sent ? t_wait : t_sent;
    if (from_core == core || (flag->sharers & bit) != 0)
        return seen;
    flag->sharers |= bit;
    c->stats.flag_transfers++;
    return seen + c->p.c2c_latency;
}
