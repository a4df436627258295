/* auth: bearer tokens to identities, with no network on the hot path (keys are cached). */
#include "auth.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"

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

int auth_user(request_t *rq, response_t *rs)
{
    const app_t *app = rq->app;
    if (!app || !app->idt) {
        resp_failf(rs, rq, CLIP_EUNAVAILABLE, "keys: %s", app ? app->idt_err : "no app");
        return -1;
    }
    size_t n;
    const char *tok = auth_bearer(rq, &n);
    if (!tok) {
        resp_header(rs, "WWW-Authenticate", "Bearer");
        resp_fail(rs, rq, CLIP_EAUTH,
                  "an Authorization: Bearer <Firebase ID token> header is required");
        return -1;
    }
    idt_claims c;
    char err[256];
    clip_err e = idt_verify(app->idt, tok, n, &c, err, sizeof err);
    if (e == CLIP_EAUTH) {
        resp_header(rs, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        resp_failf(rs, rq, CLIP_EAUTH, "invalid ID token: %s", err);
        return -1;
    }
    if (e != CLIP_OK) {
        resp_failf(rs, rq, e, "keys: cannot verify ID tokens: %s", err);
        return -1;
    }
    rq->uid = arena_strdup(rq->arena, c.uid);
    if (!rq->uid) {
        resp_fail(rs, rq, CLIP_ENOMEM, "auth: out of memory");
        return -1;
    }
    return 0;
}

int auth_user_or_ticket(request_t *rq, response_t *rs)
{
    const char *t = req_arg_text(rq, "ticket");
    if (!t)
        return auth_user(rq, rs);
    const app_t *app = rq->app;
    if (!app || app->evkeys.n == 0) {
        resp_failf(rs, rq, CLIP_EUNAVAILABLE, "events: %s", app ? app->events_err : "no app");
        return -1;
    }
    char uid[IDS_MAX + 1], err[256];
    clip_err e = evticket_check(&app->evkeys, t, strlen(t), req_path_param(rq, "video_id").p,
                                time(NULL), uid, err, sizeof err);
    if (e == CLIP_ENOTFOUND) {
        resp_failf(rs, rq, e, "no such video (%s)", err);
        return -1;
    }
    if (e != CLIP_OK) {
        resp_fail(rs, rq, CLIP_EAUTH, err);
        return -1;
    }
    rq->uid = arena_strdup(rq->arena, uid);
    if (!rq->uid) {
        resp_fail(rs, rq, CLIP_ENOMEM, "auth: out of memory");
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
    if (!app || app->nkeys == 0) {
        resp_failf(rs, rq, CLIP_EUNAVAILABLE, "service-keys: not configured: %s",
                   app ? app->keys_err : "no app");
        return -1;
    }
    size_t n;
    const char *tok = auth_bearer(rq, &n);
    if (!tok || !auth_key_matches(app->keys, app->nkeys, tok, n)) {
        resp_header(rs, "WWW-Authenticate", "Bearer");
        resp_fail(rs, rq, CLIP_EAUTH,
                  tok ? "the service key is not valid"
                      : "an Authorization: Bearer <service key> header is required");
        return -1;
    }
    return 0;
}
