/* wreply: the answers of the workflow's calls as JSON (stored video, stored clip, clip_stats,
 * upload URLs), shared by the internal endpoints and clipctl. */
#ifndef CLIP_WREPLY_H
#define CLIP_WREPLY_H

#include <time.h>

#include "buf.h"
#include "clips.h"
#include "err.h"
#include "sigv4.h"
#include "videos.h"

#define WREPLY_CLIP_CONTENT_TYPE "video/mp4"
#define WREPLY_THUMB_CONTENT_TYPE "image/jpeg"

/* The video document with the contract's field names (CONTRACT section 2), timestamps in
 * RFC 3339; clip_stats is null until the stats call wrote it. */
void wreply_video(buf_t *b, const video_rec *v);

/* The clip document with the contract's field names. */
void wreply_clip(buf_t *b, const clip_rec *c);

/* The clip_stats map: {"total":..,"completed":..,"failed":..,"total_size_bytes":..,
 * "total_duration_seconds":..,"by_style":{..}}. */
void wreply_stats(buf_t *b, const video_clip_stats *s);

/* The R2 keys of a clip file and its thumbnail (CONTRACT section 2) into clip_key / thumb_key;
 * CLIP_EINVAL when they do not fit. */
clip_err wreply_upload_keys(const char *uid, const char *video_id, const char *clip_id,
                            const char *filename, char *clip_key, size_t clip_len, char *thumb_key,
                            size_t thumb_len, char *err, size_t errlen);

/* The upload-urls answer: presigned PUT URLs for the clip file (Content-Type video/mp4) and the
 * thumbnail (image/jpeg), signed at `when` for `expires` seconds:
 * {"clip":{"method":"PUT","url":..,"r2_key":..,"content_type":"video/mp4"},
 *  "thumbnail":{...,"content_type":"image/jpeg"},"expires_in":N}. Nothing is appended on error. */
clip_err wreply_upload(sig_signer *s, buf_t *b, const char *uid, const char *video_id,
                       const char *clip_id, const char *filename, long expires, time_t when,
                       char *err, size_t errlen);


#endif
