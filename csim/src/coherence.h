/* The coherence baseline: how shared data and signals move between cores without a ring cache.
 *
 * A directory keeps, per line, the last core that wrote it (the owner) and the cores holding a
 * valid copy (a sharer bit mask, the owner included). It only times accesses: the values live in
 * the one simulated memory (docs/multicore.md, section 5). The caller (the scheduler) asks it
 * about every load and store of a core, in simulated-time order, and adds the result's extra
 * cycles to the access's latency from the core's own caches:
 *
 * - a load of a line the core holds costs nothing more; a load of a line last written by another
 *   core is a cache-to-cache transfer (c2c_latency); a line nobody wrote comes from L2 or memory
 *   as the core's caches say (no extra);
 * - a store takes the line exclusive: it invalidates the other copies (the result's mask tells
 *   the caller which cores' L1 lines to drop with cache_invalidate), costing upgrade_latency when
 *   there were any, or c2c_latency when the line was last written by another core;
 * - a line moving to a core stays busy until the transfer completes: a later transfer of the
 *   same line starts after it, and the receiving core's own accesses wait for it.
 *
 * Signals are stores to a flag line per (segment, signalling core), and a wait spins on the flag
 * line of the core whose signal releases it: it sees the flag one c2c_latency after the signal
 * (or after it starts waiting, if later), or at once when the signal came from its own core.
 * The directory does not see L1 evictions: a copy stays valid until another core's store.
 *
 * This header is also a cffi cdef for the unit tests (tests/csim_units.py): declarations only.
 */
#ifndef CSIM_COHERENCE_H
#define CSIM_COHERENCE_H

#include <stdint.h>

#include "addrmap.h"

typedef struct coh_params {
    int64_t cores;            /* 1 to 64 */
    int64_t line_bytes;       /* a power of two from 8 to 4096 (64) */
    int64_t c2c_latency;      /* cycles to move a line from another core's cache (75; 10 is the
                                 optimistic case) */
    int64_t upgrade_latency;  /* cycles to invalidate other copies on a store (0) */
} coh_params;

/* What one access costs beyond the core's own caches. */
typedef struct coh_result {
    int64_t extra;            /* cycles added to the access's latency */
    uint64_t invalidated;     /* stores and signals: the cores whose copy was dropped (bit c) */
    int32_t had_copy;         /* the core held a valid copy of the line before the access */
} coh_result;

typedef struct coh_stats {
    uint64_t c2c_transfers;   /* data lines moved from another core's cache */
    uint64_t invalidations;   /* copies dropped by stores and signals */
    uint64_t upgrades;        /* stores to a line the core held while others held it too */
    uint64_t flag_transfers;  /* flag lines moved to a waiting core */
} coh_stats;

typedef struct coh {
    coh_params p;
    int32_t line_shift;       /* log2(line_bytes) */
    addrmap lines;            /* line number -> directory entry (coherence.c) */
    void *flags;              /* CSIM_MAX_SEGMENTS * cores flag entries (coherence.c) */
    coh_stats stats;
} coh;

/* The defaults: 16 cores, 64-byte lines, 75-cycle transfers, free upgrades. */
void coh_default_params(coh_params *p);
/* Whether p is a configuration this model supports; if not, writes why into err. */
int coh_params_ok(const coh_params *p, char *err, int err_size);
/* Returns CSIM_OK, CSIM_BAD_CONFIG (p fails coh_params_ok) or CSIM_NO_MEMORY. */
int coh_init(coh *c, const coh_params *p);
void coh_free(coh *c);
/* Forget every line, flag and counter (as after coh_init). */
void coh_reset(coh *c);

/* A load or store by core of the byte at addr, issued at cycle t. Return CSIM_OK,
   CSIM_NO_MEMORY, or CSIM_BAD_PROGRAM when core is out of range (a caller bug). */
int coh_load(coh *c, int32_t core, uint64_t addr, int64_t t, coh_result *r);
int coh_store(coh *c, int32_t core, uint64_t addr, int64_t t, coh_result *r);
/* core writes its flag line of segment seg at cycle t (a SIGNAL). Returns CSIM_OK, or
   CSIM_BAD_PROGRAM when core or seg is out of range. */
int coh_signal(coh *c, int32_t core, int32_t seg, int64_t t, coh_result *r);
/* The cycle at which core, waiting on seg since t_wait, sees the flag from_core wrote at t_sent:
   max(t_wait, t_sent), plus c2c_latency when from_core is another core and the waiter holds no
   copy of that write yet. Returns -1 when no write of that flag at or after t_sent has been
   recorded (t_sent < 0: the caller knows of none yet); the waiter then holds a copy of the old
   flag and spins on it, so the signal will invalidate it. Returns -2 when an argument is out of
   range (a caller bug). */
int64_t coh_wait_release(coh *c, int32_t core, int32_t seg, int32_t from_core, int64_t t_sent,
                         int64_t t_wait);

#endif
