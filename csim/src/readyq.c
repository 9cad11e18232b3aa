/* The scheduler's ready index: see readyq.h. */
#include <stdlib.h>

#include "api.h"
#include "readyq.h"

int readyq_init(readyq *q, int32_t n)
{
    int32_t leaves = 1;

    while (leaves < n)
        leaves *= 2;
    q->leaves = leaves;
    q->key = malloc((size_t)leaves * sizeof *q->key);
    q->win = malloc(2 * (size_t)leaves * sizeof *q->win);
    if (q->key == NULL || q->win == NULL) {
        readyq_free(q);
        return CSIM_NO_MEMORY;
    }
    for (int32_t k = 0; k < leaves; k++) {
        q->key[k] = UINT64_MAX;
        q->win[leaves + k] = k;
    }
    for (int32_t i = leaves - 1; i >= 1; i--)
        q->win[i] = q->win[2 * i];          /* all keys equal: the left (lower) index wins */
    q->win[0] = 0;
    return CSIM_OK;
}

void readyq_free(readyq *q)
{
    free(q->key);
    free(q->win);
    q->key = NULL;
    q->win = NULL;
}
