/* app: a worker's long-lived services (Firestore, R2, ID tokens, service keys), made after fork. */
#ifndef CLIP_APP_H
#define CLIP_APP_H

#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "events.h"
#include "evticket.h"
#include "firestore.h"
#include "idtoken.h"
#include "r2.h"
#include "request.h"
#include "sigv4.h"
#include "view.h"

#define APP_KEYS_MAX 64        /* service keys valid at once (rotation) */
#define APP_KEY_MIN_LEN 16     /* shorter service keys are refused at load */
#define APP_KEY_MAX_LEN 512

struct app {
    const cfg_t *cfg;
    int index;      /* slot in the pool */
    int generation; /* bumped by every reload */
    /* Each service is NULL when the configuration does not allow it; *_err says why, and the
     * handlers that need it answer 503 with that reason. */
    fs_client *fs;
    r2_client *r2;
    sig_signer *signer; /* r2's signer, for presigning (borrowed from r2) */
    idt_ctx *idt;
    catalog catalog; /* the read side over fs and r2, as metadata_source says */
    char *keys[APP_KEYS_MAX];
    size_t nkeys;
    events_pub *events;    /* nchan's publisher; NULL: events_publish_url unset, nothing published */
    evticket_keys evkeys;  /* n == 0: no tickets (events_err says why) */
    char fs_err[320], r2_err[320], idt_err[320], keys_err[320], events_err[320];
};

/* Sets up every service the configuration allows (logging what is not configured). */
void app_init(app_t *app, const cfg_t *cfg, int index, int generation);
void app_free(app_t *app);

/* How the user view presigns now (presign_expires, the signing window of core/view). */
view_signing app_signing(const app_t *app);

/* Reads service keys (one per line, '#' comments, blank lines ignored). */
clip_err app_load_keys(const char *path, char **keys, size_t *n, char *err, size_t errlen);

#endif
