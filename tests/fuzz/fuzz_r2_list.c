/* Fuzzes the ListObjectsV2 XML parser: any bytes give a page within the limits or one error line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "r2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    r2_list l;
    char err[512] = "";
    clip_err rc = r2_parse_list((const char *)data, size, &l, err, sizeof err);
    if (rc == CLIP_OK) {
        if (l.nobjects > R2_LIST_MAX_KEYS || l.nprefixes > R2_LIST_MAX_KEYS)
            abort();
        for (size_t i = 0; i < l.nobjects; i++)
            if (!l.objects[i].key || l.objects[i].key_len > R2_TEXT_MAX ||
                strlen(l.objects[i].key) > l.objects[i].key_len || l.objects[i].size < 0)
                abort();
    } else if (strchr(err, '\n') || err[0] == '\0') {
        abort(); /* an error is one line */
    }
    r2_list_free(&l);
    return 0;
}
