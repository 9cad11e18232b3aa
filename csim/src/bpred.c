/* Bimodal and gshare predictors: see bpred.h. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bpred.h"

int bpred_init(bpred *p, int64_t kind, int64_t table_bits, int64_t history_bits)
{
    size_t n = (size_t)1 << table_bits;

    p->counters = malloc(n);
    if (p->counters == NULL)
        return CSIM_NO_MEMORY;
    memset(p->counters, 1, n);
    p->index_mask = (uint64_t)n - 1;
    p->history = 0;
    p->history_mask = kind == 1 ? ((uint64_t)1 << history_bits) - 1 : 0;
    return CSIM_OK;
}

static uint64_t bpred_index(const bpred *p, int32_t pc)
{
    /* With history_mask 0 (bimodal) the history stays 0 and this is plain pc indexing. */
    return ((uint64_t)(uint32_t)pc ^ p->history) & p->index_mask;
}

int bpred_predict(const bpred *p, int32_t pc)
{
    return p->counters[bpred_index(p, pc)] >= 2;
}

void bpred_update(bpred *p, int32_t pc, int taken)
{
    uint8_t *ctr = &p->counters[bpred_index(p, pc)];

    if (taken && *ctr < 3)
        (*ctr)++;
    else if (!taken && *ctr > 0)
        (*ctr)--;
    p->history = ((p->history << 1) | (uint64_t)(taken != 0)) & p->history_mask;
}

int bpred_step(bpred *p, int32_t pc, int taken)
{
    int wrong = bpred_predict(p, pc) != (taken != 0);

    bpred_update(p, pc, taken);
    return wrong;
}

void bpred_free(bpred *p)
{
    free(p->counters);
    p->counters = NULL;
}
