/* legacy: the legacy R2 layout reader: highlights.json, the clip and thumbnail listings, file
 * names. */
#include "legacy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "layout.h"
#include "log.h"
#include "metrics.h"

/* ---- reports -------------------------------------------------------------------------------- */

static const char *const issue_names[LEGACY_ISSUE__COUNT] = {
    "bad_name",     "no_highlights",    "bad_highlights", "bad_scene", "no_scene",
    "no_thumbnail", "orphan_thumbnail", "bad_id",         "truncated",
};

const char *legacy_issue_name(legacy_issue_kind k)
{
    return (unsigned)k < LEGACY_ISSUE__COUNT ? issue_names[k] : "unknown";
}

void legacy_report_init(legacy_report *rep, arena_t *a)
{
    memset(rep, 0, sizeof *rep);
    rep->arena = a;
}

void legacy_report_add(legacy_report *rep, legacy_issue_kind kind, const char *key, size_t n,
                       const char *detail)
{
    if (!rep || (unsigned)kind >= LEGACY_ISSUE__COUNT)
        return;
    rep->counts[kind]++;
    if (!rep->arena || rep->n >= LEGACY_ISSUES_MAX) {
        rep->dropped++;
        return;
    }
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 16;
        if (cap > LEGACY_ISSUES_MAX)
            cap = LEGACY_ISSUES_MAX;
        legacy_issue *items = arena_calloc(rep->arena, cap, sizeof *items);
        if (!items) {
            rep->dropped++;
            return;
        }
        if (rep->n)
            memcpy(items, rep->items, rep->n * sizeof *items);
        rep->items = items;
        rep->cap = cap;
    }
    legacy_issue *it = &rep->items[rep->n];
    it->kind = kind;
    it->key = arena_strndup(rep->arena, key ? key : "", key ? n : 0);
    it->detail = arena_strdup(rep->arena, detail ? detail : "");
    if (!it->key || !it->detail) {
        rep->dropped++;
        return;
    }
    rep->n++;
}

void legacy_report_log(const legacy_report *rep, const char *uid, const char *video_id)
{
    for (size_t i = 0; i < rep->counts[LEGACY_BAD_NAME]; i++)
        metrics_legacy_bad_name();
    size_t shown = 0;
    for (size_t i = 0; i < rep->n && shown < LEGACY_LOG_MAX; i++, shown++) {
        const legacy_issue *it = &rep->items[i];
        buf_t m = BUF_INIT;
        buf_puts(&m, ",\"uid\":");
        buf_json_str(&m, uid ? uid : "", uid ? strlen(uid) : 0);
        buf_puts(&m, ",\"video_id\":");
        buf_json_str(&m, video_id ? video_id : "", video_id ? strlen(video_id) : 0);
        buf_printf(&m, ",\"issue\":\"%s\",\"key\":", legacy_issue_name(it->kind));
        buf_json_str(&m, it->key, strlen(it->key));
        buf_puts(&m, ",\"detail\":");
        buf_json_str(&m, it->detail, strlen(it->detail));
        /* what is wrong with the data is a warning; what is merely absent is information */
        int warn = it->kind == LEGACY_BAD_NAME || it->kind == LEGACY_BAD_HIGHLIGHTS ||
                   it->kind == LEGACY_BAD_SCENE || it->kind == LEGACY_BAD_ID ||
                   it->kind == LEGACY_TRUNCATED;
        if (!m.oom)
            log_json(warn ? CFG_LOG_WARN : CFG_LOG_INFO, "legacy_issue", m.p);
        buf_free(&m);
    }
    size_t total = 0;
    for (int k = 0; k < LEGACY_ISSUE__COUNT; k++)
        total += rep->counts[k];
    if (total > shown) {
        buf_t m = BUF_INIT;
        buf_printf(&m, ",\"uid\":");
        buf_json_str(&m, uid ? uid : "", uid ? strlen(uid) : 0);
        buf_puts(&m, ",\"video_id\":");
        buf_json_str(&m, video_id ? video_id : "", video_id ? strlen(video_id) : 0);
        buf_printf(&m, ",\"issues_not_shown\":%zu", total - shown);
        for (int k = 0; k < LEGACY_ISSUE__COUNT; k++)
            if (rep->counts[k])
                buf_printf(&m, ",\"%s\":%zu", legacy_issue_name((legacy_issue_kind)k),
                           rep->counts[k]);
        if (!m.oom)
            log_json(CFG_LOG_WARN, "legacy_issues", m.p);
        buf_free(&m);
    }
}

/* ---- file names ----------------------------------------------------------------------------- */

static int fail_why(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -1;
}

int legacy_parse_name(const char *p, size_t n, const char *ext, legacy_name *out, const char **why)
{
    static const char prefix[] = "clip_";
    const size_t plen = sizeof prefix - 1, elen = strlen(ext);
    memset(out, 0, sizeof *out);
    if (!p || n == 0 || n > IDS_MAX)
        return fail_why(why, "empty or longer than 128 bytes");
    if (n < plen || memcmp(p, prefix, plen) != 0)
        return fail_why(why, "does not start with clip_");
    if (n < plen + elen || memcmp(p + n - elen, ext, elen) != 0)
        return fail_why(why,
                        strcmp(ext, ".jpg") == 0 ? "does not end in .jpg" : "does not end in .mp4");
    const char *s = p + plen, *end = p + n - elen;
    const char *d = s;
    int64_t id = 0;
    while (d < end && *d >= '0' && *d <= '9') {
        id = id * 10 + (*d - '0');
        if (id > LEGACY_SCENE_ID_MAX)
            return fail_why(why, "scene id too large");
        d++;
    }
    if (d == s)
        return fail_why(why, "no scene id");
    if (*s == '0' && d - s > 1)
        return fail_why(why, "scene id with a leading zero");
    if (d == end || *d != '_')
        return fail_why(why, "no _ after the scene id");
    const char *st = d + 1;
    size_t sn = (size_t)(end - st);
    if (!ids_valid_style(st, sn))
        return fail_why(why, "style is not 1-64 bytes of [a-z0-9-]");
    out->scene_id = id;
    memcpy(out->style, st, sn);
    out->style[sn] = '\0';
    out->clip_id_len = n - elen;
    if (why)
        *why = NULL;
    return 0;
}

/* ---- highlights.json ------------------------------------------------------------------------ */

/* A text member: absent or null gives dflt; a string within max bytes is copied; anything else is
 * -1 with *why set. */
static int text_member(arena_t *a, json_object *o, const char *name, size_t max, const char *dflt,
                       const char **out, const char **why)
{
    json_object *v = json_member(o, name, NULL);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)) {
        *why = name;
        return -1;
    }
    size_t n = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if (n > max || memchr(s, '\0', n)) {
        *why = name;
        return -1;
    }
    *out = arena_strndup(a, s, n);
    if (!*out) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

/* start / end: a string, or a number kept as written. */
static int time_member(arena_t *a, json_object *o, const char *name, const char **out,
                       const char **why)
{
    json_object *v = json_member(o, name, NULL);
    if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
        const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (!s || strlen(s) > LEGACY_TIME_MAX || !(*out = arena_strdup(a, s))) {
            *why = name;
            return -1;
        }
        return 0;
    }
    return text_member(a, o, name, LEGACY_TIME_MAX, "", out, why);
}

static int int_member(json_object *o, const char *name, int64_t min, int64_t max, int64_t dflt,
                      int required, int64_t *out)
{
    json_object *v = json_member(o, name, NULL);
    if (!v) {
        *out = dflt;
        return required ? -1 : 0;
    }
    if (!json_object_is_type(v, json_type_int))
        return -1;
    int64_t i = json_object_get_int64(v);
    /* json-c saturates out-of-range integers at INT64_MIN / INT64_MAX */
    if (i < min || i > max || i == INT64_MAX || i == INT64_MIN)
        return -1;
    *out = i;
    return 0;
}

static clip_err parse_scene(arena_t *a, json_object *e, legacy_scene *s, const char **why)
{
    memset(s, 0, sizeof *s);
    if (!json_object_is_type(e, json_type_object)) {
        *why = "not an object";
        return CLIP_EINVAL;
    }
    if (int_member(e, "id", 0, LEGACY_SCENE_ID_MAX, 0, 1, &s->id) != 0) {
        *why = "id: not a whole number from 0 to 2147483647";
        return CLIP_EINVAL;
    }
    if (int_member(e, "priority", INT32_MIN, INT32_MAX, CLIPS_PRIORITY_DEFAULT, 0, &s->priority) !=
        0) {
        *why = "priority: not a whole number";
        return CLIP_EINVAL;
    }
    const char *bad = NULL;
    if (text_member(a, e, "title", CLIPS_TEXT_MAX, "", &s->title, &bad) != 0 ||
        text_member(a, e, "description", CLIPS_TEXT_MAX, NULL, &s->description, &bad) != 0 ||
        text_member(a, e, "hook_category", VIDEOS_TEXT_MAX, NULL, &s->category, &bad) != 0 ||
        time_member(a, e, "start", &s->start, &bad) != 0 ||
        time_member(a, e, "end", &s->end, &bad) != 0) {
        *why = bad;
        return CLIP_EINVAL;
    }
    json_object *d = json_member(e, "duration", NULL);
    if (d) {
        if (!json_object_is_type(d, json_type_int) && !json_object_is_type(d, json_type_double)) {
            *why = "duration: not a number";
            return CLIP_EINVAL;
        }
        double v = json_object_get_double(d);
        if (!isfinite(v) || v < 0) {
            *why = "duration: not a non-negative number";
            return CLIP_EINVAL;
        }
        s->has_duration = 1;
        s->duration = v;
    }
    return CLIP_OK;
}

clip_err legacy_parse_highlights(arena_t *a, const char *p, size_t n, const char *key,
                                 legacy_highlights *out, legacy_report *rep, char *err,
                                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->video_title = "";
    out->video_url = "";
    const char *k = key ? key : "highlights.json";
    if (!p || n == 0)
        return clip_fail(CLIP_EINVAL, err, errlen, "empty");
    if (n > LEGACY_HIGHLIGHTS_MAX)
        return clip_fail(CLIP_EINVAL, err, errlen, "over %u bytes", LEGACY_HIGHLIGHTS_MAX);
    static const json_limits lim = {"highlights.json", LEGACY_HIGHLIGHTS_MAX, LEGACY_JSON_DEPTH};
    json_object *root = NULL;
    char jwhy[256];
    clip_err je = json_read(p, n, &lim, &root, jwhy, sizeof jwhy);
    if (je != CLIP_OK)
        return clip_fail(je == CLIP_ENOMEM ? je : CLIP_EINVAL, err, errlen, "%s", jwhy);
    clip_err rc = CLIP_OK;
    if (!json_object_is_type(root, json_type_object)) {
        rc = clip_fail(CLIP_EINVAL, err, errlen, "not a JSON object");
        goto out;
    }
    const char *bad = NULL;
    if (text_member(a, root, "video_title", VIDEOS_TEXT_MAX, "", &out->video_title, &bad) != 0) {
        legacy_report_add(rep, LEGACY_BAD_HIGHLIGHTS, k, strlen(k),
                          "video_title: not a string of at most 4096 bytes");
        out->video_title = "";
    }
    if (text_member(a, root, "video_url", VIDEOS_TEXT_MAX, "", &out->video_url, &bad) != 0) {
        legacy_report_add(rep, LEGACY_BAD_HIGHLIGHTS, k, strlen(k),
                          "video_url: not a string of at most 4096 bytes");
        out->video_url = "";
    }
    json_object *hl = json_member(root, "highlights", NULL);
    if (!hl)
        goto out;
    if (!json_object_is_type(hl, json_type_array)) {
        rc = clip_fail(CLIP_EINVAL, err, errlen, "highlights: not an array");
        goto out;
    }
    size_t len = json_object_array_length(hl);
    if (len > LEGACY_SCENES_MAX) {
        legacy_report_add(rep, LEGACY_TRUNCATED, k, strlen(k),
                          "more than 10000 highlights: the rest are ignored");
        len = LEGACY_SCENES_MAX;
    }
    out->scenes = len ? arena_calloc(a, len, sizeof *out->scenes) : NULL;
    if (len && !out->scenes) {
        rc = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        legacy_scene s;
        const char *why = NULL;
        char detail[160];
        if (parse_scene(a, json_object_array_get_idx(hl, i), &s, &why) != CLIP_OK) {
            snprintf(detail, sizeof detail, "highlights[%zu]: %s", i, why ? why : "refused");
            legacy_report_add(rep, LEGACY_BAD_SCENE, k, strlen(k), detail);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < out->nscenes && !dup; j++)
            dup = out->scenes[j].id == s.id;
        if (dup) {
            snprintf(detail, sizeof detail,
                     "highlights[%zu]: duplicate id %lld (the first is used)", i, (long long)s.id);
            legacy_report_add(rep, LEGACY_BAD_SCENE, k, strlen(k), detail);
            continue;
        }
        out->scenes[out->nscenes++] = s;
    }
out:
    json_object_put(root);
    return rc;
}

/* ---- the join ------------------------------------------------------------------------------- */

static int cmp_clip(const void *x, const void *y)
{
    const clip_rec *a = x, *b = y;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->scene_id != b->scene_id)
        return a->scene_id < b->scene_id ? -1 : 1;
    int c = strcmp(a->style, b->style);
    return c ? c : strcmp(a->clip_id, b->clip_id);
}

static int cmp_scene_ptr(const void *x, const void *y)
{
    const legacy_scene *a = *(const legacy_scene *const *)x, *b = *(const legacy_scene *const *)y;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_str_ptr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int time_before(fs_time a, fs_time b)
{
    return a.seconds < b.seconds || (a.seconds == b.seconds && a.nanos < b.nanos);
}

static int time_zero(fs_time t)
{
    return t.seconds == 0 && t.nanos == 0;
}

static double scene_duration(const legacy_scene *s)
{
    if (s->has_duration)
        return s->duration;
    double a = clips_parse_time(s->start), b = clips_parse_time(s->end);
    if (a < 0 || b < 0 || b < a)
        return 0;
    return round((b - a) * 1000.0) / 1000.0; /* as clips_create computes it */
}

/* The video's fields that come from highlights.json and the styles of its clips. */
static clip_err video_fields(arena_t *a, const legacy_highlights *h, legacy_video *out)
{
    video_rec *v = &out->video;
    v->video_title = h ? h->video_title : "";
    v->video_url = h ? h->video_url : "";
    if (!h)
        return CLIP_OK;
    v->highlights_count = (int64_t)h->nscenes;
    const char **cats = h->nscenes ? arena_calloc(a, h->nscenes, sizeof *cats) : NULL;
    if (h->nscenes && !cats)
        return CLIP_ENOMEM;
    size_t nc = 0;
    double total = 0;
    for (size_t i = 0; i < h->nscenes; i++) {
        total += scene_duration(&h->scenes[i]);
        const char *c = h->scenes[i].category;
        if (!c || nc >= VIDEOS_LIST_ITEMS_MAX)
            continue;
        int seen = 0;
        for (size_t j = 0; j < nc && !seen; j++)
            seen = strcmp(cats[j], c) == 0;
        if (!seen)
            cats[nc++] = c;
    }
    v->highlights_total_duration = round(total * 1000.0) / 1000.0;
    v->categories = cats;
    v->ncategories = nc;
    return CLIP_OK;
}

clip_err legacy_join(arena_t *a, const char *uid, const char *video_id, const legacy_highlights *h,
                     const legacy_obj *clips, size_t nclips, const legacy_obj *thumbs,
                     size_t nthumbs, legacy_video *out, legacy_report *rep, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->has_highlights = h != NULL;
    video_rec *v = &out->video;
    v->video_id = video_id;
    v->user_id = uid;
    v->status = "completed";
    v->crop_mode = "";
    v->target_aspect = "";
    if (!ids_valid_id(uid, strlen(uid)) || !ids_valid_id(video_id, strlen(video_id)))
        return clip_fail(CLIP_EINVAL, err, errlen, "bad uid or video_id");
    const char *base = layout_video_prefix(a, uid, video_id, NULL);
    if (!base)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    if (video_fields(a, h, out) != CLIP_OK)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");

    /* scenes by id, thumbnails by name, for lookups */
    size_t ns = h ? h->nscenes : 0;
    const legacy_scene **byid = ns ? arena_calloc(a, ns, sizeof *byid) : NULL;
    const char **tnames = nthumbs ? arena_calloc(a, nthumbs, sizeof *tnames) : NULL;
    unsigned char *tused = nthumbs ? arena_calloc(a, nthumbs, 1) : NULL;
    out->clips = nclips ? arena_calloc(a, nclips, sizeof *out->clips) : NULL;
    if ((ns && !byid) || (nthumbs && (!tnames || !tused)) || (nclips && !out->clips))
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    for (size_t i = 0; i < ns; i++)
        byid[i] = &h->scenes[i];
    if (ns)
        qsort(byid, ns, sizeof *byid, cmp_scene_ptr);
    for (size_t i = 0; i < nthumbs; i++)
        if (!(tnames[i] = arena_strndup(a, thumbs[i].name, thumbs[i].name_len)))
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    if (nthumbs)
        qsort(tnames, nthumbs, sizeof *tnames, cmp_str_ptr);

    fs_time oldest = {0, 0}, newest = {0, 0};
    for (size_t i = 0; i < nclips + nthumbs; i++) {
        fs_time t = i < nclips ? clips[i].modified : thumbs[i - nclips].modified;
        if (time_zero(t))
            continue;
        if (time_zero(oldest) || time_before(t, oldest))
            oldest = t;
        if (time_zero(newest) || time_before(newest, t))
            newest = t;
    }
    v->created_at = oldest;
    v->updated_at = newest;

    video_clip_stats *st = &v->clip_stats;
    v->has_clip_stats = 1;
    for (size_t i = 0; i < nclips; i++) {
        const legacy_obj *o = &clips[i];
        char key[1200];
        int kn = snprintf(key, sizeof key, "%s" LAYOUT_CLIPS_DIR "%.*s", base,
                          (int)(o->name_len > 1024 ? 1024 : o->name_len), o->name);
        size_t keylen = kn < 0 ? 0 : (size_t)kn >= sizeof key ? sizeof key - 1 : (size_t)kn;
        legacy_name nm;
        const char *why = NULL;
        if (memchr(o->name, '/', o->name_len)) {
            legacy_report_add(rep, LEGACY_BAD_NAME, key, keylen, "in a subfolder of clips/");
            continue;
        }
        if (legacy_parse_name(o->name, o->name_len, ".mp4", &nm, &why) != 0) {
            legacy_report_add(rep, LEGACY_BAD_NAME, key, keylen, why);
            continue;
        }
        clip_rec *c = &out->clips[out->nclips];
        c->filename = arena_strndup(a, o->name, o->name_len);
        c->clip_id = arena_strndup(a, o->name, nm.clip_id_len);
        c->style = arena_strdup(a, nm.style);
        if (!c->filename || !c->clip_id || !c->style)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        c->scene_id = nm.scene_id;
        legacy_scene want = {.id = nm.scene_id};
        const legacy_scene *wp = &want;
        const legacy_scene **hit = ns ? bsearch(&wp, byid, ns, sizeof *byid, cmp_scene_ptr) : NULL;
        if (hit) {
            const legacy_scene *s = *hit;
            c->scene_title = s->title;
            c->scene_description = s->description;
            c->priority = s->priority;
            c->start_time = s->start;
            c->end_time = s->end;
            c->duration_seconds = scene_duration(s);
        } else {
            if (h)
                legacy_report_add(rep, LEGACY_NO_SCENE, key, keylen,
                                  "no highlights entry with this scene id");
            c->scene_title = "";
            c->scene_description = NULL;
            c->priority = CLIPS_PRIORITY_DEFAULT;
            c->start_time = "";
            c->end_time = "";
            c->duration_seconds = 0;
        }
        c->status = "completed";
        c->error = NULL;
        c->file_size_bytes = o->size > 0 ? o->size : 0;
        c->file_size_mb = (double)c->file_size_bytes / CLIPS_BYTES_PER_MB;
        char *tn = arena_join(a, c->clip_id, LAYOUT_THUMB_EXT, (char *)NULL);
        if (!tn)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        const char **th =
            nthumbs ? bsearch(&tn, tnames, nthumbs, sizeof *tnames, cmp_str_ptr) : NULL;
        c->has_thumbnail = th != NULL;
        if (th)
            tused[th - tnames] = 1;
        else
            legacy_report_add(rep, LEGACY_NO_THUMBNAIL, key, keylen, "no thumbnails/<clip id>.jpg");
        c->r2_key = layout_clip_key(a, uid, video_id, c->filename);
        c->thumbnail_r2_key = th ? layout_thumb_key(a, uid, video_id, c->clip_id) : NULL;
        if (!c->r2_key || (th && !c->thumbnail_r2_key))
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        c->created_at = c->updated_at = o->modified;
        out->nclips++;

        st->total++;
        st->completed++;
        st->total_size_bytes += c->file_size_bytes;
        st->total_duration_seconds += c->duration_seconds;
    }
    for (size_t i = 0; i < nthumbs; i++)
        if (!tused[i]) {
            char key[1200];
            int kn = snprintf(key, sizeof key, "%s" LAYOUT_THUMBS_DIR "%s", base, tnames[i]);
            size_t keylen = kn < 0 ? 0 : (size_t)kn >= sizeof key ? sizeof key - 1 : (size_t)kn;
            legacy_report_add(rep, LEGACY_ORPHAN_THUMBNAIL, key, keylen,
                              "no clip file of this name");
        }
    if (out->nclips)
        qsort(out->clips, out->nclips, sizeof *out->clips, cmp_clip);

    /* styles_processed and clip_stats.by_style: the distinct styles, sorted */
    const char **styles = out->nclips ? arena_calloc(a, out->nclips, sizeof *styles) : NULL;
    if (out->nclips && !styles)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    for (size_t i = 0; i < out->nclips; i++)
        styles[i] = out->clips[i].style;
    if (out->nclips)
        qsort(styles, out->nclips, sizeof *styles, cmp_str_ptr);
    size_t nst = 0;
    for (size_t i = 0; i < out->nclips; i++)
        if (nst == 0 || strcmp(styles[nst - 1], styles[i]) != 0)
            styles[nst++] = styles[i];
    st->by_style = nst ? arena_calloc(a, nst, sizeof *st->by_style) : NULL;
    if (nst && !st->by_style)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    for (size_t i = 0; i < nst; i++)
        st->by_style[i].style = styles[i];
    for (size_t i = 0; i < out->nclips; i++)
        for (size_t j = 0; j < nst; j++)
            if (strcmp(out->clips[i].style, styles[j]) == 0) {
                st->by_style[j].count++;
                break;
            }
    st->nby_style = nst;
    v->styles_processed = nst > VIDEOS_LIST_ITEMS_MAX ? NULL : styles;
    v->nstyles = nst > VIDEOS_LIST_ITEMS_MAX ? 0 : nst;
    if (nst > VIDEOS_LIST_ITEMS_MAX)
        legacy_report_add(rep, LEGACY_TRUNCATED, base, strlen(base),
                          "more than 100 styles: styles_processed left empty");
    return CLIP_OK;
}

/* ---- reading from R2 ------------------------------------------------------------------------ */

typedef struct {
    legacy_obj *items;
    size_t n, cap;
} obj_list;

/* One object of a listing walk, its key starting with the walk's prefix (plen bytes): CLIP_OK to
 * go on (*stop set: the rest of the listing is ignored), or the error that ends the walk. */
typedef clip_err (*list_visit_fn)(void *ctx, const r2_object *o, size_t plen, int *stop,
                                  char *err, size_t errlen);

/* Every object under prefix, page by page (more than LEGACY_LIST_PAGES_MAX pages are reported
 * and not read), each handed to visit. */
static clip_err list_walk(r2_client *r2, const char *prefix, legacy_report *rep,
                          list_visit_fn visit, void *ctx, char *err, size_t errlen)
{
    size_t plen = strlen(prefix);
    char *token = NULL;
    clip_err rc = CLIP_OK;
    for (int page = 0; rc == CLIP_OK; page++) {
        if (page >= LEGACY_LIST_PAGES_MAX) {
            legacy_report_add(rep, LEGACY_TRUNCATED, prefix, plen,
                              "more pages than the listing limit");
            break;
        }
        r2_list l;
        rc = r2_list_objects(r2, prefix, NULL, token, 0, &l, err, errlen);
        free(token);
        token = NULL;
        int stop = 0;
        for (size_t i = 0; rc == CLIP_OK && !stop && i < l.nobjects; i++) {
            const r2_object *o = &l.objects[i];
            if (o->key_len <= plen || memcmp(o->key, prefix, plen) != 0)
                continue; /* a store that ignores the prefix: not ours */
            rc = visit(ctx, o, plen, &stop, err, errlen);
        }
        if (stop)
            l.truncated = 0;
        if (rc == CLIP_OK && l.truncated && l.next_token && !(token = strdup(l.next_token)))
            rc = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        int more = l.truncated;
        r2_list_free(&l);
        if (!more)
            break;
    }
    free(token);
    return rc;
}

typedef struct {
    arena_t *a;
    const char *prefix;
    size_t max;
    obj_list *out;
    legacy_report *rep;
} objects_walk;

/* list_all's visit: the object kept, its name relative to the prefix. */
static clip_err keep_object(void *ctx, const r2_object *o, size_t plen, int *stop, char *err,
                            size_t errlen)
{
    objects_walk *w = ctx;
    obj_list *out = w->out;
    if (out->n >= w->max) {
        legacy_report_add(w->rep, LEGACY_TRUNCATED, w->prefix, plen,
                          "more objects than the listing limit: the rest are ignored");
        *stop = 1;
        return CLIP_OK;
    }
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        legacy_obj *items = arena_calloc(w->a, cap, sizeof *items);
        if (!items)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        if (out->n)
            memcpy(items, out->items, out->n * sizeof *items);
        out->items = items;
        out->cap = cap;
    }
    legacy_obj *lo = &out->items[out->n];
    lo->name_len = o->key_len - plen;
    lo->name = arena_strndup(w->a, o->key + plen, lo->name_len);
    if (!lo->name)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    lo->size = o->size;
    if (!o->last_modified ||
        fs_time_parse(o->last_modified, strlen(o->last_modified), &lo->modified) != 0)
        lo->modified = (fs_time){0, 0};
    out->n++;
    return CLIP_OK;
}

/* Every object under prefix (paged), names relative to it. */
static clip_err list_all(r2_client *r2, arena_t *a, const char *prefix, size_t max, obj_list *out,
                         legacy_report *rep, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    objects_walk w = {a, prefix, max, out, rep};
    return list_walk(r2, prefix, rep, keep_object, &w, err, errlen);
}

/* GETs and parses {uid}/{video_id}/highlights.json: *hp is h when usable, NULL otherwise
 * (reported); *exists says whether the object is there. Backend errors other than a missing key are
 * returned. */
static clip_err read_highlights(r2_client *r2, arena_t *a, const char *uid, const char *video_id,
                                legacy_highlights *h, const legacy_highlights **hp, int *exists,
                                legacy_report *rep, char *err, size_t errlen)
{
    const char *key = layout_highlights_key(a, uid, video_id);
    if (!key)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    buf_t body = BUF_INIT;
    char why[256];
    *hp = NULL;
    *exists = 0;
    clip_err rc =
        r2_get_object(r2, key, strlen(key), LEGACY_HIGHLIGHTS_MAX, &body, why, sizeof why);
    if (rc == CLIP_OK) {
        *exists = 1;
        if (legacy_parse_highlights(a, body.p, body.len, key, h, rep, why, sizeof why) == CLIP_OK)
            *hp = h;
        else
            legacy_report_add(rep, LEGACY_BAD_HIGHLIGHTS, key, strlen(key), why);
        rc = CLIP_OK;
    } else if (rc == CLIP_ENOTFOUND) {
        legacy_report_add(rep, LEGACY_NO_HIGHLIGHTS, key, strlen(key), "missing");
        rc = CLIP_OK;
    } else if (rc == CLIP_ETOOBIG) {
        *exists = 1;
        legacy_report_add(rep, LEGACY_BAD_HIGHLIGHTS, key, strlen(key), "larger than 1 MiB");
        rc = CLIP_OK;
    } else {
        rc = clip_fail(rc, err, errlen, "%s", why);
    }
    buf_free(&body);
    return rc;
}

clip_err legacy_read_video(r2_client *r2, arena_t *a, const char *uid, const char *video_id,
                           legacy_video *out, legacy_report *rep, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!uid || !video_id || !ids_valid_id(uid, strlen(uid)) ||
        !ids_valid_id(video_id, strlen(video_id)))
        return clip_fail(CLIP_EINVAL, err, errlen, "bad uid or video_id");
    legacy_highlights h;
    const legacy_highlights *hp = NULL;
    int exists = 0;
    clip_err rc = read_highlights(r2, a, uid, video_id, &h, &hp, &exists, rep, err, errlen);
    if (rc != CLIP_OK)
        return rc;
    obj_list clips, thumbs;
    const char *clips_prefix = layout_video_prefix(a, uid, video_id, LAYOUT_CLIPS_DIR);
    const char *thumbs_prefix = layout_video_prefix(a, uid, video_id, LAYOUT_THUMBS_DIR);
    if (!clips_prefix || !thumbs_prefix)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    rc = list_all(r2, a, clips_prefix, LEGACY_CLIPS_MAX, &clips, rep, err, errlen);
    if (rc != CLIP_OK)
        return rc;
    if (!exists && clips.n == 0)
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no legacy video %s", video_id);
    rc = list_all(r2, a, thumbs_prefix, LEGACY_CLIPS_MAX, &thumbs, rep, err, errlen);
    if (rc != CLIP_OK)
        return rc;
    return legacy_join(a, uid, video_id, hp, clips.items, clips.n, thumbs.items, thumbs.n, out, rep,
                       err, errlen);
}

/* The folder a scanned object belongs to, created when its run starts. */
static legacy_folder *scan_folder(arena_t *a, legacy_folder **items, size_t *n, size_t *cap,
                                  const char *vid, size_t vn)
{
    if (*n && strlen((*items)[*n - 1].video_id) == vn &&
        memcmp((*items)[*n - 1].video_id, vid, vn) == 0)
        return &(*items)[*n - 1];
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        legacy_folder *grown = arena_calloc(a, nc, sizeof *grown);
        if (!grown)
            return NULL;
        if (*n)
            memcpy(grown, *items, *n * sizeof *grown);
        *items = grown;
        *cap = nc;
    }
    legacy_folder *f = &(*items)[(*n)++];
    memset(f, 0, sizeof *f);
    f->video_id = arena_strndup(a, vid, vn);
    return f->video_id ? f : NULL;
}

/* The legacy layout's folder of user uid ("{uid}/"), the uid checked. */
static clip_err user_prefix(arena_t *a, const char *uid, const char **prefix, char *err,
                            size_t errlen)
{
    if (!uid || !ids_valid_id(uid, strlen(uid)))
        return clip_fail(CLIP_EINVAL, err, errlen, "bad uid");
    *prefix = layout_user_prefix(a, uid);
    return *prefix ? CLIP_OK : clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
}

static int time_before_or_zero(fs_time t, fs_time cur)
{
    return time_zero(cur) || time_before(t, cur);
}

clip_err legacy_scan_user(r2_client *r2, arena_t *a, const char *uid, legacy_folder **out,
                          size_t *n, legacy_report *rep, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    const char *prefix;
    clip_err pe = user_prefix(a, uid, &prefix, err, errlen);
    if (pe != CLIP_OK)
        return pe;
    obj_list all;
    clip_err rc = list_all(r2, a, prefix, LEGACY_USER_OBJECTS_MAX, &all, rep, err, errlen);
    if (rc != CLIP_OK)
        return rc;
    /* a folder's clips (and its thumbnails) are one contiguous run of the sorted listing */
    legacy_obj *objs = all.n ? arena_calloc(a, all.n, sizeof *objs) : NULL;
    if (all.n && !objs)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    size_t used = 0, cap = 0;
    legacy_folder *items = NULL;
    static const char clips_dir[] = LAYOUT_CLIPS_DIR, thumbs_dir[] = LAYOUT_THUMBS_DIR;
    for (size_t i = 0; i < all.n; i++) {
        const legacy_obj *o = &all.items[i];
        const char *slash = memchr(o->name, '/', o->name_len);
        if (!slash)
            continue;
        size_t vn = (size_t)(slash - o->name);
        const char *rest = slash + 1;
        size_t rn = o->name_len - vn - 1;
        if (!ids_valid_id(o->name, vn)) {
            if (!*n || strlen(items[*n - 1].video_id) != vn ||
                memcmp(items[*n - 1].video_id, o->name, vn) != 0) {
                legacy_folder *f = scan_folder(a, &items, n, &cap, o->name, vn);
                if (!f)
                    return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
                f->bad_id = 1;
                char key[IDS_MAX + 2 + 1100];
                int kn = snprintf(key, sizeof key, "%s%.*s/", prefix, (int)(vn > 1024 ? 1024 : vn),
                                  o->name);
                legacy_report_add(rep, LEGACY_BAD_ID, key,
                                  kn < 0                     ? 0
                                  : (size_t)kn >= sizeof key ? sizeof key - 1
                                                             : (size_t)kn,
                                  "folder name is not 1-128 bytes of [A-Za-z0-9_-]: not read");
            }
            continue;
        }
        legacy_folder *f = scan_folder(a, &items, n, &cap, o->name, vn);
        if (!f)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        int is_clip =
            rn > sizeof clips_dir - 1 && memcmp(rest, clips_dir, sizeof clips_dir - 1) == 0;
        int is_thumb =
            rn > sizeof thumbs_dir - 1 && memcmp(rest, thumbs_dir, sizeof thumbs_dir - 1) == 0;
        if (rn == strlen(LAYOUT_HIGHLIGHTS) && memcmp(rest, LAYOUT_HIGHLIGHTS, rn) == 0) {
            f->has_highlights = 1;
            continue;
        }
        if (!is_clip && !is_thumb)
            continue;
        size_t skip = vn + 1 + (is_clip ? sizeof clips_dir - 1 : sizeof thumbs_dir - 1);
        legacy_obj *d = &objs[used++];
        *d = *o;
        d->name = o->name + skip;
        d->name_len = o->name_len - skip;
        if (is_clip) {
            if (!f->nclips)
                f->clips = d;
            f->nclips++;
        } else {
            if (!f->nthumbs)
                f->thumbs = d;
            f->nthumbs++;
        }
        if (!time_zero(d->modified) && time_before_or_zero(d->modified, f->created_at))
            f->created_at = d->modified;
    }
    *out = items;
    return CLIP_OK;
}

clip_err legacy_read_folder(r2_client *r2, arena_t *a, const char *uid, const legacy_folder *f,
                            legacy_video *out, legacy_report *rep, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (f->bad_id || (!f->has_highlights && !f->nclips))
        return clip_fail(CLIP_ENOTFOUND, err, errlen, "no legacy video %s", f->video_id);
    legacy_highlights h;
    const legacy_highlights *hp = NULL;
    int exists = 0;
    if (f->has_highlights) {
        clip_err rc = read_highlights(r2, a, uid, f->video_id, &h, &hp, &exists, rep, err, errlen);
        if (rc != CLIP_OK)
            return rc;
    } else {
        const char *key = layout_highlights_key(a, uid, f->video_id);
        if (key)
            legacy_report_add(rep, LEGACY_NO_HIGHLIGHTS, key, strlen(key), "missing");
    }
    return legacy_join(a, uid, f->video_id, hp, f->clips, f->nclips, f->thumbs, f->nthumbs, out,
                       rep, err, errlen);
}

typedef struct {
    arena_t *a;
    const char ***ids;
    size_t *n, cap;
    char lastseg[1100]; /* the folder seen last (keys of one folder are contiguous) */
    size_t lastn;       /* its length, (size_t)-1 for none */
    legacy_report *rep;
} folders_walk;

/* list_folders' visit: the key's next path segment, once per folder, when it is an id. */
static clip_err keep_folder(void *ctx, const r2_object *o, size_t plen, int *stop, char *err,
                            size_t errlen)
{
    folders_walk *w = ctx;
    (void)stop;
    const char *k = o->key;
    size_t kn = o->key_len;
    const char *name = k + plen;
    const char *slash = memchr(name, '/', kn - plen);
    if (!slash)
        return CLIP_OK; /* an object directly under prefix, not a folder */
    size_t nn = (size_t)(slash - name);
    if (nn == w->lastn && memcmp(name, w->lastseg, nn) == 0)
        return CLIP_OK;
    w->lastn = nn < sizeof w->lastseg ? nn : (size_t)-1;
    if (w->lastn != (size_t)-1)
        memcpy(w->lastseg, name, nn);
    if (!ids_valid_id(name, nn)) {
        legacy_report_add(w->rep, LEGACY_BAD_ID, k, plen + nn + 1,
                          "folder name is not 1-128 bytes of [A-Za-z0-9_-]: not read");
        return CLIP_OK;
    }
    if (*w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 64;
        const char **grown = arena_calloc(w->a, nc, sizeof *grown);
        if (!grown)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        if (*w->n)
            memcpy(grown, *w->ids, *w->n * sizeof *grown);
        *w->ids = grown;
        w->cap = nc;
    }
    if (!((*w->ids)[*w->n] = arena_strndup(w->a, name, nn)))
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    (*w->n)++;
    return CLIP_OK;
}

/* The folder names under prefix, valid ids only. They come from a full listing of the keys (a
 * key's next path segment), not from a delimiter listing: S3 emulators (s3rver) leave out of
 * CommonPrefixes every folder that holds no object directly, and a full listing costs one call
 * per 1000 keys, a fraction of what reading the videos costs afterwards. Keys sharing a prefix are
 * contiguous in a listing, so each folder is seen as one run. */
static clip_err list_folders(r2_client *r2, arena_t *a, const char *prefix, const char ***ids,
                             size_t *n, legacy_report *rep, char *err, size_t errlen)
{
    *ids = NULL;
    *n = 0;
    folders_walk w = {a, ids, n, 0, "", (size_t)-1, rep};
    return list_walk(r2, prefix, rep, keep_folder, &w, err, errlen);
}

clip_err legacy_list_videos(r2_client *r2, arena_t *a, const char *uid, const char ***ids,
                            size_t *n, legacy_report *rep, char *err, size_t errlen)
{
    *ids = NULL;
    *n = 0;
    const char *prefix;
    clip_err pe = user_prefix(a, uid, &prefix, err, errlen);
    if (pe != CLIP_OK)
        return pe;
    return list_folders(r2, a, prefix, ids, n, rep, err, errlen);
}

clip_err legacy_list_users(r2_client *r2, arena_t *a, const char ***ids, size_t *n,
                           legacy_report *rep, char *err, size_t errlen)
{
    return list_folders(r2, a, "", ids, n, rep, err, errlen);
}
