/* firestore: the Firestore REST v1 client (get, commit, batchGet, runQuery, runAggregationQuery,
 * list) mapping google.rpc.Status to clip_err. */
#ifndef CLIP_FIRESTORE_H
#define CLIP_FIRESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "err.h"
#include "fs_value.h"
#include "gauth.h"
#include "http.h"

/* Caps on what one call sends and reads (Firestore's own: 500 writes per commit, 100 doc reads
 * per batchGet is the client libraries' chunk). */
#define FS_COMMIT_WRITES_MAX 500
#define FS_BATCH_GET_MAX 100
#define FS_RESPONSE_MAX (32u * 1024 * 1024)
#define FS_PATH_MAX 1024
#define FS_QUERY_LIMIT_MAX 10000
#define FS_PROD_BASE "https://firestore.googleapis.com/v1/"

typedef struct fs_client fs_client;

/* Builds a client from the configuration: firestore_project (required), firestore_database,
 * firestore_emulator_host (plain http, "Bearer owner"), firestore_timeout_ms, and the
 * credentials gauth finds. Call after http_global_init() in the process that uses it. */
clip_err fs_client_new(const cfg_t *cfg, fs_client **out, char *err, size_t errlen);
void fs_client_free(fs_client *c);
/* "projects/P/databases/D/documents", the prefix of every document name. */
const char *fs_client_root(const fs_client *c);
/* When v is a reference to a document of parent's collection (the full name
 * ".../documents/<parent>/<collection>/<id>"): the id, *idlen its length; else NULL. For checking
 * what a cursor carries before it reaches Firestore. */
const char *fs_ref_child_id(const fs_client *c, const fs_value *v, const char *parent,
                            const char *collection, size_t *idlen);
/* Overrides the deadline of each call (ms; tests shorten it). */
void fs_client_set_timeout(fs_client *c, long timeout_ms);

/* ---- reads ---------------------------------------------------------------------------------- */

/* One document by relative path ("users/u1/videos/v1"); CLIP_ENOTFOUND when missing. */
clip_err fs_get(fs_client *c, arena_t *a, const char *path, fs_doc *out, char *err, size_t errlen);

/* Several documents in one round trip; found[i] is 0 for a missing one (docs[i] then empty).
 * docs and found are caller arrays of n entries (n <= FS_BATCH_GET_MAX). */
clip_err fs_batch_get(fs_client *c, arena_t *a, const char *const *paths, size_t n, fs_doc *docs,
                      int *found, char *err, size_t errlen);

/* One document as it was at `at` (batchGet with readTime): given a commit's update time, exactly
 * the state that write left, whatever other writers did since. CLIP_ENOTFOUND when it did not
 * exist then. */
clip_err fs_get_at(fs_client *c, arena_t *a, const char *path, fs_time at, fs_doc *out, char *err,
                   size_t errlen);

/* ---- writes --------------------------------------------------------------------------------- */

typedef enum {
    FS_PRECOND_NONE = 0,
    FS_PRECOND_EXISTS,      /* currentDocument.exists = true */
    FS_PRECOND_MISSING,     /* currentDocument.exists = false */
    FS_PRECOND_UPDATE_TIME, /* currentDocument.updateTime = update_time */
} fs_precond;

typedef enum {
    FS_TRANSFORM_REQUEST_TIME = 0, /* setToServerValue: REQUEST_TIME */
    FS_TRANSFORM_INCREMENT,        /* not idempotent: the commit is retried only when unapplied */
    FS_TRANSFORM_MAXIMUM,
    FS_TRANSFORM_MINIMUM,
    FS_TRANSFORM_APPEND_MISSING, /* value: an FS_ARRAY */
    FS_TRANSFORM_REMOVE_ALL,     /* value: an FS_ARRAY */
} fs_transform_kind;

typedef struct {
    const char *field_path; /* an encoded field path (see fs_field_path_segment) */
    fs_transform_kind kind;
    fs_value value; /* unused for REQUEST_TIME */
} fs_transform;

typedef struct {
    int is_delete;           /* 1: delete path; fields/mask/transforms unused */
    const char *path;        /* relative document path */
    const fs_value *fields;  /* FS_MAP, or NULL for a transform-only write */
    const char *const *mask; /* updateMask field paths (encoded) when use_mask */
    size_t nmask;
    int use_mask; /* 0: replace the whole document; 1: only the mask's fields */
    const fs_transform *transforms;
    size_t ntransforms;
    fs_precond precond;
    fs_time update_time; /* for FS_PRECOND_UPDATE_TIME */
} fs_write;

typedef struct {
    fs_time commit_time;
    size_t nresults;
    fs_time *update_times;       /* per write (arena); zero for a delete */
    fs_value *transform_results; /* per write: FS_ARRAY of the transform results (arena) */
} fs_commit_result;

/* Applies the writes atomically. A commit whose writes are all idempotent (set, merge, delete,
 * server time, max/min, array union/removal) is retried like a read; one with an increment or an
 * exists=false/updateTime precondition only when the server certainly did not apply it.
 * res may be NULL. ALREADY_EXISTS / FAILED_PRECONDITION -> CLIP_ECONFLICT, NOT_FOUND ->
 * CLIP_ENOTFOUND. */
clip_err fs_commit(fs_client *c, arena_t *a, const fs_write *writes, size_t n,
                   fs_commit_result *res, char *err, size_t errlen);

/* ---- queries -------------------------------------------------------------------------------- */

typedef enum {
    FS_OP_EQUAL = 0,
    FS_OP_NOT_EQUAL,
    FS_OP_LESS_THAN,
    FS_OP_LESS_THAN_OR_EQUAL,
    FS_OP_GREATER_THAN,
    FS_OP_GREATER_THAN_OR_EQUAL,
    FS_OP_ARRAY_CONTAINS,
    FS_OP_IN,
    FS_OP_ARRAY_CONTAINS_ANY,
    FS_OP_NOT_IN,
} fs_op;

typedef struct {
    const char *field; /* encoded field path */
    fs_op op;
    fs_value value;
} fs_filter;

typedef struct {
    const char *field; /* encoded field path; "__name__" for the document name */
    int descending;
} fs_order;

typedef struct {
    const char *collection;   /* collection id under the parent */
    int all_descendants;      /* collection group query */
    const fs_filter *filters; /* ANDed */
    size_t nfilters;
    const fs_order *order;
    size_t norder;
    const fs_value *start_values; /* cursor: one value per order entry (or a prefix) */
    size_t nstart;
    int start_before;          /* 1: startAt (inclusive); 0: start after the values */
    const char *const *select; /* projection field paths, NULL = whole documents */
    size_t nselect;
    long limit; /* 0 = none */
    long offset;
} fs_query;

/* Runs a structured query under parent (relative document path, "" for the root); *docs gets an
 * arena array of *n documents in query order. */
clip_err fs_run_query(fs_client *c, arena_t *a, const char *parent, const fs_query *q,
                      fs_doc **docs, size_t *n, char *err, size_t errlen);

/* fs_get of path and fs_run_query of q under parent (typically the same document) in one round
 * trip: both requests go out together. CLIP_OK with *found 1 and the query's documents, or with
 * *found 0 (and no documents) when the document does not exist; otherwise the error of the get
 * (*found 0), else of the query (*found 1: the document was read, *doc holds it). The document
 * comes from a, the query's documents from qa (which may be a: a caller that copies what it keeps
 * out of them can free them sooner). */
clip_err fs_get_and_run_query(fs_client *c, arena_t *a, const char *path, fs_doc *doc, int *found,
                              const char *parent, const fs_query *q, arena_t *qa, fs_doc **docs,
                              size_t *n, char *err, size_t errlen);

/* A document GET made ready to go out with other backends' requests in one http_do_many (the
 * readiness probe sends Firestore's and R2's together): fs_prepare_get fills *req, which borrows
 * from *p, within deadline_ms (the access token included; one attempt round, no token refresh on
 * a 401); after the call, fs_prepared_result gives what fs_get would have returned (CLIP_OK for a
 * document, CLIP_ENOTFOUND...) and frees p and resp. On a failure of fs_prepare_get nothing is
 * left to free. */
typedef struct {
    buf_t url;
    char auth[GAUTH_HEADER_MAX];
    const char *headers[2];
} fs_prepared;
clip_err fs_prepare_get(fs_client *c, const char *path, long deadline_ms, fs_prepared *p,
                        http_req *req, char *err, size_t errlen);
clip_err fs_prepared_result(fs_prepared *p, clip_err rc, http_resp *resp, char *err,
                            size_t errlen);

/* Decodes a raw runQuery answer body (the JSON array) as fs_run_query does (fs_qdecode, then
 * the tree decoder for what it does not take); for benches and the fuzz target. */
clip_err fs_decode_query_response(arena_t *a, const char *body, size_t len, fs_doc **docs,
                                  size_t *n, char *err, size_t errlen);
/* The tree decoder alone (the strict reader, core/json, into json-c objects, then the Value
 * codec): the reference fs_qdecode is tested against. */
clip_err fs_decode_query_response_jsonc(arena_t *a, const char *body, size_t len, fs_doc **docs,
                                        size_t *n, char *err, size_t errlen);

typedef enum { FS_AGG_COUNT = 0, FS_AGG_SUM, FS_AGG_AVG } fs_agg_kind;

typedef struct {
    fs_agg_kind kind;
    const char *field; /* for SUM and AVG */
    fs_value
        result; /* out: integerValue for COUNT, integer or double for SUM, double or null for AVG */
} fs_aggregation;

/* Runs up to 5 aggregations over q (its order/cursor/limit apply as Firestore defines). */
clip_err fs_run_aggregation(fs_client *c, arena_t *a, const char *parent, const fs_query *q,
                            fs_aggregation *aggs, size_t naggs, char *err, size_t errlen);

/* One page of a collection by listDocuments: page_token NULL/"" for the first; *next_token
 * gets the token of the next page or NULL at the end. order_by: e.g. "priority,__name__" or NULL.
 */
clip_err fs_list(fs_client *c, arena_t *a, const char *collection_path, long page_size,
                 const char *order_by, const char *page_token, fs_doc **docs, size_t *n,
                 const char **next_token, char *err, size_t errlen);

/* ---- errors and cursors --------------------------------------------------------------------- */

/* Maps an HTTP answer of Firestore (status + body holding a google.rpc.Status, alone or as the
 * first element of an array) to clip_err and a message naming the Firestore status. */
clip_err fs_error_from_response(long http_status, const char *body, size_t len, char *err,
                                size_t errlen);

/* The clip_err for a google.rpc.Status code name ("NOT_FOUND"...); message distinguishes a
 * missing index (a FAILED_PRECONDITION that is our deployment's fault, not a conflict). */
clip_err fs_error_from_status(const char *status, const char *message);

/* Opaque page cursors: base64url(JSON array of Values) "." base64url(HMAC-SHA256 truncated to
 * 16 bytes over scope + payload). scope binds the cursor to one listing (user, video, filters),
 * so a cursor edited or moved to another listing is refused with CLIP_EINVAL. The key is a
 * secret (fs_cursor_keys), so nobody else can make a cursor; listings still check every value a
 * cursor carries before it reaches Firestore. */
#define FS_CURSOR_MAX 2048
#define FS_CURSOR_KEYS_MAX 2  /* the new key and the old one during a rotation */
#define FS_CURSOR_KEY_MIN 32  /* bytes of a cursor_key_file line */
#define FS_CURSOR_DERIVE_LABEL "clipapi-cursor-key-v1"
int fs_cursor_encode(buf_t *out, const char *scope, const fs_value *values, size_t n);
clip_err fs_cursor_decode(arena_t *a, const char *scope, const char *cursor, size_t len,
                          fs_value **values, size_t *n, char *err, size_t errlen);
/* The process's cursor keys (call before threads serve): cursor_key_file (the first line signs,
 * both verify), else derived from r2_secret_access_key (the same on every VM), else the random
 * key fs_cursor_seed made. *source says which, for the start-up log. */
clip_err fs_cursor_keys(const cfg_t *cfg, const char **source, char *err, size_t errlen);
/* Makes the random fallback key; the pool's master calls it before forking, so that every worker
 * signs with the same one. 0 ok, -1 when the system has no randomness to give. */
int fs_cursor_seed(void);
/* One fixed key (tests). */
void fs_cursor_set_key(const void *key, size_t len);

#endif
