/* devtoken: RS256 dev tokens and their key set (x509 or JWKS) from a local RSA key. */
#include "devtoken.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "idtoken.h"
#include "ids.h"

#define DEVTOK_CERT_DAYS 3650
#define DEVTOK_KID_HASH_BYTES 12
#define DEVTOK_PROJECT_MAX 128

static clip_err ossl_fail(clip_err e, char *err, size_t errlen, const char *what)
{
    unsigned long code = ERR_get_error();
    char reason[160] = "";
    if (code)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    return clip_fail(e, err, errlen, "%s%s%s", what, code ? ": " : "", reason);
}

clip_err devtok_key_generate(EVP_PKEY **out, char *err, size_t errlen)
{
    *out = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    int ok = pc && EVP_PKEY_keygen_init(pc) == 1 &&
             EVP_PKEY_CTX_set_rsa_keygen_bits(pc, DEVTOK_RSA_BITS) == 1 &&
             EVP_PKEY_generate(pc, out) == 1;
    EVP_PKEY_CTX_free(pc);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return ossl_fail(CLIP_EINTERNAL, err, errlen, "generating an RSA key");
    }
    return CLIP_OK;
}

static clip_err key_load(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return clip_fail(CLIP_EIO, err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > DEVTOK_KEYFILE_MAX) {
        fclose(f);
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: not a regular file of at most %u bytes",
                         path, DEVTOK_KEYFILE_MAX);
    }
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pk)
        return ossl_fail(CLIP_EINVAL, err, errlen, "not a PEM private key");
    if (!EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_bits(pk) < DEVTOK_RSA_BITS) {
        EVP_PKEY_free(pk);
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: not an RSA key of at least %d bits", path,
                         DEVTOK_RSA_BITS);
    }
    *out = pk;
    return CLIP_OK;
}

clip_err devtok_key_load_or_create(const char *path, EVP_PKEY **out, int *created, char *err,
                                   size_t errlen)
{
    *out = NULL;
    *created = 0;
    if (access(path, F_OK) == 0)
        return key_load(path, out, err, errlen);
    EVP_PKEY *pk;
    clip_err e = devtok_key_generate(&pk, err, errlen);
    if (e != CLIP_OK)
        return e;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        EVP_PKEY_free(pk);
        if (errno == EEXIST) /* someone else just created it: use theirs */
            return key_load(path, out, err, errlen);
        return clip_fail(CLIP_EIO, err, errlen, "%s: %s", path, strerror(errno));
    }
    FILE *f = fdopen(fd, "w");
    int ok = f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
    if (f)
        ok = (fclose(f) == 0) && ok;
    else
        close(fd);
    if (!ok) {
        EVP_PKEY_free(pk);
        unlink(path);
        return ossl_fail(CLIP_EIO, err, errlen, "writing the key file");
    }
    *out = pk;
    *created = 1;
    return CLIP_OK;
}

clip_err devtok_kid(EVP_PKEY *key, char *out, size_t outlen, char *err, size_t errlen)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0)
        return ossl_fail(CLIP_EINTERNAL, err, errlen, "encoding the public key");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1;
    OPENSSL_free(der);
    if (!ok)
        return ossl_fail(CLIP_EINTERNAL, err, errlen, "hashing the public key");
    buf_t b = BUF_INIT;
    buf_puts(&b, "dev-");
    codec_base64url_encode(&b, md, DEVTOK_KID_HASH_BYTES);
    if (b.oom || b.len >= outlen || b.len >= DEVTOK_KID_MAX) {
        buf_free(&b);
        return clip_fail(CLIP_EINTERNAL, err, errlen, "kid does not fit");
    }
    memcpy(out, b.p, b.len + 1);
    buf_free(&b);
    return CLIP_OK;
}

clip_err devtok_sign(EVP_PKEY *key, const char *header_json, const char *payload_json, buf_t *out,
                     char *err, size_t errlen)
{
    size_t start = out->len;
    codec_base64url_encode(out, header_json, strlen(header_json));
    buf_putc(out, '.');
    codec_base64url_encode(out, payload_json, strlen(payload_json));
    if (out->oom)
        return clip_fail(CLIP_ENOMEM, err, errlen, "token: out of memory");
    size_t signed_len = out->len - start;
    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok =
        md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->p + start, signed_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return ossl_fail(CLIP_EINTERNAL, err, errlen, "signing the token");
    buf_putc(out, '.');
    codec_base64url_encode(out, sig, siglen);
    return out->oom ? clip_fail(CLIP_ENOMEM, err, errlen, "token: out of memory") : CLIP_OK;
}

clip_err devtok_mint(EVP_PKEY *key, const char *project, const char *uid, long long now,
                     long expires, buf_t *out, char *err, size_t errlen)
{
    size_t plen = strlen(project), ulen = strlen(uid);
    if (plen == 0 || plen > DEVTOK_PROJECT_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "project: must be 1-%d bytes",
                         DEVTOK_PROJECT_MAX);
    if (!ids_valid_id(uid, ulen))
        return clip_fail(CLIP_EINVAL, err, errlen, "uid: must be 1-%d bytes of A-Z a-z 0-9 _ -",
                         IDS_MAX);
    if (expires < 1 || expires > DEVTOK_EXPIRES_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "expires: must be 1-%ld seconds",
                         DEVTOK_EXPIRES_MAX);
    char kid[DEVTOK_KID_MAX];
    clip_err e = devtok_kid(key, kid, sizeof kid, err, errlen);
    if (e != CLIP_OK)
        return e;
    buf_t h = BUF_INIT, p = BUF_INIT;
    buf_printf(&h, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    buf_puts(&p, "{\"iss\":\"https://securetoken.google.com/");
    /* the project goes inside a JSON string: escape it, then drop buf_json_str's quotes */
    buf_t q = BUF_INIT;
    buf_json_str(&q, project, plen);
    if (q.len >= 2)
        buf_append(&p, q.p + 1, q.len - 2);
    buf_puts(&p, "\",\"aud\":");
    buf_json_str(&p, project, plen);
    buf_printf(&p,
               ",\"auth_time\":%lld,\"user_id\":\"%s\",\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,"
               "\"firebase\":{\"identities\":{},\"sign_in_provider\":\"custom\"}}",
               now, uid, uid, now, now + expires);
    buf_free(&q);
    if (h.oom || p.oom)
        e = clip_fail(CLIP_ENOMEM, err, errlen, "token: out of memory");
    else
        e = devtok_sign(key, h.p, p.p, out, err, errlen);
    buf_free(&h);
    buf_free(&p);
    return e;
}

static clip_err cert_pem(EVP_PKEY *key, buf_t *out, char *err, size_t errlen)
{
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    int ok = x && bio && name && X509_set_version(x, 2) == 1 &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), (long)DEVTOK_CERT_DAYS * 86400) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"clipapi dev token key", -1, -1,
                                        0) == 1 &&
             X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key) == 1 &&
             X509_sign(x, key, EVP_sha256()) > 0 && PEM_write_bio_X509(bio, x) == 1;
    char *mem = NULL;
    long n = ok ? BIO_get_mem_data(bio, &mem) : 0;
    if (ok && n > 0)
        buf_json_str(out, mem, (size_t)n);
    X509_free(x);
    BIO_free(bio);
    if (!ok || n <= 0)
        return ossl_fail(CLIP_EINTERNAL, err, errlen, "making the certificate");
    return CLIP_OK;
}

static int put_bn(buf_t *out, EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
        return -1;
    unsigned char raw[1024];
    int n = BN_num_bytes(bn);
    if (n <= 0 || (size_t)n > sizeof raw) {
        BN_free(bn);
        return -1;
    }
    BN_bn2bin(bn, raw);
    BN_free(bn);
    buf_putc(out, '"');
    codec_base64url_encode(out, raw, (size_t)n);
    buf_putc(out, '"');
    return 0;
}

clip_err devtok_keyset(EVP_PKEY *key, devtok_keyset_fmt fmt, buf_t *out, char *err, size_t errlen)
{
    char kid[DEVTOK_KID_MAX];
    clip_err e = devtok_kid(key, kid, sizeof kid, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (fmt == DEVTOK_KEYSET_X509) {
        buf_printf(out, "{\"%s\":", kid);
        if ((e = cert_pem(key, out, err, errlen)) != CLIP_OK)
            return e;
        buf_puts(out, "}\n");
    } else {
        buf_printf(out,
                   "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":\"%s\","
                   "\"n\":",
                   kid);
        if (put_bn(out, key, OSSL_PKEY_PARAM_RSA_N) != 0)
            return ossl_fail(CLIP_EINTERNAL, err, errlen, "reading the modulus");
        buf_puts(out, ",\"e\":");
        if (put_bn(out, key, OSSL_PKEY_PARAM_RSA_E) != 0)
            return ossl_fail(CLIP_EINTERNAL, err, errlen, "reading the exponent");
        buf_puts(out, "}]}\n");
    }
    return out->oom ? clip_fail(CLIP_ENOMEM, err, errlen, "key set: out of memory") : CLIP_OK;
}

int devtok_url_is_loopback(const char *url)
{
    const char *h;
    if (strncasecmp(url, "http://", 7) == 0)
        h = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        h = url + 8;
    else
        return 0;
    size_t n;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (!close)
            return 0;
        n = (size_t)(close + 1 - h);
        if (!(n == 5 && memcmp(h, "[::1]", 5) == 0))
            return 0;
    } else {
        n = strcspn(h, ":/?#");
        if (memchr(h, '@', n)) /* userinfo: the real host follows it */
            return 0;
        if (!(n == 9 && strncasecmp(h, "localhost", 9) == 0)) {
            /* 127.a.b.c, all four parts decimal 0-255 */
            if (n < 9 || strncmp(h, "127.", 4) != 0)
                return 0;
            int parts = 2, val = -1; /* "127" and the part being read */
            for (size_t i = 4; i < n; i++) {
                if (h[i] == '.') {
                    if (val < 0)
                        return 0;
                    parts++, val = -1;
                } else if (h[i] >= '0' && h[i] <= '9') {
                    val = (val < 0 ? 0 : val) * 10 + (h[i] - '0');
                    if (val > 255)
                        return 0;
                } else {
                    return 0;
                }
            }
            if (parts != 4 || val < 0)
                return 0;
        }
    }
    char c = h[n];
    return c == '\0' || c == ':' || c == '/' || c == '?' || c == '#';
}
