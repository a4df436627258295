/* h_internal: the workflow's write path (CONTRACT section 4, internal endpoints). */
#include "auth.h"
#include "handlers.h"

static void not_yet(request_t *rq, response_t *rs)
{
    if (auth_service(rq, rs) != 0)
        return;
    resp_error(rs, rq, 503, "unavailable", "not implemented yet");
}

void h_int_video_put(request_t *rq, response_t *rs)
{
    not_yet(rq, rs);
}

void h_int_clip_put(request_t *rq, response_t *rs)
{
    not_yet(rq, rs);
}

void h_int_clip_patch(request_t *rq, response_t *rs)
{
    not_yet(rq, rs);
}

void h_int_stats(request_t *rq, response_t *rs)
{
    not_yet(rq, rs);
}

void h_int_upload_urls(request_t *rq, response_t *rs)
{
    not_yet(rq, rs);
}
