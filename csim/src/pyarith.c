/* CPython-exact arithmetic: see pyarith.h. The float routines follow the logic of CPython's
 * Objects/floatobject.c and Modules/mathmodule.c as documented behaviour, rewritten here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "pyarith.h"

#define TWO63 9223372036854775808.0

int py_float_to_int(double x, py_round mode, int64_t *out, char *err, int err_size)
{
    if (isnan(x)) {
        snprintf(err, err_size, "cannot convert float NaN to integer");
        return CSIM_VALUE_ERROR;
    }
    if (isinf(x)) {
        snprintf(err, err_size, "cannot convert float infinity to integer");
        return CSIM_OVERFLOW;
    }
    double r = mode == PY_FLOOR ? floor(x) : mode == PY_CEIL ? ceil(x) : trunc(x);
    if (!(r >= -TWO63 && r < TWO63)) {
        char buf[32];
        py_format_double(r, buf, sizeof buf);
        snprintf(err, err_size, "integer %s does not fit in the simulator's 64-bit ints", buf);
        return CSIM_OVERFLOW;
    }
    *out = (int64_t)r;
    return CSIM_OK;
}

int py_pow_i(int64_t a, int64_t b, int64_t *out, char *err, int err_size)
{
    int64_t result = 1, base = a, e = b;

    if (b < 0) {
        snprintf(err, err_size,
                 "int ** negative int is a float in Python; the simulator needs a float base "
                 "(got %" PRId64 " ** %" PRId64 ")", a, b);
        return CSIM_VALUE_ERROR;
    }
    while (e != 0) {
        if ((e & 1) && __builtin_mul_overflow(result, base, &result))
            goto overflow;
        e >>= 1;
        /* Square only when another bit needs it: the top bit of e is always used, so a square
           that overflows means the result overflows too. */
        if (e != 0 && __builtin_mul_overflow(base, base, &base))
            goto overflow;
    }
    *out = result;
    return CSIM_OK;
overflow:
    snprintf(err, err_size,
             "integer overflow: %" PRId64 " ** %" PRId64 " does not fit in the simulator's "
             "64-bit ints", a, b);
    return CSIM_OVERFLOW;
}

double py_truediv_i(int64_t a, int64_t b)
{
    const int64_t exact = INT64_C(1) << 53;

    /* Both exactly representable: one IEEE division rounds correctly (CPython's fast path). */
    if (a >= -exact && a <= exact && b >= -exact && b <= exact)
        return (double)a / (double)b;
    int negative = (a < 0) != (b < 0);
    if (a == 0)
        return negative ? -0.0 : 0.0;

    /* Long division to a 64-bit quotient with its top bit set, plus a sticky remainder, then
       round half to even at 53 bits. The quotient lies in [2**-63, 2**63], far from the
       subnormal and overflow ranges, so ldexp is exact. */
    uint64_t ua = a < 0 ? 0 - (uint64_t)a : (uint64_t)a;
    uint64_t ub = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
    uint64_t q = ua / ub, r = ua % ub;
    int exp2 = 0;
    while (!(q >> 63)) {
        uint64_t bit = 0;
        /* r < ub; 2r either overflows (then surely >= ub) or compares directly. */
        if ((r >> 63) || (r << 1) >= ub) {
            r = (r << 1) - ub;
            bit = 1;
        } else {
            r <<= 1;
        }
        q = (q << 1) | bit;
        exp2--;
    }
    uint64_t mant = q >> 11;
    uint64_t half = (q >> 10) & 1;
    int sticky = (q & 0x3FF) != 0 || r != 0;
    if (half && (sticky || (mant & 1)))
        mant++;
    double res = ldexp((double)mant, exp2 + 11);
    return negative ? -res : res;
}

double py_floordiv_f(double vx, double wx)
{
    double mod = fmod(vx, wx);
    /* fmod is exact, so vx - mod is exactly a multiple of wx (up to rounding of the divide). */
    double div = (vx - mod) / wx;

    if (mod != 0.0) {
        if ((wx < 0) != (mod < 0))
            div -= 1.0;
    }
    if (div != 0.0) {
        double floordiv = floor(div);
        if (div - floordiv > 0.5)
            floordiv += 1.0;
        return floordiv;
    }
    /* A zero quotient takes the sign of the true quotient. */
    return copysign(0.0, vx / wx);
}

double py_mod_f(double vx, double wx)
{
    double mod = fmod(vx, wx);

    if (mod != 0.0) {
        if ((wx < 0) != (mod < 0))
            mod += wx;
        return mod;
    }
    /* Zero remainders take the sign of the divisor, whatever the platform's fmod says. */
    return copysign(0.0, wx);
}

static int is_odd_integer(double x)
{
    return fmod(fabs(x), 2.0) == 1.0;
}

int py_pow_f(double iv, double iw, double *out, char *err, int err_size)
{
    if (iw == 0.0) {                        /* x ** 0 is 1, even for nan x */
        *out = 1.0;
        return CSIM_OK;
    }
    if (isnan(iv)) {
        *out = iv;
        return CSIM_OK;
    }
    if (isnan(iw)) {                        /* 1 ** nan is 1 */
        *out = iv == 1.0 ? 1.0 : iw;
        return CSIM_OK;
    }
    if (isinf(iw)) {
        /* |x| == 1 gives 1; |x| > 1 with +inf (or |x| < 1 with -inf) gives inf; else 0. */
        double ax = fabs(iv);
        if (ax == 1.0)
            *out = 1.0;
        else if ((iw > 0.0) == (ax > 1.0))
            *out = fabs(iw);
        else
            *out = 0.0;
        return CSIM_OK;
    }
    if (isinf(iv)) {                        /* odd integer exponents keep the sign */
        int odd = is_odd_integer(iw);
        if (iw > 0.0)
            *out = odd ? iv : fabs(iv);
        else
            *out = odd ? copysign(0.0, iv) : 0.0;
        return CSIM_OK;
    }
    if (iv == 0.0) {
        if (iw < 0.0) {
            snprintf(err, err_size, "0.0 cannot be raised to a negative power");
            return CSIM_ZERO_DIVISION;
        }
        *out = is_odd_integer(iw) ? iv : 0.0;
        return CSIM_OK;
    }
    int negate = 0;
    if (iv < 0.0) {
        if (iw != floor(iw)) {
            /* CPython computes a complex here, raising OverflowError when its modulus |x|**y
               overflows. The kernel language has no complex numbers: otherwise ValueError. */
            if (isinf(pow(-iv, iw))) {
                snprintf(err, err_size, "complex exponentiation");
                return CSIM_OVERFLOW;
            }
            snprintf(err, err_size,
                     "negative number cannot be raised to a fractional power (the result "
                     "would be complex)");
            return CSIM_VALUE_ERROR;
        }
        iv = -iv;
        negate = is_odd_integer(iw);
    }
    if (iv == 1.0) {                        /* also covers huge exponents exactly */
        *out = negate ? -1.0 : 1.0;
        return CSIM_OK;
    }
    errno = 0;
    double ix = pow(iv, iw);
    /* As CPython: an infinite result is an overflow; an underflow to zero is not an error. */
    if (errno == 0) {
        if (isinf(ix))
            errno = ERANGE;
    } else if (errno == ERANGE && ix == 0.0) {
        errno = 0;
    }
    if (negate)
        ix = -ix;
    if (errno != 0) {
        int range = errno == ERANGE;
        snprintf(err, err_size, range ? "(34, 'Numerical result out of range')"
                                      : "(33, 'Numerical argument out of domain')");
        return range ? CSIM_OVERFLOW : CSIM_VALUE_ERROR;
    }
    *out = ix;
    return CSIM_OK;
}

static int domain_error(char *err, int err_size)
{
    snprintf(err, err_size, "math domain error");
    return CSIM_VALUE_ERROR;
}

int py_sqrt(double x, double *out, char *err, int err_size)
{
    if (x < 0.0)                            /* not -0.0: sqrt(-0.0) is -0.0 */
        return domain_error(err, err_size);
    *out = sqrt(x);
    return CSIM_OK;
}

int py_exp(double x, double *out, char *err, int err_size)
{
    double r = exp(x);

    if (isinf(r) && isfinite(x)) {
        snprintf(err, err_size, "math range error");
        return CSIM_OVERFLOW;
    }
    *out = r;
    return CSIM_OK;
}

int py_log(double x, double *out, char *err, int err_size)
{
    if (isnan(x) || x == INFINITY) {
        *out = x;
        return CSIM_OK;
    }
    if (!(x > 0.0))                         /* zero, negatives and -inf */
        return domain_error(err, err_size);
    *out = log(x);
    return CSIM_OK;
}

void py_format_double(double x, char *buf, int buf_size)
{
    char digits[40];
    int prec, exp10;

    if (isnan(x)) {
        snprintf(buf, buf_size, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, buf_size, x > 0 ? "inf" : "-inf");
        return;
    }
    /* The fewest significant digits that read back as x. */
    for (prec = 1; prec < 17; prec++) {
        snprintf(digits, sizeof digits, "%.*e", prec - 1, x);
        if (strtod(digits, NULL) == x)
            break;
    }
    snprintf(digits, sizeof digits, "%.*e", prec - 1, x);
    exp10 = atoi(strchr(digits, 'e') + 1);
    /* repr() switches to exponent notation below 1e-4 and from 1e16 on. */
    if (exp10 < -4 || exp10 >= 16) {
        snprintf(buf, buf_size, "%s", digits);
        return;
    }
    int decimals = prec - 1 - exp10;
    snprintf(buf, buf_size, "%.*f", decimals > 0 ? decimals : 0, x);
    if (decimals <= 0 && (int)strlen(buf) + 2 < buf_size)
        strcat(buf, ".0");
}
