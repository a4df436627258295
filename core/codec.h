/* codec: the byte encodings every parser and writer shares: UTF-8 validation (RFC 3629),
 * base64 and base64url (RFC 4648). */
#ifndef CLIP_CODEC_H
#define CLIP_CODEC_H

#include <stddef.h>

#include "buf.h"

/* Whether p[0..n) is valid UTF-8: no overlong forms, no surrogates (U+D800-U+DFFF), nothing past
 * U+10FFFF, no truncated sequence. NUL bytes are valid UTF-8; callers that refuse them say so. */
int codec_utf8_valid(const char *p, size_t n);

/* The length of the longest valid UTF-8 prefix of p[0..n) that ends on a whole character: n when
 * all of it is valid, else the offset of the first byte of the first bad sequence. */
size_t codec_utf8_prefix(const char *p, size_t n);

/* Writes the UTF-8 form (1 to 4 bytes) of code point cp (at most U+10FFFF) to out; returns its
 * length. */
size_t codec_utf8_put(char *out, unsigned cp);

/* A JSON \uXXXX escape at p[0..n) (p on the backslash), with the low half that must follow a high
 * surrogate: *cp gets the code point and the call returns the bytes taken (6, or 12 for a pair);
 * 0 when the four hex digits are not there, -1 for a surrogate without its pair (a low one first,
 * or a high one not followed by a low one). */
int codec_json_u_escape(const char *p, size_t n, unsigned *cp);

/* Appends base64 of p[0..n): the standard alphabet padded with '=' (RFC 4648 section 4), or the
 * url alphabet without padding (section 5, as JWS and our cursors use it). 0 ok, -1 oom. */
int codec_base64_encode(buf_t *b, const void *p, size_t n);
int codec_base64url_encode(buf_t *b, const void *p, size_t n);

/* What a decoder accepts: the alphabet, and what it does with '=' padding. */
typedef enum {
    CODEC_B64,          /* standard alphabet, padded: the length is a multiple of 4 */
    CODEC_B64URL,       /* url alphabet, padding optional ("Zg" and "Zg==", never "Zg=") */
    CODEC_B64URL_NOPAD, /* url alphabet, padding refused (JWS compact form, RFC 7515 section 2) */
} codec_b64;

/* Bytes at most that n characters decode to. */
#define CODEC_B64_DECODED_MAX(n) ((n) / 4 * 3 + 2)

/* Decodes s[0..n) into out[0..outcap) and returns the length, or -1 when s is not base64 of that
 * kind (another byte, white space, a length no text has, padding against the kind, spare bits
 * that are not zero: exactly one text per byte string) or the bytes do not fit in outcap. */
long codec_base64_decode(codec_b64 kind, const char *s, size_t n, unsigned char *out,
                         size_t outcap);

/* The same, appended to b. 0 ok, -1 not base64 of that kind or out of memory. */
int codec_base64_decode_buf(codec_b64 kind, const char *s, size_t n, buf_t *b);

#endif
