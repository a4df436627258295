/* ready: the readiness check: one cheap call to each backend, sent together, within one short
 * deadline of its own. */
#ifndef CLIP_READY_H
#define CLIP_READY_H

#include "firestore.h"
#include "r2.h"

/* Both probes, the access token included, end within this (so /readyz answers within 1 s). */
#define READY_DEADLINE_MS 800L
#define READY_FS_PROBE_PATH "users/readyz-probe" /* a document that need not exist */
#define READY_R2_PROBE_KEY "readyz-probe"        /* an object that need not exist */

typedef struct {
    clip_err fs, r2; /* CLIP_OK: it answered ("not found" is the expected answer) */
    char fs_err[320], r2_err[320];
} ready_result;

/* GETs READY_FS_PROBE_PATH and HEADs READY_R2_PROBE_KEY at once, each within deadline_ms; a NULL
 * client is CLIP_EUNAVAILABLE ("not configured"). A backend whose breaker is open answers at once
 * (CLIP_EUNAVAILABLE) without a call. */
void ready_check(fs_client *fs, r2_client *r2, long deadline_ms, ready_result *out);

#endif
