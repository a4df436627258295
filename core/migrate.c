/* migrate: legacy video -> Firestore writes (diffed against the stored documents), and verify's
 * comparison. */
#include "migrate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clips.h"
#include "ids.h"
#include "layout.h"
#include "videos.h"

/* ---- targets -------------------------------------------------------------------------------- */

static clip_err push_target(arena_t *a, mig_target **items, size_t *n, size_t *cap, const char *uid,
                            const char *vid, const legacy_folder *folder)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        mig_target *grown = arena_calloc(a, nc, sizeof *grown);
        if (!grown)
            return CLIP_ENOMEM;
        if (*n)
            memcpy(grown, *items, *n * sizeof *grown);
        *items = grown;
        *cap = nc;
    }
    (*items)[*n].uid = uid;
    (*items)[*n].video_id = vid;
    (*items)[*n].folder = folder;
    (*n)++;
    return CLIP_OK;
}

/* One user's targets: from a scan, or (when the scan would truncate) by folder listing. */
static clip_err user_targets(r2_client *r2, arena_t *a, const char *uid, mig_target **out,
                             size_t *n, size_t *cap, legacy_report *rep, char *err, size_t errlen)
{
    legacy_report scan;
    legacy_report_init(&scan, a);
    legacy_folder *f = NULL;
    size_t nf = 0;
    clip_err e = legacy_scan_user(r2, a, uid, &f, &nf, &scan, err, errlen);
    if (e != CLIP_OK)
        return e;
    if (scan.counts[LEGACY_TRUNCATED] == 0) {
        for (size_t i = 0; i < scan.n; i++)
            legacy_report_add(rep, scan.items[i].kind, scan.items[i].key, strlen(scan.items[i].key),
                              scan.items[i].detail);
        for (size_t i = 0; i < nf; i++)
            if (!f[i].bad_id && push_target(a, out, n, cap, uid, f[i].video_id, &f[i]) != CLIP_OK)
                return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        return CLIP_OK;
    }
    const char **vids = NULL;
    size_t nv = 0;
    e = legacy_list_videos(r2, a, uid, &vids, &nv, rep, err, errlen);
    for (size_t i = 0; e == CLIP_OK && i < nv; i++)
        if (push_target(a, out, n, cap, uid, vids[i], NULL) != CLIP_OK)
            e = clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    return e;
}

clip_err mig_legacy_targets(r2_client *r2, arena_t *a, const char *uid, const char *video_id,
                            mig_target **out, size_t *n, legacy_report *rep, char *err,
                            size_t errlen)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    if (uid && video_id)
        return push_target(a, out, n, &cap, uid, video_id, NULL) == CLIP_OK
                   ? CLIP_OK
                   : clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    const char **users = &uid;
    size_t nusers = 1;
    clip_err e = CLIP_OK;
    if (!uid)
        e = legacy_list_users(r2, a, &users, &nusers, rep, err, errlen);
    for (size_t u = 0; e == CLIP_OK && u < nusers; u++)
        e = user_targets(r2, a, users[u], out, n, &cap, rep, err, errlen);
    return e;
}

clip_err mig_read_target(r2_client *r2, arena_t *a, const mig_target *t, legacy_video *out,
                         legacy_report *rep, char *err, size_t errlen)
{
    if (t->folder)
        return legacy_read_folder(r2, a, t->uid, t->folder, out, rep, err, errlen);
    return legacy_read_video(r2, a, t->uid, t->video_id, out, rep, err, errlen);
}

/* "users/{uid}/videos/{vid}" at the end of a document name: the two ids, or -1. */
static int split_video_name(arena_t *a, const char *name, const char **uid, const char **vid)
{
    const char *p = strstr(name, "/documents/");
    if (!p)
        return -1;
    p += strlen("/documents/");
    if (strncmp(p, "users/", 6) != 0)
        return -1;
    p += 6;
    const char *s1 = strchr(p, '/');
    if (!s1 || strncmp(s1, "/videos/", 8) != 0)
        return -1;
    const char *v = s1 + 8;
    if (strchr(v, '/') || !ids_valid_id(p, (size_t)(s1 - p)) || !ids_valid_id(v, strlen(v)))
        return -1;
    *uid = arena_strndup(a, p, (size_t)(s1 - p));
    *vid = arena_strdup(a, v);
    return *uid && *vid ? 0 : -1;
}

clip_err mig_firestore_targets(fs_client *fs, arena_t *a, const char *uid, mig_target **out,
                               size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *parent = "";
    if (uid) {
        if (!ids_valid_id(uid, strlen(uid)))
            return clip_fail(CLIP_EINVAL, err, errlen, "bad uid");
        if (!(parent = layout_user_doc(a, uid)))
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    }
    static const char *const sel[] = {"video_id"};
    fs_order order = {"__name__", 0};
    fs_value after;
    for (int page = 0; page < MIG_LIST_PAGES_MAX; page++) {
        fs_query q = {.collection = "videos",
                      .all_descendants = uid == NULL,
                      .order = &order,
                      .norder = 1,
                      .select = sel,
                      .nselect = 1,
                      .limit = MIG_LIST_PAGE};
        if (page) {
            q.start_values = &after;
            q.nstart = 1;
        }
        fs_doc *docs = NULL;
        size_t nd = 0;
        clip_err e = fs_run_query(fs, a, parent, &q, &docs, &nd, err, errlen);
        if (e != CLIP_OK)
            return e;
        for (size_t i = 0; i < nd; i++) {
            const char *u, *v;
            if (split_video_name(a, docs[i].name, &u, &v) != 0)
                continue; /* another "videos" collection: not ours */
            if (push_target(a, out, n, &cap, u, v, NULL) != CLIP_OK)
                return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        }
        if (nd < MIG_LIST_PAGE)
            return CLIP_OK;
        after = fs_ref(docs[nd - 1].name);
    }
    return clip_fail(CLIP_ETOOBIG, err, errlen, "more than %d pages of videos", MIG_LIST_PAGES_MAX);
}

/* ---- the stored side ------------------------------------------------------------------------ */

typedef struct {
    int has_video;
    fs_doc video;
    fs_doc *clips; /* sorted by id */
    size_t nclips;
} stored;

static int cmp_doc_id(const void *x, const void *y)
{
    return strcmp(((const fs_doc *)x)->id, ((const fs_doc *)y)->id);
}

static clip_err read_stored(fs_client *fs, arena_t *a, const char *uid, const char *vid, stored *s,
                            char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    const char *path = layout_video_doc(a, uid, vid);
    if (!path)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    clip_err e = fs_get(fs, a, path, &s->video, err, errlen);
    if (e == CLIP_OK)
        s->has_video = 1;
    else if (e != CLIP_ENOTFOUND)
        return e;
    if (!(path = layout_clips_collection(a, uid, vid)))
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    size_t cap = 0;
    const char *token = NULL;
    for (int page = 0; page < MIG_LIST_PAGES_MAX; page++) {
        fs_doc *docs = NULL;
        size_t nd = 0;
        const char *next = NULL;
        e = fs_list(fs, a, path, MIG_LIST_PAGE, NULL, token, &docs, &nd, &next, err, errlen);
        if (e != CLIP_OK)
            return e;
        if (s->nclips + nd > cap) {
            size_t nc = cap ? cap * 2 : 64;
            while (nc < s->nclips + nd)
                nc *= 2;
            fs_doc *grown = arena_calloc(a, nc, sizeof *grown);
            if (!grown)
                return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
            if (s->nclips)
                memcpy(grown, s->clips, s->nclips * sizeof *grown);
            s->clips = grown;
            cap = nc;
        }
        if (nd)
            memcpy(s->clips + s->nclips, docs, nd * sizeof *docs);
        s->nclips += nd;
        if (!next || !next[0])
            break;
        token = next;
    }
    if (s->nclips)
        qsort(s->clips, s->nclips, sizeof *s->clips, cmp_doc_id);
    return CLIP_OK;
}

static const fs_doc *stored_clip(const stored *s, const char *clip_id)
{
    fs_doc key = {.id = clip_id};
    return s->nclips ? bsearch(&key, s->clips, s->nclips, sizeof *s->clips, cmp_doc_id) : NULL;
}

/* ---- the plan ------------------------------------------------------------------------------- */

static const fs_transform t_updated[] = {{"updated_at", FS_TRANSFORM_REQUEST_TIME, {0}}};
static const fs_transform t_both[] = {{"created_at", FS_TRANSFORM_REQUEST_TIME, {0}},
                                      {"updated_at", FS_TRANSFORM_REQUEST_TIME, {0}}};

void mig_plan_init(mig_plan *p)
{
    memset(p, 0, sizeof *p);
}

static fs_write *plan_add(arena_t *a, mig_plan *p)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        fs_write *grown = arena_calloc(a, nc, sizeof *grown);
        if (!grown)
            return NULL;
        if (p->n)
            memcpy(grown, p->writes, p->n * sizeof *grown);
        p->writes = grown;
        p->cap = nc;
    }
    fs_write *w = &p->writes[p->n++];
    memset(w, 0, sizeof *w);
    return w;
}

static int time_zero(fs_time t)
{
    return t.seconds == 0 && t.nanos == 0;
}

/* Whether every member of want is in have with an equal value. */
static int fields_match(const fs_value *want, const fs_value *have)
{
    for (size_t i = 0; i < want->u.map.n; i++) {
        const fs_field *f = &want->u.map.fields[i];
        const fs_value *h = fs_map_get(have, f->key);
        if (!h || !fs_value_equal(&f->value, h))
            return 0;
    }
    return 1;
}

/* The clip document for a legacy clip, as clips_create writes it, created_at the file's time. */
static clip_err clip_fields(arena_t *a, const char *uid, const char *vid, const clip_rec *c,
                            fs_value *out, const char **path, char *err, size_t errlen)
{
    clip_create_input cn;
    memset(&cn, 0, sizeof cn);
    cn.filename = c->filename;
    cn.scene_id = c->scene_id;
    cn.scene_title = c->scene_title;
    cn.scene_description = c->scene_description;
    cn.style = c->style;
    cn.start_time = c->start_time;
    cn.end_time = c->end_time;
    cn.has_duration = 1;
    cn.duration_seconds = c->duration_seconds;
    cn.has_priority = 1;
    cn.priority = c->priority;
    cn.status = c->status;
    cn.file_size_bytes = c->file_size_bytes;
    cn.has_thumbnail = c->has_thumbnail;
    fs_write w;
    clip_err e = clips_create_write(a, uid, vid, c->clip_id, &cn, 0, &w, err, errlen);
    if (e != CLIP_OK)
        return e;
    *out = fs_map();
    int r = 0;
    for (size_t i = 0; i < w.fields->u.map.n; i++)
        r |= fs_map_putn(a, out, w.fields->u.map.fields[i].key, w.fields->u.map.fields[i].key_len,
                         w.fields->u.map.fields[i].value);
    if (!time_zero(c->created_at))
        r |= fs_map_put(a, out, "created_at", fs_timestamp(c->created_at));
    *path = w.path;
    return r ? clip_fail(CLIP_ENOMEM, err, errlen, "out of memory") : CLIP_OK;
}

/* The video fields the legacy layout decides; a new document also gets the workflow's own
 * settings (null / empty, as the legacy layout has none) and, when known, its original time. */
#define MIG_VIDEO_OWNED                                                                            \
    (VIDEO_F_URL | VIDEO_F_TITLE | VIDEO_F_STATUS | VIDEO_F_STYLES | VIDEO_F_HIGHLIGHTS_COUNT |    \
     VIDEO_F_HIGHLIGHTS_SUMMARY | VIDEO_F_CLIP_STATS)
#define MIG_VIDEO_NEW                                                                              \
    (MIG_VIDEO_OWNED | VIDEO_F_YOUTUBE_ID | VIDEO_F_CUSTOM_PROMPT | VIDEO_F_CROP_MODE |            \
     VIDEO_F_TARGET_ASPECT)

clip_err mig_plan_video(fs_client *fs, arena_t *a, const legacy_video *lv, mig_plan *plan,
                        char *err, size_t errlen)
{
    const video_rec *v = &lv->video;
    stored s;
    clip_err e = read_stored(fs, a, v->user_id, v->video_id, &s, err, errlen);
    if (e != CLIP_OK)
        return e;
    plan->clips += lv->nclips;
    for (size_t i = 0; i < lv->nclips; i++) {
        const clip_rec *c = &lv->clips[i];
        fs_value *f = arena_alloc(a, sizeof *f);
        const char *path = NULL;
        char why[256];
        if (!f)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        e = clip_fields(a, v->user_id, v->video_id, c, f, &path, why, sizeof why);
        if (e == CLIP_EINVAL) {
            plan->clips_refused++;
            snprintf(plan->refused, sizeof plan->refused, "%.40s/%.40s/clips/%.60s: %.100s",
                     v->user_id, v->video_id, c->filename, why);
            continue;
        }
        if (e != CLIP_OK)
            return clip_fail(e, err, errlen, "%s", why);
        const fs_doc *have = stored_clip(&s, c->clip_id);
        if (have && fields_match(f, &have->fields))
            continue;
        fs_write *w = plan_add(a, plan);
        if (!w)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        w->path = path;
        w->fields = f;
        w->transforms = time_zero(c->created_at) ? t_both : t_updated;
        w->ntransforms = time_zero(c->created_at) ? 2 : 1;
        plan->clips_written++;
    }

    fs_value *vf = arena_alloc(a, sizeof *vf);
    const char *path = layout_video_doc(a, v->user_id, v->video_id);
    const char **owned = arena_calloc(a, VIDEOS_FIELDS_MAX, sizeof *owned);
    size_t nowned = 0;
    if (!vf || !path || !owned)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    if (!s.has_video) {
        /* the workflow's own settings stay as it writes them later: only a new document gets them */
        unsigned mask = MIG_VIDEO_NEW | (time_zero(v->created_at) ? 0 : VIDEO_F_CREATED_AT);
        e = videos_fields(a, v->user_id, v->video_id, v, mask, vf, owned, &nowned, err, errlen);
        if (e != CLIP_OK)
            return e;
        fs_write *w = plan_add(a, plan);
        if (!w)
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        w->path = path;
        w->fields = vf;
        w->transforms = time_zero(v->created_at) ? t_both : t_updated;
        w->ntransforms = time_zero(v->created_at) ? 2 : 1;
        plan->video_written = plan->video_created = 1;
        return CLIP_OK;
    }
    e = videos_fields(a, v->user_id, v->video_id, v, MIG_VIDEO_OWNED, vf, owned, &nowned, err,
                      errlen);
    if (e != CLIP_OK)
        return e;
    const char **mask = arena_calloc(a, nowned, sizeof *mask);
    if (!mask)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    size_t nmask = 0;
    for (size_t i = 0; i < nowned; i++) {
        const fs_value *want = fs_map_get(vf, owned[i]);
        const fs_value *have = fs_map_get(&s.video.fields, owned[i]);
        if (!have || !fs_value_equal(want, have))
            mask[nmask++] = owned[i];
    }
    if (nmask == 0)
        return CLIP_OK;
    fs_write *w = plan_add(a, plan);
    if (!w)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    w->path = path;
    w->fields = vf;
    w->mask = mask;
    w->nmask = nmask;
    w->use_mask = 1;
    w->transforms = t_updated;
    w->ntransforms = 1;
    plan->video_written = 1;
    return CLIP_OK;
}

/* ---- a run: batched commits ---------------------------------------------------------------- */

clip_err mig_commit_firestore(void *ctx, arena_t *a, const fs_write *writes, size_t n, char *err,
                              size_t errlen)
{
    return fs_commit((fs_client *)ctx, a, writes, n, NULL, err, errlen);
}

void mig_batch_init(mig_batch *b, mig_commit_fn commit, void *ctx)
{
    memset(b, 0, sizeof *b);
    b->commit = commit;
    b->ctx = ctx;
}

static void batch_release(mig_batch *b)
{
    for (size_t i = 0; i < b->narenas; i++) {
        arena_free(b->arenas[i]);
        free(b->arenas[i]);
    }
    b->narenas = 0;
    b->n = 0;
}

void mig_batch_free(mig_batch *b)
{
    batch_release(b);
    free(b->writes);
    free(b->arenas);
    b->writes = NULL;
    b->arenas = NULL;
    b->cap = b->capa = 0;
}

static void failed(const mig_sink *sink, const mig_target *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failed(const mig_sink *sink, const mig_target *t, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (sink->failed)
        sink->failed(sink->ctx, t, what);
}

int mig_batch_flush(mig_batch *b, const mig_target *t, const mig_sink *sink)
{
    arena_t a;
    arena_init(&a, 0);
    int rc = 0;
    for (size_t off = 0; off < b->n;) {
        size_t k = b->n - off > FS_COMMIT_WRITES_MAX ? FS_COMMIT_WRITES_MAX : b->n - off;
        char err[512] = "";
        clip_err e = b->commit(b->ctx, &a, b->writes + off, k, err, sizeof err);
        if (e != CLIP_OK) {
            failed(sink, t, "commit of %zu writes: %s: %s", k, clip_err_code(e), err);
            rc = -1;
            break;
        }
        if (sink->committed)
            sink->committed(sink->ctx, k);
        off += k;
    }
    arena_free(&a);
    batch_release(b);
    return rc;
}

/* Takes a video's writes (and its arena) into the batch. 0 ok, -1 out of memory. */
static int batch_take(mig_batch *b, const mig_plan *plan, arena_t *va)
{
    if (b->n + plan->n > b->cap) {
        size_t nc = b->cap ? b->cap : FS_COMMIT_WRITES_MAX;
        while (nc < b->n + plan->n)
            nc *= 2;
        fs_write *grown = realloc(b->writes, nc * sizeof *grown);
        if (!grown)
            return -1;
        b->writes = grown;
        b->cap = nc;
    }
    if (b->narenas == b->capa) {
        size_t nc = b->capa ? b->capa * 2 : 64;
        arena_t **grown = realloc(b->arenas, nc * sizeof *grown);
        if (!grown)
            return -1;
        b->arenas = grown;
        b->capa = nc;
    }
    if (plan->n)
        memcpy(b->writes + b->n, plan->writes, plan->n * sizeof *plan->writes);
    b->n += plan->n;
    b->arenas[b->narenas++] = va;
    return 0;
}

int mig_batch_add(mig_batch *b, const mig_plan *plan, arena_t *va, const mig_target *t,
                  const mig_sink *sink)
{
    int rc = 0;
    if (b->n && b->n + plan->n > FS_COMMIT_WRITES_MAX)
        rc = mig_batch_flush(b, t, sink);
    if (rc != 0 || batch_take(b, plan, va) != 0) {
        if (rc == 0)
            failed(sink, t, "out of memory");
        arena_free(va);
        free(va);
        return -1;
    }
    return b->n >= FS_COMMIT_WRITES_MAX ? mig_batch_flush(b, t, sink) : 0;
}

int mig_run(fs_client *fs, r2_client *r2, const mig_target *targets, size_t n, size_t first,
            size_t step, mig_commit_fn commit, void *commit_ctx, const mig_sink *sink)
{
    mig_batch b;
    mig_batch_init(&b, commit, commit_ctx);
    int rc = 0;
    const mig_target *last = NULL;
    for (size_t i = first; i < n && rc == 0 && !(sink->stop && sink->stop(sink->ctx)); i += step) {
        const mig_target *t = last = &targets[i];
        arena_t *va = malloc(sizeof *va);
        if (!va) {
            failed(sink, t, "out of memory");
            rc = -1;
            break;
        }
        arena_init(va, 0);
        legacy_report rep;
        legacy_report_init(&rep, va);
        legacy_video lv;
        char err[512];
        clip_err e = mig_read_target(r2, va, t, &lv, &rep, err, sizeof err);
        if (sink->issues)
            sink->issues(sink->ctx, t, &rep);
        mig_plan plan;
        mig_plan_init(&plan);
        if (e == CLIP_OK)
            e = mig_plan_video(fs, va, &lv, &plan, err, sizeof err);
        if (e != CLIP_OK) {
            if (e == CLIP_ENOTFOUND && sink->skipped) {
                sink->skipped(sink->ctx, t, "neither highlights.json nor clip files");
            } else if (e != CLIP_ENOTFOUND) {
                failed(sink, t, "%s: %s", clip_err_code(e), err);
                rc = -1;
            }
            arena_free(va);
            free(va);
            continue;
        }
        if (sink->planned)
            sink->planned(sink->ctx, t, &plan);
        rc = mig_batch_add(&b, &plan, va, t, sink);
    }
    if (rc == 0 && last)
        rc = mig_batch_flush(&b, last, sink);
    mig_batch_free(&b);
    return rc;
}

/* ---- verify --------------------------------------------------------------------------------- */

typedef struct {
    mig_diff_fn fn;
    void *ctx;
    size_t n;
    const char *path;
} differ;

static void diff_str(differ *d, const char *field, const char *r2, const char *fsv)
{
    if ((!r2 && !fsv) || (r2 && fsv && strcmp(r2, fsv) == 0))
        return;
    d->n++;
    d->fn(d->ctx, d->path, field, r2 ? r2 : "null", fsv ? fsv : "null");
}

static void diff_int(differ *d, const char *field, long long r2, long long fsv)
{
    if (r2 == fsv)
        return;
    char a[32], b[32];
    snprintf(a, sizeof a, "%lld", r2);
    snprintf(b, sizeof b, "%lld", fsv);
    d->n++;
    d->fn(d->ctx, d->path, field, a, b);
}

static void diff_dbl(differ *d, const char *field, double r2, double fsv)
{
    if (r2 == fsv || (isnan(r2) && isnan(fsv)))
        return;
    char a[40], b[40];
    snprintf(a, sizeof a, "%.17g", r2);
    snprintf(b, sizeof b, "%.17g", fsv);
    d->n++;
    d->fn(d->ctx, d->path, field, a, b);
}

static void join_list(char *out, size_t outlen, const char *const *items, size_t n)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off + 1 < outlen; i++) {
        int w = snprintf(out + off, outlen - off, "%s%s", i ? "," : "", items[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

static void diff_list(differ *d, const char *field, const char *const *r2, size_t nr2,
                      const char *const *fsv, size_t nfs)
{
    char a[1024], b[1024];
    join_list(a, sizeof a, r2, nr2);
    join_list(b, sizeof b, fsv, nfs);
    int same = nr2 == nfs;
    for (size_t i = 0; same && i < nr2; i++)
        same = strcmp(r2[i], fsv[i]) == 0;
    if (!same) {
        d->n++;
        d->fn(d->ctx, d->path, field, a, b);
    }
}

static void diff_video(differ *d, const video_rec *r, const video_rec *f)
{
    diff_str(d, "video_title", r->video_title, f->video_title);
    diff_str(d, "video_url", r->video_url, f->video_url);
    diff_str(d, "status", r->status, f->status);
    diff_list(d, "styles_processed", r->styles_processed, r->nstyles, f->styles_processed,
              f->nstyles);
    diff_int(d, "highlights_count", r->highlights_count, f->highlights_count);
    diff_dbl(d, "highlights_summary.total_duration", r->highlights_total_duration,
             f->highlights_total_duration);
    diff_list(d, "highlights_summary.categories", r->categories, r->ncategories, f->categories,
              f->ncategories);
    if (!f->has_clip_stats) {
        d->n++;
        d->fn(d->ctx, d->path, "clip_stats", "(computed)", "(missing)");
        return;
    }
    const video_clip_stats *a = &r->clip_stats, *b = &f->clip_stats;
    diff_int(d, "clip_stats.total", a->total, b->total);
    diff_int(d, "clip_stats.completed", a->completed, b->completed);
    diff_int(d, "clip_stats.failed", a->failed, b->failed);
    diff_int(d, "clip_stats.total_size_bytes", a->total_size_bytes, b->total_size_bytes);
    diff_dbl(d, "clip_stats.total_duration_seconds", a->total_duration_seconds,
             b->total_duration_seconds);
    int same = a->nby_style == b->nby_style;
    for (size_t i = 0; same && i < a->nby_style; i++)
        same = strcmp(a->by_style[i].style, b->by_style[i].style) == 0 &&
               a->by_style[i].count == b->by_style[i].count;
    if (!same) {
        char x[1024] = "", y[1024] = "";
        size_t ox = 0, oy = 0;
        for (size_t i = 0; i < a->nby_style && ox + 1 < sizeof x; i++) {
            int w = snprintf(x + ox, sizeof x - ox, "%s%s=%lld", i ? "," : "", a->by_style[i].style,
                             (long long)a->by_style[i].count);
            ox += w > 0 ? (size_t)w : 0;
        }
        for (size_t i = 0; i < b->nby_style && oy + 1 < sizeof y; i++) {
            int w = snprintf(y + oy, sizeof y - oy, "%s%s=%lld", i ? "," : "", b->by_style[i].style,
                             (long long)b->by_style[i].count);
            oy += w > 0 ? (size_t)w : 0;
        }
        d->n++;
        d->fn(d->ctx, d->path, "clip_stats.by_style", x, y);
    }
}

static void diff_clip(differ *d, const clip_rec *r, const clip_rec *f)
{
    diff_str(d, "filename", r->filename, f->filename);
    diff_int(d, "file_size_bytes", r->file_size_bytes, f->file_size_bytes);
    diff_int(d, "has_thumbnail", r->has_thumbnail, f->has_thumbnail);
    diff_str(d, "thumbnail_r2_key", r->thumbnail_r2_key, f->thumbnail_r2_key);
    diff_str(d, "r2_key", r->r2_key, f->r2_key);
    diff_str(d, "status", r->status, f->status);
    diff_int(d, "scene_id", r->scene_id, f->scene_id);
    diff_str(d, "style", r->style, f->style);
    diff_str(d, "scene_title", r->scene_title, f->scene_title);
    diff_str(d, "scene_description", r->scene_description, f->scene_description);
    diff_int(d, "priority", r->priority, f->priority);
    diff_str(d, "start_time", r->start_time, f->start_time);
    diff_str(d, "end_time", r->end_time, f->end_time);
    diff_dbl(d, "duration_seconds", r->duration_seconds, f->duration_seconds);
}

static int cmp_str_ptr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

clip_err mig_verify_video(fs_client *fs, arena_t *a, const char *uid, const char *video_id,
                          const legacy_video *lv, mig_diff_fn fn, void *ctx, size_t *ndiff,
                          char *err, size_t errlen)
{
    stored s;
    clip_err e = read_stored(fs, a, uid, video_id, &s, err, errlen);
    if (e != CLIP_OK)
        return e;
    differ d = {fn, ctx, 0, NULL};
    const char *vpath = layout_video_doc(a, uid, video_id), *cpath;
    if (!vpath)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    d.path = vpath;
    if (!lv && !s.has_video && s.nclips == 0)
        return CLIP_OK;
    if (!lv) {
        d.n++;
        fn(ctx, vpath, "document", "(missing)", "present");
    } else if (!s.has_video) {
        d.n++;
        fn(ctx, vpath, "document", "present", "(missing)");
    } else {
        video_rec f;
        e = videos_from_doc(a, &s.video, &f, err, errlen);
        if (e != CLIP_OK)
            return e;
        diff_video(&d, &lv->video, &f);
    }
    /* clips on both sides, by id; a video missing on one side shows each of its clips too */
    for (size_t i = 0; lv && i < lv->nclips; i++) {
        const clip_rec *r = &lv->clips[i];
        if (!(cpath = layout_clip_doc(a, uid, video_id, r->clip_id)))
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        d.path = cpath;
        const fs_doc *have = stored_clip(&s, r->clip_id);
        if (!have) {
            d.n++;
            fn(ctx, cpath, "document", "present", "(missing)");
            continue;
        }
        clip_rec f;
        e = clips_from_doc(a, have, &f, err, errlen);
        if (e != CLIP_OK)
            return e;
        diff_clip(&d, r, &f);
    }
    size_t nids = lv ? lv->nclips : 0;
    const char **ids = nids ? arena_calloc(a, nids, sizeof *ids) : NULL;
    if (nids && !ids)
        return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
    for (size_t i = 0; i < nids; i++)
        ids[i] = lv->clips[i].clip_id;
    if (nids)
        qsort(ids, nids, sizeof *ids, cmp_str_ptr);
    for (size_t i = 0; i < s.nclips; i++) {
        const char *id = s.clips[i].id;
        if (nids && bsearch(&id, ids, nids, sizeof *ids, cmp_str_ptr))
            continue;
        if (!(cpath = layout_clip_doc(a, uid, video_id, s.clips[i].id)))
            return clip_fail(CLIP_ENOMEM, err, errlen, "out of memory");
        d.n++;
        fn(ctx, cpath, "document", "(missing)", "present");
    }
    *ndiff += d.n;
    return CLIP_OK;
}
