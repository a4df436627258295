/* scripted: a minihttpd handler over a rule table, under one lock. */
#include "scripted.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether rule r's match (TARGET or TARGET#BODY) is in the request's target and body. */
static int matches(const sc_rule *r, const char *target, const char *body)
{
    const char *sep = strchr(r->match, SC_BODY_SEP);
    if (!sep)
        return strstr(target, r->match) != NULL;
    char part[256];
    size_t n = (size_t)(sep - r->match);
    if (n >= sizeof part)
        return 0;
    memcpy(part, r->match, n);
    part[n] = '\0';
    return strstr(target, part) && strstr(body, sep + 1);
}

static mh_action answer(const mh_request *req, mh_response *resp, void *ctx)
{
    scripted *s = ctx;
    pthread_mutex_lock(&sc_lock);
    const char *body = req->body.p ? req->body.p : "";
    if (s->nlog < SC_LOG_MAX) {
        s->bodies[s->nlog] = strdup(body);
        snprintf(s->log[s->nlog++], sizeof s->log[0], "%.15s %.230s", req->method, req->path);
    }
    const sc_rule *r = NULL;
    for (size_t i = 0; i < s->nrules && !r; i++)
        if (strcmp(s->rules[i].method, req->method) == 0 && matches(&s->rules[i], req->path, body))
            r = &s->rules[i];
    if (r && r->status == SC_HANG) {
        pthread_mutex_unlock(&sc_lock);
        return MH_HANG;
    }
    if (r) {
        resp->status = r->status;
        if (r->headers)
            buf_puts(&resp->headers, r->headers);
        buf_puts(&resp->body, r->body ? r->body : "");
    } else {
        resp->status = 599;
        buf_printf(&resp->body, "no rule for %s %s", req->method, req->path);
    }
    pthread_mutex_unlock(&sc_lock);
    return MH_RESPOND;
}

int sc_start(scripted *s)
{
    memset(s, 0, sizeof *s);
    if (http_global_init() != CLIP_OK)
        return -1;
    s->m = mh_start(answer, s, &s->port);
    if (!s->m)
        return -1;
    snprintf(s->host, sizeof s->host, "127.0.0.1:%d", s->port);
    snprintf(s->endpoint, sizeof s->endpoint, "http://127.0.0.1:%d", s->port);
    cfg_t *c = &s->cfg;
    c->firestore_project = SC_PROJECT;
    c->firestore_emulator_host = s->host;
    c->firestore_timeout_ms = SC_TIMEOUT_MS;
    c->r2_endpoint = s->endpoint;
    c->r2_bucket = SC_BUCKET;
    c->r2_region = "auto";
    c->r2_access_key_id = "AKIDEXAMPLE";
    c->r2_secret_access_key = "secret";
    c->presign_expires = 3600;
    char err[256];
    if (fs_client_new(c, &s->fs, err, sizeof err) != CLIP_OK ||
        r2_client_new(c, &s->r2, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "scripted: %s\n", err);
        sc_stop(s);
        return -1;
    }
    return 0;
}

/* Forgets the request log; under sc_lock. */
static void forget_log(scripted *s)
{
    for (size_t i = 0; i < s->nlog; i++) {
        free(s->bodies[i]);
        s->bodies[i] = NULL;
    }
    s->nlog = 0;
}

int sc_start_paging(scripted *s)
{
    const char *from;
    char err[256];
    if (sc_start(s) != 0)
        return -1;
    if (fs_cursor_seed() != 0 || fs_cursor_keys(&s->cfg, &from, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "scripted: cursor keys: %s\n", err);
        sc_stop(s);
        return -1;
    }
    return 0;
}

void sc_stop(scripted *s)
{
    fs_client_free(s->fs);
    r2_client_free(s->r2);
    s->fs = NULL;
    s->r2 = NULL;
    if (s->m)
        mh_stop(s->m);
    s->m = NULL;
    pthread_mutex_lock(&sc_lock);
    forget_log(s);
    pthread_mutex_unlock(&sc_lock);
    http_global_cleanup();
}

scripted sc_fixture;
arena_t sc_fixture_arena;

int sc_fixture_init(void)
{
    arena_init(&sc_fixture_arena, 0);
    return sc_start_paging(&sc_fixture);
}

int sc_fixture_clean(void)
{
    sc_stop(&sc_fixture);
    arena_free(&sc_fixture_arena);
    return 0;
}

void sc_script(scripted *s, const sc_rule *rules, size_t n)
{
    pthread_mutex_lock(&sc_lock);
    s->nrules = n < SC_RULES_MAX ? n : SC_RULES_MAX;
    if (s->nrules)
        memcpy(s->rules, rules, s->nrules * sizeof *rules);
    forget_log(s);
    pthread_mutex_unlock(&sc_lock);
}

/* Whether request i of the log had method and a target containing match; under sc_lock. */
static int logged(const scripted *s, size_t i, const char *method, const char *match)
{
    size_t ml = strlen(method);
    return strncmp(s->log[i], method, ml) == 0 && s->log[i][ml] == ' ' &&
           strstr(s->log[i] + ml + 1, match);
}

void sc_script_down(scripted *s)
{
    static const sc_rule down[] = {{"POST", "", 503, SC_UNAVAILABLE, NULL},
                                   {"GET", "", 503, SC_UNAVAILABLE, NULL}};
    sc_script(s, down, 2);
}

void sc_script_garbage(scripted *s)
{
    static const char page[] = "<html>502 Bad Gateway</html>";
    static const sc_rule garbage[] = {{"POST", "", 200, page, NULL}, {"GET", "", 200, page, NULL}};
    sc_script(s, garbage, 2);
}

size_t sc_count(scripted *s, const char *method, const char *match)
{
    size_t n = 0;
    pthread_mutex_lock(&sc_lock);
    for (size_t i = 0; i < s->nlog; i++)
        n += logged(s, i, method, match) ? 1 : 0;
    pthread_mutex_unlock(&sc_lock);
    return n;
}

const char *sc_body(scripted *s, const char *method, const char *match)
{
    const char *b = NULL;
    pthread_mutex_lock(&sc_lock);
    for (size_t i = s->nlog; i-- > 0 && !b;)
        if (logged(s, i, method, match))
            b = s->bodies[i];
    pthread_mutex_unlock(&sc_lock);
    return b;
}

int sc_sent(scripted *s, const char *method, const char *match, const char *want)
{
    const char *b = sc_body(s, method, match);
    if (b && strstr(b, want))
        return 1;
    fprintf(stderr, "scripted: %s %s did not send %s, but: %s\n", method, match, want,
            b ? b : "(no such request)");
    return 0;
}
