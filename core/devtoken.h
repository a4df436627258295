/* devtoken: mints RS256 ID tokens and the matching key set from a local RSA key, for `make run` and
 * tests only. */
#ifndef CLIP_DEVTOKEN_H
#define CLIP_DEVTOKEN_H

#include <openssl/evp.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define DEVTOK_RSA_BITS 2048
/* Longest life of a minted token, seconds (a real Firebase ID token lives one hour). */
#define DEVTOK_EXPIRES_MAX (7L * 86400)
#define DEVTOK_EXPIRES_DEFAULT 3600L
#define DEVTOK_KID_MAX 64
#define DEVTOK_KEYFILE_MAX (64u * 1024)

typedef enum {
    DEVTOK_KEYSET_X509 = 0, /* Google's form: {"<kid>": "-----BEGIN CERTIFICATE-----\n..."} */
    DEVTOK_KEYSET_JWKS,     /* {"keys":
                               [{"kty":"RSA","alg":"RS256","use":"sig","kid":..,"n":..,"e":..}]} */
} devtok_keyset_fmt;

/* A fresh RSA key of DEVTOK_RSA_BITS. */
clip_err devtok_key_generate(EVP_PKEY **out, char *err, size_t errlen);

/* Loads the PEM private key at path; when the file does not exist, generates one and writes it
 * there (mode 0600, never overwriting: a concurrent creator's key wins) and sets *created. */
clip_err devtok_key_load_or_create(const char *path, EVP_PKEY **out, int *created, char *err,
                                   size_t errlen);

/* The key id of key: "dev-" + base64url of the first 12 bytes of SHA-256(public key DER), so the
 * same key always has the same kid. out must hold DEVTOK_KID_MAX bytes. */
clip_err devtok_kid(EVP_PKEY *key, char *out, size_t outlen, char *err, size_t errlen);

/* Appends base64url(header_json) "." base64url(payload_json) "." base64url(RS256 signature) to
 * out; the JSON texts are taken as given (tests use this for tokens with any claims). */
clip_err devtok_sign(EVP_PKEY *key, const char *header_json, const char *payload_json, buf_t *out,
                     char *err, size_t errlen);

/* A Firebase-shaped ID token for uid in project, issued at now, valid for expires seconds. */
clip_err devtok_mint(EVP_PKEY *key, const char *project, const char *uid, long long now,
                     long expires, buf_t *out, char *err, size_t errlen);

/* The key set document (public key only) the verifier fetches, in either form. */
clip_err devtok_keyset(EVP_PKEY *key, devtok_keyset_fmt fmt, buf_t *out, char *err, size_t errlen);

/* 1 when url is http(s) to a loopback host (localhost, 127.0.0.0/8, [::1]), else 0. */
int devtok_url_is_loopback(const char *url);

#endif
