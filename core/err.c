/* err: names and HTTP statuses of clip_err. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *code;
    int status;
} err_table[CLIP_ERR__COUNT] = {
    [CLIP_OK] = {"ok", 200},
    [CLIP_EINVAL] = {"invalid_argument", 400},
    [CLIP_EAUTH] = {"unauthenticated", 401},
    [CLIP_EFORBIDDEN] = {"forbidden", 403},
    [CLIP_ENOTFOUND] = {"not_found", 404},
    [CLIP_EMETHOD] = {"method_not_allowed", 405},
    [CLIP_ECONFLICT] = {"conflict", 409},
    [CLIP_ETOOBIG] = {"too_large", 413},
    [CLIP_ERATELIMIT] = {"rate_limited", 429},
    [CLIP_EBACKEND] = {"bad_gateway", 502},
    [CLIP_EUNAVAILABLE] = {"unavailable", 503},
    [CLIP_ETIMEOUT] = {"deadline_exceeded", 504},
    [CLIP_ENOMEM] = {"internal", 500},
    [CLIP_EIO] = {"internal", 500},
    [CLIP_EINTERNAL] = {"internal", 500},
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
