/* cli: clipctl's subcommand table entry type, the subcommands, and the helpers they share. */
#ifndef CLIP_CLI_H
#define CLIP_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "body.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "events.h"
#include "firestore.h"
#include "r2.h"

/* Exit codes of every clipctl command. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* What main() parsed before the subcommand. */
typedef struct {
    const char *config_path; /* --config FILE, or NULL: $CLIPAPI_CONFIG, else CFG_DEFAULT_PATH */
} cli_ctx;

/* A subcommand: argv[0] is its name, its options follow; returns a CLI_EXIT_* code. */
typedef int (*cli_run_fn)(const cli_ctx *ctx, int argc, char **argv);

typedef struct {
    const char *name;
    const char *summary; /* one line for `clipctl --help` */
    cli_run_fn run;
} cli_cmd;

/* The subcommands (one file each: cli/cmd_<name>.c), listed in cli/main.c's table. */
int cmd_presign(const cli_ctx *ctx, int argc, char **argv);
int cmd_dev_token(const cli_ctx *ctx, int argc, char **argv);
/* The workflow's calls (cmd_video.c, cmd_clip.c, cmd_stats.c, cmd_upload_urls.c). */
int cmd_video(const cli_ctx *ctx, int argc, char **argv);
int cmd_clip(const cli_ctx *ctx, int argc, char **argv);
int cmd_stats(const cli_ctx *ctx, int argc, char **argv);
int cmd_upload_urls(const cli_ctx *ctx, int argc, char **argv);
/* The migration (cmd_migrate.c, cmd_verify.c; docs/migration.md). */
int cmd_migrate(const cli_ctx *ctx, int argc, char **argv);
int cmd_verify(const cli_ctx *ctx, int argc, char **argv);
/* Live updates (cmd_events_ticket.c). */
int cmd_events_ticket(const cli_ctx *ctx, int argc, char **argv);

/* Prints "clipctl CMD: MESSAGE (see clipctl CMD --help)" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "clipctl CMD: MESSAGE" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Loads the configuration named by ctx (file and CLIPAPI_* environment). */
clip_err cli_load_config(const cli_ctx *ctx, cfg_t **out, char *err, size_t errlen);
/* Parses a whole decimal number in [min, max]; 0 on success. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* Before a command's getopt_long loop: GNU getopt fully re-initialised (optind 0), its own
 * messages off (the command words its usage errors). */
void cli_options_begin(void);
/* The usage error for an option getopt_long refused (c ':' = its value is missing, else an
 * unknown option); returns CLI_EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char *const *argv);
/* What getopt_long's answer c means when the command's own cases did not take it: 'h' prints
 * the usage on stdout and returns CLI_EXIT_OK (the command returns at once), anything else is
 * cli_bad_option's usage error. */
int cli_option_other(const char *cmd, int c, char *const *argv, void (*usage)(FILE *));
/* CLI_EXIT_OK when no argument follows the options, else the usage error naming the first. */
int cli_no_operands(const char *cmd, int argc, char *const *argv);
/* A command of subcommands (clipctl video put|get, clip put|status|list): runs the one argv[1]
 * names from subs (ended by a NULL name); none prints usage on stderr (exit 2), --help or -h on
 * stdout (exit 0), another "unknown subcommand 'X' (names)" (exit 2). */
int cli_run_subcommand(const cli_ctx *ctx, const char *cmd, int argc, char **argv,
                       void (*usage)(FILE *), const cli_cmd *subs, const char *names);
/* Flushes stdout: CLI_EXIT_OK, or CLI_EXIT_FAIL after "clipctl CMD: MESSAGE". */
int cli_flush_stdout(const char *cmd, const char *message);

/* ---- what the workflow commands (video, clip, stats, upload-urls) share ---------------------- */

#define CLI_BODY_MAX (1u << 20) /* a --json body, like the server's request_body_max default */
#define CLI_ARENA_MAX (256u << 20)

typedef struct {
    cfg_t *cfg;
    fs_client *fs; /* NULL unless asked for */
    arena_t arena;
    int http_init;
    events_pub *events; /* with fs: nchan's publisher when events_publish_url is set */
    sig_signer *signer; /* with fs: R2's signer when R2 is configured (thumbnails of events) */
    r2_client *r2;      /* NULL unless opened by cli_open_stores */
} cli_env;

/* Loads the configuration and, when need_fs, makes the Firestore client. CLI_EXIT_OK or the exit
 * code after printing why. */
int cli_open(const cli_ctx *ctx, const char *cmd, int need_fs, cli_env *env);
/* What the migration commands (migrate, verify) need: the configuration, libcurl, the Firestore
 * client and the R2 client (no cursor keys, no events). CLI_EXIT_OK or the exit code after
 * printing why ("firestore is not configured: ...", "R2 is not configured: ..."). */
int cli_open_stores(const cli_ctx *ctx, const char *cmd, cli_env *env);
void cli_close(cli_env *env);

/* The live-update event of a write the command made, as the pool publishes it (core/events):
 * a clip created or updated, a video written. Nothing when events_publish_url is unset. */
void cli_clip_written(cli_env *env, const char *uid, const char *video_id, const clip_rec *c);
void cli_video_written(cli_env *env, const char *uid, const char *video_id, const video_rec *v);

/* The request body of a command: --json FILE ("-" = stdin, or NULL) plus "name=value" /
 * "name:=JSON" arguments, merged by body_from_args. CLI_EXIT_OK, or CLI_EXIT_USAGE after a
 * message naming the field. */
int cli_body(const char *cmd, body_kind kind, const char *json_path, char *const *args, int nargs,
              buf_t *out);

/* A refused body or failed repository call: the message, and the exit code (usage for bad input,
 * failure otherwise). */
int cli_fail_err(const char *cmd, clip_err e, const char *err);

/* Prints a JSON answer: as is (one line) or, with table, as a "FIELD  VALUE" table (nested values
 * compact JSON). CLI_EXIT_OK, or CLI_EXIT_FAIL when stdout fails. */
int cli_print(const char *cmd, const buf_t *json, int table);

/* Prints rows (a JSON array of objects) as a table of the given columns (NULL-terminated). */
int cli_print_rows(const char *cmd, const char *json, size_t len, const char *const *columns);

/* Checks that a positional argument is an id (uid, video_id, clip_id); CLI_EXIT_OK or usage. */
int cli_check_id(const char *cmd, const char *what, const char *s);
/* UID VIDEO_ID [CLIP_ID] (with_clip) from argv[optind], argv[optind + 1], ..., each checked by
 * cli_check_id; CLI_EXIT_OK or usage. Arguments after them are the caller's. */
int cli_positional_ids(const char *cmd, int argc, char *const *argv, int with_clip,
                       const char **uid, const char **vid, const char **clip);
/* UID VIDEO_ID as cli_positional_ids, and nothing after them. */
int cli_video_ids_only(const char *cmd, int argc, char *const *argv, const char **uid,
                       const char **vid);

#endif
