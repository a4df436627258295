/* The real Firebase Auth emulator (npm firebase-tools, offline on 127.0.0.1) signs users up; their
 * unsigned ID tokens verify in emulator mode (-> the uid) and are refused without it. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "idtoken.h"
#include "testproc.h"
#include "tjson.h"
#include "unit.h"

#define PROJECT "demo-test"
/* firebase-tools needs a few seconds to start; a cold npm cache on a slow disk more */
#define EMU_START_MS 90000
#define EMU_STOP_MS 15000

static tp_proc emu;
static pid_t emu_pgid;
static int auth_port;
static char emu_host[64];
static char emu_dir[400];

/* keys must never be fetched for emulator tokens: this URL would refuse if they were */
static char unused_keys_url[64];

static int write_file(const char *dir, const char *name, const char *content)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return tp_write_file(path, content);
}

static int start_emulator(void)
{
    char firebase[600];
    snprintf(firebase, sizeof firebase, "%s/tests/emulators/auth/node_modules/.bin/firebase",
             tp_top());
    if (access(firebase, X_OK) != 0) {
        fprintf(stderr, "%s is missing: run `make deps` (npm ci in tests/emulators/auth)\n",
                firebase);
        return -1;
    }
    if (tp_tempdir("auth-emulator", emu_dir, sizeof emu_dir) != 0 || strchr(emu_dir, '\'') ||
        strchr(firebase, '\'') || strchr(tp_top(), '\''))
        return -1;
    auth_port = tp_free_port();
    int hub_port = tp_free_port(), log_port = tp_free_port();
    if (auth_port <= 0 || hub_port <= 0 || log_port <= 0 || auth_port == hub_port ||
        hub_port == log_port || auth_port == log_port)
        return -1;
    char json[512];
    snprintf(json, sizeof json,
             "{\"emulators\":{\"auth\":{\"host\":\"127.0.0.1\",\"port\":%d},"
             "\"hub\":{\"host\":\"127.0.0.1\",\"port\":%d},"
             "\"logging\":{\"host\":\"127.0.0.1\",\"port\":%d},"
             "\"ui\":{\"enabled\":false}}}\n",
             auth_port, hub_port, log_port);
    if (write_file(emu_dir, "firebase.json", json) != 0)
        return -1;
    /* The CLI fetches a "message of the day" from the internet unless its config store says it
     * did today; a fresh config store saying so keeps every connection on 127.0.0.1. */
    char cfgdir[600], store[700];
    snprintf(cfgdir, sizeof cfgdir, "%s/config", emu_dir);
    snprintf(store, sizeof store, "%s/configstore", cfgdir);
    char home[600];
    snprintf(home, sizeof home, "%s/home", emu_dir);
    if (mkdir(cfgdir, 0700) != 0 || mkdir(store, 0700) != 0 || mkdir(home, 0700) != 0)
        return -1;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char motd[128];
    snprintf(motd, sizeof motd, "{\"motd\":{\"fetched\":%lld}}\n",
             (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    if (write_file(store, "firebase-tools.json", motd) != 0)
        return -1;

    /* firebase-tools needs Node >= 20: tools/node/run puts one first on PATH */
    char script[2400];
    snprintf(script, sizeof script,
             "cd '%s' && exec '%s/tools/node/run' '%s' emulators:start --only auth --project " PROJECT,
             emu_dir, tp_top(), firebase);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    static char env_home[700], env_xdg[700];
    snprintf(env_home, sizeof env_home, "HOME=%s", home);
    snprintf(env_xdg, sizeof env_xdg, "XDG_CONFIG_HOME=%s", cfgdir);
    char *env[] = {env_home, env_xdg, "NO_UPDATE_NOTIFIER=1", "FIREBASE_CLI_DISABLE_UPDATE_CHECK=1",
                   NULL};
    if (tp_start(&emu, "auth-emulator", argv, env, "All emulators ready", EMU_START_MS) != 0)
        return -1;
    emu_pgid = emu.pid;
    snprintf(emu_host, sizeof emu_host, "127.0.0.1:%d", auth_port);
    return 0;
}

/* Signs up (or signs in) over the emulator's Identity Toolkit REST API; fills token and uid. */
static int identity_call(const char *method, const char *email, char **token, char *uid,
                         size_t uidlen)
{
    char url[256], body[256];
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/identitytoolkit.googleapis.com/v1/accounts:%s?key=any-api-key",
             auth_port, method);
    snprintf(body, sizeof body,
             "{\"email\":\"%s\",\"password\":\"s3cret-pass\",\"returnSecureToken\":true}", email);
    char *headers[] = {"Content-Type: application/json", NULL};
    tp_http_resp r;
    if (tp_http("POST", url, headers, body, strlen(body), &r) != 0)
        return -1;
    int rc = -1;
    json_object *o = r.status == 200 ? tj_parse(r.body) : NULL;
    json_object *t, *id;
    if (o && json_object_object_get_ex(o, "idToken", &t) &&
        json_object_object_get_ex(o, "localId", &id) && json_object_is_type(t, json_type_string) &&
        json_object_is_type(id, json_type_string) &&
        (size_t)json_object_get_string_len(id) < uidlen) {
        *token = strdup(json_object_get_string(t));
        snprintf(uid, uidlen, "%s", json_object_get_string(id));
        rc = *token ? 0 : -1;
    } else {
        fprintf(stderr, "accounts:%s answered %ld: %s\n", method, r.status, r.body ? r.body : "");
    }
    json_object_put(o);
    tp_http_free(&r);
    return rc;
}

static idt_ctx *verifier(const char *project, const char *emulator_host)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.auth_project = (char *)project;
    c.auth_keys_url = unused_keys_url;
    c.auth_emulator_host = (char *)emulator_host;
    idt_ctx *ctx = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_new(&c, &ctx, err, sizeof err), CLIP_OK);
    return ctx;
}

static long long clock_value;
static long long fixed_clock(void *arg)
{
    (void)arg;
    return clock_value;
}

static void test_signed_up_user_verifies_in_emulator_mode_only(void)
{
    char *token = NULL, uid[IDS_MAX + 1] = "";
    CU_ASSERT_EQUAL_FATAL(identity_call("signUp", "alice@example.com", &token, uid, sizeof uid), 0);
    CU_ASSERT_TRUE(ids_valid_id(uid, strlen(uid)));

    idt_ctx *emu_mode = verifier(PROJECT, emu_host);
    idt_claims cl;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_verify(emu_mode, token, strlen(token), &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(err, "");
    UNIT_ASSERT_STR(cl.uid, uid);
    CU_ASSERT_EQUAL(cl.unsigned_token, 1);
    CU_ASSERT_TRUE(cl.exp > cl.iat);
    idt_stats st;
    idt_get_stats(emu_mode, &st);
    CU_ASSERT_EQUAL(st.fetches, 0); /* no key set involved */

    /* every claim still counts: once the token has expired it is refused */
    clock_value = cl.exp;
    idt_set_clock(emu_mode, fixed_clock, NULL);
    CU_ASSERT_EQUAL(idt_verify(emu_mode, token, strlen(token), &cl, err, sizeof err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "ID token has expired");
    idt_free(emu_mode);

    /* another project's verifier refuses it (aud) even in emulator mode */
    idt_ctx *other = verifier("demo-other", emu_host);
    CU_ASSERT_EQUAL(idt_verify(other, token, strlen(token), &cl, err, sizeof err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "ID token aud is not the project 'demo-other'");
    idt_free(other);

    /* without emulator mode the unsigned token is refused */
    idt_ctx *prod = verifier(PROJECT, NULL);
    CU_ASSERT_EQUAL(idt_verify(prod, token, strlen(token), &cl, err, sizeof err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "ID token alg 'none' is not RS256");
    UNIT_ASSERT_STR(cl.uid, "");
    idt_get_stats(prod, &st);
    CU_ASSERT_EQUAL(st.fetches, 0);
    idt_free(prod);
    free(token);
}

static void test_sign_in_token_names_the_same_user(void)
{
    char *t1 = NULL, *t2 = NULL, uid1[IDS_MAX + 1] = "", uid2[IDS_MAX + 1] = "";
    CU_ASSERT_EQUAL_FATAL(identity_call("signUp", "bob@example.com", &t1, uid1, sizeof uid1), 0);
    CU_ASSERT_EQUAL_FATAL(
        identity_call("signInWithPassword", "bob@example.com", &t2, uid2, sizeof uid2), 0);
    UNIT_ASSERT_STR(uid2, uid1);
    idt_ctx *ctx = verifier(PROJECT, emu_host);
    idt_claims cl;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_verify(ctx, t2, strlen(t2), &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(cl.uid, uid1);
    /* a tampered emulator token (a signature appended) is refused */
    size_t n = strlen(t2);
    char *tampered = malloc(n + 5);
    memcpy(tampered, t2, n);
    memcpy(tampered + n, "c2ln", 5);
    CU_ASSERT_EQUAL(idt_verify(ctx, tampered, n + 4, &cl, err, sizeof err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "ID token with alg none (Auth emulator) must have an empty signature");
    free(tampered);
    idt_free(ctx);
    free(t1);
    free(t2);
}

static int init(void)
{
    int port = tp_free_port();
    snprintf(unused_keys_url, sizeof unused_keys_url, "http://127.0.0.1:%d/keys", port);
    return start_emulator() == 0 ? 0 : 1;
}

static int clean(void)
{
    if (emu.pid > 0) {
        /* SIGINT is the CLI's clean shutdown; anything left in its group goes with SIGKILL */
        tp_stop(&emu, SIGINT, EMU_STOP_MS);
    }
    if (emu_pgid > 0)
        kill(-emu_pgid, SIGKILL);
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_signed_up_user_verifies_in_emulator_mode_only),
                           UNIT_TEST(test_sign_in_token_names_the_same_user), CU_TEST_INFO_NULL};
    return unit_run("auth_emulator_interop", tests, init, clean);
}
