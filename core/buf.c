/* buf: growable buffers and JSON string escaping. */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->p)
        b->p[0] = '\0';
}

int buf_grow(buf_t *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra > (size_t)-1 - b->len - 1 || (b->max && b->len + extra > b->max)) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    if (b->max && cap > b->max + 1)
        cap = b->max + 1; /* need <= max + 1 here */
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->oom = 1;
        return -1;
    }
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    if (buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

#define JS_ONES 0x0101010101010101ULL
#define JS_HIGH 0x8080808080808080ULL

/* The high bit of some byte of w when any byte of it is not copied as it is: below 0x20, '"',
 * a backslash, DEL or >= 0x80 (borrows may flag more bytes above a real one, never a word that
 * has none). */
static uint64_t json_special(uint64_t w)
{
    uint64_t q = w ^ (JS_ONES * '"'), bs = w ^ (JS_ONES * '\\'), del = w ^ (JS_ONES * 0x7F);
    return (((q - JS_ONES) & ~q) | ((bs - JS_ONES) & ~bs) | ((del - JS_ONES) & ~del) |
            ((w - JS_ONES * 0x20) & ~w) | w) &
           JS_HIGH;
}

/* 1 for the bytes a JSON string holds as they are: 0x20..0x7E but '"' (0x22) and '\\' (0x5C) */
static const unsigned char json_plain[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5B] = 1,
    [0x5D ... 0x7E] = 1,
};

int buf_json_str(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    if (buf_reserve(b, n + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    size_t i = 0;
    for (;;) {
        /* the run of bytes copied as they are: eight at a time, then one by one */
        size_t run = i;
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (json_special(w))
                break;
            i += 8;
        }
        while (i < n && json_plain[u[i]])
            i++;
        if (i > run)
            buf_append(b, s + run, i - run);
        if (i >= n)
            break;
        unsigned char c = u[i];
        char tmp[7];
        const char *esc;
        if (c >= 0x80) {
            size_t step = utf8_len(u + i, n - i);
            if (step) {
                buf_append(b, s + i, step);
                i += step;
                continue;
            }
            esc = "\xEF\xBF\xBD";
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else { /* below 0x20, or DEL */
            tmp[0] = '\\', tmp[1] = 'u', tmp[2] = '0', tmp[3] = '0';
            tmp[4] = hex[c >> 4], tmp[5] = hex[c & 15], tmp[6] = '\0';
            esc = tmp;
        }
        buf_puts(b, esc);
        i++;
    }
    return buf_putc(b, '"');
}

/* The digits of v (no sign) ending at end; returns where they start. */
static char *digits_before(char *end, unsigned long long v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

int buf_put_i64(buf_t *b, long long v)
{
    char s[24], *end = s + sizeof s;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = digits_before(end, u);
    if (v < 0)
        *--p = '-';
    return buf_append(b, p, (size_t)(end - p));
}

/* Powers of ten exactly representable as doubles. */
static const double pow10_exact[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
#define FAST_FRACTION_MAX 6 /* decimals the fast path tries */
#define FAST_INT_LIMIT 1e15 /* below it, %.15g writes a whole number without exponent */

/* The fast path of buf_json_double: a value that is m / 10^k for a whole m of at most 15 digits
 * and k <= FAST_FRACTION_MAX (28.5, 12.3, 210) is written as those digits, which is exactly what
 * "%.15g" writes for it (15 significant digits are far coarser than its distance to the
 * decimal) and what strtod reads back (the division is correctly rounded, like strtod). Returns
 * -1 for the values it does not take. */
static int json_double_fast(buf_t *b, double d)
{
    double a = d < 0 ? -d : d;
    if (!(a >= 1e-4 && a < FAST_INT_LIMIT))
        return d == 0 ? buf_puts(b, (1 / d < 0) ? "-0" : "0") : -1;
    for (int k = 0; k <= FAST_FRACTION_MAX; k++) {
        double scaled = a * pow10_exact[k];
        if (scaled >= FAST_INT_LIMIT)
            return -1;
        unsigned long long m = (unsigned long long)(scaled + 0.5);
        if ((double)m / pow10_exact[k] != a)
            continue;
        char s[40], *end = s + sizeof s, *p;
        if (k == 0) {
            p = digits_before(end, m);
        } else {
            unsigned long long ip = m / (unsigned long long)pow10_exact[k];
            unsigned long long fp = m % (unsigned long long)pow10_exact[k];
            p = end;
            for (int i = 0; i < k; i++) {
                *--p = (char)('0' + fp % 10);
                fp /= 10;
            }
            *--p = '.';
            p = digits_before(p, ip);
        }
        if (d < 0)
            *--p = '-';
        return buf_append(b, p, (size_t)(end - p));
    }
    return -1;
}

int buf_json_double(buf_t *b, double d)
{
    if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
        return buf_puts(b, "null");
    int r = json_double_fast(b, d);
    if (r != -1 || b->oom)
        return r;
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    return buf_puts(b, s);
}

char *buf_take(buf_t *b)
{
    char *p = b->p;
    if (!p)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
