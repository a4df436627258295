/* `clipctl dev-token` end to end: the key set it prints, served over loopback, verifies the tokens
 * it mints (x509 and JWKS forms); it refuses a production config with one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "buf.h"
#include "idtoken.h"
#include "minihttpd.h"
#include "testproc.h"
#include "unit.h"

#define PROJECT "demo-dev"
#define GOOGLE_KEYS_URL                                                                            \
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"

static char dir[400], conf[600], keyfile[600], clipctl[600], keys_url[128];
static minihttpd *mh;
static buf_t served = BUF_INIT;

static mh_action handler(const mh_request *req, mh_response *resp, void *ctx)
{
    (void)req, (void)ctx;
    buf_puts(&resp->headers, "Cache-Control: public, max-age=300\r\n");
    buf_append(&resp->body, served.p, served.len);
    return MH_RESPOND;
}

/* Runs "clipctl --config CONF ARGS" with env prefix ENV (both shell text), stdout and stderr
 * together into out; returns the exit status, -1 when it could not run. */
static int run(const char *env, const char *args, buf_t *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "env -u CLIPAPI_DEV_KEY_FILE %s '%s' --config '%s' %s 2>&1", env,
             clipctl, conf, args);
    return tp_run_shell(cmd, out);
}

static void chomp(buf_t *b)
{
    while (b->len && (b->p[b->len - 1] == '\n' || b->p[b->len - 1] == '\r'))
        b->p[--b->len] = '\0';
}

static idt_ctx *verifier(void)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.auth_project = PROJECT;
    c.auth_keys_url = keys_url;
    idt_ctx *ctx = NULL;
    CU_ASSERT_EQUAL(idt_new(&c, &ctx, NULL, 0), CLIP_OK);
    return ctx;
}

static void test_minted_token_verifies_against_printed_keyset(void)
{
    char env[1024], args[1024];
    buf_t out = BUF_INIT;
    snprintf(args, sizeof args, "dev-token --print-keyset --key '%s'", keyfile);
    CU_ASSERT_EQUAL(run("", args, &out), 0);
    /* the key did not exist: created (message on stderr), then the set on stdout */
    char created[700];
    snprintf(created, sizeof created, "clipctl dev-token: created a new RSA key in %s\n{\"dev-",
             keyfile);
    CU_ASSERT_PTR_NOT_NULL(out.p && strstr(out.p, created));
    struct stat st;
    CU_ASSERT_EQUAL(stat(keyfile, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    /* second time: same key, only the set */
    CU_ASSERT_EQUAL(run("", args, &out), 0);
    CU_ASSERT_TRUE(out.len > 0 && strncmp(out.p, "{\"dev-", 6) == 0);
    buf_reset(&served);
    buf_append(&served, out.p, out.len);

    snprintf(env, sizeof env, "CLIPAPI_AUTH_PROJECT=" PROJECT " CLIPAPI_AUTH_KEYS_URL=%s",
             keys_url);
    snprintf(args, sizeof args, "dev-token --uid alice_1 --key '%s'", keyfile);
    CU_ASSERT_EQUAL(run(env, args, &out), 0);
    chomp(&out);
    idt_ctx *ctx = verifier();
    idt_claims cl;
    char err[256] = "";
    CU_ASSERT_EQUAL(idt_verify(ctx, out.p, out.len, &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(err, "");
    UNIT_ASSERT_STR(cl.uid, "alice_1");
    long long now = (long long)time(NULL);
    CU_ASSERT_TRUE(cl.exp - cl.iat == 3600);
    CU_ASSERT_TRUE(cl.iat <= now && cl.iat >= now - 60);

    /* the key file may come from CLIPAPI_DEV_KEY_FILE; --expires and --issued-at shape the times */
    snprintf(env, sizeof env,
             "CLIPAPI_AUTH_PROJECT=" PROJECT " CLIPAPI_AUTH_KEYS_URL=%s CLIPAPI_DEV_KEY_FILE='%s'",
             keys_url, keyfile);
    snprintf(args, sizeof args, "dev-token --uid bob --expires 60 --issued-at %lld", now - 120);
    CU_ASSERT_EQUAL(run(env, args, &out), 0);
    chomp(&out);
    CU_ASSERT_EQUAL(idt_verify(ctx, out.p, out.len, &cl, err, sizeof err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "ID token has expired");
    snprintf(args, sizeof args, "dev-token --uid bob --expires 600 --issued-at %lld", now - 120);
    CU_ASSERT_EQUAL(run(env, args, &out), 0);
    chomp(&out);
    CU_ASSERT_EQUAL(idt_verify(ctx, out.p, out.len, &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(cl.uid, "bob");
    CU_ASSERT_EQUAL(cl.iat, now - 120);
    CU_ASSERT_EQUAL(cl.exp, now + 480);
    idt_free(ctx);

    /* the JWKS form works the same */
    snprintf(args, sizeof args, "dev-token --print-keyset --format jwks --key '%s'", keyfile);
    CU_ASSERT_EQUAL(run("", args, &out), 0);
    CU_ASSERT_TRUE(out.len > 0 && strncmp(out.p, "{\"keys\":[{\"kty\":\"RSA\"", 21) == 0);
    buf_reset(&served);
    buf_append(&served, out.p, out.len);
    ctx = verifier();
    snprintf(args, sizeof args, "dev-token --uid carol --key '%s'", keyfile);
    snprintf(env, sizeof env, "CLIPAPI_AUTH_PROJECT=" PROJECT " CLIPAPI_AUTH_KEYS_URL=%s",
             keys_url);
    CU_ASSERT_EQUAL(run(env, args, &out), 0);
    chomp(&out);
    CU_ASSERT_EQUAL(idt_verify(ctx, out.p, out.len, &cl, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(cl.uid, "carol");
    idt_free(ctx);
    buf_free(&out);
}

static void test_refuses_production_config(void)
{
    char args[1024];
    buf_t out = BUF_INIT;
    snprintf(args, sizeof args, "dev-token --uid alice --key '%s'", keyfile);
    CU_ASSERT_EQUAL(run("CLIPAPI_AUTH_PROJECT=" PROJECT, args, &out), 1);
    UNIT_ASSERT_STR(out.p, "clipctl dev-token: refusing to mint: auth_keys_url '" GOOGLE_KEYS_URL
                           "' is not an http(s) URL on a loopback host, so this config trusts "
                           "real Firebase keys (production); point it at the local key set\n");
    CU_ASSERT_EQUAL(run("CLIPAPI_AUTH_PROJECT=" PROJECT
                        " CLIPAPI_AUTH_KEYS_URL=http://127.0.0.1.example.com/keys",
                        args, &out),
                    1);
    CU_ASSERT_PTR_NOT_NULL(out.p && strstr(out.p, "refusing to mint"));
    /* no project: the config error names the key */
    CU_ASSERT_EQUAL(run("CLIPAPI_AUTH_KEYS_URL=http://127.0.0.1:9/keys", args, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(out.p && strstr(out.p, "clipctl dev-token: auth_project: not set"));
    /* usage errors exit 2 */
    CU_ASSERT_EQUAL(run("", "dev-token", &out), 2);
    UNIT_ASSERT_STR(out.p, "clipctl dev-token: missing --uid U (or --print-keyset) (see clipctl "
                           "dev-token --help)\n");
    CU_ASSERT_EQUAL(run("", "dev-token --uid a/b --key x", &out), 2);
    CU_ASSERT_EQUAL(run("", "dev-token --uid a", &out), 2);
    UNIT_ASSERT_STR(out.p, "clipctl dev-token: no key: give --key FILE or set "
                           "CLIPAPI_DEV_KEY_FILE (see clipctl dev-token --help)\n");
    CU_ASSERT_EQUAL(run("", "dev-token --print-keyset --format pem --key x", &out), 2);
    buf_free(&out);
}

static int init(void)
{
    if (tp_tempdir("dev-token", dir, sizeof dir) != 0)
        return 1;
    snprintf(conf, sizeof conf, "%s/clipapi.conf", dir);
    snprintf(keyfile, sizeof keyfile, "%s/dev-key.pem", dir);
    snprintf(clipctl, sizeof clipctl, "%s/clipctl", tp_build());
    if (tp_write_file(conf, "# empty: the environment sets what each case needs\n") != 0)
        return 1;
    int port = 0;
    if (!(mh = mh_start(handler, NULL, &port)))
        return 1;
    snprintf(keys_url, sizeof keys_url, "http://127.0.0.1:%d/keys.json", port);
    return 0;
}

static int clean(void)
{
    mh_stop(mh);
    buf_free(&served);
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_minted_token_verifies_against_printed_keyset),
                           UNIT_TEST(test_refuses_production_config), CU_TEST_INFO_NULL};
    return unit_run("dev_token_cli", tests, init, clean);
}
