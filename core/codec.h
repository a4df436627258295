/* codec: the byte encodings every parser and writer shares: UTF-8 validation (RFC 3629),
 * base64 and base64url (RFC 4648). */
#ifndef CLIP_CODEC_H
#define CLIP_CODEC_H

#include <stddef.h>

/* Whether p[0..n) is valid UTF-8: no overlong forms, no surrogates (U+D800-U+DFFF), nothing past
 * U+10FFFF, no truncated sequence. NUL bytes are valid UTF-8; callers that refuse them say so. */
int codec_utf8_valid(const char *p, size_t n);

#endif
