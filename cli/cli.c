/* cli: the helpers every clipctl subcommand shares (messages, config, numbers, and for the
 * workflow commands the configuration and Firestore client, bodies and output). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breaker.h"
#include "http.h"
#include "ids.h"
#include "json.h"
#include "r2.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "clipctl %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see clipctl %s --help)\n", cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    char msg[CFG_ERR_MAX + 256], prefix[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message of several lines (every error of a configuration) gets the prefix on each */
    snprintf(prefix, sizeof prefix, "clipctl %s: ", cmd);
    cfg_print_errors(stderr, prefix, msg);
    return CLI_EXIT_FAIL;
}

clip_err cli_load_config(const cli_ctx *ctx, cfg_t **out, char *err, size_t errlen)
{
    clip_err e = cfg_load(ctx->config_path, out, err, errlen);
    /* no pool here: the breakers are this process's own (a migration against a dead Firestore
     * stops retrying after breaker_failures failures instead of waiting out every deadline) */
    if (e == CLIP_OK)
        breaker_configure((*out)->breaker_failures, (*out)->breaker_cooldown_ms);
    return e;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_options_begin(void)
{
    optind = 0;
    opterr = 0;
}

int cli_bad_option(const char *cmd, int c, char *const *argv)
{
    if (c == ':')
        return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
    return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_option_other(const char *cmd, int c, char *const *argv, void (*usage)(FILE *))
{
    if (c != 'h')
        return cli_bad_option(cmd, c, argv);
    usage(stdout);
    return CLI_EXIT_OK;
}

int cli_no_operands(const char *cmd, int argc, char *const *argv)
{
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return CLI_EXIT_OK;
}

int cli_run_subcommand(const cli_ctx *ctx, const char *cmd, int argc, char **argv,
                       void (*usage)(FILE *), const cli_cmd *subs, const char *names)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (const cli_cmd *s = subs; s->name; s++)
        if (strcmp(argv[1], s->name) == 0)
            return s->run(ctx, argc - 1, argv + 1);
    return cli_usage_error(cmd, "unknown subcommand '%s' (%s)", argv[1], names);
}

int cli_flush_stdout(const char *cmd, const char *message)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(cmd, "%s", message);
    return CLI_EXIT_OK;
}

/* libcurl for this process; CLI_EXIT_OK or the exit code after printing why. */
static int open_http(const char *cmd, cli_env *env)
{
    if (http_global_init() != CLIP_OK) {
        cli_close(env);
        return cli_fail(cmd, "cannot initialise libcurl");
    }
    env->http_init = 1;
    return CLI_EXIT_OK;
}

/* The Firestore client; CLI_EXIT_OK or the exit code after printing why. */
static int open_firestore(const char *cmd, cli_env *env)
{
    char err[CFG_ERR_MAX];
    if (fs_client_new(env->cfg, &env->fs, err, sizeof err) != CLIP_OK) {
        env->fs = NULL;
        cli_close(env);
        return cli_fail(cmd, "firestore is not configured: %s", err);
    }
    return CLI_EXIT_OK;
}

int cli_open_stores(const cli_ctx *ctx, const char *cmd, cli_env *env)
{
    memset(env, 0, sizeof *env);
    arena_init(&env->arena, CLI_ARENA_MAX);
    char err[CFG_ERR_MAX];
    int rc;
    if (cli_load_config(ctx, &env->cfg, err, sizeof err) != CLIP_OK) {
        cli_close(env);
        return cli_fail(cmd, "%s", err);
    }
    if ((rc = open_http(cmd, env)) != CLI_EXIT_OK || (rc = open_firestore(cmd, env)) != CLI_EXIT_OK)
        return rc;
    if (r2_client_new(env->cfg, &env->r2, err, sizeof err) != CLIP_OK) {
        env->r2 = NULL;
        cli_close(env);
        return cli_fail(cmd, "R2 is not configured: %s", err);
    }
    return CLI_EXIT_OK;
}

int cli_open(const cli_ctx *ctx, const char *cmd, int need_fs, cli_env *env)
{
    memset(env, 0, sizeof *env);
    arena_init(&env->arena, CLI_ARENA_MAX);
    char err[CFG_ERR_MAX];
    if (cli_load_config(ctx, &env->cfg, err, sizeof err) != CLIP_OK) {
        cli_close(env);
        return cli_fail(cmd, "%s", err);
    }
    /* the pool's cursor key (a random one, good for this run only, when no secret gives one) */
    const char *keys_from;
    fs_cursor_seed();
    if (fs_cursor_keys(env->cfg, &keys_from, err, sizeof err) != CLIP_OK) {
        cli_close(env);
        return cli_fail(cmd, "%s", err);
    }
    if (!need_fs)
        return CLI_EXIT_OK;
    int rc;
    if ((rc = open_http(cmd, env)) != CLI_EXIT_OK || (rc = open_firestore(cmd, env)) != CLI_EXIT_OK)
        return rc;
    if (events_pub_new(env->cfg, &env->events, err, sizeof err) != CLIP_OK) {
        cli_close(env);
        return cli_fail(cmd, "%s", err);
    }
    if (env->events && env->cfg->r2_bucket &&
        r2_signer_from_cfg(env->cfg, &env->signer, err, sizeof err) != CLIP_OK)
        env->signer = NULL; /* the events' thumbnails are null, as the pool's would be */
    return CLI_EXIT_OK;
}

void cli_clip_written(cli_env *env, const char *uid, const char *video_id, const clip_rec *c)
{
    view_signing s = view_signing_at(env->signer, env->cfg->presign_expires, time(NULL));
    events_clip_written(env->events, &s, uid, video_id, c);
}

void cli_video_written(cli_env *env, const char *uid, const char *video_id, const video_rec *v)
{
    events_video_written(env->events, uid, video_id, v);
}

void cli_close(cli_env *env)
{
    fs_client_free(env->fs);
    env->fs = NULL;
    r2_client_free(env->r2);
    env->r2 = NULL;
    events_pub_free(env->events);
    env->events = NULL;
    sig_signer_free(env->signer);
    env->signer = NULL;
    if (env->http_init)
        http_global_cleanup();
    env->http_init = 0;
    cfg_free(env->cfg);
    env->cfg = NULL;
    arena_free(&env->arena);
}

/* The whole of f, at most CLI_BODY_MAX bytes. 0 ok, -1 with errno-like message in err. */
static int read_all(FILE *f, buf_t *b, char *err, size_t errlen)
{
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > CLI_BODY_MAX) {
            snprintf(err, errlen, "longer than %u bytes", CLI_BODY_MAX);
            return -1;
        }
        if (buf_append(b, chunk, n) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int cli_body(const char *cmd, body_kind kind, const char *json_path, char *const *args, int nargs,
              buf_t *out)
{
    buf_t base = BUF_INIT;
    char err[512];
    if (json_path) {
        int is_stdin = strcmp(json_path, "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(json_path, "rb");
        if (!f)
            return cli_usage_error(cmd, "--json: cannot read %s: %s", json_path, strerror(errno));
        int r = read_all(f, &base, err, sizeof err);
        if (!is_stdin)
            fclose(f);
        if (r != 0) {
            buf_free(&base);
            return cli_usage_error(cmd, "--json %s: %s", json_path, err);
        }
    }
    clip_err e = body_from_args(kind, base.p, base.len, (const char *const *)args, (size_t)nargs,
                                 out, err, sizeof err);
    buf_free(&base);
    if (e != CLIP_OK)
        return cli_fail_err(cmd, e, err);
    return CLI_EXIT_OK;
}

int cli_fail_err(const char *cmd, clip_err e, const char *err)
{
    if (e == CLIP_EINVAL) {
        fprintf(stderr, "clipctl %s: %s\n", cmd, err);
        return CLI_EXIT_USAGE;
    }
    return cli_fail(cmd, "%s (%s)", err, clip_err_code(e));
}

static int flush_out(const char *cmd)
{
    return cli_flush_stdout(cmd, "cannot write to stdout");
}

#define CLI_ANSWER_DEPTH 32 /* nesting of an answer printed as a table */

/* An answer as JSON (the strict reader), or NULL. */
static json_object *parse_answer(const char *p, size_t n)
{
    static const json_limits lim = {"answer", 0, CLI_ANSWER_DEPTH};
    json_object *j = NULL;
    char why[160];
    if (!p || json_read(p, n, &lim, &j, why, sizeof why) != CLIP_OK)
        return NULL;
    return j;
}

/* A value as one table cell: strings raw, null as "-", the rest compact JSON. */
static const char *cell(json_object *v)
{
    if (!v)
        return "-";
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int cli_print(const char *cmd, const buf_t *json, int table)
{
    if (!table) {
        fwrite(json->p ? json->p : "", 1, json->len, stdout);
        fputc('\n', stdout);
        return flush_out(cmd);
    }
    json_object *j = parse_answer(json->p, json->len);
    if (!j || !json_object_is_type(j, json_type_object)) {
        json_object_put(j);
        return cli_fail(cmd, "cannot make a table of the answer");
    }
    int width = 5;
    json_object_object_foreach(j, k0, v0)
    {
        (void)v0;
        int l = (int)strlen(k0);
        width = l > width ? l : width;
    }
    printf("%-*s  %s\n", width, "FIELD", "VALUE");
    json_object_object_foreach(j, k, v) printf("%-*s  %s\n", width, k, cell(v));
    json_object_put(j);
    return flush_out(cmd);
}

int cli_print_rows(const char *cmd, const char *json, size_t len, const char *const *columns)
{
    json_object *j = parse_answer(json, len);
    if (!j || !json_object_is_type(j, json_type_array)) {
        json_object_put(j);
        return cli_fail(cmd, "cannot make a table of the answer");
    }
    size_t ncol = 0, nrow = json_object_array_length(j);
    while (columns[ncol])
        ncol++;
    int width[16];
    if (ncol > 16)
        ncol = 16;
    for (size_t c = 0; c < ncol; c++) {
        width[c] = (int)strlen(columns[c]);
        for (size_t r = 0; r < nrow; r++) {
            json_object *v = json_member(json_object_array_get_idx(j, r), columns[c], NULL);
            int l = (int)strlen(cell(v));
            width[c] = l > width[c] ? l : width[c];
        }
    }
    for (size_t c = 0; c < ncol; c++) {
        char up[64];
        size_t k = 0;
        for (; columns[c][k] && k + 1 < sizeof up; k++)
            up[k] = (char)(columns[c][k] >= 'a' && columns[c][k] <= 'z' ? columns[c][k] - 32
                                                                        : columns[c][k]);
        up[k] = '\0';
        if (c + 1 < ncol)
            printf("%-*s  ", width[c], up);
        else
            printf("%s\n", up);
    }
    for (size_t r = 0; r < nrow; r++) {
        json_object *row = json_object_array_get_idx(j, r);
        for (size_t c = 0; c < ncol; c++) {
            json_object *v = json_member(row, columns[c], NULL);
            if (c + 1 < ncol)
                printf("%-*s  ", width[c], cell(v));
            else
                printf("%s\n", cell(v));
        }
    }
    json_object_put(j);
    return flush_out(cmd);
}

int cli_positional_ids(const char *cmd, int argc, char *const *argv, int with_clip,
                       const char **uid, const char **vid, const char **clip)
{
    int rc;
    *uid = optind < argc ? argv[optind] : NULL;
    *vid = optind + 1 < argc ? argv[optind + 1] : NULL;
    *clip = with_clip && optind + 2 < argc ? argv[optind + 2] : NULL;
    if ((rc = cli_check_id(cmd, "UID", *uid)) != CLI_EXIT_OK ||
        (rc = cli_check_id(cmd, "VIDEO_ID", *vid)) != CLI_EXIT_OK ||
        (with_clip && (rc = cli_check_id(cmd, "CLIP_ID", *clip)) != CLI_EXIT_OK))
        return rc;
    return CLI_EXIT_OK;
}

int cli_video_ids_only(const char *cmd, int argc, char *const *argv, const char **uid,
                       const char **vid)
{
    const char *none;
    int rc = cli_positional_ids(cmd, argc, argv, 0, uid, vid, &none);
    if (rc == CLI_EXIT_OK && optind + 2 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
    return rc;
}

int cli_check_id(const char *cmd, const char *what, const char *s)
{
    if (!s)
        return cli_usage_error(cmd, "missing %s", what);
    if (!ids_valid_id(s, strlen(s)))
        return cli_usage_error(cmd, "%s: must be 1-128 bytes of [A-Za-z0-9_-]", what);
    return CLI_EXIT_OK;
}
