/* Fuzzes the config file parser: any bytes as a config file must give a config, or no config and
 * error lines (one a problem, none empty). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/clipapi-fuzz-config.%ld", (long)getpid());
    if (size > 65536)
        return 0;
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    cfg_t *c = NULL;
    char err[CFG_ERR_MAX];
    clip_err rc = cfg_load(path, &c, err, sizeof err);
    if (rc == CLIP_OK) {
        if (!c || c->workers < 1 || c->presign_expires < 1)
            abort();
        cfg_free(c);
    } else {
        if (c || !err[0] || err[0] == '\n' || err[strlen(err) - 1] == '\n' || strstr(err, "\n\n"))
            abort(); /* an error leaves no config and is non-empty lines */
    }
    return 0;
}
