/* h_health: liveness, answered without touching any backend. */
#include "handlers.h"

void h_healthz(request_t *rq, response_t *rs)
{
    (void)rq;
    buf_puts(&rs->body, "{\"status\":\"ok\"}");
}
