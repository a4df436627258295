/* arena: chunked bump allocation freed per request. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (16 * 1024)
#define ARENA_ALIGN 16

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    size_t off;
    _Alignas(16) unsigned char data[];
};

void arena_init(arena_t *a, size_t limit)
{
    a->head = NULL;
    a->used = 0;
    a->limit = limit;
}

void *arena_alloc(arena_t *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN - ARENA_CHUNK_MIN)
        return NULL;
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->limit && (a->used + n > a->limit))
        return NULL;
    arena_chunk *c = a->head;
    if (!c || c->size - c->off < n) {
        size_t size = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
        arena_chunk *nc = malloc(sizeof *nc + size);
        if (!nc)
            return NULL;
        nc->size = size;
        nc->off = 0;
        /* A big allocation goes behind the head so the head's free space stays usable. */
        if (c && n > ARENA_CHUNK_MIN) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->off;
    c->off += n;
    a->used += n;
    return p;
}

void *arena_calloc(arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_join(arena_t *a, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, a);
    for (const char *s; (s = va_arg(ap, const char *));)
        n += strlen(s);
    va_end(ap);
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    size_t off = 0;
    va_start(ap, a);
    for (const char *s; (s = va_arg(ap, const char *));) {
        size_t l = strlen(s);
        memcpy(p + off, s, l);
        off += l;
    }
    va_end(ap);
    p[off] = '\0';
    return p;
}

void arena_reset(arena_t *a)
{
    arena_chunk *c = a->head;
    if (!c)
        return;
    /* keep the last (oldest, normal-sized) chunk */
    arena_chunk *keep = NULL;
    while (c) {
        arena_chunk *next = c->next;
        if (!next && c->size == ARENA_CHUNK_MIN)
            keep = c;
        else
            free(c);
        c = next;
    }
    if (keep) {
        keep->off = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used = 0;
}

void arena_free(arena_t *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}
