/* A core's issue slots shared by its SMT contexts (docs/multicore.md section 6).
 *
 * A reservation timeline: for each cycle of a sliding window, how many of the core's issue_width
 * slots the core's contexts have taken. An instruction of any context issues at the first cycle
 * at or after the one it is ready in that has a free slot, and takes it. Contexts advance in the
 * scheduler's time order, so a context stalled on a miss, a mispredict or a WAIT takes no slots
 * and its sibling gets them all; two busy contexts share them. Cycles below the window (more than
 * window cycles behind the latest reservation) count as full. The in-order core's window is
 * ISSUE_WINDOW cycles; the out-of-order core's is longer (ooo.h), since it issues instructions up
 * to a ROB of misses apart.
 */
#ifndef CSIM_ISSUE_H
#define CSIM_ISSUE_H

#include <stdint.h>

#define ISSUE_WINDOW 4096        /* cycles remembered by default; a power of two */

typedef struct issue_slots {
    uint8_t *used;           /* [window]: slots taken in cycle c at used[c & mask] */
    uint64_t base;           /* the oldest cycle remembered */
    uint64_t end;            /* base + window: the first cycle past the window */
    uint64_t window, mask;   /* cycles remembered (a power of two), window - 1 */
    int64_t width;
} issue_slots;

/* An ISSUE_WINDOW timeline. Returns CSIM_OK or CSIM_NO_MEMORY. */
int issue_init(issue_slots *q, int64_t width);
/* A timeline of window cycles (a power of two). Returns CSIM_OK or CSIM_NO_MEMORY. */
int issue_init_window(issue_slots *q, int64_t width, uint64_t window);
/* The first cycle >= t with a free slot. */
static inline uint64_t issue_find(const issue_slots *q, uint64_t t)
{
    const uint64_t end = q->end, mask = q->mask;
    const uint8_t *const used = q->used;
    const int64_t width = q->width;

    if (t < q->base)
        t = q->base;
    while (t < end && used[t & mask] >= width)
        t++;
    return t;
}
/* Slide the window to end at cycle t (t past it): forget the cycles below. */
void issue_slide(issue_slots *q, uint64_t t);
/* Take a slot in cycle t (a cycle issue_find returned). Inline: one per issued instruction. */
static inline void issue_take(issue_slots *q, uint64_t t)
{
    uint8_t *const used = q->used;          /* locals: the byte stores would reload q's fields */
    const uint64_t mask = q->mask, base = q->base;

    if (t >= q->end) {
        uint64_t to = t - q->window + 1;    /* the new base */
        if (to - base <= 16) {              /* the usual slide, a cycle or a few: no call */
            for (uint64_t c = base; c < to; c++)
                used[c & mask] = 0;
            q->base = to;
            q->end = t + 1;
        } else {
            issue_slide(q, t);
        }
    }
    used[t & mask]++;
}
void issue_free(issue_slots *q);

#endif
