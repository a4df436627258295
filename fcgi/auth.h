/* auth: who is calling: a signed-in user (Firebase ID token -> uid) or the workflow (a service key). */
#ifndef CLIP_AUTH_H
#define CLIP_AUTH_H

#include <stddef.h>

#include "request.h"
#include "response.h"

/* The bearer token of the Authorization header, or NULL (with *len 0) when there is none. */
const char *auth_bearer(const request_t *rq, size_t *len);

/* Verifies the caller's ID token. 0: rq->uid is the caller (in the arena). Otherwise rs holds the
 * error (401 for a missing or bad token, 503/504 when the keys cannot be had) and -1 returns. */
int auth_user(request_t *rq, response_t *rs);

/* The caller of an event stream: the `ticket` query parameter when there is one (checked against
 * the video_id path parameter, no network), else the ID token. 0: rq->uid is the caller. Otherwise
 * rs holds a 401 (bad, expired or no credentials), a 404 (a ticket for another video) or a 503. */
int auth_user_or_ticket(request_t *rq, response_t *rs);

/* Checks the service key of an /api/internal/ call (constant-time against every valid key).
 * 0 when it matches; otherwise rs holds a 401 (or 503 when no keys are configured). */
int auth_service(request_t *rq, response_t *rs);

/* Constant-time comparison of given[len] with each key; 1 when one matches. */
int auth_key_matches(char *const *keys, size_t nkeys, const char *given, size_t len);

#endif
