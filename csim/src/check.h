/* The checking mode: shadow memory that catches accesses breaking sequential order.
 *
 * A parallel loop is correct when every shared word sees the values the sequential loop would
 * give it. The engine executes accesses in simulated-time order on one memory, so a wrongly
 * synchronized program really reads and writes out of order; the checker shadows each word
 * touched inside the loop with its last writing iteration and its highest reading iteration, and
 * reports an access that contradicts iteration order:
 *
 * - CHECK_READ_OF_LATER_WRITE: iteration i reads a value written by a later iteration j > i
 *   (sequentially, i's read comes before j's write);
 * - CHECK_WRITE_AFTER_LATER_READ: i writes a word that a later iteration j > i already read
 *   (that read missed i's value);
 * - CHECK_WRITE_AFTER_LATER_WRITE: i's write lands after the write of a later iteration j > i
 *   (sequentially j's value is the one that stays).
 *
 * - CHECK_READ_BEFORE_WRITE: the order holds, but i reads the value an earlier iteration j < i
 *   wrote in a cycle before that write issued (the *_at calls give the cycles): the model timed
 *   the read before the write it sees, as when a segment's load issues before its WAIT's release.
 *
 * Until the first violation the last writer only grows, so these three rules report exactly the
 * first access that completes a pair of conflicting accesses (same word, one of them a write) of
 * two iterations in the opposite of their sequential order. Accesses by one iteration are in
 * program order, so they never conflict with each other.
 *
 * Iteration -1 is the main context, outside the loop: its accesses are ordered before (or after)
 * every iteration, so they are not checked and make the word start over. check_reset forgets every
 * shadow: call it when a loop starts. A word is the element at the address the caller passes: the
 * checker compares addresses, so the caller passes each element's first byte, as the core's
 * memory model does.
 *
 * This header is also a cffi cdef for the unit tests (tests/csim_units.py): declarations only.
 */
#ifndef CSIM_CHECK_H
#define CSIM_CHECK_H

#include <stdint.h>

#include "addrmap.h"

typedef enum check_kind {
    CHECK_OK = 0,
    CHECK_READ_OF_LATER_WRITE,       /* iter reads the value other_iter > iter wrote */
    CHECK_WRITE_AFTER_LATER_READ,    /* iter writes after other_iter > iter read the word */
    CHECK_WRITE_AFTER_LATER_WRITE,   /* iter writes after other_iter > iter wrote the word */
    CHECK_READ_BEFORE_WRITE          /* iter reads, in an earlier cycle, what other_iter < iter
                                        wrote */
} check_kind;

/* One violation: the access that broke the order and the earlier access it contradicts. */
typedef struct check_violation {
    int32_t kind;            /* check_kind; CHECK_OK when there was none */
    int32_t pc;              /* the violating access */
    int64_t iter;
    int32_t other_pc;        /* the later iteration's access */
    int32_t pad;
    int64_t other_iter;
    uint64_t addr;
} check_violation;

typedef struct check {
    addrmap words;           /* address -> shadow of the word (check.c) */
    uint64_t max_words;      /* shadow at most this many words; 0: no bound */
    check_violation first;   /* the first violation since init or reset */
    uint64_t violations;     /* how many accesses were violations */
} check;

/* Shadow at most max_words words (0: as many as host memory allows). Returns CSIM_OK or
   CSIM_NO_MEMORY. */
int check_init(check *ck, uint64_t max_words);
void check_free(check *ck);
/* Forget every shadow and violation: a new loop starts. */
void check_reset(check *ck);
/* Check and record a read or write of the word at addr by iteration iter (-1: the main context)
   at pc. Returns CHECK_OK, a check_kind (the first is kept in ck->first), or -1 when the
   shadow could not grow (out of memory or max_words). */
int check_read(check *ck, uint64_t addr, int64_t iter, int32_t pc);
int check_write(check *ck, uint64_t addr, int64_t iter, int32_t pc);
/* The same, with the cycle the access issues in (check_read/check_write: no cycle to check). */
int check_read_at(check *ck, uint64_t addr, int64_t iter, int32_t pc, uint64_t cycle);
int check_write_at(check *ck, uint64_t addr, int64_t iter, int32_t pc, uint64_t cycle);

#endif
