"""sigv4_botocore: presigns a few hundred tricky keys with botocore and with `clipctl presign`, and
requires byte-identical URLs.  Run by tests/checks/sigv4-botocore.sh with Debian's python3-botocore.

botocore reads the signing time through the module object botocore.auth.datetime (1.29) or
botocore.auth.get_current_datetime() (newer): both are replaced so that it signs at a fixed instant,
and clipctl gets the same instant with --at.
"""
import datetime
import os
import random
import subprocess
import sys
import types

import botocore
import botocore.auth
import botocore.session
from botocore.config import Config

CLIPCTL = sys.argv[1]
SEED = 20250115


class Frozen:
    instant = datetime.datetime(2025, 1, 15, 12, 34, 56)


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return Frozen.instant

    @classmethod
    def now(cls, tz=None):
        return Frozen.instant if tz is None else Frozen.instant.replace(tzinfo=tz)


botocore.auth.datetime = types.SimpleNamespace(datetime=FrozenDatetime)
if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = lambda *a, **k: Frozen.instant

AK = "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d"
SK = "9b8a7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
TOKEN = "FwoGZXIvYXdzEBYaDH/7+x=y~z_-.AbC0123456789"
ENDPOINTS = [
    "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    "https://S3.Example.COM:443",
    "http://127.0.0.1:9000",
    "https://minio.example.com:9443/base",
]
BUCKETS = ["clips-bucket", "my.bucket.with.dots", "abc", "Clips_1"]

session = botocore.session.get_session()
clients = {}


def client(endpoint, region, addressing, token):
    k = (endpoint, region, addressing, token)
    if k not in clients:
        clients[k] = session.create_client(
            "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id=AK,
            aws_secret_access_key=SK, aws_session_token=token,
            config=Config(signature_version="s3v4", s3={"addressing_style": addressing}))
    return clients[k]


def keys():
    """The tricky keys: the classes the R2 vectors name, and random ones."""
    ks = ["users/uid123/videos/vid456/clips/clip_03_vertical.mp4", "a", "AZaz09-_.~",
          "with space", " leading and trailing ", "tab\there", "plus+sign", "eq=ual", "tilde~",
          "per%cent", "amp&ersand", "caf\u00e9/\u00fcber", "\u4e2d\u6587/\u6587\u4ef6.mp4",
          "emoji \U0001F600\u2764\ufe0f", "\U00010348 gothic", "dir//x", "/leading-slash",
          "trailing/", "///", "./dot/../x", "%20 and %2F", "q?uery#frag", "semi;colon,comma",
          "(paren)[bracket]{brace}", "star*bang!quote'dollar$at@colon:", 'dq"lt<gt>',
          "back\\slash^caret|pipe`tick", "a" * 1024, "\u00e9" * 512, ("d\u00e9j\u00e0/" * 104)[:417],
          "k" * 1023 + "/", "x/" * 512]
    rnd = random.Random(SEED)
    alphabet = "ab/ +=~%&.-_\u00e9\u4e2d\U0001F600?#:;,'\"!*()$@[]{}|\\^`<>\t"
    for _ in range(260):
        n = rnd.choice([1, 2, 5, 20, 80, 300])
        k = "".join(rnd.choice(alphabet) for _ in range(n))
        while len(k.encode()) > 1024:
            k = k[:-1]
        ks.append(k)
    return ks


def main():
    rnd = random.Random(SEED + 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPAPI_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    instants = [datetime.datetime(2025, 1, 15, 12, 34, 56), datetime.datetime(2025, 12, 31, 23, 59, 59),
                datetime.datetime(2024, 2, 29, 0, 0, 0), datetime.datetime(2030, 6, 1, 8, 0, 1)]
    total = failed = 0
    seen = {"virtual-hosted": 0, "path-style": 0, "token": 0, "PUT+content-type": 0, "HEAD": 0,
            "overrides": 0, "region auto": 0, "region us-east-1": 0, "1024-byte key": 0}
    for i, key in enumerate(keys()):
        endpoint = ENDPOINTS[i % len(ENDPOINTS)]
        bucket = BUCKETS[(i // 4) % len(BUCKETS)]
        region = ["auto", "us-east-1"][(i // 2) % 2]
        addressing = ["path", "virtual"][i % 2 if i % 8 < 4 else (i + 1) % 2]
        token = TOKEN if i % 3 == 0 else None
        method = ["GET", "PUT", "HEAD", "GET"][i % 4]
        expires = rnd.choice([1, 60, 3600, 86400, 604800, rnd.randint(1, 604800)])
        Frozen.instant = instants[i % len(instants)]
        params = {"Bucket": bucket, "Key": key}
        args = [CLIPCTL, "--config", "/dev/null", "presign", "--method", method,
                "--expires", str(expires), "--at", Frozen.instant.strftime("%Y%m%dT%H%M%SZ")]
        if method == "GET" and i % 5 in (1, 2):
            disp = 'attachment; filename="clip \u00e9 %d.mp4"; filename*=UTF-8\'\'clip%%20' % i
            params["ResponseContentDisposition"] = disp
            args += ["--response-content-disposition", disp]
        if method == "GET" and i % 5 in (2, 3):
            params["ResponseContentType"] = "video/mp4; codecs=\"avc1\""
            args += ["--response-content-type", params["ResponseContentType"]]
        if method == "PUT" and i % 2 == 1:
            ct = ["video/mp4", "image/jpeg", "application/octet-stream",
                  "text/plain;  charset=utf-8 "][i % 4]
            params["ContentType"] = ct
            args += ["--content-type", ct]
        op = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}[method]
        want = client(endpoint, region, addressing, token).generate_presigned_url(
            op, Params=params, ExpiresIn=expires)
        e = dict(env, CLIPAPI_R2_ENDPOINT=endpoint, CLIPAPI_R2_BUCKET=bucket, CLIPAPI_R2_REGION=region,
                 CLIPAPI_R2_ADDRESSING=addressing, CLIPAPI_R2_ACCESS_KEY_ID=AK,
                 CLIPAPI_R2_SECRET_ACCESS_KEY=SK)
        if token:
            e["CLIPAPI_R2_SESSION_TOKEN"] = token
        p = subprocess.run(args + ["--", key], env=e, capture_output=True, timeout=30)
        got = p.stdout.decode("utf-8", "replace").rstrip("\n")
        total += 1
        host = want.split("/")[2]
        seen["virtual-hosted" if host.startswith(bucket + ".") else "path-style"] += 1
        seen["token"] += token is not None
        seen["PUT+content-type"] += "ContentType" in params
        seen["HEAD"] += method == "HEAD"
        seen["overrides"] += "response-content-" in want
        seen["region " + region] += 1
        seen["1024-byte key"] += len(key.encode()) == 1024
        if p.returncode != 0 or got != want:
            failed += 1
            if failed <= 10:
                print("MISMATCH case %d (%s %s %s %s token=%s) key=%r\n  got  %s\n  want %s\n  %s"
                      % (i, method, endpoint, bucket, addressing, bool(token), key, got, want,
                         p.stderr.decode("utf-8", "replace").strip()))

    # refusals: expires out of range, overrides on PUT, content type on GET -> exit 2, one line
    env_ok = dict(env, CLIPAPI_R2_ENDPOINT=ENDPOINTS[0], CLIPAPI_R2_BUCKET="b",
                  CLIPAPI_R2_ACCESS_KEY_ID=AK, CLIPAPI_R2_SECRET_ACCESS_KEY=SK)
    bad = [["--expires", "0"], ["--expires", "604801"], ["--expires", "-1"], ["--expires", "1x"],
           ["--method", "POST"], ["--method", "PUT", "--response-content-type", "x"],
           ["--content-type", "x"], ["--at", "2025-01-15T12:34:56Z"]]
    for b in bad:
        p = subprocess.run([CLIPCTL, "--config", "/dev/null", "presign"] + b + ["k"], env=env_ok,
                           capture_output=True, timeout=30)
        total += 1
        lines = p.stderr.decode().strip().splitlines()
        if p.returncode != 2 or p.stdout or len(lines) != 1:
            failed += 1
            print("REFUSAL %s: exit %d, stdout %r, stderr %r" % (b, p.returncode, p.stdout, lines))
    p = subprocess.run([CLIPCTL, "--config", "/dev/null", "presign", "k"], env=env, capture_output=True,
                       timeout=30)
    total += 1
    if p.returncode != 1 or b"r2_endpoint" not in p.stderr:
        failed += 1
        print("missing config: exit %d, stderr %r" % (p.returncode, p.stderr))

    print("cases: " + ", ".join("%s %d" % kv for kv in seen.items()))
    print("botocore %s: %d URLs and refusals compared, %d differ" % (botocore.__version__, total,
                                                                     failed))
    print("%d passed, %d failed" % (total - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
