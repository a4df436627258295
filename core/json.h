/* json: the one strict JSON reader (RFC 8259) every module that reads JSON uses, into json-c
 * trees, and the typed getters that say which member is wrong and why. */
#ifndef CLIP_JSON_H
#define CLIP_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"

#define JSON_NAME_SHOWN 64 /* bytes of a member name quoted back in a message */

/* What a document may be. */
typedef struct {
    const char *name; /* what messages call the document: "body", "firestore", ... */
    size_t max_bytes; /* a longer text is CLIP_ETOOBIG; 0: no limit */
    int max_depth;    /* a value inside this many arrays and objects is refused (json-c's count) */
} json_limits;

/* Parses p[0..n) (not trusted to hold a NUL) as exactly one JSON text, white space around it
 * allowed, into *out (the caller's: json_object_put; NULL for the text `null`). Numbers become
 * what json-c makes of them (int64, uint64 above INT64_MAX, saturated beyond; doubles keep their
 * text). Refusals are CLIP_EINVAL, each message naming where:
 *   NAME: not valid JSON (unexpected byte at offset 1)       a byte JSON never has there: outside
 *                                                            strings anything but the structure,
 *                                                            numbers and true/false/null (so NaN,
 *                                                            Infinity, 'quotes'); inside, controls
 *   NAME: not valid JSON (unexpected character at offset 8)  the grammar (text after the value,
 *                                                            a trailing comma, a missing colon)
 *   NAME: not valid JSON (number expected at offset N)       01, 1., -, 1e
 *   NAME: not valid JSON (invalid string sequence at offset N)  a bad escape
 *   NAME: not valid JSON (it ends too early)
 *   NAME: nested deeper than D levels
 *   PATH: not valid UTF-8 (at offset N)                      raw bytes that are not UTF-8 (RFC
 *                                                            3629: no overlongs, surrogates or
 *                                                            code points past U+10FFFF)
 *   PATH: not valid UTF-8 (unpaired surrogate escape at offset N)  "\ud800", "\udc00\ud800"
 *   PATH: given twice                                        a duplicate key
 * PATH is the member ("video_title", "highlights[0].title", "NAME[2]" in a top-level array), or
 * NAME where no member can be told (a key, the top-level value). A text over max_bytes is
 * CLIP_ETOOBIG "NAME: larger than N bytes"; CLIP_ENOMEM "out of memory". */
clip_err json_read(const char *p, size_t n, const json_limits *lim, json_object **out, char *err,
                   size_t errlen);

/* json_read of a text that must be an object: anything else is "NAME: must be a JSON object". */
clip_err json_read_object(const char *p, size_t n, const json_limits *lim, json_object **out,
                          char *err, size_t errlen);

/* ---- reading members ------------------------------------------------------------------------ */

/* Member name of object o: the value (NULL for JSON null), or NULL when absent or o is not an
 * object. *present (may be NULL) tells the two NULLs apart. */
json_object *json_member(json_object *o, const char *name, int *present);

/* The string member name of o (borrowed, NUL-terminated, *len its length), or NULL when absent
 * or not a string. */
const char *json_member_str(json_object *o, const char *name, size_t *len);

/* Typed getters for validating input field by field. Each takes the member's value v (NULL for
 * JSON null) and its name for the message ("video_title", "highlights[0].title") and on a wrong
 * value fails with CLIP_EINVAL and a message that starts with the name:
 *   "video_title: must be a string" ("... a string or null" when nullable), "...: longer than N
 *   bytes", "...: must not contain a NUL character", "...: must be a whole number from A to B",
 *   "...: must be a number from A to B", "...: must be true or false",
 *   "...: must be an array of strings", "...: more than N items". */
typedef struct {
    arena_t *a; /* strings are copied here */
    char *err;  /* the refusal's message */
    size_t errlen;
} json_ctx;

#define JSON_NULLABLE 1 /* json_get_str: JSON null is allowed and gives NULL */

clip_err json_get_str(const json_ctx *c, const char *name, json_object *v, size_t max, int flags,
                      const char **out);
/* A whole number in [min, max] (json-c saturates huge integers, which then fail the range). */
clip_err json_get_int(const json_ctx *c, const char *name, json_object *v, int64_t min, int64_t max,
                      int64_t *out);
/* A number, whole or not, finite, in [min, max]. */
clip_err json_get_num(const json_ctx *c, const char *name, json_object *v, double min, double max,
                      double *out);
clip_err json_get_bool(const json_ctx *c, const char *name, json_object *v, int *out);
/* An array of at most max_items strings of at most max bytes each (items named "name[i]"); when
 * valid is given, an item it refuses fails with "name[i]: " + what. */
clip_err json_get_str_list(const json_ctx *c, const char *name, json_object *v, size_t max_items,
                           size_t max, int (*valid)(const char *s, size_t n), const char *what,
                           const char *const **out, size_t *n);

/* "name: what" as a CLIP_EINVAL refusal. */
clip_err json_refuse(const json_ctx *c, const char *name, const char *what);

/* The name of member key of prefix ("highlights[0]" + "title" = "highlights[0].title"; no prefix:
 * the key alone), fit for a message: printable ASCII, at most JSON_NAME_SHOWN bytes of the key. */
void json_field_name(char *out, size_t outlen, const char *prefix, const char *key);

#endif
