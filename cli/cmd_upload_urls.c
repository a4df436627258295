/* cmd_upload_urls: `clipctl upload-urls`, presigned PUT URLs for a clip file and its thumbnail (as
 * POST /api/internal/.../upload-urls). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "r2.h"
#include "sigv4.h"
#include "body.h"
#include "view.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: clipctl [--config FILE] upload-urls [--json FILE|-] [--table] [--at TIME]\n"
        "                                  UID VIDEO_ID CLIP_ID [filename=NAME] [expires_in=S]\n"
        "\n"
        "Presigned PUT URLs, exactly as POST\n"
        "/api/internal/users/UID/videos/VIDEO_ID/clips/CLIP_ID/upload-urls: the clip file\n"
        "UID/VIDEO_ID/clips/FILENAME (Content-Type video/mp4 bound: the upload must send it)\n"
        "and the thumbnail UID/VIDEO_ID/thumbnails/CLIP_ID.jpg (image/jpeg). FILENAME is\n"
        "CLIP_ID.mp4 unless given; expires_in is %ld..%ld seconds [presign_expires].\n"
        "Upload with: curl -X PUT -H 'Content-Type: video/mp4' --data-binary @clip.mp4 URL\n"
        "\n"
        "  --json FILE  the body as a JSON object; - reads stdin\n"
        "  --at TIME    signing time instead of now, e.g. 20261124T120000Z\n"
        "  --table      a table instead of JSON\n"
        "  --help       this text\n"
        "Exit status: 0 done, 1 failed (R2 not configured), 2 bad usage or a refused field.\n",
        SIG_EXPIRES_MIN, SIG_EXPIRES_MAX);
}

int cmd_upload_urls(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'},
        {"table", no_argument, NULL, 't'},
        {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "upload-urls", *json = NULL;
    int table = 0, c, rc;
    time_t when = 0;
    char err[512];
    cli_options_begin();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = optarg;
            break;
        case 't':
            table = 1;
            break;
        case 'a':
            if (sig_parse_amz_date(optarg, &when, err, sizeof err) != CLIP_OK)
                return cli_usage_error(cmd, "--at: %s", err);
            break;
        default:
            return cli_option_other(cmd, c, argv, usage);
        }
    }
    const char *uid, *vid, *cid;
    if ((rc = cli_positional_ids(cmd, argc, argv, 1, &uid, &vid, &cid)) != CLI_EXIT_OK)
        return rc;
    buf_t body = BUF_INIT;
    rc = cli_body(cmd, BODY_UPLOAD, json, argv + optind + 3, argc - optind - 3, &body);
    cli_env env;
    if (rc == CLI_EXIT_OK && (rc = cli_open(ctx, cmd, 0, &env)) != CLI_EXIT_OK) {
        buf_free(&body);
        return rc;
    }
    if (rc != CLI_EXIT_OK) {
        buf_free(&body);
        return rc;
    }
    body_upload up;
    clip_err e = body_parse_upload(&env.arena, cid, body.p, body.len, &up, err, sizeof err);
    buf_free(&body);
    sig_signer *s = NULL;
    if (e != CLIP_OK) {
        rc = cli_fail_err(cmd, e, err);
    } else if (r2_signer_from_cfg(env.cfg, &s, err, sizeof err) != CLIP_OK) {
        rc = cli_fail(cmd, "%s", err);
    } else {
        long expires = up.expires_in ? up.expires_in : env.cfg->presign_expires;
        buf_t b = BUF_INIT;
        e = view_upload_urls(&b, s, &env.arena, uid, vid, cid, up.filename, expires,
                             when ? when : time(NULL), err, sizeof err);
        if (e != CLIP_OK) {
            rc = cli_fail_err(cmd, e, err);
        } else if (table) {
            /* one row per object: the two inner objects of the answer as an array */
            char *clip = strstr(b.p, "{\"method\""), *thumb = strstr(b.p, ",\"thumbnail\":");
            buf_t rows = BUF_INIT;
            if (clip && thumb) {
                buf_putc(&rows, '[');
                buf_append(&rows, clip, (size_t)(thumb - clip));
                buf_putc(&rows, ',');
                char *end = strstr(thumb, ",\"expires_in\"");
                buf_append(&rows, thumb + 13, end ? (size_t)(end - thumb - 13) : 0);
                buf_putc(&rows, ']');
            }
            static const char *const cols[] = {"r2_key", "content_type", "url", NULL};
            rc = cli_print_rows(cmd, rows.p ? rows.p : "", rows.len, cols);
            buf_free(&rows);
        } else {
            rc = cli_print(cmd, &b, 0);
        }
        buf_free(&b);
    }
    sig_signer_free(s);
    cli_close(&env);
    return rc;
}
