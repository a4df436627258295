/* err: names and HTTP statuses of clip_err. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "breaker.h"

/* kind: what a public message says of a failure whose detail is not shown. */
static const struct {
    const char *code;
    int status;
    const char *kind;
} err_table[CLIP_ERR__COUNT] = {
    [CLIP_OK] = {"ok", 200, "ok"},
    [CLIP_EINVAL] = {"invalid_argument", 400, "refused the request"},
    [CLIP_EAUTH] = {"unauthenticated", 401, "refused the credentials"},
    [CLIP_EFORBIDDEN] = {"forbidden", 403, "forbidden"},
    [CLIP_ENOTFOUND] = {"not_found", 404, "not found"},
    [CLIP_EMETHOD] = {"method_not_allowed", 405, "method not allowed"},
    [CLIP_ECONFLICT] = {"conflict", 409, "conflict; retry"},
    [CLIP_ETOOBIG] = {"too_large", 413, "answer too large"},
    [CLIP_ERATELIMIT] = {"rate_limited", 429, "over its quota; retry later"},
    [CLIP_EBACKEND] = {"bad_gateway", 502, "answered badly"},
    [CLIP_EUNAVAILABLE] = {"unavailable", 503, "unavailable; retry later"},
    [CLIP_ETIMEOUT] = {"deadline_exceeded", 504, "did not answer in time"},
    [CLIP_ENOMEM] = {"internal", 500, "internal error"},
    [CLIP_EIO] = {"internal", 500, "internal error"},
    [CLIP_EINTERNAL] = {"internal", 500, "internal error"},
};

/* The labels backend messages start with, and what an answer calls each. */
static const struct {
    const char *label;
    const char *name;
} backends[] = {
    {"firestore", "firestore"},
    {"r2", "r2"},
    {"token", "google auth"},
    {"keys", "sign-in keys"},
    {"service-keys", "service keys"},
    {"events", "live updates"},
    {"http", "backend"},
};

const char *clip_err_code(clip_err e)
{
    if ((unsigned)e >= CLIP_ERR__COUNT)
        return "internal";
    return err_table[e].code;
}

int clip_err_http_status(clip_err e)
{
    if ((unsigned)e >= CLIP_ERR__COUNT)
        return 500;
    return err_table[e].status;
}

/* The entry of the backend a detail starts with, or -1. */
static int backend_of(const char *detail)
{
    if (!detail)
        return -1;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t n = strlen(backends[i].label);
        if (strncmp(detail, backends[i].label, n) == 0 && detail[n] == ':')
            return (int)i;
    }
    return -1;
}

const char *clip_err_backend(const char *detail)
{
    int i = backend_of(detail);
    return i < 0 ? NULL : backends[i].name;
}

void clip_err_answer_of(clip_err e, const char *detail, clip_err_answer *out)
{
    if ((unsigned)e >= CLIP_ERR__COUNT || e == CLIP_OK)
        e = CLIP_EINTERNAL;
    int bi = backend_of(detail);
    const char *backend = bi < 0 ? NULL : backends[bi].name;
    if (e == CLIP_ETOOBIG && backend)
        e = CLIP_EBACKEND;
    out->status = err_table[e].status;
    out->code = err_table[e].code;
    out->retry_after = 0;
    if (out->status == 503 || out->status == 429)
        out->retry_after = breaker_retry_after_s(bi < 0 ? NULL : backends[bi].label);
    out->hide_detail = backend || out->status >= 500;
    if (!out->hide_detail)
        snprintf(out->message, sizeof out->message, "%s",
                 detail && *detail ? detail : err_table[e].kind);
    else if (backend && out->status != 500)
        snprintf(out->message, sizeof out->message, "%s: %s", backend, err_table[e].kind);
    else
        snprintf(out->message, sizeof out->message, "%s", err_table[e].kind);
}

clip_err clip_fail(clip_err e, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}
