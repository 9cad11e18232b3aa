/* The memory controller: parameters, channel calendars, fills in flight (see dram.h). */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "dram.h"

#define DRAM_MIN_TABLE 64
#define DRAM_MAX_TABLE (INT64_C(1) << 20)
#define DRAM_MAX_LINE 4096

void dram_default_params(dram_params *p)
{
    *p = (dram_params){
        .channels = 2, .line_cycles = 8, .line_bytes = 64, .latency = 180,
        .calendar_slots = 4096, .inflight_entries = 4096,
    };
}

static int is_pow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* Writes the first invalid field into msg; returns 1 when p is valid. */
static int params_ok(const dram_params *p, char *msg, size_t msg_size)
{
    const struct {
        const char *name;
        int64_t value, lo, hi;
        int pow2;
    } fields[] = {
        {"channels", p->channels, 1, DRAM_MAX_CHANNELS, 0},
        {"line_cycles", p->line_cycles, 1, DRAM_MAX_CYCLES, 0},
        {"line_bytes", p->line_bytes, 1, DRAM_MAX_LINE, 1},
        {"latency", p->latency, 0, DRAM_MAX_CYCLES, 0},
        {"calendar_slots", p->calendar_slots, DRAM_MIN_TABLE, DRAM_MAX_TABLE, 1},
        {"inflight_entries", p->inflight_entries, DRAM_MIN_TABLE, DRAM_MAX_TABLE, 1},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int64_t v = fields[i].value;
        if (v < fields[i].lo || v > fields[i].hi || (fields[i].pow2 && !is_pow2(v))) {
            snprintf(msg, msg_size, "dram_params.%s must be %sfrom %lld to %lld (got %lld)",
                     fields[i].name, fields[i].pow2 ? "a power of two " : "",
                     (long long)fields[i].lo, (long long)fields[i].hi, (long long)v);
            return 0;
        }
    }
    return 1;
}

int dram_init(dram *d, const dram_params *p, char *msg, size_t msg_size)
{
    *d = (dram){0};
    if (!params_ok(p, msg, msg_size))
        return CSIM_BAD_CONFIG;
    d->p = *p;
    while ((INT64_C(1) << d->line_shift) < p->line_bytes)
        d->line_shift++;
    /* calloc: every slot holds 0, "free" for every slot number, and no fill is in flight
       (ready 0 is never after a request's cycle). */
    d->slots = calloc((size_t)(p->channels * p->calendar_slots), sizeof *d->slots);
    d->fills = calloc((size_t)p->inflight_entries, sizeof *d->fills);
    if (d->slots == NULL || d->fills == NULL) {
        dram_free(d);
        snprintf(msg, msg_size, "out of memory for a DRAM calendar of %lld channels",
                 (long long)p->channels);
        return CSIM_NO_MEMORY;
    }
    return CSIM_OK;
}

void dram_free(dram *d)
{
    free(d->slots);
    free(d->fills);
    d->slots = NULL;
    d->fills = NULL;
}

uint64_t dram_read(dram *d, uint64_t addr, uint64_t t)
{
    uint64_t line = addr >> d->line_shift;
    uint64_t cycles = (uint64_t)d->p.line_cycles, mask = (uint64_t)d->p.calendar_slots - 1;
    uint64_t *cal = d->slots + (int64_t)(line % (uint64_t)d->p.channels) * d->p.calendar_slots;
    uint64_t k = t / cycles;

    /* The first free slot at or after t's; an entry holding a later slot of the window counts
       as taken (never double-book). */
    while (cal[k & mask] >= k + 1)
        k++;
    cal[k & mask] = k + 1;
    uint64_t start = k * cycles > t ? k * cycles : t;
    uint64_t delay = start - t, ready = start + (uint64_t)d->p.latency;

    d->stats.accesses++;
    d->stats.queue_cycles += delay;
    if (delay > d->stats.max_queue)
        d->stats.max_queue = delay;
    d->fills[line & (uint64_t)(d->p.inflight_entries - 1)] = (dram_fill){line, ready};
    return ready;
}

uint64_t dram_pending(dram *d, uint64_t addr, uint64_t t)
{
    uint64_t line = addr >> d->line_shift;
    const dram_fill *f = &d->fills[line & (uint64_t)(d->p.inflight_entries - 1)];

    if (f->line != line || f->ready <= t)
        return 0;
    d->stats.pending_hits++;
    d->stats.pending_cycles += f->ready - t;
    return f->ready;
}
