/* clipapi-fcgi: arguments, configuration and logging, then the pool takes over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "pool.h"

static const char usage[] =
    "usage: clipapi-fcgi [--config FILE] [--listen unix:PATH|HOST:PORT] [--workers N] [--check]\n"
    "  --config FILE   configuration file; without it the file named by $" CFG_PATH_ENV ",\n"
    "                  else " CFG_DEFAULT_PATH " (which may be absent)\n"
    "  --listen ADDR   overrides the listen key; ignored when systemd passes the socket\n"
    "  --workers N     overrides the workers key (1-256)\n"
    "  --check         validate the configuration file and exit: 0 when it is good, 1 naming\n"
    "                  every problem (one a line), or when there is no file at all\n";

int main(int argc, char **argv)
{
    pool_opts o = {NULL, NULL, 0};
    int check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--check") == 0) {
            check = 1;
        } else if ((strcmp(a, "--config") == 0 || strcmp(a, "--listen") == 0 ||
                    strcmp(a, "--workers") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'c') {
                o.config_path = v;
            } else if (a[2] == 'l') {
                if (strncmp(v, "unix:/", 6) != 0 && !strchr(v, ':')) {
                    fprintf(stderr, "clipapi-fcgi: --listen: '%s' is neither unix:PATH nor HOST:PORT\n", v);
                    return 2;
                }
                o.listen = v;
            } else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > POOL_WORKERS_MAX) {
                    fprintf(stderr, "clipapi-fcgi: --workers: '%s' is not a number from 1 to %d\n", v,
                            POOL_WORKERS_MAX);
                    return 2;
                }
                o.workers = n;
            }
        } else {
            fprintf(stderr, "clipapi-fcgi: unknown or incomplete argument '%s'\n%s", a, usage);
            return 2;
        }
    }
    char err[CFG_ERR_MAX];
    cfg_t *cfg = NULL;
    if (cfg_load(o.config_path, &cfg, err, sizeof err) != CLIP_OK) {
        cfg_print_errors(stderr, "clipapi-fcgi: ", err);
        return 1;
    }
    if (check) {
        /* a check of nothing would pass whatever is wrong: with no file found, say so */
        int found = cfg->path != NULL;
        if (found)
            printf("configuration ok: %s\n", cfg->path);
        else
            fprintf(stderr,
                    "clipapi-fcgi: no configuration file: --config not given, $" CFG_PATH_ENV
                    " unset and " CFG_DEFAULT_PATH " does not exist\n");
        cfg_free(cfg);
        return found ? 0 : 1;
    }
    log_init("clipapi-fcgi", cfg->log_level);
    return pool_run(&o, cfg);
}
