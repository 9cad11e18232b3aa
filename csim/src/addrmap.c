/* Open-addressing address map: multiplicative hashing, linear probing, doubling at half load. */
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "api.h"

#define ADDRMAP_FREE UINT64_MAX
#define ADDRMAP_FIRST_CAP 64
/* 2^64 / golden ratio: Knuth's multiplier for Fibonacci hashing. */
#define ADDRMAP_MULT UINT64_C(0x9E3779B97F4A7C15)

static uint64_t slot_of(const addrmap *m, uint64_t key)
{
    return (key * ADDRMAP_MULT) >> m->shift;
}

static unsigned char *val_at(const addrmap *m, uint64_t slot)
{
    return m->vals + slot * (uint64_t)m->val_size;
}

/* Allocate an empty table of cap slots into m (keys, vals, cap, shift); m's old table is not
   touched on failure. */
static int alloc_table(addrmap *m, uint64_t cap)
{
    if (m->max_cap != 0 && cap > m->max_cap)
        return CSIM_NO_MEMORY;
    if (cap > SIZE_MAX / sizeof(uint64_t) || cap + 1 > SIZE_MAX / (uint64_t)m->val_size)
        return CSIM_NO_MEMORY;
    uint64_t *keys = malloc((size_t)cap * sizeof *keys);
    unsigned char *vals = malloc((size_t)(cap + 1) * (size_t)m->val_size);
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return CSIM_NO_MEMORY;
    }
    memset(keys, 0xff, (size_t)cap * sizeof *keys);   /* every key ADDRMAP_FREE */
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->shift = 64;
    while ((UINT64_C(1) << (64 - m->shift)) < cap)
        m->shift--;
    return CSIM_OK;
}

int addrmap_init(addrmap *m, int64_t val_size, uint64_t max_cap)
{
    m->keys = NULL;
    m->vals = NULL;
    m->count = 0;
    m->max_cap = max_cap;
    m->val_size = val_size;
    m->has_max_key = 0;
    if (val_size <= 0)
        return CSIM_NO_MEMORY;
    uint64_t cap = ADDRMAP_FIRST_CAP;
    while (max_cap != 0 && cap > max_cap && cap > 2)
        cap /= 2;                       /* the largest power of two within max_cap */
    return alloc_table(m, cap);
}

void addrmap_free(addrmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->count = 0;
}

void addrmap_clear(addrmap *m)
{
    memset(m->keys, 0xff, (size_t)m->cap * sizeof *m->keys);
    m->count = 0;
    m->has_max_key = 0;
}

/* The slot holding key, or the free slot where it would go. */
static uint64_t probe(const addrmap *m, uint64_t key)
{
    uint64_t mask = m->cap - 1;
    uint64_t s = slot_of(m, key);

    while (m->keys[s] != key && m->keys[s] != ADDRMAP_FREE)
        s = (s + 1) & mask;
    return s;
}

void *addrmap_get(const addrmap *m, uint64_t key)
{
    if (key == ADDRMAP_FREE)
        return m->has_max_key ? val_at(m, m->cap) : NULL;
    uint64_t s = probe(m, key);
    return m->keys[s] == key ? val_at(m, s) : NULL;
}

/* Double the table, rehashing every key. */
static int grow(addrmap *m)
{
    addrmap old = *m;
    int status = alloc_table(m, old.cap * 2);

    if (status != CSIM_OK)
        return status;
    for (uint64_t s = 0; s < old.cap; s++) {
        if (old.keys[s] == ADDRMAP_FREE)
            continue;
        uint64_t t = probe(m, old.keys[s]);
        m->keys[t] = old.keys[s];
        memcpy(val_at(m, t), val_at(&old, s), (size_t)m->val_size);
    }
    memcpy(val_at(m, m->cap), val_at(&old, old.cap), (size_t)m->val_size);
    free(old.keys);
    free(old.vals);
    return CSIM_OK;
}

int addrmap_put(addrmap *m, uint64_t key, const void *init, void **rec)
{
    *rec = NULL;
    if (key == ADDRMAP_FREE) {
        if (!m->has_max_key) {
            memcpy(val_at(m, m->cap), init, (size_t)m->val_size);
            m->has_max_key = 1;
            m->count++;
        }
        *rec = val_at(m, m->cap);
        return CSIM_OK;
    }
    uint64_t s = probe(m, key);
    if (m->keys[s] == key) {
        *rec = val_at(m, s);
        return CSIM_OK;
    }
    /* Keep at least half the slots free so probe sequences stay short. */
    if (2 * (m->count - (uint64_t)m->has_max_key + 1) > m->cap) {
        int status = grow(m);
        if (status != CSIM_OK)
            return status;
        s = probe(m, key);
    }
    m->keys[s] = key;
    memcpy(val_at(m, s), init, (size_t)m->val_size);
    m->count++;
    *rec = val_at(m, s);
    return CSIM_OK;
}
