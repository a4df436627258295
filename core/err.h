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

/* Backend failures say which backend failed by starting their message with its name and a colon:
 * "firestore: ...", "r2: ...", "token: ..." (Google's token endpoint), "keys: ..." (the ID-token key
 * set), "service-keys: ..." (internal_keys_file). The public name of the backend a message starts with, or NULL when it names none. */
const char *clip_err_backend(const char *detail);

#define CLIP_ERR_PUBLIC_MAX 512 /* room for a public message */

/* What an answer says of an error. */
typedef struct {
    int status;       /* HTTP status */
    const char *code; /* "not_found", ... */
    int hide_detail;  /* 1: the detail is not in the message (the caller logs it) */
    long retry_after; /* seconds for a Retry-After header (503 and 429), 0: none */
    char message[CLIP_ERR_PUBLIC_MAX];
} clip_err_answer;

/* The one table every error answer goes through. detail is the message the failing call filled
 * in. The caller's own mistakes (400, 401, 403, 404, 405, 409, 413, 429) show their detail, unless
 * it comes from a backend; backend and internal failures show only what kind of failure it was
 * ("firestore: unavailable; retry later", "internal error"), never the backend's words, hosts or
 * paths: those stay in the log. A backend's answer over our cap is a 502, not a 413. A 503 or
 * 429 says when to retry: while the breaker of the backend the detail names is open, when it lets
 * a probe through again (core/breaker); else in 1 s. */
void clip_err_answer_of(clip_err e, const char *detail, clip_err_answer *out);

/* Copies a formatted message into err[errlen] when err is not NULL; returns e. */
clip_err clip_fail(clip_err e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
