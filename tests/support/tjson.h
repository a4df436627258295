/* tjson: the JSON readers of the tests' assertions: answers parsed by the strict reader, members
 * found by a dotted path ("clip.r2_key"), one behaviour for every test. */
#ifndef CLIP_TEST_TJSON_H
#define CLIP_TEST_TJSON_H

#include <json-c/json.h>

#define TJ_ABSENT (-999) /* what tj_int and tj_dbl give for a member that is not there */

/* text (NUL-terminated, may be NULL) as JSON, by core/json's strict reader: NULL when it is not
 * (an answer that is not strict JSON fails the assertions that read it). Put it when done. */
json_object *tj_parse(const char *text);

/* The member at path ("a", "a.b": a member of a member) of o, or NULL (absent, or JSON null). */
json_object *tj_get(json_object *o, const char *path);

/* The string at path, or NULL when it is absent or not a string. */
const char *tj_str(json_object *o, const char *path);

/* Whether the string at path is want (an absent or non-string member is not). */
int tj_str_is(json_object *o, const char *path, const char *want);

/* The number at path as an integer or a double, or TJ_ABSENT when it is absent. */
long long tj_int(json_object *o, const char *path);
double tj_dbl(json_object *o, const char *path);

/* Whether the member at path is there and JSON null. */
int tj_null(json_object *o, const char *path);

/* The compact JSON of the member at path (json-c's plain form, "null" when absent or null), for
 * comparing arrays and objects whole. Valid until o is put. */
const char *tj_text(json_object *o, const char *path);

#endif
