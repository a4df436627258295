/* config: parsing, environment overrides, credential files and validation. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "events.h"

typedef enum { K_STR, K_LONG, K_SECRET, K_PATH, K_ENUM } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t off;
    const char *def;
    long min, max;           /* K_LONG */
    const char *const *enums; /* K_ENUM: allowed values, index = stored int */
    const char *ecosystem;   /* another environment variable that also sets it */
} key_def;

static const char *const source_names[] = {"firestore", "firestore+r2", "r2", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};

#define F(field) offsetof(cfg_t, field)
static const key_def keys[] = {
    {"listen", K_STR, F(listen), "unix:/run/clipapi/fcgi.sock", 0, 0, NULL, NULL},
    {"workers", K_LONG, F(workers), "4", 1, 256, NULL, NULL},
    {"threads", K_LONG, F(threads), "16", 1, 256, NULL, NULL},
    {"max_requests", K_LONG, F(max_requests), "10000", 0, 100000000, NULL, NULL},
    {"request_body_max", K_LONG, F(request_body_max), "1048576", 1, 67108864, NULL, NULL},
    {"shutdown_timeout", K_LONG, F(shutdown_timeout), "10", 1, 3600, NULL, NULL},
    {"firestore_project", K_STR, F(firestore_project), NULL, 0, 0, NULL, NULL},
    {"firestore_database", K_STR, F(firestore_database), "(default)", 0, 0, NULL, NULL},
    {"firestore_emulator_host", K_STR, F(firestore_emulator_host), NULL, 0, 0, NULL,
     "FIRESTORE_EMULATOR_HOST"},
    {"google_credentials_file", K_PATH, F(google_credentials_file), NULL, 0, 0, NULL,
     "GOOGLE_APPLICATION_CREDENTIALS"},
    {"firestore_timeout_ms", K_LONG, F(firestore_timeout_ms), "5000", 1, 600000, NULL, NULL},
    {"breaker_failures", K_LONG, F(breaker_failures), "5", 0, 1000, NULL, NULL},
    {"breaker_cooldown_ms", K_LONG, F(breaker_cooldown_ms), "2000", 100, 600000, NULL, NULL},
    {"auth_project", K_STR, F(auth_project), NULL, 0, 0, NULL, NULL},
    {"auth_keys_url", K_STR, F(auth_keys_url),
     "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com", 0, 0,
     NULL, NULL},
    {"auth_emulator_host", K_STR, F(auth_emulator_host), NULL, 0, 0, NULL,
     "FIREBASE_AUTH_EMULATOR_HOST"},
    {"r2_endpoint", K_STR, F(r2_endpoint), NULL, 0, 0, NULL, NULL},
    {"r2_bucket", K_STR, F(r2_bucket), NULL, 0, 0, NULL, NULL},
    {"r2_region", K_STR, F(r2_region), "auto", 0, 0, NULL, NULL},
    {"r2_addressing", K_STR, F(r2_addressing), "path", 0, 0, NULL, NULL},
    {"r2_access_key_id", K_SECRET, F(r2_access_key_id), NULL, 0, 0, NULL, NULL},
    {"r2_secret_access_key", K_SECRET, F(r2_secret_access_key), NULL, 0, 0, NULL, NULL},
    {"r2_session_token", K_SECRET, F(r2_session_token), NULL, 0, 0, NULL, NULL},
    {"presign_expires", K_LONG, F(presign_expires), "3600", 1, 604800, NULL, NULL},
    {"internal_keys_file", K_PATH, F(internal_keys_file), NULL, 0, 0, NULL, NULL},
    {"cursor_key_file", K_PATH, F(cursor_key_file), NULL, 0, 0, NULL, NULL},
    {"events_publish_url", K_STR, F(events_publish_url), NULL, 0, 0, NULL, NULL},
    {"events_publish_timeout_ms", K_LONG, F(events_publish_timeout_ms), "200", 1, 5000, NULL, NULL},
    {"events_ticket_key_file", K_PATH, F(events_ticket_key_file), NULL, 0, 0, NULL, NULL},
    {"events_ticket_expires", K_LONG, F(events_ticket_expires), "600", 10, 86400, NULL, NULL},
    {"events_buffer_length", K_LONG, F(events_buffer_length), "200", 1, 100000, NULL, NULL},
    {"events_buffer_seconds", K_LONG, F(events_buffer_seconds), "3600", 120, 604800, NULL, NULL},
    {"metadata_source", K_ENUM, F(metadata_source), "firestore", 0, 0, source_names, NULL},
    {"log_level", K_ENUM, F(log_level), "info", 0, 0, level_names, NULL},
};
#undef F
#define NKEYS (sizeof keys / sizeof keys[0])

/* Raw values while loading: one string per key, later converted. */
typedef struct {
    char *val[NKEYS];
    char *where[NKEYS]; /* "FILE:LINE", "CLIPAPI_X", ... for error messages */
} raw_t;

/* Every problem found while loading, one line each ("key: problem (where)"), so a config with
 * several mistakes is mended in one round; err is filled up to its size, then counted. */
typedef struct {
    char *err;
    size_t errlen, len;
    int n, dropped;
    int oom;
} errs_t;

/* Room kept at the end of err for the line that counts what did not fit. */
#define ERRS_TAIL 48

static void errs_add(errs_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errs_add(errs_t *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    e->n++;
    size_t ln = strlen(line), sep = e->len ? 1 : 0;
    if (!e->err || e->errlen < ERRS_TAIL || e->len + sep + ln + 1 > e->errlen - ERRS_TAIL) {
        e->dropped++;
        return;
    }
    if (sep)
        e->err[e->len++] = '\n';
    memcpy(e->err + e->len, line, ln + 1);
    e->len += ln;
}

static void errs_finish(errs_t *e)
{
    if (e->dropped && e->err && e->errlen >= ERRS_TAIL)
        snprintf(e->err + e->len, e->errlen - e->len, "%sconfig: %d more error(s) not shown",
                 e->len ? "\n" : "", e->dropped);
}

static const key_def *find_key(const char *name, size_t n, size_t *idx)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strlen(keys[i].name) == n && memcmp(keys[i].name, name, n) == 0) {
            if (idx)
                *idx = i;
            return &keys[i];
        }
    }
    return NULL;
}

static void raw_set(raw_t *r, size_t i, const char *v, size_t n, const char *where)
{
    free(r->val[i]);
    free(r->where[i]);
    r->val[i] = strndup(v, n);
    r->where[i] = strdup(where);
}

static void raw_free(raw_t *r)
{
    for (size_t i = 0; i < NKEYS; i++) {
        free(r->val[i]);
        free(r->where[i]);
    }
}

static char *trim(char *s, char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *e = '\0';
    if (end)
        *end = e;
    return s;
}

/* Reads a whole small file (a secret); strips one trailing newline. */
static clip_err read_secret(const char *path, char **out, char *err, size_t errlen, const char *key)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: cannot read %s: %s", key, path,
                         strerror(errno));
    buf_t b;
    buf_init(&b, CFG_SECRET_MAX);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (b.oom || bad) {
        buf_free(&b);
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: %s is unreadable or over %d bytes", key,
                         path, CFG_SECRET_MAX);
    }
    while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
        b.p[--b.len] = '\0';
    if (b.len == 0) {
        buf_free(&b);
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: %s is empty", key, path);
    }
    *out = buf_take(&b);
    return CLIP_OK;
}

static void parse_file(const char *path, raw_t *r, errs_t *es)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        errs_add(es, "config: cannot open %s: %s", path, strerror(errno));
        return;
    }
    char line[CFG_LINE_MAX + 2];
    int lineno = 0, skipping = 0;
    while (fgets(line, sizeof line, f)) {
        size_t ll = strlen(line);
        int whole = ll > 0 && line[ll - 1] == '\n';
        if (skipping) { /* the rest of a line already reported as too long */
            skipping = !whole;
            continue;
        }
        lineno++;
        if (ll > CFG_LINE_MAX && !whole) {
            errs_add(es, "config: %s:%d: line longer than %d bytes", path, lineno, CFG_LINE_MAX);
            skipping = 1;
            continue;
        }
        char *s = trim(line, NULL);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            errs_add(es, "config: %s:%d: expected 'key = value'", path, lineno);
            continue;
        }
        *eq = '\0';
        char *k = trim(s, NULL);
        char *v = trim(eq + 1, NULL);
        size_t vn = strlen(v);
        if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
            v[vn - 1] = '\0';
            v++;
            vn -= 2;
        }
        char where[512];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        size_t kn = strlen(k), idx;
        const key_def *kd = find_key(k, kn, &idx);
        if (!kd && kn > 5 && strcmp(k + kn - 5, "_file") == 0 &&
            (kd = find_key(k, kn - 5, &idx)) != NULL && kd->kind == K_SECRET) {
            char *secret = NULL, msg[768];
            if (read_secret(v, &secret, msg, sizeof msg, k) != CLIP_OK) {
                errs_add(es, "%s (%s)", msg, where);
                continue;
            }
            raw_set(r, idx, secret, strlen(secret), where);
            memset(secret, 0, strlen(secret));
            free(secret);
            continue;
        }
        if (!kd) {
            errs_add(es, "%.*s: unknown key (%s)", (int)(kn > 128 ? 128 : kn), k, where);
            continue;
        }
        raw_set(r, idx, v, vn, where);
    }
    fclose(f);
}

static void apply_env(raw_t *r, errs_t *es)
{
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *kd = &keys[i];
        char name[96];
        size_t j = 0;
        j += (size_t)snprintf(name, sizeof name, "CLIPAPI_");
        for (const char *k = kd->name; *k && j + 6 < sizeof name; k++)
            name[j++] = (char)toupper((unsigned char)*k);
        name[j] = '\0';
        const char *v = getenv(name);
        if (v) {
            raw_set(r, i, v, strlen(v), name);
            continue;
        }
        if (kd->kind == K_SECRET) {
            snprintf(name + j, sizeof name - j, "_FILE");
            const char *p = getenv(name);
            const char *from = name;
            char credpath[4096];
            if (!p && !r->val[i] && creds) {
                snprintf(credpath, sizeof credpath, "%s/%s", creds, kd->name);
                if (access(credpath, R_OK) == 0) {
                    p = credpath;
                    from = "CREDENTIALS_DIRECTORY";
                }
            }
            if (p) {
                char *secret = NULL, msg[768];
                if (read_secret(p, &secret, msg, sizeof msg, kd->name) != CLIP_OK) {
                    errs_add(es, "%s (%s)", msg, from);
                    continue;
                }
                raw_set(r, i, secret, strlen(secret), p);
                memset(secret, 0, strlen(secret));
                free(secret);
            }
            continue;
        }
        if (kd->ecosystem && (v = getenv(kd->ecosystem)) != NULL && *v) {
            raw_set(r, i, v, strlen(v), kd->ecosystem);
            continue;
        }
        if (kd->kind == K_PATH && !r->val[i] && creds) {
            char credpath[4096];
            snprintf(credpath, sizeof credpath, "%s/%s", creds, kd->name);
            if (access(credpath, R_OK) == 0)
                raw_set(r, i, credpath, strlen(credpath), "CREDENTIALS_DIRECTORY");
        }
    }
}

/* Where the value of key name came from, for a message. */
static const char *where_of(const raw_t *r, const char *name)
{
    size_t idx;
    if (!find_key(name, strlen(name), &idx) || !r->where[idx])
        return "default";
    return r->where[idx];
}

static void convert(const raw_t *r, cfg_t *c, errs_t *es)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const key_def *kd = &keys[i];
        const char *v = r->val[i] ? r->val[i] : kd->def;
        const char *where = r->where[i] ? r->where[i] : "default";
        void *field = (char *)c + kd->off;
        if (v && *v == '\0' && kd->kind != K_LONG && kd->kind != K_ENUM)
            v = NULL; /* an empty string means unset */
        switch (kd->kind) {
        case K_STR:
        case K_SECRET:
        case K_PATH:
            if (v && !(*(char **)field = strdup(v)))
                es->oom = 1;
            break;
        case K_LONG: {
            if (!v || !*v) {
                errs_add(es, "%s: empty value (%s)", kd->name, where);
                break;
            }
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (end != v && strcmp(kd->name, "shutdown_timeout") == 0 && strcmp(end, "s") == 0)
                end++;
            if (errno || end == v || *end != '\0')
                errs_add(es, "%s: '%.200s' is not a whole number (%s)", kd->name, v, where);
            else if (n < kd->min || n > kd->max)
                errs_add(es, "%s: %ld is out of range %ld..%ld (%s)", kd->name, n, kd->min,
                         kd->max, where);
            else
                *(long *)field = n;
            break;
        }
        case K_ENUM: {
            int found = -1;
            for (int e = 0; kd->enums[e]; e++)
                if (v && strcmp(v, kd->enums[e]) == 0)
                    found = e;
            if (found < 0) {
                buf_t allowed = BUF_INIT;
                for (int e = 0; kd->enums[e]; e++)
                    buf_printf(&allowed, "%s%s", e ? ", " : "", kd->enums[e]);
                errs_add(es, "%s: '%.200s' is not one of %s (%s)", kd->name, v ? v : "",
                         allowed.p ? allowed.p : "", where);
                buf_free(&allowed);
                break;
            }
            *(int *)field = found;
            break;
        }
        }
    }
    if (!c->auth_project && c->firestore_project && !(c->auth_project = strdup(c->firestore_project)))
        es->oom = 1;
    /* Values whose shape can be checked without a network call. */
    if (c->listen && strncmp(c->listen, "unix:", 5) != 0 && !strrchr(c->listen, ':'))
        errs_add(es, "listen: '%.200s' is neither unix:PATH nor HOST:PORT (%s)", c->listen,
                 where_of(r, "listen"));
    if (c->listen && strncmp(c->listen, "unix:", 5) == 0 && c->listen[5] != '/')
        errs_add(es, "listen: '%.200s' needs an absolute path (%s)", c->listen,
                 where_of(r, "listen"));
    if (c->r2_endpoint && strncmp(c->r2_endpoint, "https://", 8) != 0 &&
        strncmp(c->r2_endpoint, "http://", 7) != 0)
        errs_add(es, "r2_endpoint: '%.200s' must start with https:// (%s)", c->r2_endpoint,
                 where_of(r, "r2_endpoint"));
    if (c->r2_addressing && strcmp(c->r2_addressing, "path") != 0 &&
        strcmp(c->r2_addressing, "virtual") != 0)
        errs_add(es, "r2_addressing: '%.200s' is not one of path, virtual (%s)", c->r2_addressing,
                 where_of(r, "r2_addressing"));
    if (c->auth_keys_url && strncmp(c->auth_keys_url, "https://", 8) != 0 &&
        strncmp(c->auth_keys_url, "http://", 7) != 0)
        errs_add(es, "auth_keys_url: '%.200s' is not an http(s) URL (%s)", c->auth_keys_url,
                 where_of(r, "auth_keys_url"));
    char msg[768];
    if (c->events_publish_url && events_url_check(c->events_publish_url, msg, sizeof msg) != CLIP_OK)
        errs_add(es, "%s (%s)", msg, where_of(r, "events_publish_url"));
}

clip_err cfg_load(const char *path, cfg_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    raw_t raw;
    memset(&raw, 0, sizeof raw);
    cfg_t *c = calloc(1, sizeof *c);
    if (!c)
        return clip_fail(CLIP_ENOMEM, err, errlen, "config: out of memory");
    errs_t es = {err, errlen, 0, 0, 0, 0};
    const char *file = path;
    struct stat st;
    if (!file && (file = getenv(CFG_PATH_ENV)) != NULL && !*file)
        file = NULL; /* an empty CLIPAPI_CONFIG means unset */
    if (!file && stat(CFG_DEFAULT_PATH, &st) == 0)
        file = CFG_DEFAULT_PATH;
    if (file) {
        parse_file(file, &raw, &es);
        if (!(c->path = strdup(file)))
            es.oom = 1;
    }
    apply_env(&raw, &es);
    convert(&raw, c, &es);
    raw_free(&raw);
    if (es.oom) {
        cfg_free(c);
        return clip_fail(CLIP_ENOMEM, err, errlen, "config: out of memory");
    }
    if (es.n) {
        errs_finish(&es);
        cfg_free(c);
        return CLIP_EINVAL;
    }
    *out = c;
    return CLIP_OK;
}

void cfg_print_errors(FILE *f, const char *prefix, const char *err)
{
    const char *p = err;
    do {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "%s%.*s\n", prefix, n, p);
        p = nl ? nl + 1 : NULL;
    } while (p);
}

const char *cfg_get(const cfg_t *c, const char *key)
{
    size_t idx;
    const key_def *kd = find_key(key, strlen(key), &idx);
    if (!kd || kd->kind == K_LONG || kd->kind == K_ENUM)
        return NULL;
    return *(char *const *)((const char *)c + kd->off);
}

clip_err cfg_require(const cfg_t *c, const char *key, char *err, size_t errlen)
{
    size_t idx;
    const key_def *kd = find_key(key, strlen(key), &idx);
    if (!kd)
        return clip_fail(CLIP_EINTERNAL, err, errlen, "%s: no such configuration key", key);
    if (kd->kind == K_LONG || kd->kind == K_ENUM || cfg_get(c, key))
        return CLIP_OK;
    char up[96];
    size_t j = 0;
    for (const char *k = key; *k && j + 1 < sizeof up; k++)
        up[j++] = (char)toupper((unsigned char)*k);
    up[j] = '\0';
    return clip_fail(CLIP_EINVAL, err, errlen, "%s: not set (set it in %s or CLIPAPI_%s%s)", key,
                     c->path ? c->path : CFG_DEFAULT_PATH, up,
                     kd->kind == K_SECRET ? ", or give a file as <key>_file" : "");
}

const char *cfg_source_name(cfg_source s)
{
    return (unsigned)s < 3 ? source_names[s] : "?";
}

void cfg_free(cfg_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].kind == K_LONG || keys[i].kind == K_ENUM)
            continue;
        char **f = (char **)((char *)c + keys[i].off);
        if (keys[i].kind == K_SECRET && *f)
            memset(*f, 0, strlen(*f)); /* do not leave secrets in freed memory */
        free(*f);
    }
    free(c->path);
    free(c);
}
