/* Checking mode: per-word shadows of the last writing and the highest reading iteration. */
#include <stddef.h>

#include "api.h"
#include "check.h"

/* The shadow of one word; iteration -1 stands for the main context (before every iteration). */
typedef struct check_word {
    int64_t w_iter;          /* the iteration whose value the word holds */
    int64_t r_iter;          /* the highest iteration that read it */
    int32_t w_pc, r_pc;      /* where they did it */
    uint64_t w_cycle;        /* the cycle the write issued in */
} check_word;

static const check_word CHECK_WORD_NEW = {-1, -1, -1, -1, 0};

int check_init(check *ck, uint64_t max_words)
{
    ck->max_words = max_words;
    ck->first = (check_violation){0};
    ck->violations = 0;
    return addrmap_init(&ck->words, (int64_t)sizeof(check_word), 0);
}

void check_free(check *ck)
{
    addrmap_free(&ck->words);
}

void check_reset(check *ck)
{
    addrmap_clear(&ck->words);
    ck->first = (check_violation){0};
    ck->violations = 0;
}

/* The shadow of addr for an access by a loop iteration, created on first use; NULL when it
   could not be. */
static check_word *word_of(check *ck, uint64_t addr)
{
    void *rec = addrmap_get(&ck->words, addr);

    if (rec != NULL)
        return rec;
    if (ck->max_words != 0 && ck->words.count >= ck->max_words)
        return NULL;
    addrmap_put(&ck->words, addr, &CHECK_WORD_NEW, &rec);
    return rec;
}

/* The main context's access: ordered before the loop's iterations (or after them), so the word
   starts over, as if main had written it. */
static void main_access(check *ck, uint64_t addr)
{
    check_word *w = addrmap_get(&ck->words, addr);

    if (w != NULL)
        *w = CHECK_WORD_NEW;
}

static int report(check *ck, int kind, uint64_t addr, int64_t iter, int32_t pc, int64_t other_iter,
                  int32_t other_pc)
{
    if (ck->first.kind == CHECK_OK)
        ck->first = (check_violation){kind, pc, iter, other_pc, 0, other_iter, addr};
    ck->violations++;
    return kind;
}

/* The shadow for an access by iteration iter, or NULL with *code what the access returns:
   CHECK_OK for the main context (nothing to check), -1 when the shadow cannot grow. */
static check_word *shadow_for(check *ck, uint64_t addr, int64_t iter, int *code)
{
    if (iter < 0) {
        main_access(ck, addr);
        *code = CHECK_OK;
        return NULL;
    }
    *code = -1;
    return word_of(ck, addr);
}

int check_read(check *ck, uint64_t addr, int64_t iter, int32_t pc)
{
    return check_read_at(ck, addr, iter, pc, UINT64_MAX);
}

int check_write(check *ck, uint64_t addr, int64_t iter, int32_t pc)
{
    return check_write_at(ck, addr, iter, pc, 0);
}

int check_read_at(check *ck, uint64_t addr, int64_t iter, int32_t pc, uint64_t cycle)
{
    int code;
    check_word *w = shadow_for(ck, addr, iter, &code);

    if (w == NULL)
        return code;
    if (w->w_iter > iter)
        return report(ck, CHECK_READ_OF_LATER_WRITE, addr, iter, pc, w->w_iter, w->w_pc);
    if (w->w_iter >= 0 && w->w_iter != iter && cycle < w->w_cycle)
        return report(ck, CHECK_READ_BEFORE_WRITE, addr, iter, pc, w->w_iter, w->w_pc);
    if (iter > w->r_iter) {
        w->r_iter = iter;
        w->r_pc = pc;
    }
    return CHECK_OK;
}

int check_write_at(check *ck, uint64_t addr, int64_t iter, int32_t pc, uint64_t cycle)
{
    int code;
    check_word *w = shadow_for(ck, addr, iter, &code);

    if (w == NULL)
        return code;
    code = CHECK_OK;
    if (w->w_iter > iter)
        code = report(ck, CHECK_WRITE_AFTER_LATER_WRITE, addr, iter, pc, w->w_iter, w->w_pc);
    else if (w->r_iter > iter)
        code = report(ck, CHECK_WRITE_AFTER_LATER_READ, addr, iter, pc, w->r_iter, w->r_pc);
    /* The word now holds this iteration's value, whatever the order says. */
    w->w_iter = iter;
    w->w_pc = pc;
    w->w_cycle = cycle;
    return code;
}
