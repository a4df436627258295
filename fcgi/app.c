/* app: building and tearing down a worker's services. */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "request.h"

clip_err app_load_keys(const char *path, char **keys, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return clip_fail(CLIP_EINVAL, err, errlen, "internal_keys_file: cannot read %s: %s", path,
                         strerror(errno));
    char line[APP_KEY_MAX_LEN + 4];
    int lineno = 0;
    clip_err rc = CLIP_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(f)) {
            rc = clip_fail(CLIP_EINVAL, err, errlen, "internal_keys_file: %s:%d: key longer than %d",
                           path, lineno, APP_KEY_MAX_LEN);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
            line[--len] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++, len--;
        if (len == 0 || *s == '#')
            continue;
        if (len < APP_KEY_MIN_LEN) {
            rc = clip_fail(CLIP_EINVAL, err, errlen,
                           "internal_keys_file: %s:%d: key shorter than %d bytes", path, lineno,
                           APP_KEY_MIN_LEN);
            break;
        }
        if (*n == APP_KEYS_MAX) {
            rc = clip_fail(CLIP_EINVAL, err, errlen, "internal_keys_file: more than %d keys",
                           APP_KEYS_MAX);
            break;
        }
        keys[(*n)++] = strdup(s);
    }
    fclose(f);
    memset(line, 0, sizeof line);
    if (rc != CLIP_OK) {
        for (size_t i = 0; i < *n; i++)
            free(keys[i]);
        *n = 0;
    }
    return rc;
}

void app_init(app_t *app, const cfg_t *cfg, int index, int generation)
{
    memset(app, 0, sizeof *app);
    app->cfg = cfg;
    app->index = index;
    app->generation = generation;
    char err[256];
    _Static_assert(sizeof app->fs_err >= sizeof err + 40, "room for the reason");
    if (http_global_init() != CLIP_OK)
        log_error("worker_init", "http_global_init failed");
    /* a video info makes two Firestore calls at once, on each serving thread */
    http_set_parallel(2 * (cfg->threads > 0 ? (int)cfg->threads : 1));
    if (fs_client_new(cfg, &app->fs, err, sizeof err) != CLIP_OK) {
        app->fs = NULL;
        snprintf(app->fs_err, sizeof app->fs_err, "firestore is not configured: %s", err);
    }
    if (r2_client_new(cfg, &app->r2, err, sizeof err) != CLIP_OK) {
        app->r2 = NULL;
        snprintf(app->r2_err, sizeof app->r2_err, "R2 is not configured: %s", err);
    } else {
        app->signer = r2_client_signer(app->r2);
    }
    if (!cfg->auth_project) {
        snprintf(app->idt_err, sizeof app->idt_err,
                 "sign-in is not configured: auth_project (or firestore_project) is not set");
    } else if (idt_new(cfg, &app->idt, err, sizeof err) != CLIP_OK) {
        app->idt = NULL;
        snprintf(app->idt_err, sizeof app->idt_err, "sign-in is not configured: %s", err);
    }
    if (!cfg->internal_keys_file) {
        snprintf(app->keys_err, sizeof app->keys_err, "internal_keys_file is not set");
    } else if (app_load_keys(cfg->internal_keys_file, app->keys, &app->nkeys, err, sizeof err) !=
               CLIP_OK) {
        snprintf(app->keys_err, sizeof app->keys_err, "%s", err);
    } else if (app->nkeys == 0) {
        snprintf(app->keys_err, sizeof app->keys_err, "internal_keys_file: %s holds no key",
                 cfg->internal_keys_file);
    }
    app->catalog.fs = app->fs;
    app->catalog.r2 = app->r2;
    app->catalog.metadata_source = cfg->metadata_source;
    if (events_pub_new(cfg, &app->events, err, sizeof err) != CLIP_OK)
        snprintf(app->events_err, sizeof app->events_err, "live updates are not published: %s",
                 err);
    if (!cfg->events_ticket_key_file)
        snprintf(app->events_err, sizeof app->events_err,
                 "live updates are not configured: events_ticket_key_file is not set");
    else if (evticket_load_keys(cfg->events_ticket_key_file, &app->evkeys, err, sizeof err) !=
             CLIP_OK)
        snprintf(app->events_err, sizeof app->events_err, "live updates are not configured: %s",
                 err);
    /* Said once per pool start, by the first worker, not by every worker. */
    if (index == 0) {
        const char *errs[] = {app->fs_err, app->r2_err, app->idt_err, app->keys_err,
                              app->events_err};
        for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
            if (errs[i][0])
                log_warn("worker_init", "%s", errs[i]);
    }
}

view_signing app_signing(const app_t *app)
{
    return view_signing_at(app->signer, app->cfg->presign_expires, time(NULL));
}

void app_free(app_t *app)
{
    fs_client_free(app->fs);
    r2_client_free(app->r2);
    idt_free(app->idt);
    events_pub_free(app->events);
    evticket_keys_clear(&app->evkeys);
    for (size_t i = 0; i < app->nkeys; i++) {
        memset(app->keys[i], 0, strlen(app->keys[i]));
        free(app->keys[i]);
    }
    http_global_cleanup();
    memset(app, 0, sizeof *app);
}
