/* err: the one error enum every clipapi function returns, and its names. */
#ifndef CLIP_ERR_H
#define CLIP_ERR_H

#include <stddef.h>

typedef enum {
    CLIP_OK = 0,
    CLIP_EINVAL,       /* bad input from the caller (HTTP 400) */
    CLIP_EAUTH,        /* missing or bad credentials (401) */
    CLIP_EFORBIDDEN,   /* authenticated but not allowed (403) */
    CLIP_ENOTFOUND,    /* no such thing (404) */
    CLIP_EMETHOD,      /* method not allowed (405) */
    CLIP_ECONFLICT,    /* precondition failed, already exists, aborted (409) */
    CLIP_ETOOBIG,      /* request or response over its cap (413) */
    CLIP_ERATELIMIT,   /* backend or client rate limit (429) */
    CLIP_EBACKEND,     /* backend answered, but badly (502) */
    CLIP_EUNAVAILABLE, /* backend unreachable or UNAVAILABLE (503) */
    CLIP_ETIMEOUT,     /* deadline passed (504) */
    CLIP_ENOMEM,       /* allocation failed (500) */
    CLIP_EIO,          /* local I/O failed (500) */
    CLIP_EINTERNAL,    /* a bug or an impossible state (500) */
    CLIP_ERR__COUNT
} clip_err;

/* Stable snake_case code used in JSON errors, e.g. "not_found". */
const char *clip_err_code(clip_err e);

/* HTTP status an error maps to (the one place that mapping lives). */
int clip_err_http_status(clip_err e);

/* Copies a formatted message into err[errlen] when err is not NULL; returns e. */
clip_err clip_fail(clip_err e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
