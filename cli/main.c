/* clipctl: the operator's command line; dispatches to one subcommand from a table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One line per subcommand; each lives in cli/cmd_<name>.c and is declared in cli/cli.h. */
static const cli_cmd commands[] = {
    {"presign", "print one presigned R2 URL for a key of the configured bucket", cmd_presign},
    {"dev-token", "mint a dev ID token or print its key set (make run, tests)", cmd_dev_token},
    {"video", "put (create_or_update_video) or get one video", cmd_video},
    {"clip", "put (create_clip), status (update_clip_status) or list a video's clips", cmd_clip},
    {"stats", "update_clip_statistics: recompute and write a video's clip_stats", cmd_stats},
    {"upload-urls", "presigned PUT URLs for a clip file and its thumbnail", cmd_upload_urls},
    {"migrate", "phase 3: write the legacy R2 layout's videos and clips to Firestore", cmd_migrate},
    {"verify", "compare the legacy R2 layout with Firestore, print every difference", cmd_verify},
    {"events-ticket", "a ticket for one video's event stream (live updates)", cmd_events_ticket},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: clipctl [--config FILE] COMMAND [OPTIONS] [ARGS]\n"
               "\n"
               "Global options:\n"
               "  --config FILE  configuration file; without it the file named by $" CFG_PATH_ENV ",\n"
               "                 else " CFG_DEFAULT_PATH " (which may be absent);\n"
               "                 every key can also be set as CLIPAPI_<KEY> in the environment\n"
               "  --help         this text; `clipctl COMMAND --help` describes one command\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 done, 1 failed, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
    cli_ctx ctx = {NULL};
    /* --config may stand before or after the command name (never after "--") */
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[++n] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "clipctl: --config needs a FILE (see clipctl --help)\n");
                return CLI_EXIT_USAGE;
            }
            ctx.config_path = argv[++i];
            continue;
        }
        if (strncmp(argv[i], "--config=", 9) == 0) {
            if (argv[i][9] == '\0') {
                fprintf(stderr, "clipctl: --config needs a FILE (see clipctl --help)\n");
                return CLI_EXIT_USAGE;
            }
            ctx.config_path = argv[i] + 9;
            continue;
        }
        argv[++n] = argv[i];
    }
    argc = n + 1;
    argv[argc] = NULL;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(&ctx, argc - 1, argv + 1);
    fprintf(stderr, "clipctl: unknown command '%s' (see clipctl --help)\n", name);
    return CLI_EXIT_USAGE;
}
