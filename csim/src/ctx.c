/* A hardware context: see ctx.h. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "ooo.h"

int ctx_init(ctx *x, int32_t nregs, csim_value *regs, int32_t worker, int32_t core, cache *l1,
             bpred *bp)
{
    size_t nslots = (size_t)nregs + 2;

    memset(x, 0, sizeof *x);
    x->ready_mem = calloc(nslots, sizeof *x->ready_mem);
    x->why_mem = calloc(nslots, sizeof *x->why_mem);
    if (regs == NULL)
        regs = x->own_regs = calloc(nregs > 0 ? (size_t)nregs : 1, sizeof *x->own_regs);
    if (x->ready_mem == NULL || x->why_mem == NULL || regs == NULL) {
        ctx_free(x);
        return CSIM_NO_MEMORY;
    }
    x->regs = regs;
    x->ready = x->ready_mem + 2;
    x->why = x->why_mem + 2;
    x->worker = worker;
    x->core = core;
    x->iteration = -1;
    x->fetch_cat = CSIM_CAT_BRANCH;
    x->l1 = l1;
    x->bp = bp;
    return CSIM_OK;
}

/* Everything of a start but the registers. */
static void reset(ctx *x, int32_t pc, uint64_t cycle, int64_t issue_width)
{
    x->ready[-1] = x->ready[-2] = 0;        /* core.h's CORE_REG_NONE and CORE_REG_SINK */
    x->pc = pc;
    x->cycle = x->when = cycle;
    x->slots = issue_width;              /* the first issue opens a new cycle */
    x->fetch_ready = 0;
    x->fetch_cat = CSIM_CAT_BRANCH;
    memset(x->open_segs, 0, sizeof x->open_segs);
    x->nopen = 0;
    x->state = CTX_READY;
    x->acquire = 0;
    x->wait_pending = 0;
    if (x->ooo != NULL && x->keep_window) {
        /* after a non-draining ITER_END: the window as it is, the dispatch restarting the
           dispatch cost (cycle - its retirement clock) after the ITER_END's */
        x->fetch_ready = ooo_ctx_carry(x->ooo, cycle);
        x->fetch_cat = CSIM_CAT_BUSY;
    } else if (x->ooo != NULL) {         /* an empty window: no entries of an earlier iteration */
        ooo_ctx_reset(x->ooo, cycle);
    }
    x->keep_window = 0;
}

void ctx_start(ctx *x, const ctx *from, int32_t nregs, const int32_t *used, int32_t nused,
               int32_t pc, uint64_t cycle, int64_t issue_width)
{
    if (used == NULL) {
        ctx_start_regs(x, from->regs, nregs, pc, cycle, issue_width);
        return;
    }
    for (int32_t k = 0; k < nused; k++) {
        int32_t r = used[k];
        x->regs[r] = from->regs[r];
        x->ready[r] = 0;
    }
    reset(x, pc, cycle, issue_width);
}

void ctx_start_regs(ctx *x, const csim_value *regs, int32_t nregs, int32_t pc, uint64_t cycle,
                    int64_t issue_width)
{
    memcpy(x->regs, regs, (size_t)nregs * sizeof *x->regs);
    memset(x->ready_mem, 0, ((size_t)nregs + 2) * sizeof *x->ready_mem);
    reset(x, pc, cycle, issue_width);
}

void ctx_open_segment(ctx *x, int32_t seg)
{
    uint64_t bit = UINT64_C(1) << (seg % 64);

    if (!(x->open_segs[seg / 64] & bit)) {
        x->open_segs[seg / 64] |= bit;
        x->nopen++;
    }
}

void ctx_close_segment(ctx *x, int32_t seg)
{
    uint64_t bit = UINT64_C(1) << (seg % 64);

    if (x->open_segs[seg / 64] & bit) {     /* a skip path signals without waiting */
        x->open_segs[seg / 64] &= ~bit;
        x->nopen--;
    }
}

void ctx_free(ctx *x)
{
    free(x->ready_mem);
    free(x->why_mem);
    free(x->own_regs);
    x->ready_mem = NULL;
    x->why_mem = NULL;
    x->own_regs = NULL;
}
