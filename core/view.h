/* view: the API's JSON, written once for everyone: the user view (VideoInfoResponse, its clips and
 * the listings, CONTRACT section 4), the live-update events, and the workflow view (the stored
 * documents with the contract's field names, clip_stats, upload URLs). */
#ifndef CLIP_VIEW_H
#define CLIP_VIEW_H

#include <time.h>

#include "arena.h"
#include "buf.h"
#include "clips.h"
#include "err.h"
#include "sigv4.h"
#include "videos.h"

#define VIEW_CLIP_CONTENT_TYPE "video/mp4"
#define VIEW_THUMB_CONTENT_TYPE "image/jpeg"

/* How the user view presigns its R2 URLs (thumbnails, clip links). */
typedef struct {
    sig_signer *signer; /* NULL: R2 is not configured, every URL is null */
    long expires;       /* seconds a URL lives (presign_expires) */
    time_t when;        /* the signing time, see view_signing_at */
} view_signing;

/* Signing at `now` rounded down to a multiple of expires/2, so that answers are identical (and
 * cacheable: the video info ETag, the browser's thumbnails) within a window, while every URL handed
 * out still has at least half its life left. */
view_signing view_signing_at(sig_signer *signer, long expires, time_t now);

/* Appends a presigned GET URL for key as a JSON string (with an optional Content-Disposition
 * override), or null when there is no signer or signing fails (logged). 0 when a URL was written.
 */
int view_presigned_get(buf_t *b, const view_signing *s, const char *key, const char *disposition);

/* ---- the user view -------------------------------------------------------------------------- */

/* A clip as the API shows it: {"name":..,"title":..,...,"thumbnail":<presigned or null>,
 * "size":"12.3 MB","size_bytes":N} (plus "error" when it has one). */
void view_clip(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *c);

/* The video fields of VideoInfoResponse, without the braces, "source" and "clips". */
void view_video_fields(buf_t *b, const video_rec *v);

/* VideoInfoResponse: the video, "source" ("firestore" or "r2"), and its clips. */
void view_video_info(buf_t *b, const view_signing *s, const video_rec *v, const char *source,
                     const clip_rec *clips, size_t nclips);

/* {"videos":[<video fields>...],"next_cursor":..} */
void view_video_list(buf_t *b, const video_rec *items, size_t n, const char *next_cursor);

/* {"clips":[<clip>...],"next_cursor":..} */
void view_clip_list(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *items,
                    size_t n, const char *next_cursor);

/* ---- live updates --------------------------------------------------------------------------- */

/* The data of an `event: clip`: the clip exactly as view_clip writes it, plus "updated_at". */
void view_clip_event(buf_t *b, const view_signing *s, const char *video_id, const clip_rec *c);

/* The data of an `event: video`: {<video fields>} (view_video_fields in braces). */
void view_video_event(buf_t *b, const video_rec *v);

/* ---- the workflow view ---------------------------------------------------------------------- */

/* The stored video with the contract's field names (CONTRACT section 2), timestamps in RFC 3339
 * with their fraction; clip_stats is null until the statistics call wrote it. */
void view_stored_video(buf_t *b, const video_rec *v);

/* The stored clip with the contract's field names. */
void view_stored_clip(buf_t *b, const clip_rec *c);

/* {"total":..,"completed":..,"failed":..,"total_size_bytes":..,"total_duration_seconds":..,
 * "by_style":{..}} */
void view_clip_stats(buf_t *b, const video_clip_stats *s);

/* The upload-urls answer: presigned PUT URLs for the clip file (Content-Type video/mp4) and the
 * thumbnail (image/jpeg), signed at `when` for `expires` seconds:
 * {"clip":{"method":"PUT","url":..,"r2_key":..,"content_type":"video/mp4"},
 *  "thumbnail":{...,"content_type":"image/jpeg"},"expires_in":N}. Nothing is appended on error. */
clip_err view_upload_urls(buf_t *b, sig_signer *signer, arena_t *a, const char *uid,
                          const char *video_id, const char *clip_id, const char *filename,
                          long expires, time_t when, char *err, size_t errlen);

#endif
