/* keyring: the secrets that sign and check what clipapi hands out (page cursors, event tickets),
 * read from a key file: one key a line, the first signs, every one verifies (a rotation). */
#ifndef CLIP_KEYRING_H
#define CLIP_KEYRING_H

#include <stddef.h>

#include "err.h"

#define KEYRING_KEYS_MAX 8  /* keys one file may hold */
#define KEYRING_KEY_MAX 512 /* bytes of one key */

typedef struct {
    unsigned char key[KEYRING_KEYS_MAX][KEYRING_KEY_MAX];
    size_t len[KEYRING_KEYS_MAX];
    size_t n;
} keyring;

/* Reads path ('#' comments and blank lines ignored, blanks around a key trimmed): at most max_keys
 * keys (<= KEYRING_KEYS_MAX) of min_len..KEYRING_KEY_MAX bytes. Errors name `what` (the
 * configuration key), the file and the line; on error *out is empty. */
clip_err keyring_load(const char *path, const char *what, size_t max_keys, size_t min_len,
                      keyring *out, char *err, size_t errlen);

/* One key derived from another secret: HMAC-SHA256(secret, label); for a keyring no file gives. */
void keyring_derive(keyring *out, const char *secret, size_t n, const char *label);

/* Zeroes the keys. */
void keyring_clear(keyring *k);

#endif
