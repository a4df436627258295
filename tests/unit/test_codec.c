/* Tests of core/codec: UTF-8 validation, base64 and base64url with each decoder's strictness. */
#include <string.h>

#include "codec.h"
#include "unit.h"

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n, prefix;
    } cases[] = {
        {"", 0, 0},
        {"plain", 5, 5},
        {"caf\xc3\xa9", 5, 5},
        {"\xe2\x82\xac", 3, 3},      /* U+20AC */
        {"\xf0\x9f\x98\x80", 4, 4},  /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, 4},  /* U+10FFFF, the last code point */
        {"a\0b", 3, 3},              /* NUL is UTF-8 */
        {"a\xc0\xaf", 3, 1},         /* overlong '/' */
        {"\xe0\x80\xaf", 3, 0},      /* overlong in three bytes */
        {"\xf0\x80\x80\xaf", 4, 0},  /* overlong in four bytes */
        {"ab\xed\xa0\x80", 5, 2},    /* U+D800, a surrogate */
        {"\xed\xbf\xbf", 3, 0},      /* U+DFFF */
        {"\xf4\x90\x80\x80", 4, 0},  /* U+110000, past the last code point */
        {"\xff", 1, 0},
        {"\x80", 1, 0},              /* a continuation byte alone */
        {"xy\xe2\x82", 4, 2},        /* truncated */
        {"\xc3\x28", 2, 0},          /* a bad continuation */
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* five-byte forms do not exist */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = codec_utf8_prefix(cases[i].s, cases[i].n);
        if (got != cases[i].prefix)
            fprintf(stderr, "case %zu: prefix %zu, want %zu\n", i, got, cases[i].prefix);
        CU_ASSERT_EQUAL(got, cases[i].prefix);
        CU_ASSERT_EQUAL(codec_utf8_valid(cases[i].s, cases[i].n), cases[i].prefix == cases[i].n);
    }
}

static void test_base64(void)
{
    const char *texts[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    const char *url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        buf_t b = BUF_INIT, d = BUF_INIT;
        codec_base64_encode(&b, texts[i], strlen(texts[i]));
        UNIT_ASSERT_STR(b.len ? b.p : "", std[i]);
        CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, std[i], strlen(std[i]), &d), 0);
        CU_ASSERT_EQUAL(d.len, strlen(texts[i]));
        CU_ASSERT_TRUE(d.len == 0 || memcmp(d.p, texts[i], d.len) == 0);
        buf_reset(&b);
        buf_reset(&d);
        codec_base64url_encode(&b, texts[i], strlen(texts[i]));
        UNIT_ASSERT_STR(b.len ? b.p : "", url[i]);
        CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, url[i], strlen(url[i]), &d), 0);
        CU_ASSERT_EQUAL(d.len, strlen(texts[i]));
        CU_ASSERT_TRUE(d.len == 0 || memcmp(d.p, texts[i], d.len) == 0);
        /* base64url takes the padded form too */
        buf_reset(&d);
        CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, std[i], strlen(std[i]), &d), 0);
        CU_ASSERT_EQUAL(d.len, strlen(texts[i]));
        buf_free(&b);
        buf_free(&d);
    }
    buf_t d = BUF_INIT;
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zh==", 4, &d), -1); /* non-zero spare bits */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zm9=", 4, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Z", 1, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Zm9v!", 5, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zm8", 3, &d), -1); /* standard needs padding */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Zg=", 3, &d), -1); /* half a padding */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Zg===", 5, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Z===", 4, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zg==Zg==", 8, &d), -1); /* padding inside */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "-_-_", 4, &d), -1);     /* url alphabet */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "+/+/", 4, &d), -1);  /* standard one */
    /* OpenSSL's block decoder skips white space around the text: the codec does not */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, " Zm9v", 5, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zm9v\n", 5, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "Zm9v    ", 8, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Zm9v\r\n", 6, &d), -1);
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64URL, "Zm\0v", 4, &d), -1);
    CU_ASSERT_EQUAL(d.len, 0);
    /* "-_-_" is the url form of 0xfb 0xff 0xbf; "+/+/" the standard one */
    CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, "+/+/", 4, &d), 0);
    CU_ASSERT_EQUAL(d.len, 3);
    CU_ASSERT_EQUAL(memcmp(d.p, "\xfb\xff\xbf", 3), 0);
    buf_free(&d);
}

static void test_b64url(void)
{
    unsigned char out[16];
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "", 0, out, sizeof out), 0);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9v", 4, out, sizeof out), 3);
    CU_ASSERT_EQUAL(memcmp(out, "foo", 3), 0);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYg", 6, out, sizeof out), 4);
    CU_ASSERT_EQUAL(memcmp(out, "foob", 4), 0);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYmE", 7, out, sizeof out), 5);
    CU_ASSERT_EQUAL(memcmp(out, "fooba", 5), 0);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "-_-_", 4, out, sizeof out), 3);
    CU_ASSERT_EQUAL(out[0], 0xfb);
    CU_ASSERT_EQUAL(out[1], 0xff);
    CU_ASSERT_EQUAL(out[2], 0xbf);
    /* padding */
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYg==", 8, out, sizeof out), -1);
    /* plain base64 */
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "+/+/", 4, out, sizeof out), -1);
    /* impossible length */
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vY", 5, out, sizeof out), -1);
    /* stray low bits */
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYh", 6, out, sizeof out), -1);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYmF", 7, out, sizeof out), -1);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm 9v", 5, out, sizeof out), -1);
    /* does not fit */
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9v", 4, out, 2), -1);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYg", 6, out, 3), -1);
    CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, "Zm9vYg", 6, out, 4), 4);
    buf_t b = BUF_INIT;
    CU_ASSERT_EQUAL(codec_base64url_encode(&b, "\xfb\xff\xbf"
                                               "fooba",
                                           8),
                    0);
    UNIT_ASSERT_STR(b.p, "-_-_Zm9vYmE");
    buf_free(&b);
}

/* Texts longer than one block of OpenSSL's coder (the codec works in chunks), every length of the
 * last quantum, both alphabets; each byte string has one text and decodes back to itself. */
static void test_base64_long(void)
{
    unsigned char raw[5003];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof raw; i++) {
        x = x * 1103515245u + 12345u;
        raw[i] = (unsigned char)(x >> 16);
    }
    for (size_t n = 4990; n <= sizeof raw; n++) {
        buf_t s = BUF_INIT, u = BUF_INIT, d = BUF_INIT;
        CU_ASSERT_EQUAL(codec_base64_encode(&s, raw, n), 0);
        CU_ASSERT_EQUAL(codec_base64url_encode(&u, raw, n), 0);
        CU_ASSERT_EQUAL(s.len, (n + 2) / 3 * 4);
        CU_ASSERT_EQUAL(u.len, n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0));
        CU_ASSERT_PTR_NULL(memchr(u.p, '+', u.len));
        CU_ASSERT_PTR_NULL(memchr(u.p, '/', u.len));
        CU_ASSERT_PTR_NULL(memchr(u.p, '=', u.len));
        /* the two differ only in the alphabet and the padding */
        for (size_t i = 0; i < u.len; i++)
            CU_ASSERT_EQUAL(u.p[i], s.p[i] == '+' ? '-' : s.p[i] == '/' ? '_' : s.p[i]);
        CU_ASSERT_EQUAL(codec_base64_decode_buf(CODEC_B64, s.p, s.len, &d), 0);
        CU_ASSERT_TRUE(d.len == n && memcmp(d.p, raw, n) == 0);
        unsigned char back[sizeof raw];
        CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, u.p, u.len, back, sizeof back),
                        (long)n);
        CU_ASSERT_EQUAL(memcmp(back, raw, n), 0);
        /* a character changed in the middle decodes to other bytes, a bad one is refused */
        u.p[u.len / 2] = '*';
        CU_ASSERT_EQUAL(codec_base64_decode(CODEC_B64URL_NOPAD, u.p, u.len, back, sizeof back),
                        -1);
        buf_free(&s);
        buf_free(&u);
        buf_free(&d);
    }
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_utf8), UNIT_TEST(test_base64), UNIT_TEST(test_b64url),
                           UNIT_TEST(test_base64_long), CU_TEST_INFO_NULL};
    return unit_run("codec", tests, NULL, NULL);
}
