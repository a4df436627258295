/* Fuzzes core/body, the JSON body parser of the workflow's calls: any bytes as any body (or as
 * clipctl field arguments) must give a valid repository input or one CLIP_EINVAL line naming the
 * field. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "codec.h"
#include "ids.h"

#define FUZZ_ARGS_MAX 16

/* Every text a body gives is UTF-8 (the reader refuses anything else, escapes included). */
static void check_text(const char *s)
{
    if (s && !codec_utf8_valid(s, strlen(s)))
        abort();
}

/* One refusal: a single line "name: problem". */
static void check_refusal(clip_err e, const char *err)
{
    if (e != CLIP_EINVAL && e != CLIP_ETOOBIG && e != CLIP_ENOMEM)
        abort();
    if (e == CLIP_EINVAL && (!strstr(err, ": ") || strchr(err, '\n')))
        abort();
}

static void parse(arena_t *a, int kind, const char *p, size_t n)
{
    char err[512] = "";
    clip_err e = CLIP_OK;
    switch (kind) {
    case BODY_VIDEO: {
        video_rec v;
        unsigned mask;
        e = body_parse_video(a, "u1", "vid1", p, n, &v, &mask, err, sizeof err);
        if (e == CLIP_OK) {
            if ((mask & VIDEO_F_STATUS) && !videos_status_valid(v.status))
                abort();
            if ((mask & VIDEO_F_HIGHLIGHTS_SUMMARY) &&
                (!isfinite(v.highlights_total_duration) || v.highlights_total_duration < 0 ||
                 v.ncategories > VIDEOS_LIST_ITEMS_MAX))
                abort();
            for (size_t i = 0; i < v.nstyles; i++)
                if (!ids_valid_style(v.styles_processed[i], strlen(v.styles_processed[i])))
                    abort();
            check_text(v.video_title);
            check_text(v.video_url);
            check_text(v.custom_prompt);
            check_text(v.crop_mode);
            for (size_t i = 0; i < v.ncategories; i++)
                check_text(v.categories[i]);
        }
        break;
    }
    case BODY_CLIP: {
        clip_create_input c;
        e = body_parse_clip(a, "u1", "vid1", "clip_1", p, n, &c, err, sizeof err);
        if (e == CLIP_OK && (!c.style || !ids_valid_style(c.style, strlen(c.style)) ||
                             !c.start_time || !c.end_time || clips_parse_time(c.start_time) < 0 ||
                             clips_parse_time(c.end_time) < 0 || !isfinite(c.duration_seconds) ||
                             c.duration_seconds < 0 || c.file_size_bytes < 0 ||
                             c.file_size_bytes > BODY_FILE_SIZE_MAX ||
                             (c.status && !clips_status_valid(c.status))))
            abort();
        if (e == CLIP_OK) {
            check_text(c.scene_title);
            check_text(c.scene_description);
            check_text(c.error);
        }
        break;
    }
    case BODY_STATUS: {
        clip_status_update u;
        e = body_parse_status(a, p, n, &u, err, sizeof err);
        if (e == CLIP_OK && (!clips_status_valid(u.status) || u.has_thumbnail < -1 ||
                             u.has_thumbnail > 1 || u.file_size_bytes < 0))
            abort();
        break;
    }
    case BODY_STATS:
        e = body_parse_stats(a, p, n, err, sizeof err);
        break;
    default: {
        body_upload up;
        e = body_parse_upload(a, "clip_1", p, n, &up, err, sizeof err);
        if (e == CLIP_OK && (!up.filename || strncmp(up.filename, "clip_1", 6) != 0 ||
                             up.expires_in < 0 || up.expires_in > 604800))
            abort();
        break;
    }
    }
    if (e != CLIP_OK)
        check_refusal(e, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int sel = data[0] % 10, kind = sel % 5;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    arena_t a;
    arena_init(&a, 64u << 20);
    if (sel < 5) {
        /* the bytes as they come, not NUL-terminated: a copy of exactly n bytes */
        char *copy = malloc(n ? n : 1);
        if (copy) {
            memcpy(copy, p, n);
            parse(&a, kind, copy, n);
            free(copy);
        }
    } else {
        /* lines as clipctl field arguments, merged into a body and parsed again */
        char *text = malloc(n + 1);
        const char *args[FUZZ_ARGS_MAX];
        size_t nargs = 0;
        if (text) {
            memcpy(text, p, n);
            text[n] = '\0';
            for (char *s = text; nargs < FUZZ_ARGS_MAX && *s;) {
                char *nl = strchr(s, '\n');
                if (nl)
                    *nl = '\0';
                args[nargs++] = s;
                if (!nl)
                    break;
                s = nl + 1;
            }
            buf_t b = BUF_INIT;
            char err[512] = "";
            clip_err e =
                body_from_args((body_kind)kind, NULL, 0, args, nargs, &b, err, sizeof err);
            if (e == CLIP_OK)
                parse(&a, kind, b.p ? b.p : "", b.len);
            else
                check_refusal(e, err);
            buf_free(&b);
            free(text);
        }
    }
    arena_free(&a);
    return 0;
}
