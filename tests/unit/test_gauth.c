/* Tests of core/gauth: the RS256 JWT (built, then verified with the public key), the token exchange
 * against a local token endpoint, caching, the metadata server, the emulator and the errors. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "fs_value.h"
#include "gauth.h"
#include "http.h"
#include "minihttpd.h"
#include "tjson.h"
#include "unit.h"

#define EMAIL "svc@demo-clip.iam.gserviceaccount.com"

static char dir[256];
static char key_path[300], pub_path[300], sa_path[300], bad_path[300];
static EVP_PKEY *pub;

typedef struct {
    char token_uri[128];
    int issued; /* tokens handed out */
    long expires_in;
    char failure[256]; /* why the last assertion was refused, "" if none */
    int metadata_hits;
} endpoint;

/* Verifies a JWT's RS256 signature with the public key and returns its decoded parts. */
static int jwt_verify(const char *jwt, size_t n, buf_t *header, buf_t *claims)
{
    const char *d1 = memchr(jwt, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jwt)) : NULL;
    if (!d2)
        return -1;
    buf_t sig = BUF_INIT;
    if (codec_base64_decode_buf(CODEC_B64URL, jwt, (size_t)(d1 - jwt), header) != 0 ||
        codec_base64_decode_buf(CODEC_B64URL, d1 + 1, (size_t)(d2 - d1 - 1), claims) != 0 ||
        codec_base64_decode_buf(CODEC_B64URL, d2 + 1, n - (size_t)(d2 + 1 - jwt), &sig) != 0) {
        buf_free(&sig);
        return -1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(md, (const unsigned char *)sig.p, sig.len, (const unsigned char *)jwt,
                              (size_t)(d2 - jwt)) == 1;
    EVP_MD_CTX_free(md);
    buf_free(&sig);
    return ok ? 0 : -1;
}

/* Checks the assertion the way Google's token endpoint does; "" when it is good. */
static void check_assertion(endpoint *ep, const char *jwt, size_t n)
{
    buf_t h = BUF_INIT, c = BUF_INIT;
    ep->failure[0] = '\0';
    if (jwt_verify(jwt, n, &h, &c) != 0) {
        snprintf(ep->failure, sizeof ep->failure, "bad signature");
    } else {
        json_object *hj = tj_parse(h.p), *cj = tj_parse(c.p);
        long long now = (long long)time(NULL);
        if (!hj || !cj)
            snprintf(ep->failure, sizeof ep->failure, "not JSON");
        else if (!tj_str_is(hj, "alg", "RS256") || !tj_str_is(hj, "kid", "kid-1"))
            snprintf(ep->failure, sizeof ep->failure, "header %s", h.p);
        else if (!tj_str_is(cj, "iss", EMAIL) || !tj_str_is(cj, "scope", GAUTH_SCOPE) ||
                 !tj_str_is(cj, "aud", ep->token_uri))
            snprintf(ep->failure, sizeof ep->failure, "claims %s", c.p);
        else if (tj_int(cj, "iat") == TJ_ABSENT || tj_int(cj, "exp") == TJ_ABSENT ||
                 llabs(tj_int(cj, "iat") - now) > 5 ||
                 tj_int(cj, "exp") != tj_int(cj, "iat") + 3600)
            snprintf(ep->failure, sizeof ep->failure, "times %s", c.p);
        json_object_put(hj);
        json_object_put(cj);
    }
    buf_free(&h);
    buf_free(&c);
}

static mh_action handler(const mh_request *req, mh_response *resp, void *ctx)
{
    endpoint *ep = ctx;
    if (strncmp(req->path, GAUTH_METADATA_TOKEN_PATH, strlen(GAUTH_METADATA_TOKEN_PATH)) == 0) {
        char flavor[32] = "";
        mh_header(req, "Metadata-Flavor", flavor, sizeof flavor);
        if (strcmp(flavor, "Google") != 0 || strcmp(req->method, "GET") != 0 ||
            !strstr(req->path, "?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdatastore")) {
            resp->status = 403;
            return MH_RESPOND;
        }
        ep->metadata_hits++;
        buf_printf(&resp->body,
                   "{\"access_token\":\"meta-%d\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
                   ep->metadata_hits);
        return MH_RESPOND;
    }
    const char prefix[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    char ctype[64] = "";
    mh_header(req, "Content-Type", ctype, sizeof ctype);
    if (strcmp(req->path, "/token") != 0 || strcmp(req->method, "POST") != 0 ||
        strcmp(ctype, "application/x-www-form-urlencoded") != 0 || req->body.len < sizeof prefix ||
        memcmp(req->body.p, prefix, sizeof prefix - 1) != 0) {
        snprintf(ep->failure, sizeof ep->failure, "bad request shape");
    } else {
        check_assertion(ep, req->body.p + sizeof prefix - 1, req->body.len - (sizeof prefix - 1));
    }
    if (ep->failure[0]) {
        resp->status = 400;
        buf_printf(&resp->body, "{\"error\":\"invalid_grant\",\"error_description\":\"%s\"}",
                   "Invalid JWT Signature.");
        return MH_RESPOND;
    }
    ep->issued++;
    buf_printf(&resp->body,
               "{\"access_token\":\"tok-%d\",\"expires_in\":%ld,\"token_type\":\"Bearer\"}",
               ep->issued, ep->expires_in);
    return MH_RESPOND;
}

static int write_sa(const char *path, const char *token_uri, const char *type)
{
    buf_t pem = BUF_INIT, out = BUF_INIT;
    FILE *f = fopen(key_path, "r");
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&pem, chunk, n);
    if (f)
        fclose(f);
    buf_printf(&out,
               "{\"type\":\"%s\",\"project_id\":\"demo-clip\",\"private_key_id\":\"kid-1\","
               "\"private_key\":",
               type);
    buf_json_str(&out, pem.p, pem.len);
    buf_printf(&out, ",\"client_email\":\"%s\",\"token_uri\":\"%s\"}", EMAIL, token_uri);
    f = fopen(path, "w");
    int r = f && fwrite(out.p, 1, out.len, f) == out.len ? 0 : -1;
    if (f)
        fclose(f);
    buf_free(&pem);
    buf_free(&out);
    return r;
}

static int init(void)
{
    if (http_global_init() != CLIP_OK)
        return 1;
    const char *base = getenv("CLIPAPI_BUILD");
    snprintf(dir, sizeof dir, "%s/tmp/gauth.XXXXXX", base ? base : "build");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/tmp", base ? base : "build");
    if (system(cmd) != 0 || !mkdtemp(dir))
        return 1;
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(pub_path, sizeof pub_path, "%s/pub.pem", dir);
    snprintf(sa_path, sizeof sa_path, "%s/sa.json", dir);
    snprintf(bad_path, sizeof bad_path, "%s/user.json", dir);
    /* a fresh key per run, never committed */
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out %s 2>/dev/null && "
             "openssl pkey -in %s -pubout -out %s 2>/dev/null",
             key_path, key_path, pub_path);
    if (system(cmd) != 0)
        return 1;
    FILE *f = fopen(pub_path, "r");
    pub = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return pub ? 0 : 1;
}

static int clean(void)
{
    EVP_PKEY_free(pub);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
    http_global_cleanup();
    return 0;
}

static cfg_t sa_cfg(const char *path)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.firestore_project = "demo-clip";
    c.google_credentials_file = (char *)path;
    return c;
}

static void test_jwt_built_and_verified(void)
{
    CU_ASSERT_EQUAL_FATAL(write_sa(sa_path, "http://127.0.0.1:9/token", "service_account"), 0);
    cfg_t c = sa_cfg(sa_path);
    gauth *g = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_source(g), GAUTH_SERVICE_ACCOUNT);
    buf_t jwt = BUF_INIT, h = BUF_INIT, cl = BUF_INIT;
    CU_ASSERT_EQUAL(gauth_jwt(g, (time_t)1795514400, &jwt, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(jwt_verify(jwt.p, jwt.len, &h, &cl), 0);
    UNIT_ASSERT_STR(h.p, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-1\"}");
    UNIT_ASSERT_STR(
        cl.p, "{\"iss\":\"" EMAIL "\",\"scope\":\"https://www.googleapis.com/auth/datastore\","
              "\"aud\":\"http://127.0.0.1:9/token\",\"iat\":1795514400,\"exp\":1795518000}");
    /* one changed claim byte breaks the signature */
    char *d1 = strchr(jwt.p, '.');
    d1[5] = d1[5] == 'A' ? 'B' : 'A';
    buf_reset(&h);
    buf_reset(&cl);
    CU_ASSERT_EQUAL(jwt_verify(jwt.p, jwt.len, &h, &cl), -1);
    buf_free(&jwt);
    buf_free(&h);
    buf_free(&cl);
    gauth_free(g);
}

static void test_exchange_and_cache(void)
{
    endpoint ep = {.expires_in = 3600};
    int port = 0;
    minihttpd *m = mh_start(handler, &ep, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    snprintf(ep.token_uri, sizeof ep.token_uri, "http://127.0.0.1:%d/token", port);
    CU_ASSERT_EQUAL_FATAL(write_sa(sa_path, ep.token_uri, "service_account"), 0);
    cfg_t c = sa_cfg(sa_path);
    gauth *g = NULL;
    char err[512] = "", hdr[GAUTH_HEADER_MAX];
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(ep.failure, "");
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-1");
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-1"); /* cached */
    CU_ASSERT_EQUAL(ep.issued, 1);
    gauth_invalidate(g);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-2");
    gauth_free(g);

    /* a token expiring within 5 minutes is not reused */
    ep.expires_in = GAUTH_REFRESH_MARGIN_S - 1;
    ep.issued = 0;
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-1");
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-2");
    ep.expires_in = GAUTH_REFRESH_MARGIN_S + 60;
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer tok-3");
    CU_ASSERT_EQUAL(ep.issued, 3);
    gauth_free(g);
    mh_stop(m);
}

static void test_refused_credentials(void)
{
    endpoint ep = {.expires_in = 3600};
    int port = 0;
    minihttpd *m = mh_start(handler, &ep, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* the endpoint expects another audience, so the claims check fails */
    snprintf(ep.token_uri, sizeof ep.token_uri, "http://127.0.0.1:%d/other", port);
    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/token", port);
    CU_ASSERT_EQUAL_FATAL(write_sa(sa_path, uri, "service_account"), 0);
    cfg_t c = sa_cfg(sa_path);
    gauth *g = NULL;
    char err[1024] = "", hdr[GAUTH_HEADER_MAX], want[1024];
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 3000, err, sizeof err), CLIP_EAUTH);
    snprintf(want, sizeof want,
             "token endpoint %s (service account " EMAIL " from %s) refused the credentials: "
             "HTTP 400 invalid_grant Invalid JWT Signature.",
             uri, sa_path);
    UNIT_ASSERT_STR(err, want);
    CU_ASSERT_EQUAL(ep.issued, 0);
    gauth_free(g);
    mh_stop(m);
}

static void test_bad_key_files(void)
{
    CU_ASSERT_EQUAL_FATAL(
        write_sa(bad_path, "https://oauth2.googleapis.com/token", "authorized_user"), 0);
    cfg_t c = sa_cfg(bad_path);
    gauth *g = NULL;
    char err[512] = "", want[512];
    CU_ASSERT_EQUAL(gauth_new(&c, &g, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(g);
    snprintf(want, sizeof want,
             "google_credentials_file %s: type is \"authorized_user\", only service_account keys "
             "are supported",
             bad_path);
    UNIT_ASSERT_STR(err, want);
    CU_ASSERT_EQUAL_FATAL(write_sa(bad_path, "http://evil.example/token", "service_account"), 0);
    CU_ASSERT_EQUAL(gauth_new(&c, &g, err, sizeof err), CLIP_EINVAL);
    snprintf(want, sizeof want, "google_credentials_file %s: token_uri must be https", bad_path);
    UNIT_ASSERT_STR(err, want);
    c.google_credentials_file = "/nonexistent/key.json";
    CU_ASSERT_EQUAL(gauth_new(&c, &g, err, sizeof err), CLIP_EIO);
    UNIT_ASSERT_STR(err, "/nonexistent/key.json: No such file or directory");
}

static void test_emulator(void)
{
    cfg_t c;
    memset(&c, 0, sizeof c);
    c.firestore_emulator_host = "127.0.0.1:8080";
    c.google_credentials_file = sa_path; /* the emulator wins */
    gauth *g = NULL;
    char err[256], hdr[GAUTH_HEADER_MAX];
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_source(g), GAUTH_EMULATOR);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 1000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer owner");
    gauth_free(g);
}

static void test_metadata_server(void)
{
    endpoint ep = {.expires_in = 3600};
    int port = 0;
    minihttpd *m = mh_start(handler, &ep, &port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    setenv("GCE_METADATA_HOST", host, 1);
    cfg_t c;
    memset(&c, 0, sizeof c);
    gauth *g = NULL;
    char err[1024] = "", hdr[GAUTH_HEADER_MAX], want[1024];
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_source(g), GAUTH_METADATA);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 2000, err, sizeof err), CLIP_OK);
    UNIT_ASSERT_STR(hdr, "Authorization: Bearer meta-1");
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 2000, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(ep.metadata_hits, 1);
    gauth_free(g);
    mh_stop(m);

    /* nobody there: the error names every source tried */
    CU_ASSERT_EQUAL_FATAL(gauth_new(&c, &g, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(gauth_header(g, hdr, sizeof hdr, 300, err, sizeof err), CLIP_EUNAVAILABLE);
    snprintf(
        want, sizeof want,
        "no Google credentials: FIRESTORE_EMULATOR_HOST and google_credentials_file / "
        "GOOGLE_APPLICATION_CREDENTIALS are unset, and the GCE metadata server %s did not answer",
        host);
    CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
    if (strncmp(err, want, strlen(want)) != 0)
        fprintf(stderr, "got: %s\n", err);
    gauth_free(g);
    unsetenv("GCE_METADATA_HOST");
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_jwt_built_and_verified),
                           UNIT_TEST(test_exchange_and_cache),
                           UNIT_TEST(test_refused_credentials),
                           UNIT_TEST(test_bad_key_files),
                           UNIT_TEST(test_emulator),
                           UNIT_TEST(test_metadata_server),
                           CU_TEST_INFO_NULL};
    return unit_run("gauth", tests, init, clean);
}
