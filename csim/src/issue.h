/* A core's issue slots shared by its SMT contexts (docs/multicore.md section 6).
 *
 * A reservation timeline: for each cycle of a sliding window, how many of the core's issue_width
 * slots the core's contexts have taken. An instruction of any context issues at the first cycle
 * at or after the one it is ready in that has a free slot, and takes it. Contexts advance in the
 * scheduler's time order, so a context stalled on a miss, a mispredict or a WAIT takes no slots
 * and its sibling gets them all; two busy contexts share them. Cycles below the window (more than
 * ISSUE_WINDOW behind the latest reservation) count as full.
 */
#ifndef CSIM_ISSUE_H
#define CSIM_ISSUE_H

#include <stdint.h>

#define ISSUE_WINDOW 4096        /* cycles remembered; a power of two */

typedef struct issue_slots {
    uint8_t *used;           /* [ISSUE_WINDOW]: slots taken in cycle c at used[c % ISSUE_WINDOW] */
    uint64_t base;           /* the oldest cycle remembered */
    int64_t width;
} issue_slots;

/* Returns CSIM_OK or CSIM_NO_MEMORY. */
int issue_init(issue_slots *q, int64_t width);
/* The first cycle >= t with a free slot. */
static inline uint64_t issue_find(const issue_slots *q, uint64_t t)
{
    if (t < q->base)
        t = q->base;
    while (t < q->base + ISSUE_WINDOW && q->used[t & (ISSUE_WINDOW - 1)] >= q->width)
        t++;
    return t;
}
/* Take a slot in cycle t (a cycle issue_find returned). */
void issue_take(issue_slots *q, uint64_t t);
void issue_free(issue_slots *q);

#endif
