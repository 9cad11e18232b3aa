/* A core's shared issue slots: see issue.h. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "issue.h"

int issue_init(issue_slots *q, int64_t width)
{
    return issue_init_window(q, width, ISSUE_WINDOW);
}

int issue_init_window(issue_slots *q, int64_t width, uint64_t window)
{
    q->used = calloc((size_t)window, sizeof *q->used);
    q->base = 0;
    q->end = window;
    q->window = window;
    q->mask = window - 1;
    q->width = width;
    return q->used == NULL ? CSIM_NO_MEMORY : CSIM_OK;
}

void issue_slide(issue_slots *q, uint64_t t)
{
    const size_t window = (size_t)q->window;
    uint64_t base = t - window + 1;
    uint64_t n = base - q->base;
    size_t from = (size_t)(q->base & q->mask);

    if (n >= window) {                      /* (issue_take does the short slides) */
        memset(q->used, 0, window);
    } else if (from + n <= window) {
        memset(q->used + from, 0, (size_t)n);
    } else {                                /* the forgotten cycles wrap around the array */
        memset(q->used + from, 0, window - from);
        memset(q->used, 0, (size_t)n - (window - from));
    }
    q->base = base;
    q->end = t + 1;
}

void issue_free(issue_slots *q)
{
    free(q->used);
    q->used = NULL;
}
