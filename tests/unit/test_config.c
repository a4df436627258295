/* Tests of core/config: defaults, file + environment, credential files, and errors naming the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "unit.h"

static char dir[] = "/tmp/clipapi-cfg-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text as a config file and returns the error ("" on success). */
static const char *load_err(const char *text)
{
    static char err[CFG_ERR_MAX];
    err[0] = '\0';
    cfg_t *c = NULL;
    if (cfg_load(write_conf("t.conf", text), &c, err, sizeof err) == CLIP_OK)
        err[0] = '\0';
    cfg_free(c);
    return err;
}

static int init(void)
{
    if (!mkdtemp(dir))
        return 1;
    const char *vars[] = {"FIRESTORE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS",
                          "FIREBASE_AUTH_EMULATOR_HOST", "CREDENTIALS_DIRECTORY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "CLIPAPI_", 8) == 0) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(strchr(*e, '=') - *e), *e);
            unsetenv(name);
            e = environ - 1;
        }
    return 0;
}

static int cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_defaults(void)
{
    cfg_t *c = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(cfg_load(write_conf("empty.conf", "# nothing\n\n"), &c, err, sizeof err),
                          CLIP_OK);
    UNIT_ASSERT_STR(c->listen, "unix:/run/clipapi/fcgi.sock");
    CU_ASSERT_EQUAL(c->workers, 4);
    CU_ASSERT_EQUAL(c->max_requests, 10000);
    CU_ASSERT_EQUAL(c->request_body_max, 1048576);
    CU_ASSERT_EQUAL(c->shutdown_timeout, 10);
    UNIT_ASSERT_STR(c->firestore_database, "(default)");
    CU_ASSERT_EQUAL(c->firestore_timeout_ms, 5000);
    CU_ASSERT_EQUAL(c->breaker_failures, 5);
    CU_ASSERT_EQUAL(c->breaker_cooldown_ms, 2000);
    UNIT_ASSERT_STR(c->r2_region, "auto");
    CU_ASSERT_EQUAL(c->presign_expires, 3600);
    CU_ASSERT_EQUAL(c->metadata_source, CFG_SOURCE_FIRESTORE);
    CU_ASSERT_EQUAL(c->log_level, CFG_LOG_INFO);
    CU_ASSERT_PTR_NULL(c->firestore_project);
    CU_ASSERT_PTR_NULL(c->auth_project);
    cfg_free(c);
}

static void test_file_and_env(void)
{
    cfg_t *c = NULL;
    char err[256];
    const char *p = write_conf("a.conf", "firestore_project = demo-clip\n"
                                         "workers=8\n"
                                         "  r2_bucket = \"clips bucket\"  \n"
                                         "metadata_source = firestore+r2\n"
                                         "shutdown_timeout = 30s\n");
    setenv("CLIPAPI_WORKERS", "3", 1);
    setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080", 1);
    CU_ASSERT_EQUAL_FATAL(cfg_load(p, &c, err, sizeof err), CLIP_OK);
    unsetenv("CLIPAPI_WORKERS");
    unsetenv("FIRESTORE_EMULATOR_HOST");
    CU_ASSERT_EQUAL(c->workers, 3);
    UNIT_ASSERT_STR(c->firestore_project, "demo-clip");
    UNIT_ASSERT_STR(c->auth_project, "demo-clip");
    UNIT_ASSERT_STR(c->r2_bucket, "clips bucket");
    UNIT_ASSERT_STR(c->firestore_emulator_host, "127.0.0.1:8080");
    CU_ASSERT_EQUAL(c->metadata_source, CFG_SOURCE_FIRESTORE_R2);
    CU_ASSERT_EQUAL(c->shutdown_timeout, 30);
    UNIT_ASSERT_STR(cfg_get(c, "r2_bucket"), "clips bucket");
    cfg_free(c);
}

static void test_secret_files(void)
{
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/secret", dir);
    FILE *f = fopen(path, "w");
    fputs("s3cr3t\n", f);
    fclose(f);
    char text[400];
    snprintf(text, sizeof text, "r2_secret_access_key_file = %s\n", path);
    cfg_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(cfg_load(write_conf("s.conf", text), &c, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(c->r2_secret_access_key, "s3cr3t");
    cfg_free(c);
    /* systemd credentials */
    char cred[300];
    snprintf(cred, sizeof cred, "%s/r2_access_key_id", dir);
    f = fopen(cred, "w");
    fputs("AKID", f);
    fclose(f);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    CU_ASSERT_EQUAL_FATAL(cfg_load(write_conf("e.conf", ""), &c, err, sizeof err), CLIP_OK);
    unsetenv("CREDENTIALS_DIRECTORY");
    UNIT_ASSERT_STR(c->r2_access_key_id, "AKID");
    cfg_free(c);
    /* a missing secret file names the key */
    CU_ASSERT_NOT_EQUAL(cfg_load(write_conf("m.conf", "r2_session_token_file = /nonexistent/x\n"),
                                 &c, err, sizeof err),
                        CLIP_OK);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(strncmp(err, "r2_session_token_file: cannot read /nonexistent/x", 49), 0);
}

static void test_errors_name_the_key(void)
{
    CU_ASSERT_EQUAL(strncmp(load_err("workers = lots\n"), "workers: 'lots' is not a whole number", 37), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("workers = 0\n"), "workers: 0 is out of range 1..256", 33), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("presign_expires = 604801\n"),
                            "presign_expires: 604801 is out of range 1..604800", 49), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("metadata_source = s3\n"),
                            "metadata_source: 's3' is not one of firestore, firestore+r2, r2", 63), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("log_level = loud\n"), "log_level: 'loud' is not one of", 31), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("wrokers = 4\n"), "wrokers: unknown key", 20), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("just words\n"), "config: ", 8), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_err("just words\n"), "expected 'key = value'"));
    CU_ASSERT_EQUAL(strncmp(load_err("listen = somewhere\n"), "listen: 'somewhere' is neither", 30), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("listen = unix:relative.sock\n"), "listen: 'unix:relative.sock' needs an absolute path", 51), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("r2_endpoint = ftp://x\n"), "r2_endpoint: 'ftp://x' must start with https://", 47), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("r2_addressing = sideways\n"), "r2_addressing: 'sideways' is not one of path, virtual", 53), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("firestore_timeout_ms = -1\n"), "firestore_timeout_ms: -1 is out of range", 40), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("breaker_cooldown_ms = 50\n"), "breaker_cooldown_ms: 50 is out of range", 39), 0);
    CU_ASSERT_EQUAL(strncmp(load_err("breaker_failures = -1\n"), "breaker_failures: -1 is out of range", 36), 0);
    CU_ASSERT_STRING_EQUAL(load_err("workers = 2 # trailing words are not a comment\n")[0] ? "err" : "ok", "err");
    char line[5000];
    memset(line, 'x', sizeof line);
    memcpy(line, "r2_bucket = ", 12);
    line[sizeof line - 2] = '\n';
    line[sizeof line - 1] = '\0';
    CU_ASSERT_PTR_NOT_NULL(strstr(load_err(line), "longer than 4096 bytes"));
    /* environment values are validated the same way and name where they came from */
    setenv("CLIPAPI_WORKERS", "x", 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_err(""), "workers: 'x' is not a whole number (CLIPAPI_WORKERS)"));
    unsetenv("CLIPAPI_WORKERS");
    /* a missing file */
    cfg_t *c = NULL;
    char err[256];
    CU_ASSERT_EQUAL(cfg_load("/nonexistent/clipapi.conf", &c, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err, "config: cannot open /nonexistent/clipapi.conf", 45), 0);
}

/* Every problem of a configuration is reported at once, one line each: key, problem, where. */
static void test_every_error_reported(void)
{
    setenv("CLIPAPI_THREADS", "0", 1);
    const char *err = load_err("workers = lots\n"
                               "wrokers = 3\n"
                               "just words\n"
                               "listen = somewhere\n"
                               "log_level = loud\n"
                               "r2_secret_access_key_file = /nonexistent/secret\n");
    unsetenv("CLIPAPI_THREADS");
    char want[2048];
    const char *p = write_conf("t.conf", "");
    snprintf(want, sizeof want,
             "wrokers: unknown key (%s:2)\n"
             "config: %s:3: expected 'key = value'\n"
             "r2_secret_access_key_file: cannot read /nonexistent/secret: No such file or directory (%s:6)\n"
             "workers: 'lots' is not a whole number (%s:1)\n"
             "threads: 0 is out of range 1..256 (CLIPAPI_THREADS)\n"
             "log_level: 'loud' is not one of debug, info, warn, error (%s:5)\n"
             "listen: 'somewhere' is neither unix:PATH nor HOST:PORT (%s:4)",
             p, p, p, p, p, p);
    UNIT_ASSERT_STR(err, want);

    /* a line too long is one error, and the lines after it are still read */
    char text[6000];
    memset(text, 'x', 5000);
    memcpy(text, "r2_bucket = ", 12);
    snprintf(text + 5000, sizeof text - 5000, "\nworkers = 0\n");
    err = load_err(text);
    snprintf(want, sizeof want,
             "config: %s:1: line longer than 4096 bytes\nworkers: 0 is out of range 1..256 (%s:2)",
             p, p);
    UNIT_ASSERT_STR(err, want);

    /* more errors than the buffer holds: the lines that fit, then how many did not */
    buf_t big = BUF_INIT;
    for (int i = 0; i < 300; i++)
        buf_printf(&big, "unknown_key_number_%03d = 1\n", i);
    cfg_t *c = NULL;
    char e[CFG_ERR_MAX];
    CU_ASSERT_EQUAL(cfg_load(write_conf("big.conf", big.p), &c, e, sizeof e), CLIP_EINVAL);
    buf_free(&big);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT(strlen(e) < sizeof e);
    CU_ASSERT_EQUAL(strncmp(e, "unknown_key_number_000: unknown key (", 37), 0);
    const char *last = strrchr(e, '\n');
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    int shown = 0;
    for (const char *q = e; (q = strstr(q, ": unknown key (")) != NULL; q++)
        shown++;
    char tail[64];
    snprintf(tail, sizeof tail, "\nconfig: %d more error(s) not shown", 300 - shown);
    UNIT_ASSERT_STR(last, tail);
    CU_ASSERT(shown > 50);

    /* cfg_print_errors: the prefix on each line */
    char *out = NULL;
    size_t outn = 0;
    FILE *f = open_memstream(&out, &outn);
    cfg_print_errors(f, "clipapi-fcgi: ", "a: one (x:1)\nb: two (y)");
    fclose(f);
    UNIT_ASSERT_STR(out, "clipapi-fcgi: a: one (x:1)\nclipapi-fcgi: b: two (y)\n");
    free(out);
}

static void test_events_keys(void)
{
    cfg_t *c = NULL;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(cfg_load(write_conf("ev0.conf", "\n"), &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_PTR_NULL(c->events_publish_url);
    CU_ASSERT_PTR_NULL(c->events_ticket_key_file);
    CU_ASSERT_EQUAL(c->events_publish_timeout_ms, 200);
    CU_ASSERT_EQUAL(c->events_ticket_expires, 600);
    CU_ASSERT_EQUAL(c->events_buffer_length, 200);
    CU_ASSERT_EQUAL(c->events_buffer_seconds, 3600);
    cfg_free(c);
    CU_ASSERT_EQUAL_FATAL(cfg_load(write_conf("ev1.conf",
                                              "events_publish_url = unix:/run/x/events.sock\n"
                                              "events_ticket_key_file = /etc/k\n"
                                              "events_buffer_length = 50\n"),
                                   &c, err, sizeof err),
                          CLIP_OK);
    UNIT_ASSERT_STR(c->events_publish_url, "unix:/run/x/events.sock");
    UNIT_ASSERT_STR(c->events_ticket_key_file, "/etc/k");
    CU_ASSERT_EQUAL(c->events_buffer_length, 50);
    cfg_free(c);
    char want[600];
    const char *got = load_err("events_publish_url = http://192.168.1.2:8090/pub\n");
    snprintf(want, sizeof want,
             "events_publish_url: 'http://192.168.1.2:8090/pub' must name a loopback host "
             "(127.0.0.1, [::1] or localhost) (nchan's publisher must not be reachable "
             "from outside) (%s:1)",
             write_conf("t.conf", "events_publish_url = http://192.168.1.2:8090/pub\n"));
    UNIT_ASSERT_STR(got, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_err("events_publish_timeout_ms = 0\n"),
                                  "events_publish_timeout_ms: 0 is out of range 1..5000"));
}

static void test_require(void)
{
    cfg_t *c = NULL;
    char err[256];
    const char *p = write_conf("r.conf", "r2_bucket = b\n");
    CU_ASSERT_EQUAL_FATAL(cfg_load(p, &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(cfg_require(c, "r2_bucket", err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(cfg_require(c, "r2_endpoint", err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_EQUAL(strncmp(err, "r2_endpoint: not set (set it in ", 32), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "CLIPAPI_R2_ENDPOINT"));
    CU_ASSERT_EQUAL(cfg_require(c, "r2_secret_access_key", err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "<key>_file"));
    cfg_free(c);
}

/* Without a path, the file named by CLIPAPI_CONFIG is read; a given path wins; when the variable
 * is unset or empty only the default file is looked for (and may be absent). */
static void test_config_env(void)
{
    cfg_t *c = NULL;
    char err[256];
    char envp[256];
    snprintf(envp, sizeof envp, "%s", write_conf("env.conf", "workers = 7\nr2_bucket = from-env\n"));
    const char *given = write_conf("given.conf", "workers = 5\n");

    setenv("CLIPAPI_CONFIG", envp, 1);
    CU_ASSERT_EQUAL_FATAL(cfg_load(NULL, &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(c->workers, 7);
    UNIT_ASSERT_STR(c->r2_bucket, "from-env");
    UNIT_ASSERT_STR(c->path, envp);
    /* a missing key names the file the variable named */
    CU_ASSERT_EQUAL(cfg_require(c, "r2_endpoint", err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, envp));
    cfg_free(c);
    c = NULL;

    /* --config (a path) wins over the variable */
    CU_ASSERT_EQUAL_FATAL(cfg_load(given, &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(c->workers, 5);
    CU_ASSERT_PTR_NULL(c->r2_bucket);
    cfg_free(c);
    c = NULL;

    /* a file the variable names must exist, like one given with --config */
    setenv("CLIPAPI_CONFIG", "/nonexistent/env.conf", 1);
    CU_ASSERT_EQUAL(cfg_load(NULL, &c, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(strncmp(err, "config: cannot open /nonexistent/env.conf", 41), 0);

    /* unset or empty: the default file only (this machine may or may not have one) */
    for (int empty = 0; empty < 2; empty++) {
        if (empty)
            setenv("CLIPAPI_CONFIG", "", 1);
        else
            unsetenv("CLIPAPI_CONFIG");
        err[0] = '\0';
        int rc = cfg_load(NULL, &c, err, sizeof err);
        if (access(CFG_DEFAULT_PATH, F_OK) != 0) {
            CU_ASSERT_EQUAL(rc, CLIP_OK);
            CU_ASSERT_PTR_NULL(c ? c->path : "failed");
        } else if (rc == CLIP_OK) {
            UNIT_ASSERT_STR(c->path, CFG_DEFAULT_PATH);
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(err, CFG_DEFAULT_PATH));
        }
        CU_ASSERT_PTR_NULL(c && c->path ? strstr(c->path, "env.conf") : NULL);
        cfg_free(c);
        c = NULL;
    }
    unsetenv("CLIPAPI_CONFIG");
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_defaults), UNIT_TEST(test_file_and_env),
                           UNIT_TEST(test_secret_files), UNIT_TEST(test_errors_name_the_key),
                           UNIT_TEST(test_every_error_reported),
                           UNIT_TEST(test_require), UNIT_TEST(test_events_keys),
                           UNIT_TEST(test_config_env),
                           CU_TEST_INFO_NULL};
    return unit_run("config", tests, init, cleanup);
}
