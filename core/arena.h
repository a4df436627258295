/* arena: per-request memory, allocated in chunks and freed all at once (nginx's pool idea). */
#ifndef CLIP_ARENA_H
#define CLIP_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct {
    arena_chunk *head;
    size_t used;  /* bytes handed out, for limits and metrics */
    size_t limit; /* 0 = none; an allocation past it fails */
} arena_t;

void arena_init(arena_t *a, size_t limit);
void *arena_alloc(arena_t *a, size_t n);          /* 16-byte aligned, NULL past the limit */
void *arena_calloc(arena_t *a, size_t n, size_t size);
char *arena_strndup(arena_t *a, const char *s, size_t n); /* NUL-terminated copy */
char *arena_strdup(arena_t *a, const char *s);
/* The concatenation of a NULL-terminated list of strings, e.g. arena_join(a, x, "/", y, NULL). */
char *arena_join(arena_t *a, ...);
void arena_reset(arena_t *a); /* frees everything but keeps the first chunk */
void arena_free(arena_t *a);

#endif
