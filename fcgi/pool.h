/* pool: the master: listens, forks workers, respawns with back-off, reloads, stops; never serves. */
#ifndef CLIP_POOL_H
#define CLIP_POOL_H

#include "config.h"

#define POOL_WORKERS_MAX 256
#define POOL_CRASH_LIMIT 10          /* this many worker crashes ... */
#define POOL_CRASH_WINDOW_S 10.0     /* ... within this many seconds: the master gives up */
#define POOL_BACKOFF_MIN_MS 100
#define POOL_BACKOFF_MAX_MS 5000
#define POOL_LISTEN_BACKLOG 1024
#define POOL_CRASH_LOG_PER_WINDOW 5  /* "worker exited" lines per crash window before they are summed */

typedef struct {
    const char *config_path; /* NULL: the default path (may be absent) */
    const char *listen;      /* --listen, overrides the config; NULL: from the config */
    long workers;            /* --workers, overrides the config; 0: from the config */
} pool_opts;

/* The HOST of a listen address HOST:PORT (split at the last ':'; "[v6]" loses its brackets) into
 * host (hostlen bytes, NUL included); *port points into hostport. 0, or -1 without a ':' or when
 * HOST does not fit. The FastCGI test client reads the same form. */
int pool_split_hostport(const char *hostport, char *host, size_t hostlen, const char **port);

/* Runs the pool until SIGTERM/SIGINT; takes ownership of cfg. Returns the exit code. */
int pool_run(const pool_opts *opts, cfg_t *cfg);

#endif
