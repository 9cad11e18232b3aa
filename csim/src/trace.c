/* The event trace: see trace.h. */
#include <stdlib.h>

#include "trace.h"

/* The first allocation, in events; the buffer doubles from there up to the limit. */
#define TRACE_FIRST_CAP 1024

void trace_init(trace *t, int64_t limit)
{
    t->events = NULL;
    t->count = 0;
    t->cap = 0;
    t->limit = limit > 0 ? limit : 1;
    t->dropped = 0;
}

void trace_record(trace *t, csim_trace_kind kind, uint64_t cycle, int32_t core, int32_t worker,
                  int64_t iteration, int32_t seg, int64_t arg)
{
    if (t->count == t->cap) {
        int64_t cap = t->cap ? 2 * t->cap : TRACE_FIRST_CAP;
        if (cap > t->limit)
            cap = t->limit;
        csim_trace_event *grown = cap > t->cap ? realloc(t->events, (size_t)cap * sizeof *grown)
                                               : NULL;
        if (grown == NULL) {                /* full, or out of memory: the trace is truncated */
            t->dropped++;
            return;
        }
        t->events = grown;
        t->cap = cap;
    }
    csim_trace_event *e = &t->events[t->count++];
    e->cycle = cycle;
    e->iteration = iteration;
    e->arg = arg;
    e->kind = (int32_t)kind;
    e->core = core;
    e->worker = worker;
    e->seg = seg;
}

void trace_free(trace *t)
{
    free(t->events);
    t->events = NULL;
    t->count = t->cap = 0;
}
