/* cmd_clip: `clipctl clip put` (create_clip), `clip status` (update_clip_status) and `clip list`,
 * the same core calls as the internal endpoints. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clips.h"
#include "ids.h"
#include "body.h"
#include "view.h"

#define CLIP_LIST_PAGES_MAX 100000 /* --all: a bound on pages, not a goal */

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: clipctl [--config FILE] clip put [--json FILE|-] [--table] UID VIDEO_ID CLIP_ID\n"
        "                                        [FIELD=VALUE | FIELD:=JSON ...]\n"
        "       clipctl [--config FILE] clip status [--json FILE|-] [--table] UID VIDEO_ID "
        "CLIP_ID\n"
        "                                        [FIELD=VALUE | FIELD:=JSON ...]\n"
        "       clipctl [--config FILE] clip list [--status S] [--style S] [--scene-id N]\n"
        "                                        [--limit N] [--cursor C | --all] [--table]\n"
        "                                        UID VIDEO_ID\n"
        "\n"
        "put: create_clip, exactly as PUT /api/internal/users/UID/videos/VIDEO_ID/clips/CLIP_ID.\n"
        "  Required: scene_id, style, start_time, end_time (HH:MM:SS(.fff), MM:SS or seconds);\n"
        "  optional: filename (CLIP_ID.mp4), scene_title, scene_description, duration_seconds\n"
        "  (computed from start/end when absent), priority (99), status (pending), error,\n"
        "  file_size_bytes or file_size_mb, has_thumbnail. The same create twice is fine (exit\n"
        "  0, the stored clip); different data for an existing clip fails (exit 1, conflict).\n"
        "status: update_clip_status, as PATCH on the same path: status (required:\n"
        "  pending|processing|completed|failed), error, file_size_bytes, has_thumbnail.\n"
        "list: the video's clips ordered by priority, scene_id, style; one page of --limit\n"
        "  (default %d, at most %d) from --cursor, or every page with --all.\n"
        "\n"
        "The body is the JSON object of --json (a file, - for stdin) with the FIELD arguments\n"
        "on top: FIELD=VALUE is a string for text fields and a JSON literal for the others,\n"
        "FIELD:=JSON is raw JSON. Example:\n"
        "  clipctl clip put u1 vid1 clip_3_vertical scene_id=3 style=vertical \\\n"
        "      start_time=00:01:02.5 end_time=00:01:31 scene_title='The hook'\n"
        "  clipctl clip status u1 vid1 clip_3_vertical status=completed \\\n"
        "      file_size_bytes=12897484 has_thumbnail=true\n"
        "\n"
        "  --table      a table instead of JSON\n"
        "  --help       this text\n"
        "Exit status: 0 done, 1 failed (Firestore, not found, conflict), 2 bad usage or a\n"
        "refused field.\n",
        CLIPS_LIST_LIMIT_DEFAULT, CLIPS_LIST_LIMIT_MAX);
}

typedef struct {
    const char *json, *status, *style, *cursor;
    long limit, scene_id;
    int table, all, help;
} clip_opts;

/* The options of put, status and list (is_list); --help prints the usage and sets o->help. */
static int parse(const char *cmd, int argc, char **argv, clip_opts *o, int is_list)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'},     {"table", no_argument, NULL, 't'},
        {"status", required_argument, NULL, 's'},   {"style", required_argument, NULL, 'y'},
        {"scene-id", required_argument, NULL, 'n'}, {"limit", required_argument, NULL, 'l'},
        {"cursor", required_argument, NULL, 'c'},   {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->scene_id = -1;
    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            o->help = 1;
            return CLI_EXIT_OK;
        }
        if (c == ':' || c == '?')
            return cli_bad_option(cmd, c, argv);
        if (c == 't') {
            o->table = 1;
            continue;
        }
        if ((c == 'j') == is_list)
            return cli_usage_error(cmd, "option '%s' does not apply here", argv[optind - 1]);
        switch (c) {
        case 'j':
            o->json = optarg;
            break;
        case 's':
            if (!clips_status_valid(optarg))
                return cli_usage_error(cmd,
                                       "--status: one of pending, processing, completed, failed");
            o->status = optarg;
            break;
        case 'y':
            if (!ids_valid_style(optarg, strlen(optarg)))
                return cli_usage_error(cmd, "--style: 1-64 bytes of [a-z0-9-]");
            o->style = optarg;
            break;
        case 'n':
            if (cli_parse_long(optarg, 0, BODY_SCENE_ID_MAX, &o->scene_id) != 0)
                return cli_usage_error(cmd, "--scene-id: a whole number from 0 to %lld",
                                       BODY_SCENE_ID_MAX);
            break;
        case 'l':
            if (cli_parse_long(optarg, 1, CLIPS_LIST_LIMIT_MAX, &o->limit) != 0)
                return cli_usage_error(cmd, "--limit: a whole number from 1 to %d",
                                       CLIPS_LIST_LIMIT_MAX);
            break;
        case 'c':
            if (!optarg[0] || strlen(optarg) > FS_CURSOR_MAX)
                return cli_usage_error(cmd, "--cursor: not a cursor a listing gave");
            o->cursor = optarg;
            break;
        case 'a':
            o->all = 1;
            break;
        default:
            return cli_bad_option(cmd, '?', argv);
        }
    }
    if (o->all && o->cursor)
        return cli_usage_error(cmd, "--all and --cursor do not go together");
    return CLI_EXIT_OK;
}

static int print_clip(const char *cmd, const clip_rec *c, int table)
{
    buf_t b = BUF_INIT;
    view_stored_clip(&b, c);
    int rc = cli_print(cmd, &b, table);
    buf_free(&b);
    return rc;
}

/* What put and status read before their body is parsed: the options, UID VIDEO_ID CLIP_ID and
 * the body (--json and the FIELD arguments). CLI_EXIT_OK with o->help when the usage was asked. */
static int write_args(const char *cmd, body_kind kind, int argc, char **argv, clip_opts *o,
                      const char **uid, const char **vid, const char **cid, buf_t *body)
{
    int rc = parse(cmd, argc, argv, o, 0);
    if (rc != CLI_EXIT_OK || o->help)
        return rc;
    if ((rc = cli_positional_ids(cmd, argc, argv, 1, uid, vid, cid)) != CLI_EXIT_OK)
        return rc;
    return cli_body(cmd, kind, o->json, argv + optind + 3, argc - optind - 3, body);
}

static int clip_put(const cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "clip put", *uid, *vid, *cid;
    clip_opts o;
    buf_t body = BUF_INIT;
    int rc = write_args(cmd, BODY_CLIP, argc, argv, &o, &uid, &vid, &cid, &body);
    if (rc != CLI_EXIT_OK || o.help) {
        buf_free(&body);
        return rc;
    }
    arena_t pa;
    arena_init(&pa, CLI_ARENA_MAX);
    clip_create_input in;
    char err[512];
    clip_err e = CLIP_OK;
    if ((e = body_parse_clip(&pa, uid, vid, cid, body.p, body.len, &in, err, sizeof err)) !=
        CLIP_OK)
        rc = cli_fail_err(cmd, e, err);
    buf_free(&body);
    cli_env env;
    if (rc == CLI_EXIT_OK && (rc = cli_open(ctx, cmd, 1, &env)) == CLI_EXIT_OK) {
        clip_rec out;
        int created = 0;
        e = clips_create(env.fs, &env.arena, uid, vid, cid, &in, &out, &created, err,
                         sizeof err);
        rc = e == CLIP_OK ? print_clip(cmd, &out, o.table) : cli_fail_err(cmd, e, err);
        if (e == CLIP_OK && created) /* the same create again writes nothing */
            cli_clip_written(&env, uid, vid, &out);
        cli_close(&env);
    }
    arena_free(&pa);
    return rc;
}

static int clip_status(const cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "clip status", *uid, *vid, *cid;
    clip_opts o;
    buf_t body = BUF_INIT;
    int rc = write_args(cmd, BODY_STATUS, argc, argv, &o, &uid, &vid, &cid, &body);
    if (rc != CLI_EXIT_OK || o.help) {
        buf_free(&body);
        return rc;
    }
    arena_t pa;
    arena_init(&pa, CLI_ARENA_MAX);
    clip_status_update u;
    char err[512];
    clip_err e = CLIP_OK;
    if ((e = body_parse_status(&pa, body.p, body.len, &u, err, sizeof err)) != CLIP_OK)
        rc = cli_fail_err(cmd, e, err);
    buf_free(&body);
    cli_env env;
    if (rc == CLI_EXIT_OK && (rc = cli_open(ctx, cmd, 1, &env)) == CLI_EXIT_OK) {
        clip_rec out;
        e = clips_update_status(env.fs, &env.arena, uid, vid, cid, &u, &out, err, sizeof err);
        rc = e == CLIP_OK ? print_clip(cmd, &out, o.table) : cli_fail_err(cmd, e, err);
        if (e == CLIP_OK)
            cli_clip_written(&env, uid, vid, &out);
        cli_close(&env);
    }
    arena_free(&pa);
    return rc;
}

static int clip_list(const cli_ctx *ctx, int argc, char **argv)
{
    static const char *const columns[] = {
        "clip_id",         "scene_id",      "style",    "status",
        "priority",        "start_time",    "end_time", "duration_seconds",
        "file_size_bytes", "has_thumbnail", NULL};
    const char *cmd = "clip list", *uid, *vid;
    clip_opts o;
    int rc = parse(cmd, argc, argv, &o, 1);
    if (rc != CLI_EXIT_OK || o.help)
        return rc;
    if ((rc = cli_video_ids_only(cmd, argc, argv, &uid, &vid)) != CLI_EXIT_OK)
        return rc;
    cli_env env;
    if ((rc = cli_open(ctx, cmd, 1, &env)) != CLI_EXIT_OK)
        return rc;
    clips_filter f = {o.status, o.style, o.scene_id >= 0, o.scene_id >= 0 ? o.scene_id : 0};
    buf_t rows = BUF_INIT;
    char cursor[FS_CURSOR_MAX + 1] = "", err[512];
    if (o.cursor)
        snprintf(cursor, sizeof cursor, "%s", o.cursor);
    const char *next = NULL;
    size_t n = 0;
    clip_err e = CLIP_OK;
    buf_putc(&rows, '[');
    for (long page = 0; page < CLIP_LIST_PAGES_MAX; page++) {
        clips_page p;
        e = clips_list(env.fs, &env.arena, uid, vid, &f, o.limit, cursor, &p, err, sizeof err);
        if (e != CLIP_OK)
            break;
        for (size_t i = 0; i < p.n; i++) {
            if (n++)
                buf_putc(&rows, ',');
            view_stored_clip(&rows, &p.items[i]);
        }
        next = p.next_cursor;
        if (!o.all || !next)
            break;
        if (strlen(next) >= sizeof cursor) {
            e = clip_fail(CLIP_EINTERNAL, err, sizeof err, "cursor longer than %d", FS_CURSOR_MAX);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", next);
        next = NULL;
        arena_reset(&env.arena); /* the page is written out; keep memory flat over --all */
    }
    buf_putc(&rows, ']');
    if (e == CLIP_OK && rows.oom)
        e = clip_fail(CLIP_ENOMEM, err, sizeof err, "out of memory");
    if (e != CLIP_OK) {
        rc = cli_fail_err(cmd, e, err);
    } else if (o.table) {
        rc = cli_print_rows(cmd, rows.p, rows.len, columns);
        if (rc == CLI_EXIT_OK && next)
            printf("next cursor: %s\n", next);
    } else {
        buf_t b = BUF_INIT;
        buf_puts(&b, "{\"clips\":");
        buf_append(&b, rows.p, rows.len);
        buf_puts(&b, ",\"next_cursor\":");
        if (next)
            buf_json_str(&b, next, strlen(next));
        else
            buf_puts(&b, "null");
        buf_putc(&b, '}');
        rc = cli_print(cmd, &b, 0);
        buf_free(&b);
    }
    buf_free(&rows);
    cli_close(&env);
    return rc;
}

int cmd_clip(const cli_ctx *ctx, int argc, char **argv)
{
    static const cli_cmd subs[] = {
        {"put", NULL, clip_put}, {"status", NULL, clip_status}, {"list", NULL, clip_list}, {NULL}};
    return cli_run_subcommand(ctx, "clip", argc, argv, usage, subs, "put, status or list");
}
