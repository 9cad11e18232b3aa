/* Set-associative LRU cache: geometry checks, set-up, invalidation and tear-down (cache_access is
 * inline in cache.h). */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "cache.h"

/* No line number can be this: addresses shifted right by at least one bit stay below it. */
#define CACHE_EMPTY UINT64_MAX
/* Bounds that keep the tag array small enough to allocate (at most 128 MB of line numbers). */
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

    c->lines = malloc((size_t)n * sizeof *c->lines);
    if (c->lines == NULL)
        return CSIM_NO_MEMORY;
    for (int64_t i = 0; i < n; i++)
        c->lines[i] = CACHE_EMPTY;
    c->set_mask = (uint64_t)nsets - 1;
    c->assoc = assoc;
    c->line_shift = 0;
    while ((INT64_C(1) << c->line_shift) < line)
        c->line_shift++;
    c->hits = 0;
    c->misses = 0;
    return CSIM_OK;
}

void cache_free(cache *c)
{
    free(c->lines);
    c->lines = NULL;
}

int cache_invalidate(cache *c, uint64_t addr)
{
    uint64_t ln = addr >> c->line_shift;
    uint64_t *set = c->lines + (ln & c->set_mask) * (uint64_t)c->assoc;

    for (int64_t way = 0; way < c->assoc; way++) {
        if (set[way] != ln)
            continue;
        /* The ways after it move up one place, keeping their LRU order. */
        for (; way + 1 < c->assoc; way++)
            set[way] = set[way + 1];
        set[c->assoc - 1] = CACHE_EMPTY;
        return 1;
    }
    return 0;
}
