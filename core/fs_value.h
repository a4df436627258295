/* fs_value: Firestore Values, Documents and field paths in C, and their REST JSON encoding (the
 * codec). */
#ifndef CLIP_FS_VALUE_H
#define CLIP_FS_VALUE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "err.h"

/* Firestore allows maps nested 20 deep; deeper input is refused before it can exhaust the stack. */
#define FS_VALUE_DEPTH_MAX 20
/* RFC 3339 text of a timestamp with 9 fractional digits: "2026-11-24T10:00:00.123456789Z". */
#define FS_TIME_TEXT_MAX 40

typedef enum {
    FS_NULL = 0,
    FS_BOOL,
    FS_INT,       /* integerValue, a decimal string on the wire (int64) */
    FS_DOUBLE,    /* doubleValue; NaN and the infinities travel as "NaN", "Infinity", "-Infinity" */
    FS_TIMESTAMP, /* timestampValue */
    FS_STRING,
    FS_BYTES, /* bytesValue, base64 on the wire, raw bytes here */
    FS_REF,   /* referenceValue: a full document name */
    FS_GEO,   /* geoPointValue */
    FS_ARRAY,
    FS_MAP,
} fs_type;

/* A point in time as Firestore keeps it: seconds since the epoch plus 0..999999999 ns. */
typedef struct {
    int64_t seconds;
    int32_t nanos;
} fs_time;

typedef struct fs_value fs_value;
typedef struct fs_field fs_field;

struct fs_value {
    fs_type type;
    union {
        int b;
        int64_t i;
        double d;
        fs_time ts;
        struct {
            const char *p; /* NUL-terminated too, but may hold NULs: trust n */
            size_t n;
        } s; /* FS_STRING, FS_BYTES, FS_REF */
        struct {
            double lat, lng;
        } geo;
        struct {
            fs_value *items;
            size_t n, cap;
        } arr;
        struct {
            fs_field *fields;
            size_t n, cap;
        } map;
    } u;
};

struct fs_field {
    const char *key;
    size_t key_len;
    fs_value value;
};

/* One document as read. Memory belongs to the arena it was decoded into. */
typedef struct {
    const char *name; /* full name: projects/P/databases/D/documents/... */
    const char *id;   /* last segment of name */
    fs_value fields;  /* FS_MAP */
    fs_time create_time, update_time;
} fs_doc;

/* Constructors (no allocation; strings are borrowed). */
fs_value fs_null(void);
fs_value fs_bool(int b);
fs_value fs_int(int64_t i);
fs_value fs_double(double d);
fs_value fs_timestamp(fs_time t);
fs_value fs_str(const char *s); /* NULL gives fs_null() */
fs_value fs_strn(const char *s, size_t n);
fs_value fs_bytes(const void *p, size_t n);
fs_value fs_ref(const char *name);
fs_value fs_geo(double lat, double lng);
fs_value fs_array(void); /* empty; grow with fs_array_push */
fs_value fs_map(void);   /* empty; grow with fs_map_put */

/* Appends to an array / sets a map key (replacing an existing key), growing in the arena. 0 ok, -1
 * oom. */
int fs_array_push(arena_t *a, fs_value *arr, fs_value v);
int fs_map_put(arena_t *a, fs_value *map, const char *key, fs_value v);
int fs_map_putn(arena_t *a, fs_value *map, const char *key, size_t key_len, fs_value v);

/* Looks a key up in a map (NULL when absent or map is not a map). */
const fs_value *fs_map_get(const fs_value *map, const char *key);
/* Typed getters on a map key: 0 when present with that type (*out set), -1 otherwise.
 * fs_get_str gives NULL for a null value and returns 0. fs_get_double accepts integers too. */
int fs_get_str(const fs_value *map, const char *key, const char **out);
/* The string member key, or dflt when it is missing, null or not a string. */
const char *fs_get_str_or(const fs_value *map, const char *key, const char *dflt);
int fs_get_int(const fs_value *map, const char *key, int64_t *out);
int fs_get_double(const fs_value *map, const char *key, double *out);
int fs_get_bool(const fs_value *map, const char *key, int *out);
int fs_get_time(const fs_value *map, const char *key, fs_time *out);

/* Deep equality (doubles compare by bit pattern for NaN, so NaN equals NaN; -0.0 == 0.0 as IEEE).
 */
int fs_value_equal(const fs_value *a, const fs_value *b);

/* JSON -> C. v is a Firestore Value object ({"stringValue": ...}); strings are copied into a. */
clip_err fs_value_decode(arena_t *a, json_object *v, fs_value *out, char *err, size_t errlen);
/* A Document object ({"name":..., "fields":{...}, "createTime":..., "updateTime":...}). */
clip_err fs_doc_decode(arena_t *a, json_object *doc, fs_doc *out, char *err, size_t errlen);
/* A "fields" object ({"k": Value, ...}) into a map value. */
clip_err fs_fields_decode(arena_t *a, json_object *fields, fs_value *out, char *err, size_t errlen);

/* C -> JSON text, appended to b. 0 ok, -1 when b ran out of memory or v is malformed. */
int fs_value_encode(buf_t *b, const fs_value *v);
/* The members of a map as a "fields" object: {"k":Value,...}. */
int fs_fields_encode(buf_t *b, const fs_value *map);

/* RFC 3339 <-> fs_time. Parsing accepts 0-9 fractional digits and Z or a +hh:mm offset;
 * formatting writes Z and 0, 3, 6 or 9 fractional digits (the fewest that keep every ns). */
int fs_time_parse(const char *s, size_t n, fs_time *out);
/* The timestamp member key of a JSON object (a document's createTime, a commit's commitTime):
 * absent is the zero time and 0, a timestamp string 0, anything else -1. */
int fs_time_member(json_object *o, const char *key, fs_time *out);
int fs_time_format(fs_time t, char out[FS_TIME_TEXT_MAX]);
/* Seconds formatting with no fraction ("2026-11-23T10:00:00Z"), for API output. */
int fs_time_format_seconds(fs_time t, char out[FS_TIME_TEXT_MAX]);

/* Appends one field-path segment, in backquotes when it is not a simple name
 * ([A-Za-z_][A-Za-z0-9_]*), with ` and \ escaped by a backslash. 0 ok, -1 oom. */
int fs_field_path_segment(buf_t *b, const char *seg, size_t n);

#endif
