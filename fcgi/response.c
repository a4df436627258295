/* response: building answers and serializing them as CGI responses. */
#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

void resp_init(response_t *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->status = 200;
    buf_init(&rs->headers, 64 * 1024);
    buf_init(&rs->body, RESP_BODY_MAX);
}

void resp_free(response_t *rs)
{
    buf_free(&rs->headers);
    buf_free(&rs->body);
}

void resp_header(response_t *rs, const char *name, const char *value)
{
    /* header values we set never come with CR/LF from outside, but make sure */
    if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n:"))
        return;
    buf_printf(&rs->headers, "%s: %s\r\n", name, value);
}

const char *resp_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static void error_body(response_t *rs, const request_t *rq, const clip_err_answer *a,
                       const char *msg)
{
    int status = a->status;
    const char *code = a->code;
    rs->status = status;
    rs->error_code = code;
    if (a->retry_after > 0 && !strstr(rs->headers.p ? rs->headers.p : "", "Retry-After:")) {
        char v[24];
        snprintf(v, sizeof v, "%ld", a->retry_after);
        resp_header(rs, "Retry-After", v);
    }
    rs->content_type = NULL;
    buf_reset(&rs->body);
    buf_puts(&rs->body, "{\"error\":{\"code\":");
    buf_json_str(&rs->body, code, strlen(code));
    buf_puts(&rs->body, ",\"message\":");
    buf_json_str(&rs->body, msg, strlen(msg));
    buf_puts(&rs->body, ",\"request_id\":");
    const char *rid = rq && rq->request_id ? rq->request_id : "";
    buf_json_str(&rs->body, rid, strlen(rid));
    buf_puts(&rs->body, "}}");
}

void resp_fail(response_t *rs, const request_t *rq, clip_err e, const char *detail)
{
    clip_err_answer a;
    clip_err_answer_of(e, detail, &a);
    if (a.hide_detail)
        log_warn("backend_error", "%s: %s", a.code, detail && *detail ? detail : "-");
    error_body(rs, rq, &a, a.message);
}

void resp_fail_public(response_t *rs, const request_t *rq, clip_err e, const char *message)
{
    clip_err_answer a;
    clip_err_answer_of(e, NULL, &a);
    error_body(rs, rq, &a, message);
}

void resp_failf(response_t *rs, const request_t *rq, clip_err e, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    resp_fail(rs, rq, e, detail);
}

int resp_has_body(const response_t *rs)
{
    return rs->status != 304 && rs->status != 204 && rs->body.len;
}

void resp_head(const response_t *rs, const request_t *rq, buf_t *out)
{
    buf_printf(out, "Status: %d %s\r\n", rs->status, resp_reason(rs->status));
    if (rs->status != 304 && rs->status != 204)
        buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                   rs->content_type ? rs->content_type : "application/json; charset=utf-8",
                   rs->body.len);
    if (rq && rq->request_id)
        buf_printf(out, "X-Request-Id: %s\r\n", rq->request_id);
    if (!strstr(rs->headers.p ? rs->headers.p : "", "Cache-Control:"))
        buf_puts(out, "Cache-Control: no-store\r\n");
    if (rs->headers.len)
        buf_append(out, rs->headers.p, rs->headers.len);
    buf_puts(out, "\r\n");
}

void resp_serialize(const response_t *rs, const request_t *rq, buf_t *out)
{
    resp_head(rs, rq, out);
    if (resp_has_body(rs))
        buf_append(out, rs->body.p, rs->body.len);
}
