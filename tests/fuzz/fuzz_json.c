/* Fuzzes core/json, the strict reader: any bytes give a tree or one refusal line; what it takes,
 * json-c's own strict tokener takes too and reads the same way (the reader only refuses more), and
 * a tree written back out reads again to the same text. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"

#define FUZZ_DEPTH 16

static const char *text_of(json_object *j)
{
    return json_object_to_json_string_ext(j,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Every string in the tree (keys too) is UTF-8. */
static void check_utf8(json_object *j)
{
    if (json_object_is_type(j, json_type_string)) {
        if (!codec_utf8_valid(json_object_get_string(j), (size_t)json_object_get_string_len(j)))
            abort();
    } else if (json_object_is_type(j, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(j); i++)
            check_utf8(json_object_array_get_idx(j, i));
    } else if (json_object_is_type(j, json_type_object)) {
        json_object_object_foreach(j, k, v)
        {
            if (!codec_utf8_valid(k, strlen(k)))
                abort();
            check_utf8(v);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    static const json_limits lim = {"doc", 0, FUZZ_DEPTH};
    const char *p = (const char *)data;
    json_object *j = NULL;
    char err[256] = "";
    clip_err e = json_read(p, size, &lim, &j, err, sizeof err);
    if (e != CLIP_OK) {
        if (j || (e != CLIP_EINVAL && e != CLIP_ENOMEM) || !strstr(err, ": ") || strchr(err, '\n'))
            abort();
        return 0;
    }
    check_utf8(j);
    /* json-c's tokener, strict, on the same bytes: it takes the text too, as the same tree */
    json_tokener *tok = json_tokener_new_ex(FUZZ_DEPTH);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *ref = json_tokener_parse_ex(tok, p, (int)size);
    if (json_tokener_get_error(tok) == json_tokener_continue)
        ref = json_tokener_parse_ex(tok, " ", 1);
    if (json_tokener_get_error(tok) != json_tokener_success)
        abort();
    json_tokener_free(tok);
    char *mine = strdup(text_of(j));
    if (!mine || strcmp(mine, text_of(ref)) != 0)
        abort();
    /* written out, it reads again to the same text */
    json_object *again = NULL;
    if (json_read(mine, strlen(mine), &lim, &again, err, sizeof err) != CLIP_OK ||
        strcmp(text_of(again), mine) != 0)
        abort();
    free(mine);
    json_object_put(again);
    json_object_put(ref);
    json_object_put(j);
    return 0;
}
