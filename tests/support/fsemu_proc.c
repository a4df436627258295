/* fsemu_proc: the Firestore emulator as a child process of an integration test. */
#include "fsemu_proc.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fsemu_start(fsemu *e, const char *name, const char *indexes)
{
    memset(e, 0, sizeof *e);
    e->port = tp_free_port();
    if (e->port <= 0)
        return -1;
    char serve[1024], port[16], idx[1024];
    snprintf(serve, sizeof serve, "%s/tests/emulators/firestore/serve", tp_top());
    snprintf(port, sizeof port, "%d", e->port);
    char *argv[8] = {serve, "--host", "127.0.0.1", "--port", port, NULL, NULL, NULL};
    if (indexes) {
        snprintf(idx, sizeof idx, "%s/%s", tp_top(), indexes);
        argv[5] = "--indexes";
        argv[6] = idx;
    }
    if (tp_start(&e->proc, name, argv, NULL, "ready", 20000) != 0)
        return -1;
    snprintf(e->host, sizeof e->host, "127.0.0.1:%d", e->port);
    e->cfg.firestore_project = FSEMU_PROJECT;
    e->cfg.firestore_database = "(default)";
    e->cfg.firestore_emulator_host = e->host;
    e->cfg.firestore_timeout_ms = 5000;
    return 0;
}

void fsemu_stop(fsemu *e)
{
    if (e->proc.pid > 0)
        tp_stop(&e->proc, SIGTERM, 5000);
    e->proc.pid = 0;
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
    return admin(e, "DELETE",
                 "/emulator/v1/projects/" FSEMU_PROJECT "/databases/(default)/documents", NULL,
                 NULL);
}

int fsemu_fault(fsemu *e, const char *json)
{
    return admin(e, "POST", "/emulator/v1/faults", json, NULL);
}

int fsemu_clear_faults(fsemu *e)
{
    return admin(e, "DELETE", "/emulator/v1/faults", NULL, NULL);
}

int fsemu_clear_requests(fsemu *e)
{
    return admin(e, "DELETE", "/emulator/v1/requests", NULL, NULL);
}

int fsemu_count_requests(fsemu *e, const char *needle)
{
    tp_http_resp r;
    if (admin(e, "GET", "/emulator/v1/requests", NULL, &r) != 0)
        return -1;
    json_object *j = json_tokener_parse(r.body), *reqs = NULL;
    int n = 0;
    if (j && json_object_object_get_ex(j, "requests", &reqs)) {
        for (size_t i = 0; i < json_object_array_length(reqs); i++) {
            json_object *el = json_object_array_get_idx(reqs, i), *m = NULL, *p = NULL;
            json_object_object_get_ex(el, "method", &m);
            json_object_object_get_ex(el, "path", &p);
            char line[2048];
            snprintf(line, sizeof line, "%s %s", m ? json_object_get_string(m) : "",
                     p ? json_object_get_string(p) : "");
            if (strstr(line, needle))
                n++;
        }
    }
    json_object_put(j);
    tp_http_free(&r);
    return n;
}

int fsemu_wait_requests(fsemu *e, const char *needle, int want, int timeout_ms)
{
    int n = fsemu_count_requests(e, needle);
    for (int waited = 0; n >= 0 && n < want && waited < timeout_ms; waited += 20) {
        usleep(20 * 1000);
        n = fsemu_count_requests(e, needle);
    }
    return n;
}
