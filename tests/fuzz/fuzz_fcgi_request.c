/* Fuzzes what a FastCGI request carries: params (method, URI, headers), routing with path
 * parameters, the query checked against rules, and the response built for it. Input: "NAME=value" lines. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "response.h"
#include "router.h"
#include "worker.h"

#define MAX_PARAMS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *env[MAX_PARAMS + 1];
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && n < MAX_PARAMS;
         line = strtok_r(NULL, "\n", &save))
        env[n++] = line;
    env[n] = NULL;

    arena_t arena;
    arena_init(&arena, 1 << 20);
    request_t rq;
    response_t rs;
    resp_init(&rs);
    char err[256];
    if (req_parse(&rq, &arena, env, err, sizeof err) == CLIP_OK) {
        route_handler h;
        if (route_dispatch(&rq, &rs, &h) == CLIP_OK) {
            /* handlers are not called: they reach backends; routing and validation are the parser */
            for (int i = 0; i < rq.nparams; i++)
                if (!route_param_valid(rq.param_name[i], rq.param[i].p, rq.param[i].n))
                    abort(); /* the router let an invalid parameter through */
        }
        static const req_arg_rule rules[] = {
            {.name = "limit", .is_int = 1, .min = 1, .max = 100, .def = 20},
            {.name = "cursor", .max_len = 2048, .rule = "a cursor"},
            {0},
        };
        if (req_parse_args(&rq, rules, err, sizeof err) == CLIP_OK) {
            const char *c = req_arg_text(&rq, "cursor");
            long l = req_arg_num(&rq, "limit");
            if ((c && !req_printable(c, strlen(c))) || l < 1 || l > 100)
                abort(); /* a value its rule refuses got through */
        }
        req_header(&rq, "Authorization");
        buf_t out = BUF_INIT;
        resp_serialize(&rs, &rq, &out);
        buf_free(&out);
    }
    resp_free(&rs);
    arena_free(&arena);
    free(copy);
    return 0;
}
