/* Fuzzes the legacy layout parsers: clip file names (a name that parses must print back to itself)
 * and highlights.json (accepted entries respect the clip limits, and join with clips named after
 * them). The first byte picks the parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"

static void names(const uint8_t *data, size_t size)
{
    static const char *const exts[] = {".mp4", ".jpg"};
    for (int e = 0; e < 2; e++) {
        legacy_name nm;
        const char *why = NULL;
        if (legacy_parse_name((const char *)data, size, exts[e], &nm, &why) != 0) {
            if (!why)
                abort(); /* a refusal always says why */
            continue;
        }
        char back[IDS_MAX + 32];
        int n = snprintf(back, sizeof back, "clip_%lld_%s%s", (long long)nm.scene_id, nm.style,
                         exts[e]);
        if (n < 0 || (size_t)n != size || memcmp(back, data, size) != 0 ||
            nm.clip_id_len != size - 4 || nm.scene_id < 0 || nm.scene_id > LEGACY_SCENE_ID_MAX ||
            !ids_valid_style(nm.style, strlen(nm.style)) || !ids_valid_filename(back, size))
            abort();
    }
}

static void highlights(const uint8_t *data, size_t size)
{
    arena_t a;
    arena_init(&a, 64u << 20);
    legacy_report rep;
    legacy_report_init(&rep, &a);
    legacy_highlights h;
    char err[256];
    if (legacy_parse_highlights(&a, (const char *)data, size, "u/v/highlights.json", &h, &rep, err,
                                sizeof err) == CLIP_OK) {
        if (!h.video_title || !h.video_url || h.nscenes > LEGACY_SCENES_MAX)
            abort();
        legacy_obj *clips = h.nscenes ? calloc(h.nscenes, sizeof *clips) : NULL;
        char(*nbuf)[64] = h.nscenes ? calloc(h.nscenes, sizeof *nbuf) : NULL;
        for (size_t i = 0; i < h.nscenes; i++) {
            const legacy_scene *s = &h.scenes[i];
            if (s->id < 0 || s->id > LEGACY_SCENE_ID_MAX || !s->title || !s->start || !s->end ||
                strlen(s->title) > CLIPS_TEXT_MAX || strlen(s->start) > LEGACY_TIME_MAX ||
                strlen(s->end) > LEGACY_TIME_MAX || (s->has_duration && !(s->duration >= 0)))
                abort();
            for (size_t j = 0; j < i; j++)
                if (h.scenes[j].id == s->id)
                    abort(); /* ids are unique */
            snprintf(nbuf[i], sizeof nbuf[i], "clip_%lld_x.mp4", (long long)s->id);
            clips[i].name = nbuf[i];
            clips[i].name_len = strlen(nbuf[i]);
            clips[i].size = (long long)i;
        }
        legacy_video v;
        if (legacy_join(&a, "u", "v", &h, clips, h.nscenes, NULL, 0, &v, &rep, err, sizeof err) !=
                CLIP_OK ||
            v.nclips != h.nscenes || v.video.highlights_count != (int64_t)h.nscenes)
            abort();
        for (size_t i = 1; i < v.nclips; i++)
            if (v.clips[i - 1].priority > v.clips[i].priority)
                abort(); /* ordered by priority first */
        free(clips);
        free(nbuf);
    }
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > LEGACY_HIGHLIGHTS_MAX)
        return 0;
    if (data[0] & 1)
        names(data + 1, size - 1);
    else
        highlights(data + 1, size - 1);
    return 0;
}
