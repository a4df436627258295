/* config: the config file, CLIPAPI_* environment and credential files merged into one immutable struct. */
#ifndef CLIP_CONFIG_H
#define CLIP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define CFG_DEFAULT_PATH "/etc/clipapi/clipapi.conf"
/* Names the file to read when no path is given (before CFG_DEFAULT_PATH); unlike the default,
 * a file it names must exist. */
#define CFG_PATH_ENV "CLIPAPI_CONFIG"
/* How the help texts name where the file comes from when --config is not given. */
#define CFG_PATH_HELP "$" CFG_PATH_ENV ", else " CFG_DEFAULT_PATH
#define CFG_LINE_MAX 4096
#define CFG_SECRET_MAX 65536
/* Room for the errors of one cfg_load: every problem is reported, one line each. */
#define CFG_ERR_MAX 4096

typedef enum { CFG_SOURCE_FIRESTORE = 0, CFG_SOURCE_FIRESTORE_R2, CFG_SOURCE_R2 } cfg_source;
typedef enum { CFG_LOG_DEBUG = 0, CFG_LOG_INFO, CFG_LOG_WARN, CFG_LOG_ERROR } cfg_log_level;

typedef struct {
    char *path; /* the file read, or NULL */

    char *listen;
    long workers;
    long threads; /* requests in flight per worker process */
    long max_requests;
    long request_body_max;
    long shutdown_timeout; /* seconds */

    char *firestore_project;
    char *firestore_database;
    char *firestore_emulator_host;
    char *google_credentials_file;
    long firestore_timeout_ms;

    /* the circuit breaker of each backend (core/breaker) */
    long breaker_failures;    /* down-kind failures in a row that open it; 0 = never */
    long breaker_cooldown_ms; /* how long it stays open before one probe may go */

    char *auth_project;
    char *auth_keys_url;
    char *auth_emulator_host;

    char *r2_endpoint;
    char *r2_bucket;
    char *r2_region;
    char *r2_addressing; /* "path" or "virtual" */
    char *r2_access_key_id;
    char *r2_secret_access_key;
    char *r2_session_token;
    long presign_expires;

    char *internal_keys_file;
    char *cursor_key_file; /* the secret of the page cursors (two lines during a rotation) */

    /* live updates (nchan): none of these set = no events published, no tickets issued */
    char *events_publish_url;     /* unix:PATH or http://LOOPBACK[:PORT][/PREFIX] */
    long events_publish_timeout_ms;
    char *events_ticket_key_file; /* one key a line; two during a rotation */
    long events_ticket_expires;   /* seconds a ticket is good for a connect */
    long events_buffer_length;    /* = nchan_message_buffer_length of the publisher location */
    long events_buffer_seconds;   /* = nchan_message_timeout of the publisher location */

    cfg_source metadata_source;
    cfg_log_level log_level;
} cfg_t;

/* Loads path (NULL: the file named by $CLIPAPI_CONFIG, else CFG_DEFAULT_PATH, which may be
 * absent), then the environment.
 * On error *out is NULL and err holds every problem found, one line each ("key: problem
 * (where the value came from)"), separated by '\n' (give it CFG_ERR_MAX bytes; what does not
 * fit is counted in a last line). */
clip_err cfg_load(const char *path, cfg_t **out, char *err, size_t errlen);

/* Writes the lines of a cfg_load error to f, each after prefix. */
void cfg_print_errors(FILE *f, const char *prefix, const char *err);

/* Fails (naming the key and where to set it) when a key a command needs is unset. */
clip_err cfg_require(const cfg_t *c, const char *key, char *err, size_t errlen);

/* The value of a string key by name (NULL when unset or unknown); for tests and diagnostics. */
const char *cfg_get(const cfg_t *c, const char *key);

const char *cfg_source_name(cfg_source s);
void cfg_free(cfg_t *c);

#endif
