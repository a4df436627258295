/* r2: the S3 calls the service makes on its R2 bucket (list, get, head), signed, over core/http. */
#ifndef CLIP_R2_H
#define CLIP_R2_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "sigv4.h"

#define R2_LIST_MAX_KEYS 1000          /* S3's own page limit */
#define R2_LIST_XML_MAX (4u << 20)     /* a ListObjectsV2 answer larger than this is refused */
#define R2_GET_MAX_DEFAULT (16u << 20) /* GetObject body cap when the caller gives 0 */
#define R2_TEXT_MAX 4096u              /* one XML text field (keys are at most 1024 bytes) */
#define R2_TIMEOUT_MS 10000L           /* deadline of one call, retries included */
#define R2_ERROR_BODY_MAX (64u << 10)  /* an error answer's body kept for its <Code> */

typedef struct r2_client r2_client;

/* The signer settings from the configuration: requires r2_endpoint, r2_bucket, r2_access_key_id,
 * r2_secret_access_key (naming the first missing key); the pointers borrow from c. */
clip_err r2_sig_config(const cfg_t *c, sig_config *out, char *err, size_t errlen);
/* A signer made from the configuration (for presigning); free with sig_signer_free. */
clip_err r2_signer_from_cfg(const cfg_t *c, sig_signer **out, char *err, size_t errlen);

/* A client on the configured bucket; no network until a call. */
clip_err r2_client_new(const cfg_t *c, r2_client **out, char *err, size_t errlen);
void r2_client_free(r2_client *r);
/* The client's signer, for presigning with the same settings (borrowed). */
sig_signer *r2_client_signer(r2_client *r);
/* Overrides the per-call deadline (ms, > 0). */
void r2_client_set_timeout(r2_client *r, long deadline_ms);

typedef struct {
    char *key; /* NUL-terminated; key_len bytes */
    size_t key_len;
    long long size;
    char *etag;          /* as sent, quotes included */
    char *last_modified; /* ISO 8601 as sent */
} r2_object;

/* One page of ListObjectsV2. */
typedef struct {
    r2_object *objects;
    size_t nobjects;
    char **prefixes; /* CommonPrefixes (with a delimiter) */
    size_t nprefixes;
    int truncated;
    char *next_token; /* NextContinuationToken, NULL on the last page */
} r2_list;

/* Lists one page: prefix, delimiter and token may be NULL; max_keys 1..R2_LIST_MAX_KEYS (0: 1000).
 * out must be freed with r2_list_free, also after an error. */
clip_err r2_list_objects(r2_client *r, const char *prefix, const char *delimiter,
                         const char *continuation_token, int max_keys, r2_list *out, char *err,
                         size_t errlen);
void r2_list_free(r2_list *l);

typedef struct {
    long long size; /* Content-Length */
    char content_type[256];
    char etag[256];
    char last_modified[64]; /* the Last-Modified header as sent */
} r2_head;

/* HeadObject: CLIP_ENOTFOUND when there is no such key. */
clip_err r2_head_object(r2_client *r, const char *key, size_t key_len, r2_head *out, char *err,
                        size_t errlen);
/* A HeadObject made ready to go out with other backends' requests in one http_do_many (the
 * readiness probe): r2_prepare_head signs it and fills *req (which borrows from *p) with its own
 * deadline; after the call, r2_prepared_result gives what r2_head_object's status would be
 * (CLIP_OK, CLIP_ENOTFOUND, ...) and frees p and resp. On a failure of r2_prepare_head nothing is
 * left to free. */
typedef struct {
    buf_t url;
    buf_t token;
    char h_auth[SIG_AUTHORIZATION_MAX + 32], h_date[64], h_sha[128];
    const char *headers[4];
} r2_prepared;
clip_err r2_prepare_head(r2_client *r, const char *key, size_t key_len, long deadline_ms,
                         r2_prepared *p, http_req *req, char *err, size_t errlen);
clip_err r2_prepared_result(r2_prepared *p, clip_err rc, http_resp *resp, char *err,
                            size_t errlen);
void r2_prepared_free(r2_prepared *p);

/* GetObject: appends the body to out; over max bytes (0: R2_GET_MAX_DEFAULT) is CLIP_ETOOBIG. */
clip_err r2_get_object(r2_client *r, const char *key, size_t key_len, size_t max, buf_t *out,
                       char *err, size_t errlen);

/* Parses a ListObjectsV2 XML answer (exposed for tests and fuzzing). */
clip_err r2_parse_list(const char *xml, size_t n, r2_list *out, char *err, size_t errlen);

#endif
