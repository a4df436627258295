/* presign_c: presigned R2 GET URLs per second through sig_presign on one core (for
 * bench/presign.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0 || seconds > 60)
        seconds = 2.0;
    sig_config c = {"3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d",
                    "9b8a7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9",
                    NULL,
                    "auto",
                    "s3",
                    "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
                    "clips-bucket",
                    0};
    sig_signer *s;
    char err[256];
    if (sig_signer_new(&c, &s, err, sizeof err) != CLIP_OK) {
        fprintf(stderr, "presign_c: %s\n", err);
        return 1;
    }
    /* the hot path's keys: clip files and thumbnails of one video */
    char keys[64][128];
    size_t lens[64];
    for (int i = 0; i < 64; i++)
        lens[i] = (size_t)snprintf(keys[i], sizeof keys[i],
                                   "uid%04d/vid%06d/%s/clip_%d_vertical.%s", i % 7, 1000 + i,
                                   i % 2 ? "clips" : "thumbnails", i, i % 2 ? "mp4" : "jpg");
    buf_t url = BUF_INIT;
    unsigned long n = 0;
    size_t bytes = 0;
    double t0 = now_s(), t1;
    do {
        for (int i = 0; i < 4096; i++) {
            sig_presign_req r = {.method = SIG_GET,
                                 .key = keys[i & 63],
                                 .key_len = lens[i & 63],
                                 .expires = 3600,
                                 .when = time(NULL)};
            buf_reset(&url);
            if (sig_presign(s, &r, &url, err, sizeof err) != CLIP_OK) {
                fprintf(stderr, "presign_c: %s\n", err);
                return 1;
            }
            bytes += url.len;
        }
        n += 4096;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    printf("%.0f\n", (double)n / (t1 - t0));
    fprintf(stderr, "presign_c: %lu URLs in %.2f s, %.0f bytes each\n", n, t1 - t0,
            (double)bytes / (double)n);
    buf_free(&url);
    sig_signer_free(s);
    return 0;
}
