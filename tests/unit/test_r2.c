/* Tests of core/r2 without a network: the ListObjectsV2 parser, its limits, and the configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "r2.h"
#include "unit.h"

static const char page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>clips</Name>"
    "<Prefix>u1/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>u1/a &amp; b \xc3\xa9.mp4</Key><LastModified>2026-11-23T10:00:00.000Z"
    "</LastModified><ETag>&quot;9b2c&quot;</ETag><Size>12897484</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>u1/highlights.json</Key><Size>0</Size></Contents>"
    "<CommonPrefixes><Prefix>u1/v1/</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>u1/v2/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcx/XY+=</NextContinuationToken></ListBucketResult>";

static void test_parse_page(void)
{
    r2_list l;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(r2_parse_list(page, sizeof page - 1, &l, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(l.nobjects, 2);
    UNIT_ASSERT_STR(l.objects[0].key, "u1/a & b \xc3\xa9.mp4");
    CU_ASSERT_EQUAL(l.objects[0].key_len, strlen("u1/a & b \xc3\xa9.mp4"));
    CU_ASSERT_EQUAL(l.objects[0].size, 12897484);
    UNIT_ASSERT_STR(l.objects[0].etag, "\"9b2c\"");
    UNIT_ASSERT_STR(l.objects[0].last_modified, "2026-11-23T10:00:00.000Z");
    UNIT_ASSERT_STR(l.objects[1].key, "u1/highlights.json");
    CU_ASSERT_EQUAL(l.objects[1].size, 0);
    CU_ASSERT_PTR_NULL(l.objects[1].etag);
    CU_ASSERT_EQUAL_FATAL(l.nprefixes, 2);
    UNIT_ASSERT_STR(l.prefixes[0], "u1/v1/");
    UNIT_ASSERT_STR(l.prefixes[1], "u1/v2/");
    CU_ASSERT_TRUE(l.truncated);
    UNIT_ASSERT_STR(l.next_token, "1ueGcx/XY+=");
    r2_list_free(&l);
    CU_ASSERT_EQUAL(l.nobjects, 0);

    const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    CU_ASSERT_EQUAL(r2_parse_list(last, sizeof last - 1, &l, err, sizeof err), CLIP_OK);
    CU_ASSERT_FALSE(l.truncated);
    CU_ASSERT_PTR_NULL(l.next_token);
    CU_ASSERT_EQUAL(l.nobjects, 0);
    r2_list_free(&l);
}

static void expect_bad(const char *xml, size_t n, clip_err want, const char *words)
{
    r2_list l;
    char err[256] = "";
    CU_ASSERT_EQUAL(r2_parse_list(xml, n, &l, err, sizeof err), want);
    if (!strstr(err, words))
        fprintf(stderr, "error '%s' does not say '%s'\n", err, words);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, words));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    r2_list_free(&l);
}

static void test_parse_refuses(void)
{
    const char broken[] = "<ListBucketResult><Contents><Key>x</Key></Contents>";
    expect_bad(broken, sizeof broken - 1, CLIP_EBACKEND, "bad XML");
    const char nokey[] = "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>";
    expect_bad(nokey, sizeof nokey - 1, CLIP_EBACKEND, "without <Key>");
    const char badsize[] =
        "<ListBucketResult><Contents><Key>k</Key><Size>-3</Size></Contents></ListBucketResult>";
    expect_bad(badsize, sizeof badsize - 1, CLIP_EBACKEND, "<Size>");
    const char doctype[] =
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\">]>"
        "<ListBucketResult><Contents><Key>&a;</Key></Contents></ListBucketResult>";
    expect_bad(doctype, sizeof doctype - 1, CLIP_EBACKEND, "DOCTYPE");

    /* a text field over R2_TEXT_MAX */
    buf_t b = BUF_INIT;
    buf_puts(&b, "<ListBucketResult><Contents><Key>");
    for (unsigned i = 0; i < R2_TEXT_MAX + 1; i++)
        buf_putc(&b, 'k');
    buf_puts(&b, "</Key></Contents></ListBucketResult>");
    expect_bad(b.p, b.len, CLIP_EBACKEND, "size limit");
    buf_reset(&b);
    /* more objects than one page may hold */
    buf_puts(&b, "<ListBucketResult>");
    for (int i = 0; i <= R2_LIST_MAX_KEYS; i++)
        buf_printf(&b, "<Contents><Key>k%d</Key><Size>1</Size></Contents>", i);
    buf_puts(&b, "</ListBucketResult>");
    expect_bad(b.p, b.len, CLIP_EBACKEND, "more objects");
    buf_reset(&b);
    /* an answer over the cap is not parsed at all */
    char *huge = calloc(1, R2_LIST_XML_MAX + 1);
    expect_bad(huge, R2_LIST_XML_MAX + 1, CLIP_ETOOBIG, "over");
    free(huge);
    buf_free(&b);
}

static void test_config(void)
{
    const char *vars[] = {"CLIPAPI_R2_ENDPOINT",      "CLIPAPI_R2_BUCKET",
                          "CLIPAPI_R2_ACCESS_KEY_ID", "CLIPAPI_R2_SECRET_ACCESS_KEY",
                          "CLIPAPI_R2_SESSION_TOKEN", "CLIPAPI_R2_ADDRESSING",
                          "CLIPAPI_R2_REGION"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    char err[512];
    cfg_t *c = NULL;
    setenv("CLIPAPI_R2_ENDPOINT", "https://acc.r2.cloudflarestorage.com", 1);
    setenv("CLIPAPI_R2_BUCKET", "clips", 1);
    setenv("CLIPAPI_R2_ACCESS_KEY_ID", "AK", 1);
    CU_ASSERT_EQUAL_FATAL(cfg_load("/dev/null", &c, err, sizeof err), CLIP_OK);
    r2_client *r = NULL;
    CU_ASSERT_EQUAL(r2_client_new(c, &r, err, sizeof err), CLIP_EINVAL);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "r2_secret_access_key: not set"));
    cfg_free(c);

    setenv("CLIPAPI_R2_SECRET_ACCESS_KEY", "SK", 1);
    setenv("CLIPAPI_R2_ADDRESSING", "virtual", 1);
    CU_ASSERT_EQUAL_FATAL(cfg_load("/dev/null", &c, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL_FATAL(r2_client_new(c, &r, err, sizeof err), CLIP_OK);
    buf_t url = BUF_INIT;
    sig_presign_req req = {.method = SIG_GET, .key = "k", .key_len = 1, .expires = 60};
    CU_ASSERT_EQUAL(sig_presign(r2_client_signer(r), &req, &url, err, sizeof err), CLIP_OK);
    CU_ASSERT_EQUAL(strncmp(url.p, "https://clips.acc.r2.cloudflarestorage.com/k?", 45), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(url.p, "%2Fauto%2Fs3%2Faws4_request"));
    buf_free(&url);
    r2_client_free(r);
    cfg_free(c);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_parse_page), UNIT_TEST(test_parse_refuses),
                           UNIT_TEST(test_config), CU_TEST_INFO_NULL};
    return unit_run("r2", tests, NULL, NULL);
}
