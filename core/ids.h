/* ids: the validators of CONTRACT section 2 for every identifier that reaches Firestore or R2. */
#ifndef CLIP_IDS_H
#define CLIP_IDS_H

#include <stddef.h>

#define IDS_MAX 128 /* bytes, for uid, video_id, clip_id and filename */

/* 1-128 bytes of [A-Za-z0-9_-]: uid, video_id, clip_id. */
int ids_valid_id(const char *p, size_t n);
/* An id that may also hold '.', but not "..", '/', or a leading dot. */
int ids_valid_filename(const char *p, size_t n);
/* A style: 1-64 bytes of [a-z0-9-]. */
int ids_valid_style(const char *p, size_t n);

#define IDS_STYLE_MAX 64

/* p (n bytes) is one of the nwords words (a status of CONTRACT section 2). */
int ids_one_of(const char *p, size_t n, const char *const *words, size_t nwords);

#define IDS_STR_(x) #x
#define IDS_STR(x) IDS_STR_(x)
/* What a refusal says of each kind, from the limits above. */
#define IDS_ID_RULE "must be 1-" IDS_STR(IDS_MAX) " bytes of [A-Za-z0-9_-]"
#define IDS_FILENAME_RULE                                                                          \
    "must be 1-" IDS_STR(IDS_MAX) " bytes of [A-Za-z0-9._-], no '..' and no leading dot"
#define IDS_STYLE_RULE "must be 1-" IDS_STR(IDS_STYLE_MAX) " bytes of [a-z0-9-]"

#endif
