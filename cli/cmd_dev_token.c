/* cmd_dev_token: `clipctl dev-token`, an RS256 ID token (or its key set) from a local dev key,
 * never for production. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "devtoken.h"
#include "ids.h"

#define DEV_KEY_ENV "CLIPAPI_DEV_KEY_FILE"
/* --issued-at bounds: 2001-09-09 .. 2286-11-20, whole seconds */
#define DEV_ISSUED_AT_MIN 1000000000L
#define DEV_ISSUED_AT_MAX 9999999999L

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipctl [--config FILE] dev-token --uid U [--expires S] [--issued-at T]\n"
            "                                         [--key FILE]\n"
            "       clipctl dev-token --print-keyset [--format x509|jwks] [--key FILE]\n"
            "\n"
            "For local development and tests only. Mints a Firebase-shaped ID token (RS256,\n"
            "iss https://securetoken.google.com/<auth_project>, aud <auth_project>, sub U) signed\n"
            "with a local RSA key, or prints that key's public key set for the server to fetch\n"
            "from auth_keys_url. Minting refuses unless auth_keys_url is an http(s) URL on a\n"
            "loopback host (a production config trusts Google's keys and never these).\n"
            "\n"
            "  --uid U            the user id (1-%d bytes of A-Z a-z 0-9 _ -)\n"
            "  --expires S        life of the token in seconds, 1..%ld [%ld]\n"
            "  --issued-at T      iat and auth_time as Unix seconds instead of now (tests)\n"
            "  --key FILE         the PEM RSA private key [$" DEV_KEY_ENV "]; created (2048 bits,\n"
            "                     mode 0600) when the file does not exist\n"
            "  --print-keyset     print the key set JSON instead of a token (no config needed)\n"
            "  --format F         x509 (Google's form, default) or jwks\n"
            "  --config FILE      configuration file [" CFG_PATH_HELP "]\n"
            "  --help             this text\n",
            IDS_MAX, DEVTOK_EXPIRES_MAX, DEVTOK_EXPIRES_DEFAULT);
}

int cmd_dev_token(const cli_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"uid", required_argument, NULL, 'u'},
        {"expires", required_argument, NULL, 'e'},
        {"issued-at", required_argument, NULL, 'i'},
        {"key", required_argument, NULL, 'k'},
        {"print-keyset", no_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "dev-token";
    const char *uid = NULL, *keyfile = NULL;
    long expires = DEVTOK_EXPIRES_DEFAULT, issued_at = -1;
    int print_keyset = 0, format_given = 0;
    devtok_keyset_fmt fmt = DEVTOK_KEYSET_X509;
    char err[CFG_ERR_MAX];

    cli_options_begin();
    int c;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uid = optarg;
            break;
        case 'e':
            if (cli_parse_long(optarg, 1, DEVTOK_EXPIRES_MAX, &expires) != 0)
                return cli_usage_error(cmd, "--expires: '%s' is not a whole number in 1..%ld",
                                       optarg, DEVTOK_EXPIRES_MAX);
            break;
        case 'i':
            if (cli_parse_long(optarg, DEV_ISSUED_AT_MIN, DEV_ISSUED_AT_MAX, &issued_at) != 0)
                return cli_usage_error(cmd, "--issued-at: '%s' is not Unix seconds in %ld..%ld",
                                       optarg, DEV_ISSUED_AT_MIN, DEV_ISSUED_AT_MAX);
            break;
        case 'k':
            keyfile = optarg;
            break;
        case 'p':
            print_keyset = 1;
            break;
        case 'f':
            format_given = 1;
            if (strcmp(optarg, "x509") == 0)
                fmt = DEVTOK_KEYSET_X509;
            else if (strcmp(optarg, "jwks") == 0)
                fmt = DEVTOK_KEYSET_JWKS;
            else
                return cli_usage_error(cmd, "--format: '%s' is not x509 or jwks", optarg);
            break;
        default:
            return cli_option_other(cmd, c, argv, usage);
        }
    }
    int operands = cli_no_operands(cmd, argc, argv);
    if (operands != CLI_EXIT_OK)
        return operands;
    if (print_keyset && uid)
        return cli_usage_error(cmd, "--print-keyset and --uid exclude each other");
    if (!print_keyset && format_given)
        return cli_usage_error(cmd, "--format goes with --print-keyset");
    if (!print_keyset && !uid)
        return cli_usage_error(cmd, "missing --uid U (or --print-keyset)");
    if (uid && !ids_valid_id(uid, strlen(uid)))
        return cli_usage_error(cmd, "--uid: '%s' is not 1-%d bytes of A-Z a-z 0-9 _ -", uid,
                               IDS_MAX);
    if (!keyfile || !*keyfile)
        keyfile = getenv(DEV_KEY_ENV);
    if (!keyfile || !*keyfile)
        return cli_usage_error(cmd, "no key: give --key FILE or set " DEV_KEY_ENV);

    /* the production check comes before the key file is touched */
    cfg_t *cfg = NULL;
    if (!print_keyset) {
        if (cli_load_config(ctx, &cfg, err, sizeof err) != CLIP_OK ||
            cfg_require(cfg, "auth_project", err, sizeof err) != CLIP_OK) {
            cfg_free(cfg);
            return cli_fail(cmd, "%s", err);
        }
        if (!cfg->auth_keys_url || !devtok_url_is_loopback(cfg->auth_keys_url)) {
            int rc = cli_fail(cmd,
                              "refusing to mint: auth_keys_url '%s' is not an http(s) URL on a "
                              "loopback host, so this config trusts real Firebase keys "
                              "(production); point it at the local key set",
                              cfg->auth_keys_url ? cfg->auth_keys_url : "(unset)");
            cfg_free(cfg);
            return rc;
        }
    }

    EVP_PKEY *key = NULL;
    int created = 0;
    if (devtok_key_load_or_create(keyfile, &key, &created, err, sizeof err) != CLIP_OK) {
        cfg_free(cfg);
        return cli_fail(cmd, "%s", err);
    }
    if (created)
        fprintf(stderr, "clipctl %s: created a new RSA key in %s\n", cmd, keyfile);
    buf_t out = BUF_INIT;
    clip_err rc;
    if (print_keyset)
        rc = devtok_keyset(key, fmt, &out, err, sizeof err);
    else
        rc = devtok_mint(key, cfg->auth_project, uid,
                         issued_at >= 0 ? (long long)issued_at : (long long)time(NULL), expires,
                         &out, err, sizeof err);
    EVP_PKEY_free(key);
    cfg_free(cfg);
    if (rc != CLIP_OK) {
        buf_free(&out);
        return cli_fail(cmd, "%s", err);
    }
    fputs(out.p, stdout);
    if (!print_keyset)
        fputc('\n', stdout);
    buf_free(&out);
    return cli_flush_stdout(cmd, "cannot write to stdout");
}
