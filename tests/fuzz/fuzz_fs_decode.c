/* Fuzzes the Firestore answer decoder: any bytes as a runQuery answer give documents or one error,
 * every decoded document survives an encode/decode round trip unchanged, and what the fast decoder
 * (fs_qdecode) takes the tree decoder (json-c) takes too, as the same documents. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firestore.h"
#include "fs_qdecode.h"
#include "fs_value.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    arena_t a;
    arena_init(&a, 64u << 20);
    fs_doc *docs = NULL;
    size_t n = 0;
    char err[256];
    clip_err e = fs_decode_query_response(&a, (const char *)data, size, &docs, &n, err, sizeof err);
    if (e != CLIP_OK && (docs || n))
        abort();
    for (size_t i = 0; e == CLIP_OK && i < n; i++) {
        buf_t b = BUF_INIT;
        if (fs_fields_encode(&b, &docs[i].fields) != 0)
            abort();
        static const json_limits lim = {"fields", 0, 128};
        json_object *j = NULL;
        fs_value back;
        if (json_read(b.p, b.len, &lim, &j, err, sizeof err) != CLIP_OK ||
            fs_fields_decode(&a, j, &back, err, sizeof err) != CLIP_OK)
            abort();
        if (!fs_value_equal(&back, &docs[i].fields))
            abort();
        json_object_put(j);
        buf_free(&b);
    }
    /* the fast decoder takes only what the tree decoder takes, and reads it the same */
    fs_doc *fd = NULL, *jd = NULL;
    size_t fn = 0, jn = 0;
    if (fs_qdecode(&a, (const char *)data, size, &fd, &fn) == 0) {
        if (fs_decode_query_response_jsonc(&a, (const char *)data, size, &jd, &jn, err,
                                           sizeof err) != CLIP_OK ||
            fn != jn)
            abort();
        for (size_t i = 0; i < fn; i++)
            if (strcmp(fd[i].name, jd[i].name) != 0 ||
                fd[i].update_time.seconds != jd[i].update_time.seconds ||
                fd[i].update_time.nanos != jd[i].update_time.nanos ||
                !fs_value_equal(&fd[i].fields, &jd[i].fields))
                abort();
    }
    /* the same bytes as a page cursor: refused or decoded, never a crash */
    fs_value *vals;
    size_t nv;
    fs_cursor_decode(&a, "scope", (const char *)data, size, &vals, &nv, err, sizeof err);
    arena_free(&a);
    return 0;
}
