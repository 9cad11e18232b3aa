/* Arithmetic exactly as CPython does it, for the cases C gets wrong or leaves undefined.
 *
 * Functions that can fail return a csim_status: CSIM_OK with the result in *out, or an error
 * with a message written into err (err_size bytes). The dispatch loop in core.c calls these for
 * the slower opcodes and does the simple ones itself.
 */
#ifndef CSIM_PYARITH_H
#define CSIM_PYARITH_H

#include <math.h>
#include <stdint.h>

/* How float_to_int rounds: int(), math.floor(), math.ceil(). */
typedef enum py_round {
    PY_TRUNC = 0,            /* int(x) */
    PY_FLOOR,                /* math.floor(x) */
    PY_CEIL                  /* math.ceil(x) */
} py_round;

/* int(x), math.floor(x) or math.ceil(x) of a double as an int64: ValueError on nan,
   OverflowError on inf or a result past 64 bits. */
int py_float_to_int(double x, py_round mode, int64_t *out, char *err, int err_size);
/* a ** b for ints, b >= 0, by repeated squaring; ValueError if b < 0, OverflowError past 64
   bits. */
int py_pow_i(int64_t a, int64_t b, int64_t *out, char *err, int err_size);
/* a / b for ints, correctly rounded (b != 0, checked by the caller). */
double py_truediv_i(int64_t a, int64_t b);
/* CPython's float // and % (b != 0.0, checked by the caller). */
double py_floordiv_f(double a, double b);
double py_mod_f(double a, double b);
/* CPython's float ** with its special cases and errors. */
int py_pow_f(double a, double b, double *out, char *err, int err_size);
/* math.sqrt, math.exp, math.log with CPython's domain and range errors. */
int py_sqrt(double x, double *out, char *err, int err_size);
int py_exp(double x, double *out, char *err, int err_size);
int py_log(double x, double *out, char *err, int err_size);
/* Writes x as Python's repr() would (shortest round-trip form), for messages. */
void py_format_double(double x, char *buf, int buf_size);

/* Compares int i with float f exactly, as CPython does: -1, 0 or 1 for i <, ==, > f, and 2 when
   f is nan (unordered). */
static inline int py_cmp_if(int64_t i, double f)
{
    if (isnan(f))
        return 2;
    if (f >= 9223372036854775808.0)        /* 2**63 and +inf: above every int64 */
        return -1;
    if (f < -9223372036854775808.0)        /* below -2**63, and -inf */
        return 1;
    /* Now f truncates into int64 range; compare the integer parts, then the fraction. */
    double t = trunc(f);
    int64_t ti = (int64_t)t;
    if (i != ti)
        return i < ti ? -1 : 1;
    double frac = f - t;                    /* exact */
    return frac > 0.0 ? -1 : frac < 0.0 ? 1 : 0;
}

#endif
