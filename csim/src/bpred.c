/* Bimodal and gshare predictors: set-up and tear-down (predict and update are inline in bpred.h). */
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
    for (int t = 0; t < BPRED_MAX_THREADS; t++)
        p->history[t] = 0;
    p->history_mask = kind == 1 ? ((uint64_t)1 << history_bits) - 1 : 0;
    return CSIM_OK;
}

void bpred_free(bpred *p)
{
    free(p->counters);
    p->counters = NULL;
}
