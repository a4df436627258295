/* buf: a growable byte buffer with a sticky out-of-memory flag, the only way we build strings. */
#ifndef CLIP_BUF_H
#define CLIP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct {
    char *p;     /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t max;  /* 0 = no cap; an append past it sets oom */
    int oom;     /* set once an append failed; later appends do nothing */
} buf_t;

#define BUF_INIT {0, 0, 0, 0, 0}

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
void buf_reset(buf_t *b); /* len = 0, keeps the memory */
/* The slow path of buf_reserve: grows the block (or sets oom). */
int buf_grow(buf_t *b, size_t extra);

/* The appends are inline (every answer makes hundreds of thousands of them): the room-already-there
 * case is one comparison, and strlen of a literal is folded by the compiler. */
static inline int buf_reserve(buf_t *b, size_t extra) /* 0 ok, -1 oom */
{
    /* the block never grows past max + 1, so room within cap is within max */
    if (extra < b->cap - b->len && !b->oom)
        return 0;
    return buf_grow(b, extra);
}

static inline int buf_append(buf_t *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static inline int buf_puts(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

static inline int buf_putc(buf_t *b, char c)
{
    if (buf_reserve(b, 1) != 0)
        return -1;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return 0;
}

int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends a JSON string literal (with quotes), escaping per RFC 8259; invalid UTF-8 becomes U+FFFD. */
int buf_json_str(buf_t *b, const char *s, size_t n);
/* Appends a JSON number in its shortest round-trip form (28.5, not 28.499999999999999); null for
 * NaN and infinities, which JSON cannot carry. */
int buf_json_double(buf_t *b, double d);
/* Appends a whole number in decimal (no snprintf). */
int buf_put_i64(buf_t *b, long long v);
/* Hands the string over to the caller (free() it); the buffer is left empty. */
char *buf_take(buf_t *b);

#endif
