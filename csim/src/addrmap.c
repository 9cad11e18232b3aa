/* Open-addressing address map: slots of key + record, a hash that keeps runs of 8 consecutive keys
 * together, linear probing, doubling at half load. */
#include <stdlib.h>
#include <string.h>

#include "addrmap.h"
#include "api.h"

#define ADDRMAP_FREE UINT64_MAX
#define ADDRMAP_FIRST_CAP 64
/* 2^64 / golden ratio: Knuth's multiplier for Fibonacci hashing. */
#define ADDRMAP_MULT UINT64_C(0x9E3779B97F4A7C15)
/* Keys equal but for these low bits share one aligned run of slots (ADDRMAP_RUN + 1 of them). */
#define ADDRMAP_RUN UINT64_C(7)
/* Tables start on a host cache line, so a slot whose size divides 64 never straddles two. */
#define ADDRMAP_ALIGN 64

/* key's home slot: the run of key >> 3, Fibonacci-hashed, and in it the slot of key's low bits.
   An XOR, not an OR, so tables smaller than a run (a tiny max_cap) stay in range. */
static uint64_t slot_of(const addrmap *m, uint64_t key)
{
    return (((key >> 3) * ADDRMAP_MULT) >> m->shift) ^ (key & ADDRMAP_RUN & (m->cap - 1));
}

static uint64_t *key_at(const addrmap *m, uint64_t slot)
{
    return (uint64_t *)(void *)(m->slots + slot * (uint64_t)m->slot_size);
}

static unsigned char *val_at(const addrmap *m, uint64_t slot)
{
    return m->slots + slot * (uint64_t)m->slot_size + sizeof(uint64_t);
}

static void free_slots(addrmap *m)
{
    for (uint64_t s = 0; s < m->cap; s++)
        *key_at(m, s) = ADDRMAP_FREE;
}

/* Allocate an empty table of cap slots into m (slots, cap, shift); m's old table is not touched
   on failure. */
static int alloc_table(addrmap *m, uint64_t cap)
{
    if (m->max_cap != 0 && cap > m->max_cap)
        return CSIM_NO_MEMORY;
    if (cap > (SIZE_MAX - ADDRMAP_ALIGN) / (uint64_t)m->slot_size)
        return CSIM_NO_MEMORY;
    size_t bytes = (size_t)(cap * (uint64_t)m->slot_size);
    /* aligned_alloc wants a multiple of the alignment. */
    unsigned char *slots = aligned_alloc(ADDRMAP_ALIGN, (bytes + ADDRMAP_ALIGN - 1)
                                                            / ADDRMAP_ALIGN * ADDRMAP_ALIGN);
    if (slots == NULL)
        return CSIM_NO_MEMORY;
    m->slots = slots;
    m->cap = cap;
    m->shift = 64;
    while ((UINT64_C(1) << (64 - m->shift)) < cap)
        m->shift--;
    free_slots(m);
    return CSIM_OK;
}

int addrmap_init(addrmap *m, int64_t val_size, uint64_t max_cap)
{
    m->slots = NULL;
    m->max_rec = NULL;
    m->count = 0;
    m->max_cap = max_cap;
    m->val_size = val_size;
    m->has_max_key = 0;
    if (val_size <= 0 || val_size > INT64_MAX - 16)
        return CSIM_NO_MEMORY;
    m->slot_size = (int64_t)sizeof(uint64_t) + (val_size + 7) / 8 * 8;
    m->max_rec = malloc((size_t)val_size);
    if (m->max_rec == NULL)
        return CSIM_NO_MEMORY;
    uint64_t cap = ADDRMAP_FIRST_CAP;
    while (max_cap != 0 && cap > max_cap && cap > 2)
        cap /= 2;                       /* the largest power of two within max_cap */
    int status = alloc_table(m, cap);
    if (status != CSIM_OK) {            /* a failed init holds no memory */
        free(m->max_rec);
        m->max_rec = NULL;
    }
    return status;
}

void addrmap_free(addrmap *m)
{
    free(m->slots);
    free(m->max_rec);
    m->slots = NULL;
    m->max_rec = NULL;
    m->cap = m->count = 0;
}

void addrmap_clear(addrmap *m)
{
    free_slots(m);
    m->count = 0;
    m->has_max_key = 0;
}

/* The slot holding key, or the free slot where it would go. */
static uint64_t probe(const addrmap *m, uint64_t key)
{
    uint64_t mask = m->cap - 1;
    uint64_t s = slot_of(m, key);
    uint64_t k;

    while ((k = *key_at(m, s)) != key && k != ADDRMAP_FREE)
        s = (s + 1) & mask;
    return s;
}

void *addrmap_get(const addrmap *m, uint64_t key)
{
    if (key == ADDRMAP_FREE)
        return m->has_max_key ? m->max_rec : NULL;
    uint64_t s = probe(m, key);
    return *key_at(m, s) == key ? val_at(m, s) : NULL;
}

/* Double the table, rehashing every key. */
static int grow(addrmap *m)
{
    addrmap old = *m;
    int status = alloc_table(m, old.cap * 2);

    if (status != CSIM_OK)
        return status;
    for (uint64_t s = 0; s < old.cap; s++) {
        uint64_t key = *key_at(&old, s);
        if (key == ADDRMAP_FREE)
            continue;
        /* Slot and record together: one copy moves both. */
        memcpy(key_at(m, probe(m, key)), key_at(&old, s), (size_t)m->slot_size);
    }
    free(old.slots);
    return CSIM_OK;
}

int addrmap_put(addrmap *m, uint64_t key, const void *init, void **rec)
{
    *rec = NULL;
    if (key == ADDRMAP_FREE) {
        if (!m->has_max_key) {
            memcpy(m->max_rec, init, (size_t)m->val_size);
            m->has_max_key = 1;
            m->count++;
        }
        *rec = m->max_rec;
        return CSIM_OK;
    }
    uint64_t s = probe(m, key);
    if (*key_at(m, s) == key) {
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
    *key_at(m, s) = key;
    memcpy(val_at(m, s), init, (size_t)m->val_size);
    m->count++;
    *rec = val_at(m, s);
    return CSIM_OK;
}
