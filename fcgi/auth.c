/* auth: bearer tokens to identities, with no network on the hot path (keys are cached). */
#include "auth.h"

#include <string.h>
#include <strings.h>

#include "app.h"
#include "log.h"

const char *auth_bearer(const request_t *rq, size_t *len)
{
    *len = 0;
    const char *h = req_header(rq, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0)
        return NULL;
    *len = n;
    return h;
}

int auth_user(request_t *rq, response_t *rs, const char **uid)
{
    const app_t *app = rq->app;
    if (!app->idt) {
        resp_error(rs, rq, 503, "unavailable", "%s", app->idt_err);
        return -1;
    }
    size_t n;
    const char *tok = auth_bearer(rq, &n);
    if (!tok) {
        resp_header(rs, "WWW-Authenticate", "Bearer");
        resp_error(rs, rq, 401, "unauthenticated",
                   "an Authorization: Bearer <Firebase ID token> header is required");
        return -1;
    }
    idt_claims c;
    char err[256];
    clip_err e = idt_verify(app->idt, tok, n, &c, err, sizeof err);
    if (e == CLIP_EAUTH) {
        resp_header(rs, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        resp_error(rs, rq, 401, "unauthenticated", "invalid ID token: %s", err);
        return -1;
    }
    if (e != CLIP_OK) {
        log_warn("auth_keys", "cannot verify ID tokens: %s", err);
        resp_clip_error(rs, rq, e, "the sign-in keys cannot be fetched");
        return -1;
    }
    *uid = arena_strdup(rq->arena, c.uid);
    if (!*uid) {
        resp_clip_error(rs, rq, CLIP_ENOMEM, NULL);
        return -1;
    }
    return 0;
}

int auth_key_matches(char *const *keys, size_t nkeys, const char *given, size_t len)
{
    int match = 0;
    for (size_t i = 0; i < nkeys; i++) {
        size_t kn = strlen(keys[i]);
        /* compare over the key's length whatever the given length, so timing tells nothing */
        unsigned char diff = (unsigned char)(kn != len);
        for (size_t j = 0; j < kn; j++)
            diff |= (unsigned char)(keys[i][j] ^ (j < len ? given[j] : 0));
        match |= diff == 0;
    }
    return match;
}

int auth_service(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    if (app->nkeys == 0) {
        resp_error(rs, rq, 503, "unavailable", "service keys are not configured: %s", app->keys_err);
        return -1;
    }
    size_t n;
    const char *tok = auth_bearer(rq, &n);
    if (!tok || !auth_key_matches(app->keys, app->nkeys, tok, n)) {
        resp_header(rs, "WWW-Authenticate", "Bearer");
        resp_error(rs, rq, 401, "unauthenticated",
                   tok ? "the service key is not valid" : "an Authorization: Bearer <service key> header is required");
        return -1;
    }
    return 0;
}
