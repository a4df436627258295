/* gauth: Google OAuth2 access tokens for Firestore: emulator, service-account JWT (RS256) exchange
 * or GCE metadata, cached until shortly before expiry. */
#ifndef CLIP_GAUTH_H
#define CLIP_GAUTH_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"

#define GAUTH_SCOPE "https://www.googleapis.com/auth/datastore"
#define GAUTH_METADATA_HOST_DEFAULT "metadata.google.internal"
#define GAUTH_METADATA_TOKEN_PATH "/computeMetadata/v1/instance/service-accounts/default/token"
#define GAUTH_JWT_LIFETIME_S 3600
/* A cached token is replaced this long before it expires. */
#define GAUTH_REFRESH_MARGIN_S 300
#define GAUTH_KEYFILE_MAX (64u * 1024)
#define GAUTH_TOKEN_RESPONSE_MAX (64u * 1024)
#define GAUTH_TOKEN_MAX 4096
#define GAUTH_HEADER_MAX (GAUTH_TOKEN_MAX + 32)

typedef enum {
    GAUTH_EMULATOR = 0, /* "Bearer owner", no network */
    GAUTH_SERVICE_ACCOUNT,
    GAUTH_METADATA,
} gauth_kind;

typedef struct gauth gauth;

/* Chooses the source: firestore_emulator_host (or FIRESTORE_EMULATOR_HOST) -> emulator;
 * google_credentials_file (or GOOGLE_APPLICATION_CREDENTIALS, or the systemd credential) -> the
 * service-account key, read and checked now; otherwise the GCE metadata server
 * (GCE_METADATA_HOST overrides its host), tried at the first token request. */
clip_err gauth_new(const cfg_t *cfg, gauth **out, char *err, size_t errlen);
void gauth_free(gauth *g);
gauth_kind gauth_source(const gauth *g);

/* Fills out with "Authorization: Bearer <token>" (one gauth serves every thread of a process: one
 * thread fetches while the others use the old token as long as it is valid), fetching a token when none is cached or the
 * cached one expires within GAUTH_REFRESH_MARGIN_S. deadline_ms bounds a fetch. Failures name
 * what was tried (CLIP_EUNAVAILABLE when the token endpoint is unreachable, CLIP_EAUTH when
 * it refuses). */
clip_err gauth_header(gauth *g, char *out, size_t outlen, long deadline_ms, char *err,
                      size_t errlen);

/* Drops the cached token (after a 401 from the API). */
void gauth_invalidate(gauth *g);

/* Builds the signed assertion of a service account for time now:
 * base64url(header).base64url(claims).base64url(RS256 signature), claims
 * {"iss":client_email,"scope":scope,"aud":token_uri,"iat":now,"exp":now+3600}. Exposed for tests.
 */
clip_err gauth_jwt(const gauth *g, time_t now, buf_t *out, char *err, size_t errlen);

#endif
