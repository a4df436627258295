/* fsemu_proc: the Firestore emulator as a child process of an integration test. */
#include "fsemu_proc.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsemu_google(void)
{
    const char *h = getenv(FSEMU_GOOGLE_ENV);
    return h && *h;
}

int fsemu_ours_only(const char *test, const char *why)
{
    if (!fsemu_google())
        return 0;
    printf("\nours only: %s: %s\n", test, why); /* CUnit has written "Test: NAME ..." */
    fflush(stdout);
    return 1;
}

static void fill_cfg(fsemu *e)
{
    e->cfg.firestore_project = e->project;
    e->cfg.firestore_database = "(default)";
    e->cfg.firestore_emulator_host = e->host;
    e->cfg.firestore_timeout_ms = 5000;
}

/* Google's emulator keeps every project apart, so a test process has one of its own. */
static int start_google(fsemu *e)
{
    const char *h = getenv(FSEMU_GOOGLE_ENV), *colon = strrchr(h, ':');
    e->google = 1;
    e->port = colon ? atoi(colon + 1) : 0;
    if (e->port <= 0 || (size_t)snprintf(e->host, sizeof e->host, "%s", h) >= sizeof e->host) {
        fprintf(stderr, "%s=%s: not HOST:PORT\n", FSEMU_GOOGLE_ENV, h);
        return -1;
    }
    snprintf(e->project, sizeof e->project, "%s-%ld", FSEMU_PROJECT, (long)getpid());
    fill_cfg(e);
    return fsemu_reset(e);
}

int fsemu_start(fsemu *e, const char *name, const char *indexes)
{
    memset(e, 0, sizeof *e);
    if (fsemu_google())
        return start_google(e);
    e->port = tp_free_port();
    if (e->port <= 0)
        return -1;
    char serve[1024], port[16], idx[1024], rec[1024];
    snprintf(serve, sizeof serve, "%s/tests/emulators/firestore/serve", tp_top());
    snprintf(port, sizeof port, "%d", e->port);
    char *argv[10] = {serve, "--host", "127.0.0.1", "--port", port, NULL};
    int argc = 5;
    if (indexes) {
        snprintf(idx, sizeof idx, "%s/%s", tp_top(), indexes);
        argv[argc++] = "--indexes";
        argv[argc++] = idx;
    }
    /* tests/checks/firestore-differential/record: every request, for the differential's corpus */
    const char *rdir = getenv(FSEMU_RECORD_ENV);
    if (rdir && *rdir) {
        snprintf(rec, sizeof rec, "%s/%s.%s.jsonl", rdir, program_invocation_short_name, name);
        argv[argc++] = "--record";
        argv[argc++] = rec;
    }
    argv[argc] = NULL;
    if (tp_start(&e->proc, name, argv, NULL, "ready", 20000) != 0)
        return -1;
    snprintf(e->host, sizeof e->host, "127.0.0.1:%d", e->port);
    snprintf(e->project, sizeof e->project, "%s", FSEMU_PROJECT);
    fill_cfg(e);
    return 0;
}

void fsemu_stop(fsemu *e)
{
    if (e->google && e->port > 0)
        fsemu_reset(e); /* the shared emulator keeps no test's documents */
    if (e->proc.pid > 0)
        tp_stop(&e->proc, SIGTERM, 5000);
    e->proc.pid = 0;
    e->port = 0;
}

static int admin(fsemu *e, const char *method, const char *path, const char *body,
                 tp_http_resp *out)
{
    char url[256];
    snprintf(url, sizeof url, "http://%s%s", e->host, path);
    char *hdrs[] = {"Content-Type: application/json", NULL};
    tp_http_resp r;
    memset(&r, 0, sizeof r);
    int rc = tp_http(method, url, hdrs, body, body ? strlen(body) : 0, &r);
    int ok = rc == 0 && r.status == 200;
    if (!ok)
        fprintf(stderr, "emulator %s %s: status %ld %s\n", method, path, r.status,
                r.body ? r.body : "");
    if (out && ok)
        *out = r;
    else
        tp_http_free(&r);
    return ok ? 0 : -1;
}

int fsemu_reset(fsemu *e)
{
    char path[200];
    snprintf(path, sizeof path, "/emulator/v1/projects/%s/databases/(default)/documents",
             e->project);
    return admin(e, "DELETE", path, NULL, NULL);
}

/* The admin API below is our emulator's own. */
static int ours_admin(fsemu *e, const char *what)
{
    if (!e->google)
        return 1;
    fprintf(stderr, "%s: our emulator's admin API, not on Google's\n", what);
    return 0;
}

int fsemu_fault(fsemu *e, const char *json)
{
    if (!ours_admin(e, "fsemu_fault"))
        return -1;
    return admin(e, "POST", "/emulator/v1/faults", json, NULL);
}

int fsemu_clear_faults(fsemu *e)
{
    if (!ours_admin(e, "fsemu_clear_faults"))
        return -1;
    return admin(e, "DELETE", "/emulator/v1/faults", NULL, NULL);
}

int fsemu_clear_requests(fsemu *e)
{
    if (!ours_admin(e, "fsemu_clear_requests"))
        return -1;
    return admin(e, "DELETE", "/emulator/v1/requests", NULL, NULL);
}

/* The logged requests whose "METHOD path" contains needle: their number, and with to, one line
 * each there ("seq method path status"). */
static int scan_requests(fsemu *e, const char *needle, FILE *to)
{
    tp_http_resp r;
    if (admin(e, "GET", "/emulator/v1/requests", NULL, &r) != 0)
        return -1;
    json_object *j = json_tokener_parse(r.body), *reqs = NULL;
    int n = 0;
    if (j && json_object_object_get_ex(j, "requests", &reqs)) {
        for (size_t i = 0; i < json_object_array_length(reqs); i++) {
            json_object *el = json_object_array_get_idx(reqs, i), *m = NULL, *p = NULL, *q = NULL,
                        *st = NULL;
            json_object_object_get_ex(el, "method", &m);
            json_object_object_get_ex(el, "path", &p);
            json_object_object_get_ex(el, "seq", &q);
            json_object_object_get_ex(el, "status", &st);
            char line[2048];
            snprintf(line, sizeof line, "%s %s", m ? json_object_get_string(m) : "",
                     p ? json_object_get_string(p) : "");
            if (!strstr(line, needle))
                continue;
            n++;
            if (to)
                fprintf(to, "  %d %s %d\n", q ? json_object_get_int(q) : -1, line,
                        st ? json_object_get_int(st) : -1);
        }
    }
    json_object_put(j);
    tp_http_free(&r);
    return n;
}

int fsemu_count_requests(fsemu *e, const char *needle)
{
    if (!ours_admin(e, "fsemu_count_requests"))
        return -1;
    return scan_requests(e, needle, NULL);
}

int fsemu_print_requests(fsemu *e, const char *needle, FILE *to)
{
    if (!ours_admin(e, "fsemu_print_requests"))
        return -1;
    return scan_requests(e, needle, to);
}

int fsemu_wait_requests(fsemu *e, const char *needle, int want, int timeout_ms)
{
    int n = fsemu_count_requests(e, needle);
    /* a failed look (-1, said on stderr) is looked at again until the deadline */
    for (int waited = 0; n < want && waited < timeout_ms; waited += 20) {
        usleep(20 * 1000);
        n = fsemu_count_requests(e, needle);
    }
    return n;
}
