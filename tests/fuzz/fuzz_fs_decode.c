/* Fuzzes the Firestore answer decoder: any bytes as a runQuery answer give documents or one error,
 * and every decoded document survives an encode/decode round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firestore.h"
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
    /* the same bytes as a page cursor: refused or decoded, never a crash */
    fs_value *vals;
    size_t nv;
    fs_cursor_decode(&a, "scope", (const char *)data, size, &vals, &nv, err, sizeof err);
    arena_free(&a);
    return 0;
}
