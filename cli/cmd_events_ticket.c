/* cmd_events_ticket: `clipctl events-ticket`, a ticket for one video's event stream, for operators
 * who watch a stream with curl (and for the demo, the tests and the bench). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "evticket.h"
#include "ids.h"

#define TICKET_EXPIRES_MAX 86400

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipctl [--config FILE] events-ticket [--expires S] [--url] UID VIDEO_ID\n"
            "\n"
            "Prints a ticket that opens the event stream of VIDEO_ID of user UID, signed with the\n"
            "first key of events_ticket_key_file (what POST /api/videos/VIDEO_ID/events-ticket\n"
            "gives the signed-in user; the video is not checked here). Watch it with\n"
            "  curl -N -H 'Accept: text/event-stream' \"https://HOST$(clipctl events-ticket --url U V)\"\n"
            "\n"
            "  --expires S  seconds it may be used to connect, 1..%d [events_ticket_expires]\n"
            "  --url        print the stream's path with the ticket instead\n"
            "  --help       this text\n",
            TICKET_EXPIRES_MAX);
}

int cmd_events_ticket(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"expires", required_argument, NULL, 'e'},
        {"url", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "events-ticket";
    long expires = -1;
    int as_url = 0;
    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            if (cli_parse_long(optarg, 1, TICKET_EXPIRES_MAX, &expires) != 0)
                return cli_usage_error(cmd, "--expires: '%s' is not a whole number in 1..%d",
                                       optarg, TICKET_EXPIRES_MAX);
            break;
        case 'u':
            as_url = 1;
            break;
        default:
            return cli_option_other(cmd, c, argv, usage);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(cmd, "needs UID and VIDEO_ID");
    const char *uid = argv[optind], *video_id = argv[optind + 1];
    if (!ids_valid_id(uid, strlen(uid)))
        return cli_usage_error(cmd, "UID: must be 1-128 bytes of [A-Za-z0-9_-]");
    if (!ids_valid_id(video_id, strlen(video_id)))
        return cli_usage_error(cmd, "VIDEO_ID: must be 1-128 bytes of [A-Za-z0-9_-]");

    cfg_t *cfg = NULL;
    char err[512];
    if (cli_load_config(ctx, &cfg, err, sizeof err) != CLIP_OK)
        return cli_fail(cmd, "%s", err);
    if (cfg_require(cfg, "events_ticket_key_file", err, sizeof err) != CLIP_OK) {
        cfg_free(cfg);
        return cli_fail(cmd, "%s", err);
    }
    evticket_keys keys;
    clip_err rc = evticket_load_keys(cfg->events_ticket_key_file, &keys, err, sizeof err);
    if (expires < 0)
        expires = cfg->events_ticket_expires;
    cfg_free(cfg);
    if (rc != CLIP_OK)
        return cli_fail(cmd, "%s", err);
    buf_t t = BUF_INIT;
    rc = evticket_make(&keys, uid, video_id, time(NULL) + expires, &t);
    evticket_keys_clear(&keys);
    if (rc != CLIP_OK) {
        buf_free(&t);
        return cli_fail(cmd, "cannot make the ticket: %s", clip_err_code(rc));
    }
    if (as_url)
        printf("/api/videos/%s/events?ticket=%s\n", video_id, t.p);
    else
        printf("%s\n", t.p);
    buf_free(&t);
    return cli_flush_stdout(cmd, "cannot write the ticket to stdout");
}
