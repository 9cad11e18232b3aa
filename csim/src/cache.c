/* Set-associative LRU cache: geometry checks, set-up, invalidation and tear-down (cache_access is
 * inline in cache.h). */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "cache.h"

/* The empty way of a wide tag array: tags are addresses shifted right by at least one bit. */
#define CACHE_EMPTY_WIDE UINT64_MAX
/* Bounds that keep the tag array small enough to allocate (at most 128 MB of wide tags). */
#define CACHE_MAX_LINES (INT64_C(1) << 24)
#define CACHE_MAX_LINE 4096
#define CACHE_MAX_ASSOC 1024

static int is_pow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

int cache_geometry_ok(const char *name, int64_t size, int64_t assoc, int64_t line, char *err,
                      int err_size)
{
    if (!is_pow2(line) || line < 2 || line > CACHE_MAX_LINE) {
        snprintf(err, err_size, "%s_line must be a power of two from 2 to %d bytes (got %lld)",
                 name, CACHE_MAX_LINE, (long long)line);
        return 0;
    }
    if (assoc < 1 || assoc > CACHE_MAX_ASSOC) {
        snprintf(err, err_size, "%s_assoc must be from 1 to %d (got %lld)", name,
                 CACHE_MAX_ASSOC, (long long)assoc);
        return 0;
    }
    if (size < 1 || size % (assoc * line) != 0 || !is_pow2(size / (assoc * line))
        || size / line > CACHE_MAX_LINES) {
        snprintf(err, err_size,
                 "%s_size must be %s_assoc * %s_line times a power of two, and at most %lld "
                 "lines (got %s_size=%lld, %s_assoc=%lld, %s_line=%lld)",
                 name, name, name, (long long)CACHE_MAX_LINES, name, (long long)size, name,
                 (long long)assoc, name, (long long)line);
        return 0;
    }
    return 1;
}

int cache_init(cache *c, int64_t size, int64_t assoc, int64_t line)
{
    int64_t nsets = size / (assoc * line);
    int64_t n = nsets * assoc;

    c->tags = malloc((size_t)n * sizeof *c->tags);
    /* Allocated now so that widening cannot fail; untouched (so not in the host's caches) until
       then. */
    c->wide = malloc((size_t)n * sizeof *c->wide);
    if (c->tags == NULL || c->wide == NULL) {
        cache_free(c);
        return CSIM_NO_MEMORY;
    }
    for (int64_t i = 0; i < n; i++)
        c->tags[i] = CACHE_EMPTY_NARROW;
    c->set_mask = (uint64_t)nsets - 1;
    c->assoc = assoc;
    c->line_shift = 0;
    while ((INT64_C(1) << c->line_shift) < line)
        c->line_shift++;
    c->set_shift = c->line_shift;
    while ((INT64_C(1) << (c->set_shift - c->line_shift)) < nsets)
        c->set_shift++;
    c->hits = 0;
    c->misses = 0;
    return CSIM_OK;
}

void cache_free(cache *c)
{
    free(c->tags);
    free(c->wide);
    c->tags = NULL;
    c->wide = NULL;
}

int cache_access_wide(cache *c, uint64_t addr)
{
    uint64_t n = (c->set_mask + 1) * (uint64_t)c->assoc;

    if (c->tags != NULL) {              /* the first wide tag: copy the narrow ones, for good */
        for (uint64_t i = 0; i < n; i++)
            c->wide[i] = c->tags[i] == CACHE_EMPTY_NARROW ? CACHE_EMPTY_WIDE : c->tags[i];
        free(c->tags);
        c->tags = NULL;
    }
    uint64_t t = addr >> c->set_shift;
    uint64_t *set = c->wide + ((addr >> c->line_shift) & c->set_mask) * (uint64_t)c->assoc;
    int hit;

    CACHE_SET_TOUCH(c, set, t, hit);
    return hit;
}

/* Remove tag t from set (n ways), if there, into found: the ways after it move up one place,
   keeping their LRU order, and the last one becomes empty. A macro: it serves both tag widths. */
#define CACHE_SET_DROP(set, n, t, empty, found)                                                 \
    do {                                                                                        \
        int64_t way_ = 0;                                                                       \
        while (way_ < (n) && (set)[way_] != (t))                                                \
            way_++;                                                                             \
        (found) = way_ < (n);                                                                   \
        if (found) {                                                                            \
            for (; way_ + 1 < (n); way_++)                                                      \
                (set)[way_] = (set)[way_ + 1];                                                  \
            (set)[(n) - 1] = (empty);                                                           \
        }                                                                                       \
    } while (0)

int cache_invalidate(cache *c, uint64_t addr)
{
    uint64_t t = addr >> c->set_shift;
    uint64_t at = ((addr >> c->line_shift) & c->set_mask) * (uint64_t)c->assoc;
    int found = 0;

    if (c->tags == NULL)
        CACHE_SET_DROP(c->wide + at, c->assoc, t, CACHE_EMPTY_WIDE, found);
    else if (t < CACHE_EMPTY_NARROW)    /* a tag too wide for narrow tags names no line held */
        CACHE_SET_DROP(c->tags + at, c->assoc, (uint32_t)t, CACHE_EMPTY_NARROW, found);
    return found;
}
