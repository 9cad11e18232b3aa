/* The event trace of a simulation: what the scheduler did, when, for the Chrome/Perfetto trace
 * (runtime/trace.py; docs/multicore.md, "Tracing").
 *
 * A bounded buffer of csim_trace_event records in the order the scheduler made them (not sorted
 * by cycle). It grows on demand up to its limit; events past the limit are counted in dropped and
 * not kept, so a long run never takes unbounded memory. The scheduler holds a pointer that is NULL
 * when tracing is off: TRACE_EVENT then costs one test.
 */
#ifndef CSIM_TRACE_H
#define CSIM_TRACE_H

#include <stdint.h>

#include "api.h"

typedef struct trace {
    csim_trace_event *events;
    int64_t count;           /* events kept */
    int64_t cap;             /* allocated */
    int64_t limit;           /* at most this many kept */
    int64_t dropped;         /* events past the limit (or not kept for lack of memory) */
} trace;

/* An empty buffer keeping at most limit events (limit >= 1). Allocates nothing yet. */
void trace_init(trace *t, int64_t limit);
/* Append one event, or count it in dropped when the buffer is full. */
void trace_record(trace *t, csim_trace_kind kind, uint64_t cycle, int32_t core, int32_t worker,
                  int64_t iteration, int32_t seg, int64_t arg);
void trace_free(trace *t);

/* Record an event when tracing is on (t != NULL). */
#define TRACE_EVENT(t, ...)                                                                      \
    do {                                                                                         \
        if ((t) != NULL)                                                                         \
            trace_record((t), __VA_ARGS__);                                                      \
    } while (0)

#endif
