/* codec: UTF-8 validation by the table of RFC 3629 section 4; base64 by OpenSSL's block coder,
 * with the url alphabet, the padding rules and the spare-bit check on top. */
#include "codec.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

size_t codec_utf8_prefix(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return i;
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (u[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

int codec_utf8_valid(const char *p, size_t n)
{
    return codec_utf8_prefix(p, n) == n;
}

size_t codec_utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The value of four hex digits at p, or -1. */
static long hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return (long)v;
}

int codec_json_u_escape(const char *p, size_t n, unsigned *cp)
{
    long hi = n >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
    if (hi < 0)
        return 0;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = (unsigned)hi;
        return 6;
    }
    long lo = n >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *cp = 0x10000 + (((unsigned)hi - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
    return 12;
}

/* ---- base64 ---------------------------------------------------------------------------------- */

#define B64_CHUNK_IN (3u << 20) /* bytes per EVP_EncodeBlock call: its length is an int */
#define B64_CHUNK_TEXT 1024     /* characters per EVP_DecodeBlock call (a multiple of 4) */

static int encode(buf_t *b, const void *p, size_t n, int url)
{
    const unsigned char *in = p;
    do {
        size_t k = n > B64_CHUNK_IN ? B64_CHUNK_IN : n;
        size_t text = (k + 2) / 3 * 4;
        if (buf_reserve(b, text) != 0)
            return -1;
        unsigned char *o = (unsigned char *)b->p + b->len;
        EVP_EncodeBlock(o, in, (int)k); /* writes text characters and a NUL */
        if (url) {
            for (size_t i = 0; i < text; i++)
                o[i] = o[i] == '+' ? '-' : o[i] == '/' ? '_' : o[i];
            while (text > 0 && o[text - 1] == '=')
                text--;
            o[text] = '\0';
        }
        b->len += text;
        in += k;
        n -= k;
    } while (n > 0);
    return b->oom ? -1 : 0;
}

int codec_base64_encode(buf_t *b, const void *p, size_t n)
{
    return encode(b, p, n, 0);
}

int codec_base64url_encode(buf_t *b, const void *p, size_t n)
{
    return encode(b, p, n, 1);
}

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* The number of significant characters of s[0..n) under kind's padding rule, or -1. Every
 * character before them must be of the alphabet, and the last one's spare bits zero. */
static long significant(codec_b64 kind, const char *s, size_t n)
{
    int url = kind != CODEC_B64;
    size_t end = n;
    while (end > 0 && n - end < 2 && s[end - 1] == '=')
        end--;
    if (kind == CODEC_B64 && n % 4 != 0)
        return -1;
    if (kind == CODEC_B64URL && end != n && n % 4 != 0)
        return -1;
    if (kind == CODEC_B64URL_NOPAD && end != n)
        return -1;
    if (end % 4 == 1 || end > (size_t)LONG_MAX)
        return -1;
    int last = 0;
    for (size_t i = 0; i < end; i++)
        if ((last = b64_value((unsigned char)s[i], url)) < 0)
            return -1;
    /* two characters carry one byte (4 spare bits), three carry two (2 spare bits) */
    if ((end % 4 == 2 && (last & 0x0F)) || (end % 4 == 3 && (last & 0x03)))
        return -1;
    return (long)end;
}

/* Decodes m characters (already checked) with OpenSSL into out; a last partial quantum is padded
 * with 'A' (zero bits) and only its whole bytes are kept. Returns the bytes written. */
static size_t decode_checked(const char *s, size_t m, int url, unsigned char *out)
{
    char text[B64_CHUNK_TEXT];
    unsigned char bytes[B64_CHUNK_TEXT / 4 * 3];
    size_t o = 0;
    for (size_t i = 0; i < m;) {
        size_t k = m - i > B64_CHUNK_TEXT ? B64_CHUNK_TEXT : m - i;
        memcpy(text, s + i, k);
        size_t whole = (k + 3) / 4 * 4;
        for (size_t j = k; j < whole; j++)
            text[j] = 'A';
        if (url)
            for (size_t j = 0; j < k; j++)
                text[j] = text[j] == '-' ? '+' : text[j] == '_' ? '/' : text[j];
        EVP_DecodeBlock(bytes, (const unsigned char *)text, (int)whole);
        size_t got = k / 4 * 3 + (k % 4 ? k % 4 - 1 : 0);
        memcpy(out + o, bytes, got);
        o += got;
        i += k;
    }
    return o;
}

static size_t decoded_len(size_t m)
{
    return m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
}

long codec_base64_decode(codec_b64 kind, const char *s, size_t n, unsigned char *out,
                         size_t outcap)
{
    long m = significant(kind, s, n);
    if (m < 0 || decoded_len((size_t)m) > outcap)
        return -1;
    return (long)decode_checked(s, (size_t)m, kind != CODEC_B64, out);
}

int codec_base64_decode_buf(codec_b64 kind, const char *s, size_t n, buf_t *b)
{
    long m = significant(kind, s, n);
    if (m < 0)
        return -1;
    size_t len = decoded_len((size_t)m);
    if (buf_reserve(b, len) != 0)
        return -1;
    b->len += decode_checked(s, (size_t)m, kind != CODEC_B64, (unsigned char *)b->p + b->len);
    b->p[b->len] = '\0';
    return 0;
}
