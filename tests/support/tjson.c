/* tjson: dotted paths over json_member. */
#include "tjson.h"

#include <string.h>

#include "json.h"

#define TJ_DEPTH 128
#define TJ_KEY_MAX 256

json_object *tj_parse(const char *text)
{
    static const json_limits lim = {"answer", 0, TJ_DEPTH};
    json_object *j = NULL;
    char err[256];
    if (!text || json_read(text, strlen(text), &lim, &j, err, sizeof err) != CLIP_OK)
        return NULL;
    return j;
}

/* The member at path; *present tells an absent member from a null one. */
static json_object *walk(json_object *o, const char *path, int *present)
{
    *present = 0;
    while (o && path && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char key[TJ_KEY_MAX];
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_member(o, key, present);
        if (!*present)
            return NULL;
        path = dot ? dot + 1 : NULL;
    }
    return o;
}

json_object *tj_get(json_object *o, const char *path)
{
    int present;
    return walk(o, path, &present);
}

const char *tj_str(json_object *o, const char *path)
{
    json_object *v = tj_get(o, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int tj_str_is(json_object *o, const char *path, const char *want)
{
    const char *s = tj_str(o, path);
    return s && want && strcmp(s, want) == 0;
}

long long tj_int(json_object *o, const char *path)
{
    int present;
    json_object *v = walk(o, path, &present);
    return present ? (long long)json_object_get_int64(v) : TJ_ABSENT;
}

double tj_dbl(json_object *o, const char *path)
{
    int present;
    json_object *v = walk(o, path, &present);
    return present ? json_object_get_double(v) : TJ_ABSENT;
}

int tj_null(json_object *o, const char *path)
{
    int present;
    json_object *v = walk(o, path, &present);
    return present && v == NULL;
}

const char *tj_text(json_object *o, const char *path)
{
    return json_object_to_json_string_ext(tj_get(o, path), JSON_C_TO_STRING_PLAIN);
}
