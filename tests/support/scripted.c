/* scripted: a minihttpd handler over a rule table, under one lock. */
#include "scripted.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

static pthread_mutex_t sc_lock = PTHREAD_MUTEX_INITIALIZER;

static mh_action answer(const mh_request *req, mh_response *resp, void *ctx)
{
    scripted *s = ctx;
    pthread_mutex_lock(&sc_lock);
    if (s->nlog < SC_LOG_MAX)
        snprintf(s->log[s->nlog++], sizeof s->log[0], "%.15s %.230s", req->method, req->path);
    const sc_rule *r = NULL;
    for (size_t i = 0; i < s->nrules && !r; i++)
        if (strcmp(s->rules[i].method, req->method) == 0 && strstr(req->path, s->rules[i].match))
            r = &s->rules[i];
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

void sc_stop(scripted *s)
{
    fs_client_free(s->fs);
    r2_client_free(s->r2);
    s->fs = NULL;
    s->r2 = NULL;
    if (s->m)
        mh_stop(s->m);
    s->m = NULL;
    http_global_cleanup();
}

void sc_script(scripted *s, const sc_rule *rules, size_t n)
{
    pthread_mutex_lock(&sc_lock);
    s->nrules = n < SC_RULES_MAX ? n : SC_RULES_MAX;
    if (s->nrules)
        memcpy(s->rules, rules, s->nrules * sizeof *rules);
    s->nlog = 0;
    pthread_mutex_unlock(&sc_lock);
}

size_t sc_count(scripted *s, const char *method, const char *match)
{
    size_t n = 0;
    pthread_mutex_lock(&sc_lock);
    for (size_t i = 0; i < s->nlog; i++) {
        size_t ml = strlen(method);
        if (strncmp(s->log[i], method, ml) == 0 && s->log[i][ml] == ' ' &&
            strstr(s->log[i] + ml + 1, match))
            n++;
    }
    pthread_mutex_unlock(&sc_lock);
    return n;
}
