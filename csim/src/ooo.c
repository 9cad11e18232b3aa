/* The out-of-order core's structures: see ooo.h (the per-instruction steps are inline there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ooo.h"

/* A ring (ROB, LSQ) or, for OOO_IQ, a calendar of cap entries. */
static int queue_init(ooo_queue *q, int kind, int64_t cap)
{
    memset(q, 0, sizeof *q);
    q->cap = (int32_t)cap;
    if (kind == OOO_IQ) {
        q->count = calloc(OOO_ISSUE_WINDOW, sizeof *q->count);
        q->cat = calloc(OOO_ISSUE_WINDOW, sizeof *q->cat);
        return q->count == NULL || q->cat == NULL ? CSIM_NO_MEMORY : CSIM_OK;
    }
    q->key = calloc((size_t)cap, sizeof *q->key);
    return q->key == NULL ? CSIM_NO_MEMORY : CSIM_OK;
}

/* Empty q, at cycle now. */
static void queue_reset(ooo_queue *q, uint64_t now)
{
    if (q->key != NULL)
        memset(q->key, 0, (size_t)q->cap * sizeof *q->key);
    if (q->count != NULL && q->live != 0)
        memset(q->count, 0, OOO_ISSUE_WINDOW * sizeof *q->count);
    q->head = 0;
    q->live = 0;
    q->now = now;
}

static void queue_free(ooo_queue *q)
{
    free(q->key);
    free(q->count);
    free(q->cat);
    memset(q, 0, sizeof *q);
}

int ooo_config_ok(const csim_config *config, char *err, int err_size)
{
    const struct { const char *size, *split; int64_t n, partitioned; } q[OOO_NSTRUCT] = {
        {"rob_size", "smt_rob", config->rob_size, config->smt_rob},
        {"iq_size", "smt_iq", config->iq_size, config->smt_iq},
        {"lsq_size", "smt_lsq", config->lsq_size, config->smt_lsq},
    };

    for (int j = 0; j < OOO_NSTRUCT; j++)
        if (q[j].partitioned && q[j].n < config->smt) {
            if (err != NULL && err_size > 0)
                snprintf(err, (size_t)err_size, "%s must be at least smt (%lld) when %s is "
                         "partitioned (got %lld)", q[j].size, (long long)config->smt, q[j].split,
                         (long long)q[j].n);
            return 0;
        }
    return 1;
}

int ooo_init(ooo *m, const csim_config *config)
{
    const int64_t size[OOO_NSTRUCT] = {config->rob_size, config->iq_size, config->lsq_size};
    const int64_t split[OOO_NSTRUCT] = {config->smt_rob, config->smt_iq, config->smt_lsq};
    int32_t smt = (int32_t)config->smt;
    int st = CSIM_OK;

    memset(m, 0, sizeof *m);
    m->ncores = (int32_t)config->cores;
    m->nctxs = m->ncores * smt + 1;
    m->cores = calloc((size_t)m->ncores, sizeof *m->cores);
    m->ctxs = calloc((size_t)m->nctxs, sizeof *m->ctxs);
    if (m->cores == NULL || m->ctxs == NULL)
        return CSIM_NO_MEMORY;
    for (int32_t k = 0; k < m->ncores && st == CSIM_OK; k++) {
        ooo_core *u = &m->cores[k];
        st = issue_init_window(&u->slots, config->issue_width, OOO_ISSUE_WINDOW);
        for (int j = 0; j < OOO_NSTRUCT && st == CSIM_OK; j++)
            if (!split[j])
                st = queue_init(&u->shared[j], j, size[j]);
    }
    for (int32_t w = 0; w < m->nctxs && st == CSIM_OK; w++) {
        int is_main = w == m->nctxs - 1;
        ooo_core *u = &m->cores[is_main ? 0 : w / smt];
        ooo_ctx *o = &m->ctxs[w];
        o->slots = &u->slots;
        o->width = config->issue_width;
        for (int j = 0; j < OOO_NSTRUCT && st == CSIM_OK; j++) {
            if (is_main || split[j]) {
                st = queue_init(&o->own[j], j, is_main ? size[j] : size[j] / smt);
                o->q[j] = &o->own[j];
            } else {
                o->q[j] = &u->shared[j];
            }
        }
    }
    return st;
}

ooo_ctx *ooo_context(ooo *m, int32_t w)
{
    return &m->ctxs[w < 0 ? m->nctxs - 1 : w];
}

void ooo_ctx_reset(ooo_ctx *o, uint64_t cycle)
{
    for (int j = 0; j < OOO_NSTRUCT; j++)
        if (o->q[j] == &o->own[j])
            queue_reset(&o->own[j], cycle);
    o->dcycle = o->rcycle = cycle;
    o->dcount = o->rcount = 0;
}

uint64_t ooo_ctx_carry(ooo_ctx *o, uint64_t cycle)
{
    uint64_t d = o->dcycle + (cycle > o->rcycle ? cycle - o->rcycle : 0);

    if (cycle > o->rcycle) {
        o->rcycle = cycle;
        o->rcount = 0;
    }
    return d;
}

void ooo_free(ooo *m)
{
    if (m->cores != NULL)
        for (int32_t k = 0; k < m->ncores; k++) {
            issue_free(&m->cores[k].slots);
            for (int j = 0; j < OOO_NSTRUCT; j++)
                queue_free(&m->cores[k].shared[j]);
        }
    if (m->ctxs != NULL)
        for (int32_t w = 0; w < m->nctxs; w++)
            for (int j = 0; j < OOO_NSTRUCT; j++)
                queue_free(&m->ctxs[w].own[j]);
    free(m->cores);
    free(m->ctxs);
    m->cores = NULL;
    m->ctxs = NULL;
}
