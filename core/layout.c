/* layout: the paths and keys, each one concatenation in the arena. */
#include "layout.h"

const char *layout_user_doc(arena_t *a, const char *uid)
{
    return arena_join(a, "users/", uid, (char *)NULL);
}

const char *layout_video_doc(arena_t *a, const char *uid, const char *video_id)
{
    return arena_join(a, "users/", uid, "/videos/", video_id, (char *)NULL);
}

const char *layout_clips_collection(arena_t *a, const char *uid, const char *video_id)
{
    return arena_join(a, "users/", uid, "/videos/", video_id, "/clips", (char *)NULL);
}

const char *layout_clip_doc(arena_t *a, const char *uid, const char *video_id, const char *clip_id)
{
    return arena_join(a, "users/", uid, "/videos/", video_id, "/clips/", clip_id, (char *)NULL);
}

const char *layout_user_prefix(arena_t *a, const char *uid)
{
    return arena_join(a, uid, "/", (char *)NULL);
}

const char *layout_video_prefix(arena_t *a, const char *uid, const char *video_id, const char *dir)
{
    return arena_join(a, uid, "/", video_id, "/", dir ? dir : "", (char *)NULL);
}

const char *layout_clip_key(arena_t *a, const char *uid, const char *video_id, const char *filename)
{
    return arena_join(a, uid, "/", video_id, "/" LAYOUT_CLIPS_DIR, filename, (char *)NULL);
}

const char *layout_thumb_key(arena_t *a, const char *uid, const char *video_id, const char *clip_id)
{
    return arena_join(a, uid, "/", video_id, "/" LAYOUT_THUMBS_DIR, clip_id, LAYOUT_THUMB_EXT,
                      (char *)NULL);
}

const char *layout_highlights_key(arena_t *a, const char *uid, const char *video_id)
{
    return arena_join(a, uid, "/", video_id, "/" LAYOUT_HIGHLIGHTS, (char *)NULL);
}
