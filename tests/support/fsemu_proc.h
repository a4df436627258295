/* fsemu_proc: the Firestore emulator an integration test talks to: ours (tests/emulators/firestore/
 * serve, a child process) or, in the second pass of tests/run, Google's (started once by tests/run
 * and shared by the tests, each in a project of its own); and our emulator's admin API. */
#ifndef CLIP_TEST_FSEMU_PROC_H
#define CLIP_TEST_FSEMU_PROC_H

#include <stdio.h>

#include "config.h"
#include "testproc.h"

#define FSEMU_PROJECT "demo-clip"
/* Set by tests/run for the second pass: HOST:PORT of Google's emulator. */
#define FSEMU_GOOGLE_ENV "CLIPAPI_GOOGLE_FIRESTORE_HOST"
/* When set, our emulator records every request it executes to DIR/PROGRAM.NAME.jsonl. */
#define FSEMU_RECORD_ENV "CLIPAPI_FSEMU_RECORD_DIR"

typedef struct {
    tp_proc proc;     /* our emulator's process (pid 0 on Google's) */
    int google;       /* 1: Google's emulator, started by tests/run */
    int port;
    char host[64];    /* "127.0.0.1:PORT" */
    char project[64]; /* FSEMU_PROJECT on ours; FSEMU_PROJECT-PID on Google's */
    cfg_t cfg;        /* firestore_project, firestore_emulator_host, firestore_timeout_ms set */
} fsemu;

/* 1 when this test process talks to Google's emulator (FSEMU_GOOGLE_ENV is set). */
int fsemu_google(void);
/* For a test that needs our emulator (fault rules, the request log, index enforcement, stopping
 * the emulator): on Google's, prints "ours only: TEST: WHY" and returns 1 (the test returns). */
int fsemu_ours_only(const char *test, const char *why);

/* Starts our emulator with indexes (a firestore.indexes.json path relative to the repository top,
 * or NULL for no index file) on a free port, or on Google's empties a project of this process;
 * name tags the log. 0 on success. */
int fsemu_start(fsemu *e, const char *name, const char *indexes);
/* Stops our emulator; on Google's empties the project. */
void fsemu_stop(fsemu *e);
/* Deletes every document of the project. */
int fsemu_reset(fsemu *e);
/* Our emulator only (-1 on Google's): */
/* Adds fault rules (a JSON object or array, see the emulator's README); 0 on success. */
int fsemu_fault(fsemu *e, const char *json);
int fsemu_clear_faults(fsemu *e);
/* Requests the emulator logged whose "METHOD path" contains needle (after a clear). */
int fsemu_count_requests(fsemu *e, const char *needle);
int fsemu_clear_requests(fsemu *e);
/* As fsemu_count_requests, and one line per request on to: "seq METHOD path status". */
int fsemu_print_requests(fsemu *e, const char *needle, FILE *to);
/* The emulator logs a request just before it writes the answer, so a count taken as soon as a
 * delay rule's request was applied may lag: waits (at most timeout_ms) until at least want
 * requests match, then returns the count. */
int fsemu_wait_requests(fsemu *e, const char *needle, int want, int timeout_ms);

#endif
