/* evticket: the tickets that let a browser's EventSource (which cannot send an Authorization
 * header) open the event stream of one video of one user for a few minutes. */
#ifndef CLIP_EVTICKET_H
#define CLIP_EVTICKET_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "ids.h"
#include "keyring.h"

#define EVTICKET_KEYS_MAX 2     /* the current key, and the previous one during a rotation */
#define EVTICKET_KEY_MIN_LEN 32 /* bytes of a key line; shorter ones are refused at load */
#define EVTICKET_KEY_MAX_LEN KEYRING_KEY_MAX
#define EVTICKET_MAC_LEN 32 /* HMAC-SHA256, whole */
/* "<uid>.<video_id>.<expiry>.<base64url MAC>" */
#define EVTICKET_MAX (2 * IDS_MAX + 20 + 3 + 43)

typedef keyring evticket_keys;

/* Reads events_ticket_key_file: one key a line ('#' comments and blank lines ignored), the first
 * signs, every one verifies. Errors name the key file and the line. */
clip_err evticket_load_keys(const char *path, evticket_keys *out, char *err, size_t errlen);
/* Zeroes the keys. */
void evticket_keys_clear(evticket_keys *k);

/* Appends the ticket of uid's video, good until `expires` (Unix time), signed with the first key.
 */
clip_err evticket_make(const evticket_keys *k, const char *uid, const char *video_id,
                       time_t expires, buf_t *out);

/* Checks ticket t[n] for video_id at `now`. CLIP_OK: uid (room for IDS_MAX + 1) is its user.
 * CLIP_EAUTH: malformed, signed by no key, or expired. CLIP_ENOTFOUND: a genuine ticket of the
 * same user for another video. err says which, for the answer. */
clip_err evticket_check(const evticket_keys *k, const char *t, size_t n, const char *video_id,
                        time_t now, char *uid, char *err, size_t errlen);

#endif
