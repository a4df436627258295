/* buf: a growable byte buffer with a sticky out-of-memory flag, the only way we build strings. */
#ifndef CLIP_BUF_H
#define CLIP_BUF_H

#include <stdarg.h>
#include <stddef.h>

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
int buf_reserve(buf_t *b, size_t extra); /* 0 ok, -1 oom */
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_putc(buf_t *b, char c);
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
