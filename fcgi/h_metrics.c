/* h_metrics: the pool's counters in Prometheus text format (nginx restricts who may ask). */
#include "breaker.h"
#include "handlers.h"
#include "metrics.h"

void h_metrics(request_t *rq, response_t *rs)
{
    (void)rq;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
    metrics_render(&rs->body);
    breaker_render(&rs->body);
}
