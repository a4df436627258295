/* ready: the two readiness probes prepared by their modules and sent in one http_do_many. */
#include "ready.h"

#include <string.h>

void ready_check(fs_client *fs, r2_client *r2, long deadline_ms, ready_result *out)
{
    memset(out, 0, sizeof *out);
    fs_prepared fp;
    r2_prepared rp;
    http_req reqs[2];
    http_resp resps[2];
    clip_err rcs[2];
    char *errs[2];
    size_t n = 0, fi = 2, ri = 2;
    out->fs = fs_prepare_get(fs, READY_FS_PROBE_PATH, deadline_ms, &fp, &reqs[n], out->fs_err,
                             sizeof out->fs_err);
    if (out->fs == CLIP_OK) {
        errs[n] = out->fs_err;
        fi = n++;
    }
    out->r2 = r2_prepare_head(r2, READY_R2_PROBE_KEY, strlen(READY_R2_PROBE_KEY), deadline_ms, &rp,
                              &reqs[n], out->r2_err, sizeof out->r2_err);
    if (out->r2 == CLIP_OK) {
        errs[n] = out->r2_err;
        ri = n++;
    }
    if (n == 0)
        return;
    http_do_many(n, reqs, resps, rcs, errs, sizeof out->fs_err);
    if (fi < n)
        out->fs = fs_prepared_result(&fp, rcs[fi], &resps[fi], out->fs_err, sizeof out->fs_err);
    if (ri < n)
        out->r2 = r2_prepared_result(&rp, rcs[ri], &resps[ri], out->r2_err, sizeof out->r2_err);
    if (out->fs == CLIP_ENOTFOUND)
        out->fs = CLIP_OK;
    if (out->r2 == CLIP_ENOTFOUND)
        out->r2 = CLIP_OK;
}
