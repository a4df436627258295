/* evticket: HMAC-SHA256 over (uid, video_id, expiry), keys from a file, two during a rotation. */
#include "evticket.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"

/* Joined by NUL bytes under a label: no field can run into the next, no other MAC of ours
 * (cursors) can pass for a ticket. */
#define EVTICKET_LABEL "clipapi-events-ticket-v1"
#define EVTICKET_EXPIRY_DIGITS 12

static int mac_b64(const unsigned char *key, size_t klen, const char *uid, size_t un,
                   const char *video_id, size_t vn, const char *exp, size_t en, buf_t *out)
{
    buf_t m = BUF_INIT;
    buf_append(&m, EVTICKET_LABEL, sizeof EVTICKET_LABEL); /* with its NUL */
    buf_append(&m, uid, un);
    buf_append(&m, "\0", 1);
    buf_append(&m, video_id, vn);
    buf_append(&m, "\0", 1);
    buf_append(&m, exp, en);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok =
        !m.oom &&
        HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)m.p, m.len, mac, &len) != NULL &&
        len == EVTICKET_MAC_LEN;
    buf_free(&m);
    if (ok)
        ok = codec_base64url_encode(out, mac, EVTICKET_MAC_LEN) == 0 && !out->oom;
    OPENSSL_cleanse(mac, sizeof mac);
    return ok ? 0 : -1;
}

clip_err evticket_load_keys(const char *path, evticket_keys *out, char *err, size_t errlen)
{
    return keyring_load(path, "events_ticket_key_file", EVTICKET_KEYS_MAX, EVTICKET_KEY_MIN_LEN,
                        out, err, errlen);
}

void evticket_keys_clear(evticket_keys *k)
{
    keyring_clear(k);
}

clip_err evticket_make(const evticket_keys *k, const char *uid, const char *video_id,
                       time_t expires, buf_t *out)
{
    size_t un = strlen(uid), vn = strlen(video_id);
    if (!k || k->n == 0 || !ids_valid_id(uid, un) || !ids_valid_id(video_id, vn) || expires <= 0)
        return CLIP_EINTERNAL;
    char exp[EVTICKET_EXPIRY_DIGITS + 8];
    int en = snprintf(exp, sizeof exp, "%lld", (long long)expires);
    if (en <= 0 || en > EVTICKET_EXPIRY_DIGITS)
        return CLIP_EINTERNAL;
    buf_printf(out, "%s.%s.%s.", uid, video_id, exp);
    if (mac_b64(k->key[0], k->len[0], uid, un, video_id, vn, exp, (size_t)en, out) != 0 || out->oom)
        return CLIP_ENOMEM;
    return CLIP_OK;
}

/* The next '.'-separated field of t[n] from *pos. */
static int field(const char *t, size_t n, size_t *pos, const char **p, size_t *len)
{
    if (*pos > n)
        return -1;
    const char *s = t + *pos;
    const char *dot = memchr(s, '.', n - *pos);
    *p = s;
    *len = dot ? (size_t)(dot - s) : n - *pos;
    *pos += *len + 1;
    return 0;
}

clip_err evticket_check(const evticket_keys *k, const char *t, size_t n, const char *video_id,
                        time_t now, char *uid, char *err, size_t errlen)
{
    uid[0] = '\0';
    const char *u, *v, *x, *m;
    size_t un, vn, xn, mn, pos = 0;
    if (n > EVTICKET_MAX || field(t, n, &pos, &u, &un) != 0 || field(t, n, &pos, &v, &vn) != 0 ||
        field(t, n, &pos, &x, &xn) != 0 || field(t, n, &pos, &m, &mn) != 0 || pos != n + 1 ||
        !ids_valid_id(u, un) || !ids_valid_id(v, vn) || xn == 0 || xn > EVTICKET_EXPIRY_DIGITS ||
        strspn(x, "0123456789") < xn || mn != 43)
        return clip_fail(CLIP_EAUTH, err, errlen, "the ticket is malformed");
    int good = 0;
    for (size_t i = 0; k && i < k->n; i++) {
        buf_t want = BUF_INIT;
        if (mac_b64(k->key[i], k->len[i], u, un, v, vn, x, xn, &want) == 0 && want.len == mn)
            good |= CRYPTO_memcmp(want.p, m, mn) == 0;
        buf_free(&want);
    }
    if (!good)
        return clip_fail(CLIP_EAUTH, err, errlen, "the ticket is not valid");
    long long exp = 0;
    for (size_t i = 0; i < xn; i++)
        exp = exp * 10 + (x[i] - '0');
    if (exp <= (long long)now)
        return clip_fail(CLIP_EAUTH, err, errlen, "the ticket has expired; ask for a new one");
    if (strlen(video_id) != vn || memcmp(video_id, v, vn) != 0)
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "the ticket is for another video");
    memcpy(uid, u, un);
    uid[un] = '\0';
    return CLIP_OK;
}
