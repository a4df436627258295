/* cmd_video: `clipctl video put` (create_or_update_video, as PUT /api/internal/.../videos/{id}) and
 * `clipctl video get`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "videos.h"
#include "body.h"
#include "view.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: clipctl [--config FILE] video put [--json FILE|-] [--table] UID VIDEO_ID\n"
        "                                         [FIELD=VALUE | FIELD:=JSON ...]\n"
        "       clipctl [--config FILE] video get [--table] UID VIDEO_ID\n"
        "\n"
        "put: create_or_update_video, exactly as PUT /api/internal/users/UID/videos/VIDEO_ID:\n"
        "merges the given fields into the video (created_at is set once), validated like the\n"
        "endpoint's body. The body is the JSON object of --json (a file, - for stdin) with the\n"
        "FIELD arguments on top: FIELD=VALUE is a string for text fields and a JSON literal\n"
        "for the others, FIELD:=JSON is raw JSON. Fields: video_url, video_title, youtube_id,\n"
        "status (queued|processing|completed|failed), custom_prompt, styles_processed,\n"
        "crop_mode, target_aspect, highlights_count, highlights_summary, or the raw\n"
        "highlights array (the summary is then computed).\n"
        "get: prints the stored video.\n"
        "\n"
        "Example:\n"
        "  clipctl video put u1 vid1 video_title='My talk' status=processing \\\n"
        "      'styles_processed:=[\"vertical\"]' highlights_count=7\n"
        "\n"
        "  --json FILE  the body (or its base) as a JSON object; - reads stdin\n"
        "  --table      a FIELD / VALUE table instead of JSON\n"
        "  --help       this text\n"
        "Exit status: 0 done, 1 failed (Firestore, not found), 2 bad usage or a refused field.\n");
}

/* The options of put and get (allow_json: put); --help prints the usage and sets *help. */
static int parse(int argc, char **argv, const char **json, int *table, int allow_json, int *help)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'},
        {"table", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (!allow_json)
                return cli_usage_error("video", "--json is for video put");
            *json = optarg;
            break;
        case 't':
            *table = 1;
            break;
        case 'h':
            usage(stdout);
            *help = 1;
            return CLI_EXIT_OK;
        default:
            return cli_bad_option("video", c, argv);
        }
    }
    return CLI_EXIT_OK;
}

static int video_put(const cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "video put", *json = NULL;
    int table = 0, help = 0;
    int rc = parse(argc, argv, &json, &table, 1, &help);
    if (rc != CLI_EXIT_OK || help)
        return rc;
    const char *uid, *vid, *none;
    if ((rc = cli_positional_ids(cmd, argc, argv, 0, &uid, &vid, &none)) != CLI_EXIT_OK)
        return rc;
    buf_t body = BUF_INIT;
    rc = cli_body(cmd, BODY_VIDEO, json, argv + optind + 2, argc - optind - 2, &body);
    if (rc != CLI_EXIT_OK) {
        buf_free(&body);
        return rc;
    }
    cli_env env;
    arena_t pa;
    arena_init(&pa, CLI_ARENA_MAX);
    video_rec in, out;
    unsigned mask = 0;
    char err[512];
    clip_err e = body_parse_video(&pa, uid, vid, body.p, body.len, &in, &mask, err, sizeof err);
    buf_free(&body);
    if (e != CLIP_OK) {
        arena_free(&pa);
        return cli_fail_err(cmd, e, err);
    }
    if ((rc = cli_open(ctx, cmd, 1, &env)) != CLI_EXIT_OK) {
        arena_free(&pa);
        return rc;
    }
    int created = 0;
    e = videos_create_or_update(env.fs, &env.arena, uid, vid, &in, mask, &out, &created, err,
                                sizeof err);
    if (e == CLIP_OK) {
        buf_t b = BUF_INIT;
        view_stored_video(&b, &out);
        rc = cli_print(cmd, &b, table);
        buf_free(&b);
        cli_video_written(&env, uid, vid, &out);
    } else {
        rc = cli_fail_err(cmd, e, err);
    }
    cli_close(&env);
    arena_free(&pa);
    return rc;
}

static int video_get(const cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "video get", *json = NULL;
    int table = 0, help = 0;
    int rc = parse(argc, argv, &json, &table, 0, &help);
    if (rc != CLI_EXIT_OK || help)
        return rc;
    const char *uid, *vid;
    if ((rc = cli_video_ids_only(cmd, argc, argv, &uid, &vid)) != CLI_EXIT_OK)
        return rc;
    cli_env env;
    if ((rc = cli_open(ctx, cmd, 1, &env)) != CLI_EXIT_OK)
        return rc;
    video_rec v;
    char err[512];
    clip_err e = videos_get(env.fs, &env.arena, uid, vid, &v, err, sizeof err);
    if (e == CLIP_OK) {
        buf_t b = BUF_INIT;
        view_stored_video(&b, &v);
        rc = cli_print(cmd, &b, table);
        buf_free(&b);
    } else {
        rc = cli_fail_err(cmd, e, err);
    }
    cli_close(&env);
    return rc;
}

int cmd_video(const cli_ctx *ctx, int argc, char **argv)
{
    static const cli_cmd subs[] = {{"put", NULL, video_put}, {"get", NULL, video_get}, {NULL}};
    return cli_run_subcommand(ctx, "video", argc, argv, usage, subs, "put or get");
}
