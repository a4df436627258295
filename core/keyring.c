/* keyring: key files, line by line, and keys derived by HMAC. */
#include "keyring.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

clip_err keyring_load(const char *path, const char *what, size_t max_keys, size_t min_len,
                      keyring *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (max_keys > KEYRING_KEYS_MAX)
        max_keys = KEYRING_KEYS_MAX;
    FILE *f = fopen(path, "r");
    if (!f)
        return clip_fail(CLIP_EINVAL, err, errlen, "%s: cannot read %s: %s", what, path,
                         strerror(errno));
    char line[KEYRING_KEY_MAX + 4];
    int lineno = 0;
    clip_err rc = CLIP_OK;
    while (rc == CLIP_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(f)) {
            rc = clip_fail(CLIP_EINVAL, err, errlen, "%s: %s:%d: key longer than %d bytes", what,
                           path, lineno, KEYRING_KEY_MAX);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
            line[--len] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++, len--;
        if (len == 0 || *s == '#')
            continue;
        if (len < min_len)
            rc = clip_fail(CLIP_EINVAL, err, errlen, "%s: %s:%d: key shorter than %zu bytes", what,
                           path, lineno, min_len);
        else if (len > KEYRING_KEY_MAX)
            rc = clip_fail(CLIP_EINVAL, err, errlen, "%s: %s:%d: key longer than %d bytes", what,
                           path, lineno, KEYRING_KEY_MAX);
        else if (out->n == max_keys)
            rc = clip_fail(CLIP_EINVAL, err, errlen,
                           "%s: %s: more than %zu keys (the new one first, the old one second "
                           "during a rotation)",
                           what, path, max_keys);
        else {
            memcpy(out->key[out->n], s, len);
            out->len[out->n++] = len;
        }
    }
    fclose(f);
    OPENSSL_cleanse(line, sizeof line);
    if (rc == CLIP_OK && out->n == 0)
        rc = clip_fail(CLIP_EINVAL, err, errlen, "%s: %s holds no key", what, path);
    if (rc != CLIP_OK)
        keyring_clear(out);
    return rc;
}

void keyring_derive(keyring *out, const char *secret, size_t n, const char *label)
{
    memset(out, 0, sizeof *out);
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), secret, (int)n, (const unsigned char *)label, strlen(label), out->key[0],
             &len) &&
        len > 0) {
        out->len[0] = len;
        out->n = 1;
    }
}

void keyring_clear(keyring *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}
