/* cmd_stats: `clipctl stats`, update_clip_statistics (as POST /api/internal/.../stats): recomputes
 * and writes the video's clip_stats. */
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
        "usage: clipctl [--config FILE] stats [--table] UID VIDEO_ID\n"
        "\n"
        "update_clip_statistics, exactly as POST /api/internal/users/UID/videos/VIDEO_ID/stats:\n"
        "counts the video's clips (total, completed, failed, by style), sums their sizes and\n"
        "durations, writes the result as the video's clip_stats and prints it.\n"
        "\n"
        "  --table      a FIELD / VALUE table instead of JSON\n"
        "  --help       this text\n"
        "Exit status: 0 done, 1 failed (Firestore, no such video), 2 bad usage.\n");
}

int cmd_stats(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"table", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "stats";
    int table = 0, c, rc;
    cli_options_begin();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 't')
            table = 1;
        else /* no option takes a value: whatever else is unknown */
            return cli_option_other(cmd, c == 'h' ? 'h' : '?', argv, usage);
    }
    const char *uid, *vid, *none;
    if ((rc = cli_positional_ids(cmd, argc, argv, 0, &uid, &vid, &none)) != CLI_EXIT_OK)
        return rc;
    if (optind + 2 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s' (stats takes no fields)",
                               argv[optind + 2]);
    cli_env env;
    if ((rc = cli_open(ctx, cmd, 1, &env)) != CLI_EXIT_OK)
        return rc;
    video_clip_stats s;
    char err[512];
    clip_err e = videos_update_clip_statistics(env.fs, &env.arena, uid, vid, &s, err, sizeof err);
    if (e == CLIP_OK) {
        buf_t b = BUF_INIT;
        view_clip_stats(&b, &s);
        rc = cli_print(cmd, &b, table);
        buf_free(&b);
        /* its event carries the whole video: read back only when events are published */
        video_rec v;
        if (env.events && videos_get(env.fs, &env.arena, uid, vid, &v, err, sizeof err) == CLIP_OK)
            cli_video_written(&env, uid, vid, &v);
        else if (env.events)
            events_not_published(env.events, uid, vid, "video", err);
    } else {
        rc = cli_fail_err(cmd, e, err);
    }
    cli_close(&env);
    return rc;
}
