/* wcli: what clipctl's workflow commands share: configuration and Firestore client, the body from
 * --json and field arguments, output as JSON or a table. */
#ifndef CLIP_WCLI_H
#define CLIP_WCLI_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "firestore.h"
#include "wbody.h"

#define WCLI_BODY_MAX (1u << 20) /* a --json body, like the server's request_body_max default */
#define WCLI_ARENA_MAX (256u << 20)

typedef struct {
    cfg_t *cfg;
    fs_client *fs; /* NULL unless asked for */
    arena_t arena;
    int http_init;
} wcli_env;

/* Loads the configuration and, when need_fs, makes the Firestore client. CLI_EXIT_OK or the exit
 * code after printing why. */
int wcli_open(const cli_ctx *ctx, const char *cmd, int need_fs, wcli_env *env);
void wcli_close(wcli_env *env);

/* The request body of a command: --json FILE ("-" = stdin, or NULL) plus "name=value" /
 * "name:=JSON" arguments, merged by wbody_from_args. CLI_EXIT_OK, or CLI_EXIT_USAGE after a
 * message naming the field. */
int wcli_body(const char *cmd, wbody_kind kind, const char *json_path, char *const *args, int nargs,
              buf_t *out);

/* A refused body or failed repository call: the message, and the exit code (usage for bad input,
 * failure otherwise). */
int wcli_fail(const char *cmd, clip_err e, const char *err);

/* Prints a JSON answer: as is (one line) or, with table, as a "FIELD  VALUE" table (nested values
 * compact JSON). CLI_EXIT_OK, or CLI_EXIT_FAIL when stdout fails. */
int wcli_print(const char *cmd, const buf_t *json, int table);

/* Prints rows (a JSON array of objects) as a table of the given columns (NULL-terminated). */
int wcli_print_rows(const char *cmd, const char *json, size_t len, const char *const *columns);

/* Checks that a positional argument is an id (uid, video_id, clip_id); CLI_EXIT_OK or usage. */
int wcli_id(const char *cmd, const char *what, const char *s);

#endif
