/* sigv4: AWS Signature Version 4 for S3/R2: presigned URLs and signed request headers. */
#ifndef CLIP_SIGV4_H
#define CLIP_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"

#define SIG_EXPIRES_MIN 1L
#define SIG_EXPIRES_MAX 604800L /* 7 days, the S3 maximum */
#define SIG_KEY_MAX 1024u       /* S3/R2 object keys: at most 1024 bytes */
#define SIG_BUCKET_MAX 255u     /* what botocore accepts: [A-Za-z0-9._-]{1,255} */
#define SIG_ACCESS_KEY_MAX 128u
#define SIG_SECRET_MAX 256u
#define SIG_TOKEN_MAX 4096u
#define SIG_REGION_MAX 64u
#define SIG_SERVICE_MAX 64u
#define SIG_ENDPOINT_MAX 512u
#define SIG_VALUE_MAX 1024u          /* a response override or a Content-Type */
#define SIG_QUERY_MAX 32u            /* parameters of one signed request */
#define SIG_HEADERS_MAX 32u          /* extra headers of one signed request */
#define SIG_SIGNED_HEADERS_MAX 1024u /* the "host;x-amz-date;..." list */
#define SIG_AMZ_DATE_LEN 16u         /* YYYYMMDDTHHMMSSZ */
#define SIG_HEX_LEN 64u
#define SIG_AUTHORIZATION_MAX 1536u
#define SIG_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIG_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* A signer: credentials, scope and (for S3) the endpoint and bucket, plus the derived signing key
 * of the last day used. Not safe for concurrent use: one per process or thread. */
typedef struct sig_signer sig_signer;

typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "": none */
    const char *region;        /* NULL: "auto" (Cloudflare R2) */
    const char *service;       /* NULL: "s3" */
    /* S3 only (NULL for other services): scheme://host[:port][/base/], no user, query or '%'. */
    const char *endpoint;
    const char *bucket;
    int virtual_host; /* bucket in the host name when it can be (botocore's rules), else path */
} sig_config;

typedef enum { SIG_GET = 0, SIG_PUT, SIG_HEAD } sig_method;

/* One presigned URL. Strings carry their length; a NULL pointer means "absent". */
typedef struct {
    sig_method method;
    const char *key; /* object key, raw bytes, 1..SIG_KEY_MAX */
    size_t key_len;
    long expires; /* SIG_EXPIRES_MIN..SIG_EXPIRES_MAX seconds */
    time_t when;  /* signing time; 0 = now */
    /* PUT only: the upload must then send exactly this Content-Type (a signed header). */
    const char *content_type;
    size_t content_type_len;
    /* GET only: what S3 answers in Content-Disposition / Content-Type. */
    const char *response_content_disposition;
    size_t response_content_disposition_len;
    const char *response_content_type;
    size_t response_content_type_len;
} sig_presign_req;

/* A raw (not yet encoded) name/value pair: a query parameter or a header. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sig_pair;

/* An ordinary request to sign with headers (the general SigV4 form). */
typedef struct {
    const char *method;        /* "GET", "HEAD", ... */
    const char *host;          /* the Host header value, e.g. "example.amazonaws.com" */
    const char *canonical_uri; /* the path exactly as sent, already URI-encoded */
    size_t canonical_uri_len;
    const sig_pair *query; /* raw names and values; encoded and sorted here */
    size_t nquery;
    const sig_pair *headers; /* extra headers to sign (besides host, x-amz-*) */
    size_t nheaders;
    const char *payload_hash;  /* hex SHA-256 of the body, SIG_UNSIGNED_PAYLOAD, NULL: empty body */
    int content_sha256_header; /* also send and sign x-amz-content-sha256 (S3 wants it) */
    time_t when;               /* 0 = now */
    /* > 0: presign instead (the signature and X-Amz-* go in the query, valid this many seconds;
     * the generic, slower form of sig_presign for any service). */
    long presign_expires;
} sig_request;

/* The headers a signed request must carry (plus x-amz-security-token when the signer has one). */
typedef struct {
    char amz_date[SIG_AMZ_DATE_LEN + 1]; /* x-amz-date */
    char payload_hash[SIG_HEX_LEN + 1];  /* x-amz-content-sha256 */
    char signature[SIG_HEX_LEN + 1];
    char authorization[SIG_AUTHORIZATION_MAX]; /* Authorization */
} sig_auth;

clip_err sig_signer_new(const sig_config *c, sig_signer **out, char *err, size_t errlen);
void sig_signer_free(sig_signer *s);
/* The session token (NULL when none): sent as x-amz-security-token with signed headers. */
const char *sig_signer_token(const sig_signer *s);

/* Appends one presigned URL to out; byte-identical to botocore's generate_presigned_url. Only out
 * may allocate (nothing when it already has room). */
clip_err sig_presign(sig_signer *s, const sig_presign_req *r, buf_t *out, char *err, size_t errlen);

/* Signs r and fills auth. When query is not NULL the canonical query string is appended to it
 * (a valid URL query; presigning adds X-Amz-Signature at its end); when canonical is not NULL the
 * canonical request is appended to it (for tests and debugging). */
clip_err sig_sign_request(sig_signer *s, const sig_request *r, sig_auth *auth, buf_t *query,
                          buf_t *canonical, char *err, size_t errlen);

/* An S3 request on the signer's bucket: key (may be empty: the bucket itself) and query give the
 * URL appended to url; auth gets the headers. payload_hash as in sig_request. */
clip_err sig_s3_request(sig_signer *s, const char *method, const char *key, size_t key_len,
                        const sig_pair *query, size_t nquery, const char *payload_hash, time_t when,
                        buf_t *url, sig_auth *auth, char *err, size_t errlen);

/* ---- the pieces, exposed for tests and tools ------------------------------------------------ */

/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". */
clip_err sig_derive_key(const char *secret, size_t secret_len, const char *date8,
                        const char *region, const char *service, unsigned char key[32]);
/* Appends the SigV4 encoding of p: every byte but A-Za-z0-9-._~ (and '/' when keep_slash) as %XX.
 */
int sig_uri_encode(buf_t *b, const char *p, size_t n, int keep_slash);
/* Appends the canonical query string of q (names and values encoded, sorted). */
clip_err sig_canonical_query(const sig_pair *q, size_t n, buf_t *out, char *err, size_t errlen);
/* "YYYYMMDDTHHMMSSZ" <-> time_t (UTC); parse fails with CLIP_EINVAL on anything else. */
void sig_format_amz_date(time_t t, char out[SIG_AMZ_DATE_LEN + 1]);
clip_err sig_parse_amz_date(const char *s, time_t *out, char *err, size_t errlen);
/* The hex signature of a string to sign, with the signer's key for date8 (cached). */
clip_err sig_sign_string(sig_signer *s, const char *date8, const char *sts, size_t sts_len,
                         char hex[SIG_HEX_LEN + 1]);

#endif
