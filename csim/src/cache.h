/* A set-associative cache with LRU replacement, tags only (the data lives in host memory).
 *
 * Each set keeps its tags ordered from most to least recently used, so a hit on the MRU line (the
 * common case of a sequential sweep) costs one compare. A miss fills the line, evicting the LRU
 * one: loads and stores both allocate.
 *
 * A tag is the address without its line offset and set index (addr >> set_shift). The tag arrays
 * are read on every simulated access and miss in the host's caches, so they hold 32-bit tags,
 * half the host bytes of a line number: one 64-byte host line holds a 16-way set. A tag that does
 * not fit (an address at or above 2^32 sets' worth of lines, which the runtime never hands out)
 * switches the cache to 64-bit tags for good, so any address stays exact.
 */
#ifndef CSIM_CACHE_H
#define CSIM_CACHE_H

#include <stdint.h>

/* The empty way of a narrow (32-bit) tag array; narrow tags are below it. */
#define CACHE_EMPTY_NARROW UINT32_MAX

/* Look tag t up in set (one of cache c's, MRU first) and make it the MRU way, the LRU one
   dropped on a miss; hit says whether t was there, and c counts it. A macro: it serves both tag
   widths. */
#define CACHE_SET_TOUCH(c, set, t, hit)                                                         \
    do {                                                                                        \
        int64_t way_ = 0;                                                                       \
        while (way_ < (c)->assoc && (set)[way_] != (t))                                         \
            way_++;                                                                             \
        (hit) = way_ < (c)->assoc;                                                              \
        if (!(hit))                                                                             \
            way_ = (c)->assoc - 1;  /* the LRU way */                                           \
        for (; way_ > 0; way_--)                                                                \
            (set)[way_] = (set)[way_ - 1];                                                      \
        (set)[0] = (t);                                                                         \
        if (hit)                                                                                \
            (c)->hits++;                                                                        \
        else                                                                                    \
            (c)->misses++;                                                                      \
    } while (0)

typedef struct cache {
    uint32_t *tags;          /* nsets * assoc narrow tags, MRU first; NULL once wide */
    uint64_t *wide;          /* the same as 64-bit tags, used once a tag did not fit */
    uint64_t set_mask;       /* nsets - 1; nsets is a power of two */
    int64_t assoc;           /* ways per set */
    int line_shift;          /* log2 of the line size in bytes */
    int set_shift;           /* line_shift + log2(nsets): addr >> set_shift is the tag */
    uint64_t hits;           /* accesses that found their line */
    uint64_t misses;         /* accesses that filled their line */
} cache;

/* Set up an empty cache of size bytes; the caller has checked the geometry (cache_geometry_ok).
   Returns CSIM_OK or CSIM_NO_MEMORY. */
int cache_init(cache *c, int64_t size, int64_t assoc, int64_t line);
void cache_free(cache *c);
/* Whether (size, assoc, line) describe a cache this model supports; if not, writes why into
   err. name prefixes the config fields ("l1" -> l1_size). */
int cache_geometry_ok(const char *name, int64_t size, int64_t assoc, int64_t line, char *err,
                      int err_size);
/* Drop the line holding addr, as another core's store does (the coherence baseline): returns 1
   if the line was present. Its way becomes the set's LRU one, empty. */
int cache_invalidate(cache *c, uint64_t addr);
/* cache_access with 64-bit tags (cache.c), switching to them first if need be. */
int cache_access_wide(cache *c, uint64_t addr);

/* Access the byte at addr: returns 1 on a hit, 0 on a miss (the line is then filled). Inline:
   the core calls it on every load and store. */
static inline int cache_access(cache *c, uint64_t addr)
{
    uint64_t tag = addr >> c->set_shift;

    if (__builtin_expect(tag >= CACHE_EMPTY_NARROW || c->tags == NULL, 0))
        return cache_access_wide(c, addr);
    uint32_t t = (uint32_t)tag;
    uint32_t *set = c->tags + ((addr >> c->line_shift) & c->set_mask) * (uint64_t)c->assoc;
    int hit;

    if (set[0] == t) {
        c->hits++;
        return 1;
    }
    CACHE_SET_TOUCH(c, set, t, hit);
    return hit;
}

#endif
