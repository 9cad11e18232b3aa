/* An open-addressing hash map from 64-bit addresses to small fixed-size records.
 *
 * The coherence directory (one record per line) and the checker's shadow memory (one record per
 * word) both need a sparse map over simulated addresses that grows with the addresses a program
 * touches. Keys are hashed multiplicatively (addresses are multiples of the word or line size, so
 * the high bits of the product carry the entropy) and probed linearly; the table doubles at half
 * occupancy. There is no removal: a user resets a record in place or clears the whole map.
 *
 * The map is on the simulator's hot path (a directory lookup per load and store), where its cost
 * is host cache misses, so it keeps lookups local: a slot holds its key and record together (one
 * host miss, not two), and the hash keeps the key's low 3 bits, so the 8 keys that differ only
 * there (8 consecutive lines of an array sweep) share one aligned run of 8 slots. The rest of the
 * key is hashed as before, so keys apart by 8 or more still spread over the whole table.
 *
 * A record is a plain block of val_size bytes, copied from the caller's initial value when its
 * key is inserted. Record pointers stay valid until the next insertion (which may move them).
 * This header is also a cffi cdef for the unit-test harness (tests/csim_units.py): declarations
 * only, no macros inside them, no inline functions.
 */
#ifndef CSIM_ADDRMAP_H
#define CSIM_ADDRMAP_H

#include <stdint.h>

typedef struct addrmap {
    unsigned char *slots;    /* cap slots of slot_size bytes: a key (UINT64_MAX: free), then
                                its record; 64-byte aligned */
    unsigned char *max_rec;  /* the record of the key UINT64_MAX (which cannot live in a slot) */
    uint64_t cap;            /* slots, a power of two */
    uint64_t count;          /* keys present, the key UINT64_MAX included */
    uint64_t max_cap;        /* growth beyond this many slots fails; 0: host memory is the limit */
    int64_t val_size;        /* bytes per record */
    int64_t slot_size;       /* 8 + val_size, rounded up to 8 so keys and records stay aligned */
    int shift;               /* 64 - log2(cap): the hash keeps the product's top bits */
    int has_max_key;         /* the key UINT64_MAX is present */
} addrmap;

/* An empty map of val_size-byte records. Returns CSIM_OK, or CSIM_NO_MEMORY (also when val_size
   is not positive or the first table would exceed max_cap). */
int addrmap_init(addrmap *m, int64_t val_size, uint64_t max_cap);
void addrmap_free(addrmap *m);
/* Remove every key; the table keeps its size. */
void addrmap_clear(addrmap *m);
/* The record of key, or NULL when key is absent. */
void *addrmap_get(const addrmap *m, uint64_t key);
/* The record of key in *rec, inserting a copy of init (val_size bytes) when key is absent.
   Returns CSIM_OK, or CSIM_NO_MEMORY when the table had to grow and could not (the map is then
   unchanged and *rec is NULL). */
int addrmap_put(addrmap *m, uint64_t key, const void *init, void **rec);

#endif
