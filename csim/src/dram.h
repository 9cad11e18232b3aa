/* The memory controller behind the shared L2: DRAM bandwidth and lines in flight.
 *
 * Timing only (the values live in the one simulated memory). An L2 miss sends a line request to
 * the channel of its line ((addr / line_bytes) mod channels); a channel serves one line per
 * line_cycles cycles, so requests that arrive together queue, and the line is back latency
 * cycles after its channel starts on it. The scheduler calls in simulated-time order (each call
 * carries the cycle t at which the request reaches the controller: after the L1 and L2 lookups).
 *
 * Each channel books its service in a calendar of slots, slot k covering cycles
 * [k * line_cycles, (k + 1) * line_cycles): one line per slot. A request arriving at t takes the
 * first free slot at or after t's and starts at max(t, its first cycle); the wait is its
 * queueing delay. So the bandwidth is exactly one line per line_cycles per channel over any
 * whole number of slots (within a slot two requests never share; a request at the end of one
 * slot and one at the start of the next may follow each other closely). The calendar is a
 * window of calendar_slots slots per channel; a caller more than a window behind the newest
 * booking finds those slots taken (as the ring's link calendars do).
 *
 * Lines in flight: a load that hits an L2 line whose fill from DRAM has not returned yet (the
 * cache model allocates the line at the miss) waits for that fill, as a miss-status register
 * merges requests: dram_pending gives the fill's ready cycle. A direct-mapped table of
 * inflight_entries fills remembers them; a fill that collides with a newer one is forgotten
 * (a later hit on it then costs an L2 hit).
 *
 * This header is also a cffi cdef for the unit tests (tests/csim_units.py): declarations only.
 */
#ifndef CSIM_DRAM_H
#define CSIM_DRAM_H

#include <stddef.h>
#include <stdint.h>

/* Bounds checked by dram_init. */
#define DRAM_MAX_CHANNELS 64
#define DRAM_MAX_CYCLES 1000000

typedef struct dram_params {
    int64_t channels;          /* 1..DRAM_MAX_CHANNELS, lines interleaved over them */
    int64_t line_cycles;       /* cycles a channel spends per line: 1..DRAM_MAX_CYCLES */
    int64_t line_bytes;        /* a power of two: the L2 line */
    int64_t latency;           /* cycles from the start of service to the line's return */
    int64_t calendar_slots;    /* per channel, a power of two (>= 64) */
    int64_t inflight_entries;  /* the fill table, a power of two (>= 64) */
} dram_params;

typedef struct dram_stats {
    uint64_t accesses;         /* lines read (dram_read calls) */
    uint64_t queue_cycles;     /* summed queueing delays */
    uint64_t max_queue;        /* the longest queueing delay */
    uint64_t pending_hits;     /* loads that waited for a fill in flight (dram_pending) */
    uint64_t pending_cycles;   /* their summed wait beyond t */
} dram_stats;

/* A fill in flight: line number and the cycle it is back. */
typedef struct dram_fill {
    uint64_t line;
    uint64_t ready;
} dram_fill;

typedef struct dram {
    dram_params p;
    int line_shift;            /* log2(line_bytes) */
    uint64_t *slots;           /* channels * calendar_slots: 1 + the slot number booked there;
                                  less than 1 + k: slot k is free */
    dram_fill *fills;          /* inflight_entries, indexed by line mod inflight_entries */
    dram_stats stats;
} dram;

/* Two channels of 8 cycles per line, 64-byte lines, latency 180 (the atom1 presets). */
void dram_default_params(dram_params *p);
/* Check p and allocate an idle controller. Returns CSIM_OK, CSIM_BAD_CONFIG (msg names the
   field as dram_params.<field>) or CSIM_NO_MEMORY. On failure d owns nothing. */
int dram_init(dram *d, const dram_params *p, char *msg, size_t msg_size);
void dram_free(dram *d);

/* A line request for addr reaches the controller at cycle t: returns the cycle the line is back
   (t + queueing delay + latency) and records the fill as in flight. */
uint64_t dram_read(dram *d, uint64_t addr, uint64_t t);
/* A load of addr's line at cycle t found it in L2: the cycle its fill returns when that is after
   t (the load waits for it), else 0. */
uint64_t dram_pending(dram *d, uint64_t addr, uint64_t t);

#endif
