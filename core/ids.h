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

#endif
