/* A core's shared issue slots: see issue.h. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "issue.h"

int issue_init(issue_slots *q, int64_t width)
{
    q->used = calloc(ISSUE_WINDOW, sizeof *q->used);
    q->base = 0;
    q->width = width;
    return q->used == NULL ? CSIM_NO_MEMORY : CSIM_OK;
}

void issue_take(issue_slots *q, uint64_t t)
{
    if (t >= q->base + ISSUE_WINDOW) {      /* slide: forget the cycles below t's window */
        uint64_t base = t - ISSUE_WINDOW + 1;
        uint64_t n = base - q->base;
        size_t from = (size_t)(q->base & (ISSUE_WINDOW - 1));
        if (n >= ISSUE_WINDOW) {
            memset(q->used, 0, ISSUE_WINDOW);
        } else if (from + n <= ISSUE_WINDOW) {
            memset(q->used + from, 0, (size_t)n);
        } else {                            /* the forgotten cycles wrap around the array */
            memset(q->used + from, 0, ISSUE_WINDOW - from);
            memset(q->used, 0, (size_t)n - (ISSUE_WINDOW - from));
        }
        q->base = base;
    }
    q->used[t & (ISSUE_WINDOW - 1)]++;
}

void issue_free(issue_slots *q)
{
    free(q->used);
    q->used = NULL;
}
