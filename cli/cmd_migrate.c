/* cmd_migrate: `clipctl migrate`, phase 3: the legacy R2 layout into Firestore documents, batched,
 * idempotent, resumable, in parallel processes, with progress and a summary. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "firestore.h"
#include "http.h"
#include "ids.h"
#include "legacy.h"
#include "migrate.h"

#define MIGRATE_CONCURRENCY_MAX 32
#define MIGRATE_EVENT_MAX 2048    /* one event line between a worker and the parent */
#define MIGRATE_ISSUES_SHOWN 1000 /* issue lines in the summary; the rest are counted */
#define MIGRATE_SKIPS_SHOWN 1000
#define MIGRATE_PLAIN_EVERY_S 2.0 /* progress line interval when stderr is not a terminal */
#define MIGRATE_BAR_EVERY_S 0.1
#define MIGRATE_BAR_WIDTH 30

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: clipctl [--config FILE] migrate (--user UID [--video VIDEO_ID] | --all)\n"
        "                                       [--dry-run] [--concurrency N]\n"
        "\n"
        "Phase 3 of the migration (docs/migration.md): reads the legacy R2 layout\n"
        "(UID/VIDEO_ID/highlights.json, clips/clip_SCENE_STYLE.mp4, thumbnails/) and writes the\n"
        "video and clip documents to Firestore in batched commits of at most %d writes. Each\n"
        "document is compared with what is stored first and written only when missing or\n"
        "different, so a second run writes nothing (and says so) and a run that was stopped at\n"
        "any point is completed by running it again. A video's clips are committed before the\n"
        "video document. clip_stats is computed from the clips.\n"
        "\n"
        "  --user UID      the videos of one user (with --video: one video)\n"
        "  --video ID      one video of --user\n"
        "  --all           every user folder of the bucket\n"
        "  --dry-run       read and compare everything, write nothing\n"
        "  --concurrency N videos migrated in parallel by N worker processes [1, at most %d]\n"
        "  --help          this text\n"
        "\n"
        "Progress goes to stderr (a bar on a terminal, a line every 2 s otherwise); the summary\n"
        "(name: value lines, skipped videos and layout issues) to stdout.\n"
        "Exit status: 0 done, 1 a video or a commit failed (run again), 2 bad usage.\n",
        FS_COMMIT_WRITES_MAX, MIGRATE_CONCURRENCY_MAX);
}

/* ---- totals and progress (parent) ---------------------------------------------------------- */

typedef struct {
    size_t targets;
    size_t videos, videos_written, videos_created, videos_skipped, videos_failed;
    size_t clips, clips_written, clips_refused;
    size_t commits, writes;
    size_t issue_counts[LEGACY_ISSUE__COUNT];
    size_t issues_shown, skips_shown;
    buf_t issues; /* "issue: ..." lines */
    buf_t skips;  /* "skipped: ..." and "failed: ..." lines */
    double t0, last_draw;
    int tty, drawn;
    int dry_run;
} totals;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(totals *t, int final)
{
    double now = now_s();
    if (!final && now - t->last_draw < (t->tty ? MIGRATE_BAR_EVERY_S : MIGRATE_PLAIN_EVERY_S))
        return;
    t->last_draw = now;
    double el = now - t->t0;
    double rate = el > 0 ? (double)t->clips / el : 0;
    size_t done = t->videos + t->videos_skipped + t->videos_failed;
    if (t->tty) {
        int fill = t->targets ? (int)((double)done * MIGRATE_BAR_WIDTH / (double)t->targets)
                              : MIGRATE_BAR_WIDTH;
        char bar[MIGRATE_BAR_WIDTH + 1];
        for (int i = 0; i < MIGRATE_BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[MIGRATE_BAR_WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu videos  %zu clips  %zu commits  %.0f clips/s ", bar, done,
                t->targets, t->clips, t->commits, rate);
        if (final)
            fputc('\n', stderr);
        t->drawn = 1;
    } else {
        fprintf(stderr,
                "migrate: %zu/%zu videos, %zu clips (%zu to write), %zu commits, %.0f clips/s\n",
                done, t->targets, t->clips, t->clips_written, t->commits, rate);
    }
    fflush(stderr);
}

/* Control bytes (a key may hold anything) become '?', so events stay one line and fields tab-free.
 */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Splits a tab-separated line into at most max fields. */
static size_t fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        f[n++] = line;
        char *tab = strchr(line, '\t');
        if (!tab || n == max)
            break;
        *tab = '\0';
        line = tab + 1;
    }
    return n;
}

static long long num(const char *s)
{
    return strtoll(s, NULL, 10);
}

/* One event of a worker (the protocol below); unknown lines are ignored. */
static void on_event(totals *t, char *line)
{
    char *f[8];
    size_t n = fields(line, f, 8);
    if (n == 8 && strcmp(f[0], "V") == 0) {
        t->videos++;
        t->clips += (size_t)num(f[1]);
        t->clips_written += (size_t)num(f[2]);
        t->videos_written += num(f[3]) != 0;
        t->videos_created += num(f[4]) != 0;
        t->clips_refused += (size_t)num(f[5]);
        if (num(f[5]) && t->skips_shown++ < MIGRATE_SKIPS_SHOWN)
            buf_printf(&t->skips, "refused: %s: %s\n", f[6], f[7]);
    } else if (n >= 3 && (strcmp(f[0], "S") == 0 || strcmp(f[0], "F") == 0)) {
        int failed = f[0][0] == 'F';
        if (failed)
            t->videos_failed++;
        else
            t->videos_skipped++;
        if (failed || t->skips_shown++ < MIGRATE_SKIPS_SHOWN)
            buf_printf(&t->skips, "%s: %s: %s\n", failed ? "failed" : "skipped", f[1], f[2]);
    } else if (n >= 2 && strcmp(f[0], "C") == 0) {
        t->commits++;
        t->writes += (size_t)num(f[1]);
    } else if (n >= 4 && strcmp(f[0], "I") == 0) {
        long k = (long)num(f[1]);
        if (k >= 0 && k < LEGACY_ISSUE__COUNT)
            t->issue_counts[k]++;
        if (t->issues_shown++ < MIGRATE_ISSUES_SHOWN)
            buf_printf(&t->issues, "issue: %s %s: %s\n", legacy_issue_name((legacy_issue_kind)k),
                       f[2], f[3]);
    }
    draw(t, 0);
}

/* ---- the work (a worker process, or the command itself) ------------------------------------- */

typedef struct {
    int fd; /* events go to this pipe; -1: straight to t */
    totals *t;
    fs_client *fs;
    r2_client *r2;
    int dry_run;
    int orphaned; /* the parent is gone (its pipe broke): stop after the current video */
} worker;

static void emit(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(worker *w, const char *fmt, ...)
{
    char line[MIGRATE_EVENT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
    line[len] = '\0';
    if (w->fd < 0) {
        on_event(w->t, line);
        return;
    }
    line[len++] = '\n';
    /* one write of at most PIPE_BUF bytes: never torn */
    for (size_t off = 0; off < len;) {
        ssize_t k = write(w->fd, line + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->orphaned = 1;
            return;
        }
        off += (size_t)k;
    }
}

/* ---- the run's events (core/migrate's sink) ------------------------------------------------ */

static void target_name(const mig_target *t, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", t->uid, t->video_id);
}

static void on_issues(void *ctx, const mig_target *t, const legacy_report *rep)
{
    (void)t;
    worker *w = ctx;
    for (size_t i = 0; i < rep->n; i++) {
        char key[600], detail[300];
        snprintf(key, sizeof key, "%s", rep->items[i].key);
        snprintf(detail, sizeof detail, "%s", rep->items[i].detail);
        clean(key);
        clean(detail);
        emit(w, "I\t%d\t%s\t%s", (int)rep->items[i].kind, key, detail);
    }
    for (size_t i = 0; i < rep->dropped; i++)
        emit(w, "I\t%d\t%s\t%s", (int)LEGACY_TRUNCATED, "(report)",
             "more issues than one report keeps");
}

static void on_planned(void *ctx, const mig_target *t, const mig_plan *plan)
{
    char name[2 * IDS_MAX + 2], refused[sizeof plan->refused];
    target_name(t, name, sizeof name);
    snprintf(refused, sizeof refused, "%s", plan->refused);
    clean(refused);
    emit(ctx, "V\t%zu\t%zu\t%d\t%d\t%zu\t%s\t%s", plan->clips, plan->clips_written,
         plan->video_written, plan->video_created, plan->clips_refused, name, refused);
}

static void on_skipped(void *ctx, const mig_target *t, const char *why)
{
    char name[2 * IDS_MAX + 2];
    target_name(t, name, sizeof name);
    emit(ctx, "S\t%s\t%s", name, why);
}

static void on_failed(void *ctx, const mig_target *t, const char *what)
{
    char name[2 * IDS_MAX + 2], why[1024];
    target_name(t, name, sizeof name);
    snprintf(why, sizeof why, "%s", what);
    clean(why);
    emit(ctx, "F\t%s\t%s", name, why);
}

static void on_committed(void *ctx, size_t n)
{
    emit(ctx, "C\t%zu", n);
}

static int on_stop(void *ctx)
{
    return ((worker *)ctx)->orphaned;
}

/* A dry run: the commits are counted, none is sent. */
static clip_err commit_nothing(void *ctx, arena_t *a, const fs_write *writes, size_t n, char *err,
                               size_t errlen)
{
    (void)ctx, (void)a, (void)writes, (void)n, (void)err, (void)errlen;
    return CLIP_OK;
}

/* Migrates targets[first], targets[first + step], ... (core/migrate), its events to w. */
static int work(worker *w, const mig_target *targets, size_t n, size_t first, size_t step)
{
    mig_sink sink = {w, on_issues, on_planned, on_skipped, on_failed, on_committed, on_stop};
    return mig_run(w->fs, w->r2, targets, n, first, step,
                   w->dry_run ? commit_nothing : mig_commit_firestore, w->fs, &sink);
}

/* ---- the command ---------------------------------------------------------------------------- */

typedef struct {
    const char *uid, *video_id;
    int all, dry_run;
    long concurrency;
} opts;

static int parse(int argc, char **argv, opts *o, int *help)
{
    static const struct option lopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"video", required_argument, NULL, 'v'},
        {"all", no_argument, NULL, 'a'},
        {"dry-run", no_argument, NULL, 'n'},
        {"concurrency", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "migrate";
    memset(o, 0, sizeof *o);
    o->concurrency = 1;
    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->uid = optarg;
            break;
        case 'v':
            o->video_id = optarg;
            break;
        case 'a':
            o->all = 1;
            break;
        case 'n':
            o->dry_run = 1;
            break;
        case 'c':
            if (cli_parse_long(optarg, 1, MIGRATE_CONCURRENCY_MAX, &o->concurrency) != 0)
                return cli_usage_error(cmd, "--concurrency: a whole number from 1 to %d",
                                       MIGRATE_CONCURRENCY_MAX);
            break;
        case 'h':
            *help = 1;
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(cmd, c, argv);
        }
    }
    int rc = cli_no_operands(cmd, argc, argv);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (o->all == (o->uid != NULL))
        return cli_usage_error(cmd, "give either --user UID or --all");
    if (o->video_id && !o->uid)
        return cli_usage_error(cmd, "--video needs --user");
    if (o->uid && !ids_valid_id(o->uid, strlen(o->uid)))
        return cli_usage_error(cmd, "--user: not an id (1-128 bytes of [A-Za-z0-9_-])");
    if (o->video_id && !ids_valid_id(o->video_id, strlen(o->video_id)))
        return cli_usage_error(cmd, "--video: not an id (1-128 bytes of [A-Za-z0-9_-])");
    return CLI_EXIT_OK;
}

/* Reads the workers' pipes until every one is closed. */
static void collect(totals *t, int *fds, size_t n)
{
    buf_t acc[MIGRATE_CONCURRENCY_MAX];
    for (size_t i = 0; i < n; i++)
        buf_init(&acc[i], 0);
    size_t open = n;
    while (open) {
        struct pollfd p[MIGRATE_CONCURRENCY_MAX];
        for (size_t i = 0; i < n; i++) {
            p[i].fd = fds[i];
            p[i].events = POLLIN;
            p[i].revents = 0;
        }
        int r = poll(p, (nfds_t)n, 1000);
        if (r < 0 && errno != EINTR)
            break;
        for (size_t i = 0; r > 0 && i < n; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[8192];
            ssize_t k = read(fds[i], chunk, sizeof chunk);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                close(fds[i]);
                fds[i] = -1;
                open--;
                continue;
            }
            buf_append(&acc[i], chunk, (size_t)k);
            size_t start = 0;
            for (size_t j = 0; j < acc[i].len; j++)
                if (acc[i].p[j] == '\n') {
                    acc[i].p[j] = '\0';
                    on_event(t, acc[i].p + start);
                    start = j + 1;
                }
            memmove(acc[i].p, acc[i].p + start, acc[i].len - start);
            acc[i].len -= start;
        }
        draw(t, 0);
    }
    for (size_t i = 0; i < n; i++)
        buf_free(&acc[i]);
}

/* Forks the workers; each makes its own HTTP state and clients (core/http is per process). */
static int run_parallel(const cfg_t *cfg, totals *t, const mig_target *targets, size_t n,
                        size_t workers, int dry_run)
{
    int fds[MIGRATE_CONCURRENCY_MAX];
    pid_t pids[MIGRATE_CONCURRENCY_MAX];
    size_t started = 0;
    int rc = 0;
    fflush(NULL);
    for (size_t i = 0; i < workers; i++) {
        int p[2];
        if (pipe(p) != 0) {
            rc = -1;
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            rc = -1;
            break;
        }
        if (pid == 0) {
            for (size_t j = 0; j < started; j++)
                close(fds[j]);
            close(p[0]);
            signal(SIGPIPE, SIG_IGN);
            worker w = {p[1], NULL, NULL, NULL, dry_run, 0};
            char err[512];
            int wrc = 1;
            if (http_global_init() == CLIP_OK &&
                fs_client_new(cfg, &w.fs, err, sizeof err) == CLIP_OK &&
                r2_client_new(cfg, &w.r2, err, sizeof err) == CLIP_OK)
                wrc = work(&w, targets, n, i, workers) == 0 ? 0 : 1;
            else
                emit(&w, "F\tworker %zu\tcannot set up: %s", i, err);
            fs_client_free(w.fs);
            r2_client_free(w.r2);
            http_global_cleanup();
            close(p[1]);
            _exit(wrc);
        }
        close(p[1]);
        fds[started] = p[0];
        pids[started] = pid;
        started++;
    }
    collect(t, fds, started);
    for (size_t i = 0; i < started; i++) {
        int st = 0;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (!WIFEXITED(st))
                buf_printf(&t->skips, "failed: worker %zu: killed by signal %d\n", i, WTERMSIG(st));
            rc = -1;
        }
    }
    return rc;
}

static void summary(totals *t, const legacy_report *trep)
{
    double el = now_s() - t->t0;
    size_t unchanged = t->videos - t->videos_written;
    printf("videos: %zu\nvideos_written: %zu\nvideos_created: %zu\nvideos_unchanged: %zu\n"
           "videos_skipped: %zu\nvideos_failed: %zu\n",
           t->videos, t->videos_written, t->videos_created, unchanged, t->videos_skipped,
           t->videos_failed);
    printf("clips: %zu\nclips_written: %zu\nclips_unchanged: %zu\nclips_refused: %zu\n", t->clips,
           t->clips_written, t->clips - t->clips_written - t->clips_refused, t->clips_refused);
    printf("commits: %zu\nwrites: %zu\nseconds: %.2f\nclips_per_s: %.1f\n", t->commits, t->writes,
           el, el > 0 ? (double)t->clips / el : 0);
    size_t total_issues = 0;
    printf("issues:");
    for (int k = 0; k < LEGACY_ISSUE__COUNT; k++) {
        size_t c = t->issue_counts[k] + (trep ? trep->counts[k] : 0);
        total_issues += c;
        if (c)
            printf(" %s=%zu", legacy_issue_name((legacy_issue_kind)k), c);
    }
    printf("%s\n", total_issues ? "" : " none");
    for (size_t i = 0; trep && i < trep->n; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s", trep->items[i].key);
        clean(key);
        printf("issue: %s %s: %s\n", legacy_issue_name(trep->items[i].kind), key,
               trep->items[i].detail);
    }
    if (t->skips.len)
        fputs(t->skips.p, stdout);
    if (t->issues.len)
        fputs(t->issues.p, stdout);
    if (t->issues_shown > MIGRATE_ISSUES_SHOWN)
        printf("issues_not_shown: %zu\n", t->issues_shown - MIGRATE_ISSUES_SHOWN);
    if (t->videos_failed)
        printf("result: %zu videos failed; run the same command again to complete them\n",
               t->videos_failed);
    else if (t->dry_run)
        printf("result: dry run, nothing written (%zu writes would be sent)\n", t->writes);
    else if (t->writes == 0)
        printf("result: nothing to do, Firestore already matches the legacy layout\n");
    else
        printf("result: migrated\n");
    fflush(stdout);
}

int cmd_migrate(const cli_ctx *ctx, int argc, char **argv)
{
    const char *cmd = "migrate";
    opts o;
    int help = 0;
    int rc = parse(argc, argv, &o, &help);
    if (rc != CLI_EXIT_OK || help) {
        if (help)
            usage(stdout);
        return rc;
    }
    cli_env env;
    if ((rc = cli_open_stores(ctx, cmd, &env)) != CLI_EXIT_OK)
        return rc;
    const cfg_t *cfg = env.cfg;
    fs_client *fs = env.fs;
    r2_client *r2 = env.r2;
    char err[CFG_ERR_MAX];
    arena_t a;
    arena_init(&a, 0);
    totals t;
    memset(&t, 0, sizeof t);
    buf_init(&t.issues, 0);
    buf_init(&t.skips, 0);
    t.t0 = now_s();
    t.tty = isatty(STDERR_FILENO);
    t.dry_run = o.dry_run;
    legacy_report trep;
    legacy_report_init(&trep, &a);
    mig_target *targets = NULL;
    size_t n = 0;
    clip_err e =
        mig_legacy_targets(r2, &a, o.uid, o.video_id, &targets, &n, &trep, err, sizeof err);
    if (e != CLIP_OK) {
        rc = cli_fail(cmd, "listing the legacy layout: %s: %s", clip_err_code(e), err);
        goto out;
    }
    t.targets = n;
    size_t workers = (size_t)o.concurrency < n ? (size_t)o.concurrency : n;
    int wrc;
    if (workers <= 1) {
        worker w = {-1, &t, fs, r2, o.dry_run, 0};
        wrc = n ? work(&w, targets, n, 0, 1) : 0;
    } else {
        wrc = run_parallel(cfg, &t, targets, n, workers, o.dry_run);
    }
    draw(&t, 1);
    summary(&t, &trep);
    rc = wrc == 0 && t.videos_failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    buf_free(&t.issues);
    buf_free(&t.skips);
    arena_free(&a);
    cli_close(&env);
    return rc;
}
