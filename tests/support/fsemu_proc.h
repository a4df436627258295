/* fsemu_proc: runs the Firestore emulator (tests/emulators/firestore/serve) for an integration test
 * and drives its admin API (reset, faults, request log). */
#ifndef CLIP_TEST_FSEMU_PROC_H
#define CLIP_TEST_FSEMU_PROC_H

#include "config.h"
#include "testproc.h"

#define FSEMU_PROJECT "demo-clip"

typedef struct {
    tp_proc proc;
    int port;
    char host[64]; /* "127.0.0.1:PORT" */
    cfg_t cfg;     /* firestore_project, firestore_emulator_host, firestore_timeout_ms set */
} fsemu;

/* Starts the emulator with indexes (a firestore.indexes.json path relative to the repository
 * top, or NULL for no index file) on a free port; name tags its log. 0 on success. */
int fsemu_start(fsemu *e, const char *name, const char *indexes);
void fsemu_stop(fsemu *e);
/* Deletes every document of the project. */
int fsemu_reset(fsemu *e);
/* Adds fault rules (a JSON object or array, see the emulator's README); 0 on success. */
int fsemu_fault(fsemu *e, const char *json);
int fsemu_clear_faults(fsemu *e);
/* Requests the emulator logged whose "METHOD path" contains needle (after a clear). */
int fsemu_count_requests(fsemu *e, const char *needle);
int fsemu_clear_requests(fsemu *e);
/* The emulator logs a request after answering it, so a count taken right after an answer may
 * lag: waits (at most timeout_ms) until at least want requests match, then returns the count. */
int fsemu_wait_requests(fsemu *e, const char *needle, int want, int timeout_ms);

#endif
