/* cmd_presign: `clipctl presign`, one presigned R2 URL for a key of the configured bucket. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "r2.h"
#include "sigv4.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipctl [--config FILE] presign [--method GET|PUT|HEAD] [--expires S]\n"
            "           [--at YYYYMMDDTHHMMSSZ] [--content-type T]\n"
            "           [--response-content-disposition V] [--response-content-type V] [--] KEY\n"
            "\n"
            "Prints one presigned URL for KEY in the configured bucket (r2_endpoint, r2_bucket,\n"
            "r2_region, r2_addressing, r2_access_key_id, r2_secret_access_key, r2_session_token).\n"
            "\n"
            "  --method M       GET (default), PUT or HEAD\n"
            "  --expires S      life of the URL in seconds, %ld..%ld [presign_expires]\n"
            "  --at TIME        signing time instead of now, e.g. 20250115T123456Z\n"
            "  --content-type T PUT only: the Content-Type the upload must send (signed)\n"
            "  --response-content-disposition V, --response-content-type V\n"
            "                   GET only: what R2 answers in those headers\n"
            "  --config FILE    configuration file [" CFG_PATH_HELP "]\n"
            "  --help           this text\n",
            SIG_EXPIRES_MIN, SIG_EXPIRES_MAX);
}

int cmd_presign(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"method", required_argument, NULL, 'm'},
        {"expires", required_argument, NULL, 'e'},
        {"at", required_argument, NULL, 'a'},
        {"content-type", required_argument, NULL, 'c'},
        {"response-content-disposition", required_argument, NULL, 'd'},
        {"response-content-type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "presign";
    sig_presign_req req;
    memset(&req, 0, sizeof req);
    req.method = SIG_GET;
    req.expires = -1;
    const char *at = NULL;
    char err[CFG_ERR_MAX];

    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "GET") == 0)
                req.method = SIG_GET;
            else if (strcmp(optarg, "PUT") == 0)
                req.method = SIG_PUT;
            else if (strcmp(optarg, "HEAD") == 0)
                req.method = SIG_HEAD;
            else
                return cli_usage_error(cmd, "--method: '%s' is not GET, PUT or HEAD", optarg);
            break;
        case 'e':
            if (cli_parse_long(optarg, SIG_EXPIRES_MIN, SIG_EXPIRES_MAX, &req.expires) != 0)
                return cli_usage_error(cmd, "--expires: '%s' is not a whole number in %ld..%ld",
                                       optarg, SIG_EXPIRES_MIN, SIG_EXPIRES_MAX);
            break;
        case 'a':
            at = optarg;
            break;
        case 'c':
            req.content_type = optarg;
            req.content_type_len = strlen(optarg);
            break;
        case 'd':
            req.response_content_disposition = optarg;
            req.response_content_disposition_len = strlen(optarg);
            break;
        case 't':
            req.response_content_type = optarg;
            req.response_content_type_len = strlen(optarg);
            break;
        default:
            return cli_option_other(cmd, c, argv, usage);
        }
    }
    /* options may also follow the key (GNU style), but never after "--" */
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
        int rest = optind;
        if (rest + 1 < argc && argv[rest + 1][0] == '-' && strcmp(argv[rest + 1], "--") != 0)
            return cli_usage_error(cmd, "options go before KEY (got '%s' after it)",
                                   argv[rest + 1]);
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "missing KEY");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "one KEY only (got '%s' too)", argv[optind + 1]);
    const char *key = argv[optind];
    req.key = key;
    req.key_len = strlen(key);
    if (req.key_len == 0 || req.key_len > SIG_KEY_MAX)
        return cli_usage_error(cmd, "KEY must be 1..%u bytes", SIG_KEY_MAX);
    if (req.content_type && req.method != SIG_PUT)
        return cli_usage_error(cmd, "--content-type needs --method PUT");
    if ((req.response_content_disposition || req.response_content_type) && req.method != SIG_GET)
        return cli_usage_error(cmd, "--response-content-* need --method GET");
    if (at && sig_parse_amz_date(at, &req.when, err, sizeof err) != CLIP_OK)
        return cli_usage_error(cmd, "--at: %s", err);

    cfg_t *cfg = NULL;
    if (cli_load_config(ctx, &cfg, err, sizeof err) != CLIP_OK)
        return cli_fail(cmd, "%s", err);
    if (req.expires < 0)
        req.expires = cfg->presign_expires;
    sig_signer *s = NULL;
    clip_err rc = r2_signer_from_cfg(cfg, &s, err, sizeof err);
    cfg_free(cfg);
    if (rc != CLIP_OK)
        return cli_fail(cmd, "%s", err);
    buf_t url = BUF_INIT;
    rc = sig_presign(s, &req, &url, err, sizeof err);
    sig_signer_free(s);
    if (rc != CLIP_OK) {
        buf_free(&url);
        return cli_fail(cmd, "%s", err);
    }
    printf("%s\n", url.p);
    buf_free(&url);
    return cli_flush_stdout(cmd, "cannot write the URL to stdout");
}
