/* fullstack: the whole serving stack of the API tests: Firestore emulator, S3 server, a dev key set,
 * clipapi-fcgi and nginx, wired together on 127.0.0.1. */
#ifndef CLIP_FULLSTACK_H
#define CLIP_FULLSTACK_H

#include <openssl/evp.h>

#include "buf.h"
#include "config.h"
#include "fsemu_proc.h"
#include "minihttpd.h"
#include "stack.h"

#define FULL_PROJECT "demo-clip" /* the Firebase project of the ID tokens */
#define FULL_BUCKET "clips"
#define FULL_S3_KEY "S3RVER" /* s3rver's built-in account, id and secret */

typedef struct {
    tstack st;
    char dir[400];
    fsemu fs; /* ours or Google's (fsemu_proc.h); its project is fs.project */
    tp_proc s3;
    int s3_port;
    minihttpd *keys_httpd;
    int keys_port;
    int keys_served; /* key-set answers since the pool last started (read with __atomic_load_n) */
    EVP_PKEY *key; /* signs the test users' ID tokens */
    buf_t keyset;
    char internal_keys_file[512];
    char internal_key[65];
    char conf_text[4096]; /* the clipapi.conf lines naming the backends (for tools and clients) */
    cfg_t *cfg;           /* the same configuration loaded in the test process */
} fullstack;

/* Starts everything; conf_extra adds clipapi.conf lines. 0 when all serve. */
int fullstack_start(fullstack *f, const char *tag, int workers, const char *conf_extra);
void fullstack_stop(fullstack *f);
/* Restarts the pool only (same backends), e.g. with another metadata_source. */
int fullstack_restart_pool(fullstack *f, int workers, const char *conf_extra);

/* A valid ID token for uid (1 h). */
int fullstack_token(fullstack *f, const char *uid, buf_t *out);
/* A token from arbitrary header and payload JSON, signed with the test key. */
int fullstack_token_raw(fullstack *f, const char *header_json, const char *payload_json, buf_t *out);
/* "Authorization: Bearer <token>" for uid, in out (a header line for tp_http). */
int fullstack_auth_header(fullstack *f, const char *uid, char *out, size_t outlen);

/* Stores an object in the S3 server's bucket (a signed PUT). 0 on success. */
int fullstack_s3_put(fullstack *f, const char *key, const void *data, size_t len,
                     const char *content_type);
/* GET of a document straight from the emulator's REST API (not through clipapi). */
int fullstack_fs_get(fullstack *f, const char *rel_path, tp_http_resp *out);
/* Empties the emulator. */
int fullstack_fs_reset(fullstack *f);

#endif
