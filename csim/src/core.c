/* The in-order core: see core.h for the timing model, opcodes.def for what each opcode does.
 *
 * Build with -DCSIM_TRACE (e.g. CFLAGS=-DCSIM_TRACE python csim/_build.py) to print every
 * instruction with its issue cycle to stderr.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "ooo.h"
#include "opcodes.h"
#include "pyarith.h"
#include "sched.h"

/* NumPy's names, for messages. */
static const char *const dtype_names[] = {
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "bool",
};

static uint32_t class_latency(const csim_config *cfg, csim_op_class cls)
{
    switch (cls) {
    case CLS_INT: return (uint32_t)cfg->lat_int;
    case CLS_MUL: return (uint32_t)cfg->lat_mul;
    case CLS_DIV: return (uint32_t)cfg->lat_div;
    case CLS_FADD: return (uint32_t)cfg->lat_fadd;
    case CLS_FMUL: return (uint32_t)cfg->lat_fmul;
    case CLS_FDIV: return (uint32_t)cfg->lat_fdiv;
    case CLS_SQRT: return (uint32_t)cfg->lat_sqrt;
    case CLS_MATH: return (uint32_t)cfg->lat_math;
    default: return 0;                      /* MEM: per access; CTRL, SYNC: write nothing */
    }
}

int core_init(core *c, const csim_config *config, const csim_program *program,
              csim_pc_stats *stats, char *msg, int msg_size)
{
    memset(c, 0, sizeof *c);
    c->code = malloc((size_t)program->ncode * sizeof *c->code);
    if (c->code == NULL)
        return CSIM_NO_MEMORY;
    for (int32_t pc = 0; pc < program->ncode; pc++) {
        const csim_instr *in = &program->code[pc];
        const csim_op_info *info = &csim_op_table[in->op];
        core_instr *d = &c->code[pc];

        d->op = in->op;
        d->aux = in->aux;
        d->a = in->a;
        d->b = in->b;
        d->c = in->c;
        d->dst = CORE_REG_SINK;
        d->s = CORE_REG_NONE;
        d->target = 0;
        if (info->dst[0] != '-')
            d->dst = in->dst;
        else if (in->op == OP_STORE_I || in->op == OP_STORE_F)
            d->s = in->dst;
        else if (in->op == OP_JMP || in->op == OP_BRT || in->op == OP_BRF || in->op == OP_PAR_END)
            d->target = in->dst;
        if (in->op == OP_PAR_BEGIN || in->op == OP_SPAWN || in->op == OP_JOIN)
            d->a = d->b = d->c = CORE_REG_NONE;  /* the scheduler reads these operands */
        d->lat = class_latency(config, info->cls);
    }
    c->ncode = program->ncode;
    c->nregs = program->nregs;
    c->arrays = program->arrays;
    c->stats = stats;
    c->width = config->issue_width;
    c->penalty = config->mispredict_penalty;
    c->budget = (uint64_t)config->max_instructions;
    c->msg = msg;
    c->msg_size = msg_size;
    return CSIM_OK;
}

void core_free(core *c)
{
    free(c->code);
    c->code = NULL;
}

/* Arithmetic shift right by 0..63 without relying on implementation-defined behaviour. */
static inline int64_t shift_right(int64_t x, int64_t s)
{
    return x < 0 ? ~(~x >> s) : x >> s;
}

/* Byte offset of the element that instruction in indexes in arr, or CSIM_INDEX_ERROR. */
static inline int element_offset(const csim_array *arr, const csim_value *regs,
                                 const core_instr *in, int64_t *off, char *msg, int msg_size)
{
    const int32_t idx[3] = {in->a, in->b, in->c};
    int64_t o = 0;

    for (int d = 0; d < arr->ndim; d++) {
        int64_t i = regs[idx[d]].i, n = arr->shape[d];
        int64_t k = i < 0 ? i + n : i;      /* n >= 0, so this cannot overflow */
        if ((uint64_t)k >= (uint64_t)n) {
            snprintf(msg, msg_size, "index %" PRId64 " is out of bounds for axis %d with size %"
                     PRId64, i, d, n);
            return CSIM_INDEX_ERROR;
        }
        o += k * arr->strides[d];
    }
    *off = o;
    return CSIM_OK;
}

/* Bytes of an element of each dtype (for the scheduler's undo log). */
static const uint8_t dtype_sizes[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 1};

/* core_step's body, instantiated twice: OOO 0 times the in-order pipeline, 1 the out-of-order
   core (ooo.h), which replaces the issue and clock steps and adds a retirement after each
   instruction; the constant keeps the in-order instance free of the other's work. */
static inline __attribute__((always_inline)) int step(core *c, ctx *x, sched *s,
                                                      uint64_t max_steps, uint64_t horizon,
                                                      const int OOO)
{
    const core_instr *const code = c->code;
    csim_value *const regs = x->regs;
    const csim_array *const arrays = c->arrays;
    uint64_t *const ready = x->ready;
    uint8_t *const why = x->why;
    csim_pc_stats *const stats = c->stats;
    char *const msg = c->msg;
    const int msg_size = c->msg_size;
    const int64_t width = c->width;
    const uint64_t refill = (uint64_t)c->penalty + 1;
    const int logging = s->undo_on;
    const int checking = s->checking;
    const int acquire = OOO && c->acquire;
    issue_slots *const shared = x->issue;
    ooo_ctx *const o = x->ooo;
    if (OOO && x->cycle != o->rcycle) {     /* the scheduler moved the clock of a drained window */
        o->dcycle = o->rcycle = x->cycle;
        o->dcount = o->rcount = 0;
    }
    uint64_t cycle = x->cycle, fetch_ready = x->fetch_ready;
    unsigned fetch_cat = x->fetch_cat;
    int64_t slots = x->slots;
    int32_t pc = x->pc;
    const uint64_t start_cycle = x->cycle;
    uint64_t loads = 0, stores = 0, branches = 0, mispredicts = 0;
    uint64_t dispatch = 0, done = 0;        /* OOO: the instruction's dispatch and completion */
    unsigned wait_cat = 0, own_cat = 0;     /* OOO: its stall causes before / after its issue */
    uint64_t limit = max_steps != 0 ? max_steps : UINT64_MAX, n = 0;
    int budget_binds = 0, status;

    if (c->budget != 0 && c->budget - c->instructions <= limit) {
        limit = c->budget - c->instructions;
        budget_binds = 1;
    }

#define IA (regs[in->a].i)
#define IB (regs[in->b].i)
#define IC (regs[in->c].i)
#define FA (regs[in->a].f)
#define FB (regs[in->b].f)
#define SET_I(v) (regs[in->dst].i = (v))
#define SET_F(v) (regs[in->dst].f = (v))
#define FAIL(st, ...)                                                          \
    do {                                                                       \
        snprintf(msg, msg_size, __VA_ARGS__);                                  \
        status = (st);                                                         \
        goto stop;                                                             \
    } while (0)
#define TRY(call)                                                              \
    do {                                                                       \
        status = (call);                                                       \
        if (status != CSIM_OK)                                                 \
            goto stop;                                                         \
    } while (0)
#define INT_OVERFLOW(expr_fmt, ...)                                            \
    FAIL(CSIM_OVERFLOW, "integer overflow: " expr_fmt                          \
         " does not fit in the simulator's 64-bit ints", __VA_ARGS__)
/* A store's checking and timing: a ring store may stall the core (a full inject queue). */
#define STORE_TIMING(addr)                                                     \
    do {                                                                       \
        uint64_t a_ = (addr);                                                  \
        if (checking)                                                          \
            TRY(sched_check(s, x, in->aux, a_, 1, pc, issue));                 \
        uint64_t stall_ = sched_mem_latency(s, x, a_, issue, 1, 1, NULL);      \
        if (stall_ != 0 && issue + stall_ > fetch_ready) {                     \
            fetch_ready = issue + stall_;                                      \
            fetch_cat = CSIM_CAT_COMM;                                         \
        }                                                                      \
    } while (0)
/* OOO: SYNC, RET and RAISE retire at their issue, the window empty behind them. */
#define DRAIN()                                                                \
    do {                                                                       \
        if (OOO) {                                                             \
            ooo_commit(o, dispatch, issue, issue, wait_cat, own_cat, 0, st->cycles, x->cat); \
            o->dcycle = o->rcycle;                                             \
            o->dcount = 0;                                                     \
        }                                                                      \
    } while (0)
#define SOURCE(r)                                                              \
    do {                                                                       \
        uint64_t t_ = ready[r];                                                \
        if (t_ > need) {                                                       \
            need = t_;                                                         \
            cat = why[r];                                                      \
        }                                                                      \
    } while (0)

    for (;;) {
        if (n == limit) {
            status = CSIM_PAUSED;
            if (budget_binds) {
                snprintf(msg, msg_size,
                         "the instruction budget ran out after %" PRIu64 " instructions "
                         "(machine config max_instructions)", c->budget);
                status = CSIM_BUDGET;
            }
            goto stop;
        }
        n++;
        const core_instr *in = &code[pc];

        csim_op_class cls;
        uint64_t need, own = 0, issue;
        unsigned cat;
        if (OOO) {
            cls = csim_op_table[in->op].cls;
            /* Dispatch in order (SYNC, RET and RAISE after the window drained, but
               WAIT, SIGNAL and ITER_END with acquire), then issue at
               the first cycle with ready sources and a free slot on the core's timeline. */
            need = dispatch = ooo_dispatch_cycle(o, fetch_ready, fetch_cat, cls == CLS_MEM, &cat);
            if ((cls == CLS_SYNC || in->op == OP_RET || in->op == OP_RAISE) && o->rcycle > need
                && !(acquire && (in->op == OP_WAIT || in->op == OP_SIGNAL
                                 || in->op == OP_ITER_END)))
                need = dispatch = o->rcycle;
            /* Memory and synchronization in global time order, by dispatch cycle. */
            if ((cls == CLS_MEM || cls == CLS_SYNC) && dispatch > horizon) {
                n--;
                x->when = dispatch;
                status = CORE_YIELD;
                goto stop;
            }
            SOURCE(in->a);
            SOURCE(in->b);
            SOURCE(in->c);
            SOURCE(in->s);
            /* Acquire: a segment's loads and stores wait for its WAIT's release. */
            if (acquire && cls == CLS_MEM && x->nopen > 0 && x->acquire > need) {
                need = x->acquire;
                cat = CSIM_CAT_COMM;
            }
            issue = issue_find(o->slots, need);
            wait_cat = issue - need > need - dispatch ? CSIM_CAT_BUSY : cat;
            done = issue + 1;
            own_cat = CSIM_CAT_DEPENDENCE;
        } else {
            /* Issue: the first cycle with a free slot, ready sources and the fetch refilled. */
            need = fetch_ready;
            cat = fetch_cat;
            SOURCE(in->a);
            SOURCE(in->b);
            SOURCE(in->c);
            SOURCE(in->s);
            uint64_t earliest = cycle + (slots >= width);
            own = need > earliest ? need : earliest;
            /* SMT: the first cycle from then on with a slot the core's other contexts left free */
            issue = shared != NULL ? issue_find(shared, own) : own;
            /* Memory and synchronization happen in global time order: let earlier contexts go. */
            cls = csim_op_table[in->op].cls;
            if ((cls == CLS_MEM || cls == CLS_SYNC) && issue > horizon) {
                n--;
                x->when = issue;
                status = CORE_YIELD;
                goto stop;
            }
        }
#ifdef CSIM_TRACE
        fprintf(stderr, "%8" PRIu64 " %6d  %-10s aux=%u dst=%d a=%d b=%d c=%d\n", issue, (int)pc,
                csim_op_table[in->op].name, (unsigned)in->aux, (int)in->dst, (int)in->a,
                (int)in->b, (int)in->c);
#endif
        csim_pc_stats *st = &stats[pc];
        st->exec++;
        if (OOO) {
            issue_take(o->slots, issue);    /* its clock and stats move at retirement */
        } else {
            if (shared != NULL)
                issue_take(shared, issue);
            if (issue > cycle) {
                /* Stalls to what the instruction waited on; cycles a sibling's issues filled
                   (issue > own, SMT only) to BUSY: the core was issuing. */
                uint64_t stall = own > cycle ? own - cycle - 1 : 0;
                st->cycles[CSIM_CAT_BUSY] += 1 + (issue - cycle - 1 - stall);
                st->cycles[cat] += stall;
                x->cat[CSIM_CAT_BUSY] += 1 + (issue - cycle - 1 - stall);
                x->cat[cat] += stall;
                cycle = issue;
                slots = 1;
            } else {
                slots++;
            }
        }

        switch ((csim_opcode)in->op) {
        case OP_MOV:
            regs[in->dst] = regs[in->a];
            break;
        case OP_I2F:
            SET_F((double)IA);
            break;
        case OP_F2I: {
            int64_t r;
            TRY(py_float_to_int(FA, PY_TRUNC, &r, msg, msg_size));
            SET_I(r);
            break;
        }
        case OP_ADD_I: {
            int64_t x = IA, y = IB, r;
            if (__builtin_add_overflow(x, y, &r))
                INT_OVERFLOW("%" PRId64 " + %" PRId64, x, y);
            SET_I(r);
            break;
        }
        case OP_SUB_I: {
            int64_t x = IA, y = IB, r;
            if (__builtin_sub_overflow(x, y, &r))
                INT_OVERFLOW("%" PRId64 " - %" PRId64, x, y);
            SET_I(r);
            break;
        }
        case OP_MUL_I: {
            int64_t x = IA, y = IB, r;
            if (__builtin_mul_overflow(x, y, &r))
                INT_OVERFLOW("%" PRId64 " * %" PRId64, x, y);
            SET_I(r);
            break;
        }
        case OP_FLOORDIV_I: {
            int64_t x = IA, y = IB;
            if (y == 0)
                FAIL(CSIM_ZERO_DIVISION, "integer division or modulo by zero");
            if (y == -1) {                  /* C's x / -1 traps on INT64_MIN */
                if (x == INT64_MIN)
                    INT_OVERFLOW("%" PRId64 " // %" PRId64, x, y);
                SET_I(-x);
                break;
            }
            int64_t q = x / y, r = x % y;
            if (r != 0 && (r ^ y) < 0)      /* C truncates; Python floors */
                q--;
            SET_I(q);
            break;
        }
        case OP_MOD_I: {
            int64_t x = IA, y = IB;
            if (y == 0)
                FAIL(CSIM_ZERO_DIVISION, "integer modulo by zero");
            if (y == -1) {
                SET_I(0);
                break;
            }
            int64_t r = x % y;
            if (r != 0 && (r ^ y) < 0)      /* the result takes the sign of y */
                r += y;
            SET_I(r);
            break;
        }
        case OP_TRUEDIV_I:
            if (IB == 0)
                FAIL(CSIM_ZERO_DIVISION, "division by zero");
            SET_F(py_truediv_i(IA, IB));
            break;
        case OP_POW_I: {
            int64_t r;
            TRY(py_pow_i(IA, IB, &r, msg, msg_size));
            SET_I(r);
            break;
        }
        case OP_NEG_I:
            if (IA == INT64_MIN)
                INT_OVERFLOW("-(%" PRId64 ")", IA);
            SET_I(-IA);
            break;
        case OP_ABS_I:
            if (IA == INT64_MIN)
                INT_OVERFLOW("abs(%" PRId64 ")", IA);
            SET_I(IA < 0 ? -IA : IA);
            break;
        case OP_AND_I:
            SET_I(IA & IB);
            break;
        case OP_OR_I:
            SET_I(IA | IB);
            break;
        case OP_XOR_I:
            SET_I(IA ^ IB);
            break;
        case OP_INV_I:
            SET_I(~IA);
            break;
        case OP_SHL_I: {
            int64_t x = IA, y = IB;
            if (y < 0)
                FAIL(CSIM_VALUE_ERROR, "negative shift count");
            if (x == 0) {
                SET_I(0);
                break;
            }
            if (y >= 64)
                INT_OVERFLOW("%" PRId64 " << %" PRId64, x, y);
            int64_t r = (int64_t)((uint64_t)x << y);
            if (shift_right(r, y) != x)     /* bits (or the sign) fell off the top */
                INT_OVERFLOW("%" PRId64 " << %" PRId64, x, y);
            SET_I(r);
            break;
        }
        case OP_SHR_I: {
            int64_t x = IA, y = IB;
            if (y < 0)
                FAIL(CSIM_VALUE_ERROR, "negative shift count");
            SET_I(y >= 64 ? (x < 0 ? -1 : 0) : shift_right(x, y));
            break;
        }
        case OP_MIN_I:
            SET_I(IB < IA ? IB : IA);
            break;
        case OP_MAX_I:
            SET_I(IB > IA ? IB : IA);
            break;
        case OP_ADD_F:
            SET_F(FA + FB);
            break;
        case OP_SUB_F:
            SET_F(FA - FB);
            break;
        case OP_MUL_F:
            SET_F(FA * FB);
            break;
        case OP_DIV_F:
            if (FB == 0.0)
                FAIL(CSIM_ZERO_DIVISION, "float division by zero");
            SET_F(FA / FB);
            break;
        case OP_FLOORDIV_F:
            if (FB == 0.0)
                FAIL(CSIM_ZERO_DIVISION, "float floor division by zero");
            SET_F(py_floordiv_f(FA, FB));
            break;
        case OP_MOD_F:
            if (FB == 0.0)
                FAIL(CSIM_ZERO_DIVISION, "float modulo");
            SET_F(py_mod_f(FA, FB));
            break;
        case OP_POW_F: {
            double r;
            TRY(py_pow_f(FA, FB, &r, msg, msg_size));
            SET_F(r);
            break;
        }
        case OP_NEG_F:
            SET_F(-FA);
            break;
        case OP_ABS_F:
            SET_F(fabs(FA));
            break;
        case OP_MIN_F: {                    /* copy the chosen register: keeps nan and -0.0 */
            csim_value v = FB < FA ? regs[in->b] : regs[in->a];
            regs[in->dst] = v;
            break;
        }
        case OP_MAX_F: {
            csim_value v = FB > FA ? regs[in->b] : regs[in->a];
            regs[in->dst] = v;
            break;
        }
        case OP_SQRT_F: {
            double r;
            TRY(py_sqrt(FA, &r, msg, msg_size));
            SET_F(r);
            break;
        }
        case OP_EXP_F: {
            double r;
            TRY(py_exp(FA, &r, msg, msg_size));
            SET_F(r);
            break;
        }
        case OP_LOG_F: {
            double r;
            TRY(py_log(FA, &r, msg, msg_size));
            SET_F(r);
            break;
        }
        case OP_FLOOR_F: {
            int64_t r;
            TRY(py_float_to_int(FA, PY_FLOOR, &r, msg, msg_size));
            SET_I(r);
            break;
        }
        case OP_CEIL_F: {
            int64_t r;
            TRY(py_float_to_int(FA, PY_CEIL, &r, msg, msg_size));
            SET_I(r);
            break;
        }
        case OP_EQ_I: SET_I(IA == IB); break;
        case OP_NE_I: SET_I(IA != IB); break;
        case OP_LT_I: SET_I(IA < IB); break;
        case OP_LE_I: SET_I(IA <= IB); break;
        case OP_GT_I: SET_I(IA > IB); break;
        case OP_GE_I: SET_I(IA >= IB); break;
        case OP_EQ_F: SET_I(FA == FB); break;
        case OP_NE_F: SET_I(FA != FB); break;
        case OP_LT_F: SET_I(FA < FB); break;
        case OP_LE_F: SET_I(FA <= FB); break;
        case OP_GT_F: SET_I(FA > FB); break;
        case OP_GE_F: SET_I(FA >= FB); break;
        /* py_cmp_if gives -1, 0, 1, or 2 when b is nan (only != holds then). */
        case OP_EQ_IF: SET_I(py_cmp_if(IA, FB) == 0); break;
        case OP_NE_IF: SET_I(py_cmp_if(IA, FB) != 0); break;
        case OP_LT_IF: SET_I(py_cmp_if(IA, FB) == -1); break;
        case OP_LE_IF: SET_I(py_cmp_if(IA, FB) <= 0); break;
        case OP_GT_IF: SET_I(py_cmp_if(IA, FB) == 1); break;
        case OP_GE_IF: {
            int r = py_cmp_if(IA, FB);
            SET_I(r == 0 || r == 1);
            break;
        }
        case OP_RANGE_CONT:
            SET_I(IC > 0 ? IA < IB : IA > IB);
            break;

        case OP_LOAD:
        case OP_LOAD_RO: {
            const csim_array *arr = &arrays[in->aux];
            int64_t off;
            TRY(element_offset(arr, regs, in, &off, msg, msg_size));
            const unsigned char *p = (const unsigned char *)(uintptr_t)(arr->host_addr
                                                                       + (uint64_t)off);
            csim_value v;
            switch ((csim_dtype)arr->dtype) {
#define GET_INT(T) { T t_; memcpy(&t_, p, sizeof t_); v.i = (int64_t)t_; break; }
            case CSIM_INT8: GET_INT(int8_t)
            case CSIM_INT16: GET_INT(int16_t)
            case CSIM_INT32: GET_INT(int32_t)
            case CSIM_INT64: GET_INT(int64_t)
            case CSIM_UINT8: GET_INT(uint8_t)
            case CSIM_UINT16: GET_INT(uint16_t)
            case CSIM_UINT32: GET_INT(uint32_t)
#undef GET_INT
            case CSIM_UINT64: {
                uint64_t t;
                memcpy(&t, p, sizeof t);
                if (t > (uint64_t)INT64_MAX)
                    FAIL(CSIM_OVERFLOW, "uint64 element %" PRIu64 " does not fit in the "
                         "simulator's 64-bit ints", t);
                v.i = (int64_t)t;
                break;
            }
            case CSIM_FLOAT32: {
                float t;
                memcpy(&t, p, sizeof t);
                v.f = (double)t;
                break;
            }
            case CSIM_FLOAT64:
                memcpy(&v.f, p, sizeof v.f);
                break;
            default:                        /* CSIM_BOOL: any nonzero byte is True */
                v.i = *p != 0;
                break;
            }
            regs[in->dst] = v;
            uint64_t addr = arr->sim_addr + (uint64_t)off;
            if (checking)
                TRY(sched_check(s, x, in->aux, addr, 0, pc, issue));
            /* Timing: the level that serves the line decides the latency and the stall cause. */
            unsigned level;
            int shared = in->op == OP_LOAD || s->overlapping[in->aux];
            uint64_t lat = sched_mem_latency(s, x, addr, issue, 0, shared, &level);
            loads++;
            ready[in->dst] = issue + lat;
            why[in->dst] = (uint8_t)level;
            done = issue + lat;
            own_cat = level;
            pc++;
            goto next;
        }
        case OP_STORE_I: {
            const csim_array *arr = &arrays[in->aux];
            int64_t off, v = regs[in->s].i;
            if (!arr->writable)             /* NumPy checks this before the index */
                FAIL(CSIM_VALUE_ERROR, "assignment destination is read-only");
            TRY(element_offset(arr, regs, in, &off, msg, msg_size));
            unsigned char *p = (unsigned char *)(uintptr_t)(arr->host_addr + (uint64_t)off);
            if (logging)
                TRY(sched_log_store(s, x, p, dtype_sizes[arr->dtype]));
            switch ((csim_dtype)arr->dtype) {
#define PUT_INT(T, lo, hi)                                                     \
    {                                                                          \
        if (v < (lo) || v > (hi))                                              \
            FAIL(CSIM_OVERFLOW, "Python integer %" PRId64 " out of bounds for %s", \
                 v, dtype_names[arr->dtype]);                                  \
        T t_ = (T)v;                                                           \
        memcpy(p, &t_, sizeof t_);                                             \
        break;                                                                 \
    }
            case CSIM_INT8: PUT_INT(int8_t, INT8_MIN, INT8_MAX)
            case CSIM_INT16: PUT_INT(int16_t, INT16_MIN, INT16_MAX)
            case CSIM_INT32: PUT_INT(int32_t, INT32_MIN, INT32_MAX)
            case CSIM_INT64: PUT_INT(int64_t, INT64_MIN, INT64_MAX)
            case CSIM_UINT8: PUT_INT(uint8_t, 0, UINT8_MAX)
            case CSIM_UINT16: PUT_INT(uint16_t, 0, UINT16_MAX)
            case CSIM_UINT32: PUT_INT(uint32_t, 0, (int64_t)UINT32_MAX)
            case CSIM_UINT64: PUT_INT(uint64_t, 0, INT64_MAX)
#undef PUT_INT
            case CSIM_FLOAT32: {            /* as NumPy: through a double */
                float t = (float)(double)v;
                memcpy(p, &t, sizeof t);
                break;
            }
            case CSIM_FLOAT64: {
                double t = (double)v;
                memcpy(p, &t, sizeof t);
                break;
            }
            default:                        /* CSIM_BOOL */
                *p = v != 0;
                break;
            }
            STORE_TIMING(arr->sim_addr + (uint64_t)off);
            stores++;
            pc++;
            goto next;
        }
        case OP_STORE_F: {
            const csim_array *arr = &arrays[in->aux];
            int64_t off;
            double v = regs[in->s].f;
            if (!arr->writable)             /* NumPy checks this before the index */
                FAIL(CSIM_VALUE_ERROR, "assignment destination is read-only");
            TRY(element_offset(arr, regs, in, &off, msg, msg_size));
            unsigned char *p = (unsigned char *)(uintptr_t)(arr->host_addr + (uint64_t)off);
            if (logging)
                TRY(sched_log_store(s, x, p, dtype_sizes[arr->dtype]));
            switch ((csim_dtype)arr->dtype) {
            case CSIM_FLOAT64:
                memcpy(p, &v, sizeof v);
                break;
            case CSIM_FLOAT32: {
                float t = (float)v;
                if (isinf(t) && isfinite(v)) {
                    char buf[32];
                    py_format_double(v, buf, sizeof buf);
                    FAIL(CSIM_OVERFLOW, "Python float %s out of bounds for float32", buf);
                }
                memcpy(p, &t, sizeof t);
                break;
            }
            case CSIM_BOOL:                 /* nan is truthy */
                *p = v != 0.0;
                break;
            default:
                FAIL(CSIM_VALUE_ERROR, "cannot store a float into an integer array (%s)",
                     dtype_names[arr->dtype]);
            }
            STORE_TIMING(arr->sim_addr + (uint64_t)off);
            stores++;
            pc++;
            goto next;
        }

        case OP_JMP:
            pc = in->target;
            goto next;
        case OP_BRT:
        case OP_BRF: {
            int taken = (IA != 0) == (in->op == OP_BRT);
            branches++;
            if (bpred_step(x->bp, x->bp_thread, pc, taken)) {
                mispredicts++;
                fetch_ready = issue + refill;
                fetch_cat = CSIM_CAT_BRANCH;
            }
            pc = taken ? in->target : pc + 1;
            goto next;
        }
        case OP_RET:
            DRAIN();
            status = CSIM_OK;
            msg[0] = '\0';
            goto stop;
        case OP_RAISE:
            /* The caller knows which assert or range this pc is; there is no text to add. */
            DRAIN();
            status = in->aux;
            msg[0] = '\0';
            goto stop;
        case OP_ITER_BEGIN:
            SET_I(x->iteration);
            break;
        case OP_CTX:
            SET_I(x->worker);
            break;
        case OP_NCTX:
            SET_I(s->nworkers);
            break;
        case OP_WAIT:
            if (acquire) {                  /* it retires at its release: core_release_wait */
                x->wait_pending = 1;
                x->wait_dispatch = dispatch;
                x->wait_issue = issue;
                x->wait_cat = (uint8_t)wait_cat;
                status = CORE_SYNC;
                goto stop;
            }
            goto drain_sync;
        case OP_SIGNAL:
        case OP_ITER_END:
            if (acquire) {                  /* seen when it retires: the context's clock */
                ooo_commit(o, dispatch, issue, issue + 1, wait_cat, own_cat, 0, st->cycles,
                           x->cat);
                x->keep_window = in->op == OP_ITER_END;
                status = CORE_SYNC;
                goto stop;
            }
            goto drain_sync;
        case OP_PAR_BEGIN:
        case OP_PAR_END:
        case OP_LOOP_EXIT:
        case OP_LOOP_RETURN:
        case OP_SPAWN:
        case OP_TASK_END:
        case OP_JOIN:
        drain_sync:
            DRAIN();
            status = CORE_SYNC;             /* issued here; the scheduler gives it its meaning */
            goto stop;
        case CSIM_NOPS:
            break;                          /* not an opcode; the validator rejects it */
        }
        /* Every opcode that breaks out of the switch wrote its register (or the sink). */
        ready[in->dst] = issue + in->lat;
        why[in->dst] = CSIM_CAT_DEPENDENCE;
        if (in->lat > 1)
            done = issue + in->lat;
        pc++;
    next:
        if (OOO)
            ooo_commit(o, dispatch, issue, done, wait_cat, own_cat, cls == CLS_MEM, st->cycles,
                       x->cat);
    }

#undef IA
#undef IB
#undef IC
#undef FA
#undef FB
#undef SET_I
#undef SET_F
#undef FAIL
#undef TRY
#undef INT_OVERFLOW
#undef SOURCE
#undef STORE_TIMING
#undef DRAIN

stop:
    x->cycle = OOO ? o->rcycle : cycle;
    x->slots = slots;
    x->fetch_ready = fetch_ready;
    x->fetch_cat = (uint8_t)fetch_cat;
    x->pc = pc;
    x->busy += x->cycle - start_cycle;
    x->instructions += n;
    x->loads += loads;
    x->stores += stores;
    x->branches += branches;
    x->mispredicts += mispredicts;
    c->instructions += n;
    return status;
}

uint64_t core_release_wait(core *c, ctx *x, uint64_t at)
{
    ooo_ctx *o = x->ooo;
    uint64_t done = x->wait_issue + 1, from = o->rcycle;
    /* CSIM_NCAT stands for the release: those cycles are waiting, not busy. */
    uint64_t pc_cat[CSIM_NCAT + 1] = {0}, cat[CSIM_NCAT + 1] = {0};
    unsigned own = CSIM_CAT_DEPENDENCE;

    if (at > done) {
        done = at;
        own = CSIM_NCAT;
    }
    ooo_commit(o, x->wait_dispatch, x->wait_issue, done, x->wait_cat, own, 0, pc_cat, cat);
    for (int k = 0; k < CSIM_NCAT; k++) {
        c->stats[x->pc].cycles[k] += pc_cat[k];
        x->cat[k] += cat[k];
    }
    x->wait += cat[CSIM_NCAT];
    x->busy += o->rcycle - from - cat[CSIM_NCAT];
    if (at > x->acquire)
        x->acquire = at;
    x->cycle = x->when = o->rcycle;
    x->wait_pending = 0;
    return cat[CSIM_NCAT];
}

int core_step(core *c, ctx *x, sched *s, uint64_t max_steps, uint64_t horizon)
{
    return c->ooo_on ? step(c, x, s, max_steps, horizon, 1) : step(c, x, s, max_steps, horizon, 0);
}
