/* cmd_verify: `clipctl verify`: compares the legacy R2 layout with the Firestore documents for one
 * video, one user or everything, printing every difference. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "firestore.h"
#include "http.h"
#include "ids.h"
#include "legacy.h"
#include "migrate.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: clipctl [--config FILE] verify (--user UID [--video VIDEO_ID] | --all)\n"
        "\n"
        "Compares the legacy R2 layout with Firestore for the same scope and prints every\n"
        "difference, one line each:\n"
        "  diff: PATH FIELD: r2=VALUE firestore=VALUE\n"
        "PATH is the document (users/UID/videos/VIDEO_ID[/clips/CLIP_ID]); FIELD is \"document\"\n"
        "when one side lacks it ((missing)), else the field: file_size_bytes, has_thumbnail,\n"
        "scene_title and the other scene data, video_title, clip_stats.... Videos Firestore holds\n"
        "in the scope that R2 lacks count as differences too. Layout issues (unparseable names,\n"
        "missing thumbnails or highlights.json) are listed as issue: lines; they are not\n"
        "differences, since migrate never writes those objects.\n"
        "\n"
        "  --user UID      the videos of one user (with --video: one video)\n"
        "  --video ID      one video of --user\n"
        "  --all           every user\n"
        "  --help          this text\n"
        "Exit status: 0 identical, 1 any difference (or a failed read), 2 bad usage.\n");
}

typedef struct {
    size_t shown;
} printer;

static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static void on_diff(void *ctx, const char *path, const char *field, const char *r2, const char *fsv)
{
    printer *p = ctx;
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s", r2);
    snprintf(b, sizeof b, "%s", fsv);
    clean(a);
    clean(b);
    printf("diff: %s %s: r2=%s firestore=%s\n", path, field, a, b);
    p->shown++;
}

static int same_video(const mig_target *a, const mig_target *b)
{
    return strcmp(a->uid, b->uid) == 0 && strcmp(a->video_id, b->video_id) == 0;
}

/* By user and video; of two entries for one video, the one with scanned files first. */
static int cmp_target(const void *x, const void *y)
{
    const mig_target *a = x, *b = y;
    int c = strcmp(a->uid, b->uid);
    if (!c)
        c = strcmp(a->video_id, b->video_id);
    return c ? c : (a->folder == NULL) - (b->folder == NULL);
}

static void print_issues(const legacy_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s", rep->items[i].key);
        clean(key);
        printf("issue: %s %s: %s\n", legacy_issue_name(rep->items[i].kind), key,
               rep->items[i].detail);
    }
}

int cmd_verify(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option lopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"video", required_argument, NULL, 'v'},
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "verify", *uid = NULL, *vid = NULL;
    int all = 0, c, rc;
    cli_options_begin();
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uid = optarg;
            break;
        case 'v':
            vid = optarg;
            break;
        case 'a':
            all = 1;
            break;
        default:
            return cli_option_other(cmd, c, argv, usage);
        }
    }
    if ((rc = cli_no_operands(cmd, argc, argv)) != CLI_EXIT_OK)
        return rc;
    if (all == (uid != NULL))
        return cli_usage_error(cmd, "give either --user UID or --all");
    if (vid && !uid)
        return cli_usage_error(cmd, "--video needs --user");
    if ((uid && !ids_valid_id(uid, strlen(uid))) || (vid && !ids_valid_id(vid, strlen(vid))))
        return cli_usage_error(cmd, "--user / --video: not an id (1-128 bytes of [A-Za-z0-9_-])");

    cli_env env;
    if ((rc = cli_open_stores(ctx, cmd, &env)) != CLI_EXIT_OK)
        return rc;
    fs_client *fs = env.fs;
    r2_client *r2 = env.r2;
    char err[CFG_ERR_MAX];
    arena_t a, va;
    arena_init(&a, 0);
    arena_init(&va, 0);
    legacy_report trep;
    legacy_report_init(&trep, &a);
    mig_target *lt = NULL, *ft = NULL;
    size_t nl = 0, nf = 0, ndiff = 0, nissues = 0, nvideos = 0;
    clip_err e = mig_legacy_targets(r2, &a, uid, vid, &lt, &nl, &trep, err, sizeof err);
    if (e == CLIP_OK && !vid)
        e = mig_firestore_targets(fs, &a, uid, &ft, &nf, err, sizeof err);
    if (e != CLIP_OK) {
        rc = cli_fail(cmd, "listing: %s: %s", clip_err_code(e), err);
        goto out;
    }
    print_issues(&trep);
    nissues += trep.n + trep.dropped;
    /* the union of both sides' videos, each once */
    mig_target *all_t = nl + nf ? arena_calloc(&a, nl + nf, sizeof *all_t) : NULL;
    if (nl + nf && !all_t) {
        rc = cli_fail(cmd, "out of memory");
        goto out;
    }
    if (nl)
        memcpy(all_t, lt, nl * sizeof *lt);
    if (nf)
        memcpy(all_t + nl, ft, nf * sizeof *ft);
    size_t n = nl + nf;
    if (n)
        qsort(all_t, n, sizeof *all_t, cmp_target);
    printer pr = {0};
    for (size_t i = 0; i < n; i++) {
        if (i && same_video(&all_t[i - 1], &all_t[i]))
            continue;
        nvideos++;
        arena_reset(&va);
        legacy_report rep;
        legacy_report_init(&rep, &va);
        legacy_video lv;
        e = mig_read_target(r2, &va, &all_t[i], &lv, &rep, err, sizeof err);
        if (e != CLIP_OK && e != CLIP_ENOTFOUND) {
            rc = cli_fail(cmd, "reading R2 for %s/%s: %s: %s", all_t[i].uid, all_t[i].video_id,
                          clip_err_code(e), err);
            goto out;
        }
        print_issues(&rep);
        nissues += rep.n + rep.dropped;
        e = mig_verify_video(fs, &va, all_t[i].uid, all_t[i].video_id, e == CLIP_OK ? &lv : NULL,
                             on_diff, &pr, &ndiff, err, sizeof err);
        if (e != CLIP_OK) {
            rc = cli_fail(cmd, "reading Firestore for %s/%s: %s: %s", all_t[i].uid,
                          all_t[i].video_id, clip_err_code(e), err);
            goto out;
        }
    }
    printf("videos: %zu\ndifferences: %zu\nissues: %zu\nresult: %s\n", nvideos, ndiff, nissues,
           ndiff ? "different" : "identical");
    rc = ndiff ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    fflush(stdout);
    arena_free(&va);
    arena_free(&a);
    cli_close(&env);
    return rc;
}
