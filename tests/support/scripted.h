/* scripted: one loopback server playing Firestore's REST API and an S3 bucket from a table of
 * answers, with Firestore and R2 clients pointed at it, for unit tests of the code above them. */
#ifndef CLIP_TEST_SCRIPTED_H
#define CLIP_TEST_SCRIPTED_H

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "firestore.h"
#include "minihttpd.h"
#include "r2.h"

#define SC_PROJECT "demo-clip"
#define SC_BUCKET "clips"
/* The documents root of the scripted project, as Firestore names documents. */
#define SC_ROOT "projects/demo-clip/databases/(default)/documents"
#define SC_RULES_MAX 64
#define SC_TIMEOUT_MS 1000 /* the Firestore deadline: a scripted outage costs this */
#define SC_LOG_MAX 64

/* One answer: the first rule whose method is the request's and whose match is a part of the
 * request target (path and query, e.g. "/users/u1/videos/v1" or "prefix=u1%2Fv1%2Fclips") answers
 * it. A request no rule answers gets a 599, which fails the call under test loudly. */
typedef struct {
    const char *method;
    const char *match;
    int status;
    const char *body;
    const char *headers; /* extra "Name: value\r\n" lines, or NULL */
} sc_rule;
/* A match "TARGET#BODY" also needs the request body to contain BODY (two commits to one target
 * told apart by their precondition); a request target never holds a '#'. */
#define SC_BODY_SEP '#'
/* A status that is no answer at all: the connection is held open (a deadline passes). */
#define SC_HANG 0

typedef struct {
    minihttpd *m;
    int port;
    char host[64]; /* 127.0.0.1:port */
    char endpoint[80];
    cfg_t cfg;     /* Firestore (emulator mode) and R2 on this server */
    fs_client *fs;
    r2_client *r2;
    sc_rule rules[SC_RULES_MAX];
    size_t nrules;
    char log[SC_LOG_MAX][256]; /* "METHOD target" of the requests, in arrival order */
    char *bodies[SC_LOG_MAX];  /* their bodies (malloc'd copies) */
    size_t nlog;
} scripted;

/* Starts the server and makes both clients. 0 ok. */
int sc_start(scripted *s);
void sc_stop(scripted *s);
/* sc_start, and the keys that sign page cursors (a random one, as the pool has without
 * cursor_key_file), for tests of listings that page. 0 ok. */
int sc_start_paging(scripted *s);

/* The fixture of a unit test file (unit_run's init and clean): one scripted server for all its
 * tests, started with sc_start_paging, and one arena for what they read, freed at the end. */
extern scripted sc_fixture;
extern arena_t sc_fixture_arena;
int sc_fixture_init(void);
int sc_fixture_clean(void);

/* Replaces the table (copied; the strings must outlive the calls) and forgets the request log. */
void sc_script(scripted *s, const sc_rule *rules, size_t n);

/* Scripts an outage: every request is answered 503 UNAVAILABLE. */
void sc_script_down(scripted *s);
/* Scripts a backend that is not Firestore: every request is answered 200 with an HTML page. */
void sc_script_garbage(scripted *s);

/* How many requests so far had method and a target containing match. */
size_t sc_count(scripted *s, const char *method, const char *match);

/* The body of the last request so far with method and a target containing match, or NULL; valid
 * until the next sc_script or sc_stop. */
const char *sc_body(scripted *s, const char *method, const char *match);

/* 1 when that last request's body contains want; else 0, after printing what it sent. */
int sc_sent(scripted *s, const char *method, const char *match, const char *want);

/* The Firestore answer of a missing document, for rules. */
#define SC_NOT_FOUND "{\"error\":{\"code\":404,\"message\":\"not found\",\"status\":\"NOT_FOUND\"}}"
#define SC_UNAVAILABLE                                                                             \
    "{\"error\":{\"code\":503,\"message\":\"down\",\"status\":\"UNAVAILABLE\"}}"

#endif
