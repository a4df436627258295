#!/usr/bin/python3
"""nginx_errors.py PORT SITE TMPDIR [PHASE]: every status nginx makes itself on the server at https://127.0.0.1:PORT
(SITE: `prod`, the production site, or `local`, the local template), sent for real, answers the
contract's JSON error {"error":{"code","message","request_id"}} with its status, X-Request-Id equal
to the body's request_id (and HSTS on the production site). Run by tests/checks/nginx-errors.sh,
which sets the server up: the pool listening (it answers 401 to a bad token) and
client_body_timeout 1 s (the 408 case); PHASE `no-temp` (nginx's body temp directory removed
meanwhile) checks nginx's own 500 instead of the rest."""
import json
import re
import socket
import ssl
import subprocess
import sys
import time

PORT = int(sys.argv[1])
SITE = sys.argv[2]
TMP = sys.argv[3]
PHASE = sys.argv[4] if len(sys.argv) > 4 else "main"
HOST = b"Host: api.example.com\r\n"
failures = []


def raw(data, tls=True, timeout=10, source="127.0.0.1"):
    """Sends bytes on a new connection; returns all that comes back until the server closes."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout, source_address=(source, 0))
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        s = ctx.wrap_socket(s, server_hostname="api.example.com")
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                x = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not x:
                break
            out += x
        return out
    finally:
        s.close()


def parse(resp):
    """status, {lower-case header: [values]}, body of one HTTP/1.1 answer."""
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0] + " ")
    status = int(m.group(1)) if m else 0
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs, body


def curl(args):
    """status, headers, body of one request by curl (for HTTP/2)."""
    p = subprocess.run(["curl", "-sk", "-D", "/dev/stderr", "-o", "/dev/stdout"] + args +
                       ["https://127.0.0.1:%d" % PORT + args.pop()], capture_output=True,
                       timeout=30)
    head = p.stderr.decode("latin-1").replace("\r", "")
    blocks = [b for b in head.split("\n\n") if b.startswith("HTTP/")]
    if not blocks:
        return 0, {}, p.stdout
    lines = blocks[-1].split("\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k:
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return status, hdrs, p.stdout


def check(name, got, status, code):
    st, hdrs, body = got
    why = []
    if st != status:
        why.append("status %d, want %d" % (st, status))
    if hdrs.get("content-type", [""])[0].split(";")[0] != "application/json":
        why.append("content-type %s" % hdrs.get("content-type"))
    rid = hdrs.get("x-request-id", [])
    if len(rid) != 1 or not re.fullmatch(r"[0-9a-f]{32}", rid[0]):
        why.append("X-Request-Id %s" % rid)
    if SITE == "prod" and not hdrs.get("strict-transport-security", [""])[0].startswith("max-age="):
        why.append("no HSTS")
    try:
        e = json.loads(body)["error"]
        if set(e) != {"code", "message", "request_id"}:
            why.append("members %s" % sorted(e))
        if e.get("code") != code:
            why.append("code %r, want %r" % (e.get("code"), code))
        if not isinstance(e.get("message"), str) or not e["message"]:
            why.append("message %r" % e.get("message"))
        if rid and e.get("request_id") != rid[0]:
            why.append("request_id %r != X-Request-Id %r" % (e.get("request_id"), rid[0]))
    except (ValueError, KeyError, TypeError, AttributeError):
        why.append("body is not the JSON error: %r" % body[:200])
    if why:
        failures.append("%s: %s" % (name, "; ".join(why)))
        print("FAIL %s: %s" % (name, "; ".join(why)))
    else:
        print("ok %d %s %s" % (status, code, name))


def get(path, extra=b"", method=b"GET", version=b"HTTP/1.1"):
    return method + b" " + path + b" " + version + b"\r\n" + HOST + extra + \
        b"Connection: close\r\n\r\n"


token8k = b"a" * 8192  # the pool's longest ID token (core/idtoken.h IDT_TOKEN_MAX)
big = b"x" * 1100000
big_file = TMP + "/big-body"
with open(big_file, "wb") as f:
    f.write(big)
body = b"b" * 200000
body_file = TMP + "/body-200k"
with open(body_file, "wb") as f:
    f.write(body)

if PHASE == "no-temp":
    # nginx's own 500: the body temp directory is gone (nginx-errors.sh removed it), so a body over
    # client_body_buffer_size cannot be kept
    check("500 nginx cannot write the request body (HTTP/1.1)",
          parse(raw(b"POST /api/videos HTTP/1.1\r\n" + HOST +
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)), 500,
          "internal")
    check("500 nginx cannot write the request body (HTTP/2)",
          curl(["--http2", "-X", "POST", "--data-binary", "@" + body_file, "/api/videos"]), 500,
          "internal")
    print("nginx_errors %s %s: %s" % (SITE, PHASE,
                                      "%d failed" % len(failures) if failures else "all passed"))
    sys.exit(1 if failures else 0)

# ---- while nginx reads the request line and headers --------------------------------------
check("400 malformed request line", parse(raw(b"GARBAGE\r\n\r\n")), 400, "invalid_argument")
check("400 HTTP/1.1 without Host", parse(raw(b"GET /api/videos HTTP/1.1\r\nConnection: close\r\n\r\n")),
      400, "invalid_argument")
check("400 %00 in the path", parse(raw(get(b"/api/videos/a%00b"))), 400, "invalid_argument")
check("494 a header line of 17 KB (nginx's 400)",
      parse(raw(get(b"/api/videos", b"Authorization: Bearer " + b"a" * 17000 + b"\r\n"))),
      400, "invalid_argument")
check("494 headers of 5 x 15 KB, over 64 KB in all",
      parse(raw(get(b"/api/videos", b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 15000)
                                           for i in range(5))))), 400, "invalid_argument")
check("497 plain HTTP to the HTTPS port", parse(raw(get(b"/api/videos"), tls=False)), 400,
      "invalid_argument")
check("414 a request line of 20 KB", parse(raw(get(b"/api/" + b"a" * 20000))), 414, "too_large")
check("501 Transfer-Encoding: gzip",
      parse(raw(get(b"/api/videos", b"Transfer-Encoding: gzip\r\n", method=b"POST"))), 501,
      "invalid_argument")
check("505 HTTP/3.0 on an HTTP/1 port", parse(raw(get(b"/api/videos", version=b"HTTP/3.0"))), 505,
      "invalid_argument")
check("405 TRACE", parse(raw(get(b"/api/videos", method=b"TRACE"))), 405, "method_not_allowed")

# ---- an ID token of 8 KB is never refused: the pool gets it whole (its own 401) ----------
check("an 8 KB Authorization header reaches the pool (HTTP/1.1)",
      parse(raw(get(b"/api/videos", b"Authorization: Bearer " + token8k + b"\r\n"))), 401,
      "unauthenticated")
check("an 8 KB Authorization header reaches the pool (HTTP/2)",
      curl(["--http2", "-H", "Authorization: Bearer " + token8k.decode(), "/api/videos"]), 401,
      "unauthenticated")
check("three headers of 12 KB reach the pool",
      parse(raw(get(b"/api/videos", b"Authorization: Bearer " + token8k + b"\r\n" +
                    b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 12000) for i in range(3))))), 401,
      "unauthenticated")

# ---- after the headers ------------------------------------------------------------------
check("404 outside the API", parse(raw(get(b"/nowhere"))), 404, "not_found")
check("404 with an extension of a known type", parse(raw(get(b"/index.html"))), 404, "not_found")
check("413 over client_max_body_size (HTTP/1.1, Content-Length)",
      parse(raw(b"PUT /api/internal/users/u/videos/v HTTP/1.1\r\n" + HOST +
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(big))), 413, "too_large")
check("413 over client_max_body_size (HTTP/2, body sent)",
      curl(["--http2", "-X", "PUT", "--data-binary", "@" + big_file,
            "/api/internal/users/u/videos/v"]), 413, "too_large")
check("413 over client_max_body_size (chunked)",
      curl(["--http1.1", "-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary",
            "@" + big_file, "/api/videos"]), 413, "too_large")
check("403 /metrics from 127.0.0.2",
      parse(raw(get(b"/metrics"), source="127.0.0.2")), 403, "forbidden")
# ---- 408: a body that stops coming (client_body_timeout 1 s here): nginx closes the connection
# without an answer (ngx_http_finalize_request terminates a timed-out request); no HTML leaks
t = time.time()
got = raw(b"POST /api/videos HTTP/1.1\r\n" + HOST + b"Content-Length: 100\r\n\r\nabc", timeout=20)
dt = time.time() - t
if got != b"" or dt > 10:
    failures.append("408: %r after %.1f s" % (got[:200], dt))
    print("FAIL 408: %r after %.1f s" % (got[:200], dt))
else:
    print("ok 408 closed without an answer after %.1f s" % dt)

print("nginx_errors %s %s: %s" % (SITE, PHASE,
                                  "%d failed" % len(failures) if failures else "all passed"))
sys.exit(1 if failures else 0)
