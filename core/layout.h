/* layout: where clipapi's data lives: the Firestore document paths and the R2 object keys of
 * CONTRACT sections 2 and 3, built here and nowhere else. */
#ifndef CLIP_LAYOUT_H
#define CLIP_LAYOUT_H

#include "arena.h"

#define LAYOUT_THUMB_EXT ".jpg" /* a thumbnail is {clip_id}.jpg */
#define LAYOUT_CLIP_EXT ".mp4"  /* a clip file's default name is {clip_id}.mp4 */
#define LAYOUT_HIGHLIGHTS "highlights.json"
#define LAYOUT_CLIPS_DIR "clips/"
#define LAYOUT_THUMBS_DIR "thumbnails/"

/* Every function returns a NUL-terminated string in the arena, or NULL when it is out of memory.
 * The ids are not checked here: callers pass validated ids (ids.h). */

/* Firestore, relative to the database's documents: users/{uid}, users/{uid}/videos/{video_id},
 * .../clips (the collection), .../clips/{clip_id}. */
const char *layout_user_doc(arena_t *a, const char *uid);
const char *layout_video_doc(arena_t *a, const char *uid, const char *video_id);
const char *layout_clips_collection(arena_t *a, const char *uid, const char *video_id);
const char *layout_clip_doc(arena_t *a, const char *uid, const char *video_id, const char *clip_id);

/* R2: {uid}/, {uid}/{video_id}/ and {uid}/{video_id}/{dir} (dir LAYOUT_CLIPS_DIR or
 * LAYOUT_THUMBS_DIR), the prefixes of the listings. */
const char *layout_user_prefix(arena_t *a, const char *uid);
const char *layout_video_prefix(arena_t *a, const char *uid, const char *video_id, const char *dir);
/* {uid}/{video_id}/clips/{filename} */
const char *layout_clip_key(arena_t *a, const char *uid, const char *video_id,
                            const char *filename);
/* {uid}/{video_id}/thumbnails/{clip_id}.jpg */
const char *layout_thumb_key(arena_t *a, const char *uid, const char *video_id,
                             const char *clip_id);
/* {uid}/{video_id}/highlights.json */
const char *layout_highlights_key(arena_t *a, const char *uid, const char *video_id);

#endif
