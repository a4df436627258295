"""openapi_conformance: docs/openapi.yaml checked against the code (routes, methods, path parameter
rules, query parameters and their ranges, $refs, schemas), and real answers of the running stack
checked against the document (status documented, required headers, media type, body schema).

Usage: /usr/bin/python3 openapi_conformance.py TOP structure
       /usr/bin/python3 openapi_conformance.py TOP answers RESPONSES.jsonl
Debian's python3-yaml and python3-jsonschema only (Draft 2020-12, the dialect of OpenAPI 3.1)."""

import glob
import json
import re
import sys

import warnings

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

try:  # Debian 12's jsonschema 4.10; later versions deprecate it for the referencing library
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from jsonschema import RefResolver
except ImportError:
    RefResolver = None

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
ERROR_CODES = {
    400: "invalid_argument", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "deadline_exceeded", 409: "conflict", 413: "too_large",
    414: "too_large", 429: "rate_limited",
    500: "internal", 502: "bad_gateway", 503: "unavailable", 504: "deadline_exceeded",
}
# What the router accepts (core/ids.c), as samples: each documented path parameter schema must
# agree with the code on every one of them.
ID_GOOD = ["a", "Z", "0", "vid1", "A-_z9", "a" * 128]
ID_BAD = ["", "a" * 129, "a.b", "a/b", "a b", "caf\u00e9", "..", "a%2fb", "a\nb"]
FILE_GOOD = ["clip_3_vertical.mp4", "a", "a.b.c", "x-y_z.JPG", "a" * 128, "clip."]
FILE_BAD = ["", ".hidden", "a..b", "..", "a/b", "a b", "a" * 129, "caf\u00e9.mp4", "a\\b"]
USER_PREFIX = "/api/videos"
INTERNAL_PREFIX = "/api/internal/"
# the event stream also takes a ticket in its query (browsers' EventSource sends no headers)
EVENTS_STREAM = "/api/videos/{video_id}/events"

errors = []


def fail(msg):
    errors.append(msg)


def read(top, rel):
    with open(f"{top}/{rel}", encoding="utf-8") as f:
        return f.read()


def load_doc(top):
    with open(f"{top}/docs/openapi.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def pointer(doc, ref):
    """The node a local $ref points at, or raises KeyError."""
    if not ref.startswith("#/"):
        raise KeyError(f"not a local reference: {ref}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(ref)
    return node


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = pointer(doc, node["$ref"])
        seen += 1
    return node


def walk_refs(node, where, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append((where, v))
            else:
                walk_refs(v, f"{where}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(v, f"{where}/{i}", out)


def validator(doc, schema):
    """A 2020-12 validator of schema whose local $refs ("#/components/...") point into doc."""
    if RefResolver is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return Draft202012Validator(schema, resolver=RefResolver.from_schema(doc),
                                        format_checker=FormatChecker())
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    registry = Registry().with_resource("", Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def schema_errors(doc, schema, value):
    v = validator(doc, schema)
    return sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))


def describe(err):
    where = "/".join(str(p) for p in err.absolute_path) or "(the body)"
    via = "/".join(str(p) for p in err.absolute_schema_path)
    return f"at {where}: {err.message[:600]} [schema: {via}]"


# ---- the code's side -----------------------------------------------------------------------------

def router_table(top):
    """[(method, pattern, args, any_query, handler)] from the route table of fcgi/router.c."""
    src = read(top, "fcgi/router.c")
    table = src[src.index("routes[] = {"):]
    table = table[:table.index("};")]
    return re.findall(
        r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*ROUTE_\w+,\s*(\w+),\s*([01]),\s*(h_\w+)\s*\}', table)


def router_routes(top):
    """{pattern: {method: handler}} from the route table of fcgi/router.c."""
    routes = {}
    for m, pattern, _args, _any, handler in router_table(top):
        routes.setdefault(pattern, {})[m.lower()] = handler
    return routes


def handler_query_params(top):
    """{handler: set of query parameter names, or None when it never looks at the query}, from
    the route table's query rules (fcgi/router.c: an args array, NULL for none, any_query 1 for
    routes that do not look at the query)."""
    src = read(top, "fcgi/router.c")
    # the names macros stand for: #define LIMIT_ARG(max_, def_) {.name = "limit", ...}
    macros = {}
    for m in re.finditer(r'#define (\w+)(?:\([^)]*\))?((?:[^\n]*\\\n)*[^\n]*)', src):
        n = re.search(r'\.name = "([a-z_]+)"', m.group(2))
        if n:
            macros[m.group(1)] = n.group(1)
    arrays = {}
    for m in re.finditer(r"static const req_arg_rule (\w+)\[\] = \{(.*?)\n\};", src, re.S):
        names = set(re.findall(r'\.name = "([a-z_]+)"', m.group(2)))
        names |= {macros[t] for t in re.findall(r"\b([A-Z_]+)\b", m.group(2)) if t in macros}
        arrays[m.group(1)] = names
    out = {}
    for _m, _p, args, any_query, handler in router_table(top):
        out[handler] = None if any_query == "1" else (set() if args == "NULL" else arrays[args])
    return out


def c_define(top, rel, name):
    m = re.search(rf"#define {name}\s+(\d+)", read(top, rel))
    return int(m.group(1)) if m else None


# ---- structure -------------------------------------------------------------------------------------

def check_structure(top):
    doc = load_doc(top)
    if not str(doc.get("openapi", "")).startswith("3.1."):
        fail(f"openapi: want 3.1.x, have {doc.get('openapi')!r}")
    for k in ("title", "version"):
        if not doc.get("info", {}).get(k):
            fail(f"info.{k} missing")

    refs = []
    walk_refs(doc, "#", refs)
    for where, ref in refs:
        try:
            pointer(doc, ref)
        except (KeyError, IndexError, ValueError):
            fail(f"{where}: $ref {ref} does not resolve")
    if errors:
        return doc

    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as e:
            fail(f"components/schemas/{name}: not a valid 2020-12 schema: {e.message}")

    schemes = doc.get("components", {}).get("securitySchemes", {})
    for s in ("firebaseIdToken", "serviceKey"):
        sc = schemes.get(s, {})
        if sc.get("type") != "http" or sc.get("scheme") != "bearer":
            fail(f"securitySchemes.{s}: want an http bearer scheme, have {sc}")

    routes = router_routes(top)
    if len(routes) < 10:
        fail(f"fcgi/router.c: only {len(routes)} routes parsed; the table's format changed?")
    paths = doc.get("paths", {})
    for pattern, methods in routes.items():
        if pattern not in paths:
            fail(f"route {pattern} of fcgi/router.c is not documented")
            continue
        have = {m for m in paths[pattern] if m in METHODS}
        if have != set(methods):
            fail(f"{pattern}: documented methods {sorted(have)} != router's {sorted(methods)}")
    for p in paths:
        if p not in routes:
            fail(f"{p} is documented but fcgi/router.c has no such route")

    queries = handler_query_params(top)
    ids = {"video_id", "uid", "clip_id"}
    limits = {
        "listVideos": (c_define(top, "core/videos.h", "VIDEOS_LIST_LIMIT_MAX"),
                       c_define(top, "core/videos.h", "VIDEOS_LIST_LIMIT_DEFAULT")),
        "listClips": (c_define(top, "core/clips.h", "CLIPS_LIST_LIMIT_MAX"),
                      c_define(top, "core/clips.h", "CLIPS_LIST_LIMIT_DEFAULT")),
    }
    op_ids = set()
    for p, item in paths.items():
        template = set(re.findall(r"\{(\w+)\}", p))
        for m in (m for m in item if m in METHODS):
            op = item[m]
            where = f"{m.upper()} {p}"
            oid = op.get("operationId")
            if not oid or oid in op_ids:
                fail(f"{where}: operationId missing or not unique")
            op_ids.add(oid)
            params = [deref(doc, x) for x in item.get("parameters", []) + op.get("parameters", [])]
            path_params = {x["name"]: x for x in params if x.get("in") == "path"}
            if set(path_params) != template:
                fail(f"{where}: path parameters {sorted(path_params)} != template {sorted(template)}")
            for name, prm in path_params.items():
                schema = prm.get("schema", {})
                if not prm.get("required"):
                    fail(f"{where}: path parameter {name} not required")
                if "pattern" not in deref(doc, schema):
                    fail(f"{where}: path parameter {name} has no pattern")
                good, bad = (FILE_GOOD, FILE_BAD) if name == "filename" else (ID_GOOD, ID_BAD)
                if name not in ids | {"filename"}:
                    fail(f"{where}: path parameter {name}: no rule known for it (fcgi/router.c)")
                for s in good:
                    if schema_errors(doc, schema, s):
                        fail(f"{where}: {name} schema refuses {s!r}, which the router accepts")
                for s in bad:
                    if not schema_errors(doc, schema, s):
                        fail(f"{where}: {name} schema accepts {s!r}, which the router refuses")
            documented_q = {x["name"] for x in params if x.get("in") == "query"}
            handler = routes.get(p, {}).get(m)
            if handler and handler not in queries:
                fail(f"{where}: cannot find {handler}(request_t *rq, response_t *rs) in fcgi/h_*.c")
            allowed = queries.get(handler)
            if handler and allowed is not None and documented_q != allowed:
                fail(f"{where}: documented query parameters {sorted(documented_q)} != "
                     f"{handler}'s {sorted(allowed)}")
            if handler and allowed is None and documented_q:
                fail(f"{where}: documents query parameters but {handler} reads none")
            if oid in limits:
                lim = next((deref(doc, x.get("schema", {})) for x in params if x.get("name") == "limit"), {})
                mx, df = limits[oid]
                if (lim.get("maximum"), lim.get("default"), lim.get("minimum")) != (mx, df, 1):
                    fail(f"{where}: limit documented as {lim.get('minimum')}..{lim.get('maximum')} "
                         f"default {lim.get('default')}; the code says 1..{mx} default {df}")
            sec = op.get("security", doc.get("security"))
            want = ([{"serviceKey": []}] if p.startswith(INTERNAL_PREFIX)
                    else [{"firebaseIdToken": []}, {"eventsTicket": []}] if p == EVENTS_STREAM
                    else [{"firebaseIdToken": []}] if p.startswith(USER_PREFIX) else [])
            if sec != want:
                fail(f"{where}: security {sec} != {want}")
            responses = op.get("responses", {})
            if not any(200 <= int(s) < 400 for s in responses if s.isdigit()):
                fail(f"{where}: no success response documented")
            for st, resp in responses.items():
                if not re.fullmatch(r"[1-5][0-9][0-9]", st):
                    fail(f"{where}: response key {st!r} is not a status code")
                    continue
                resp = deref(doc, resp)
                if not resp.get("description"):
                    fail(f"{where} {st}: no description")
                if "X-Request-Id" not in resp.get("headers", {}):
                    fail(f"{where} {st}: X-Request-Id header not documented")
                code = int(st)
                if code >= 400:
                    schema = resp.get("content", {}).get("application/json", {}).get("schema")
                    if schema is None:
                        fail(f"{where} {st}: an error without an application/json schema")
                        continue
                    sample = {"error": {"code": ERROR_CODES.get(code, "?"), "message": "m",
                                        "request_id": "0123456789abcdef0123456789abcdef"}}
                    if schema_errors(doc, schema, sample):
                        fail(f"{where} {st}: the error schema refuses code {ERROR_CODES.get(code)}")
                    wrong = dict(sample, error=dict(sample["error"], code="bogus"))
                    if not schema_errors(doc, schema, wrong):
                        fail(f"{where} {st}: the error schema accepts any code")
                if code == 405 and "Allow" not in resp.get("headers", {}):
                    fail(f"{where} 405: Allow header not documented")
            for must in ("405",):
                if must not in responses:
                    fail(f"{where}: {must} not documented")
            if p.startswith(USER_PREFIX) or p.startswith(INTERNAL_PREFIX):
                for must in ("400", "401"):
                    if must not in responses:
                        fail(f"{where}: {must} not documented")
    return doc


# ---- answers ---------------------------------------------------------------------------------------

def media_matches(documented, actual):
    def split(t):
        parts = [x.strip().lower() for x in t.split(";")]
        return parts[0], set(x.replace(" ", "") for x in parts[1:] if x)
    db, dp = split(documented)
    ab, ap = split(actual)
    return db == ab and dp <= ap


def check_answers(top, path):
    doc = load_doc(top)
    paths = doc["paths"]
    seen = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        lines = [ln for ln in f if ln.strip()]
    if not lines:
        fail(f"{path}: no answers recorded")
    for ln in lines:
        n += 1
        rec = json.loads(ln)
        method, route, status = rec["method"], rec["route"], rec["status"]
        headers = {k.lower(): v for k, v in rec["headers"].items()}
        body = rec["body"]
        what = f"{method} {rec['path']} -> {status}"

        def bad(msg, rec_body=body, label=what):
            fail(f"{label}: {msg}\n    body: {rec_body[:2000]}")

        if "x-request-id" not in headers:
            bad("no X-Request-Id header")
        if route is None:
            # a path the API does not have: the generic JSON error of its status
            schema = {"$ref": f"#/components/schemas/Error{status}"}
            try:
                pointer(doc, schema["$ref"])
            except KeyError:
                bad(f"no Error{status} schema for an unrouted answer")
                continue
            for e in schema_errors(doc, schema, json.loads(body) if body else None):
                bad(describe(e))
            continue
        item = paths.get(route)
        if item is None:
            bad(f"route {route} not documented")
            continue
        op = item.get(method.lower()) or (item.get("get") if method == "HEAD" else None)
        # a method the path does not take is answered by the router (405): checked against the
        # documented 405 of any operation of the path
        if op is None:
            if status != 405:
                bad(f"{method} is not documented on {route}, yet the answer is not a 405")
                continue
            op = next(item[m] for m in item if m in METHODS)
        seen.setdefault((route, method if method.lower() in item else "*"), set()).add(status)
        resp = op.get("responses", {}).get(str(status))
        if resp is None:
            bad(f"status {status} is not documented for {method} {route}")
            continue
        resp = deref(doc, resp)
        for name, h in resp.get("headers", {}).items():
            h = deref(doc, h)
            val = headers.get(name.lower())
            if val is None:
                if h.get("required"):
                    bad(f"required header {name} missing")
                continue
            if "schema" in h:
                for e in schema_errors(doc, h["schema"], val):
                    bad(f"header {name}: {val!r}: {e.message[:300]}")
        content = resp.get("content")
        if method == "HEAD":
            # the answer to a HEAD has no body (HTTP), whatever the GET's would be
            if body:
                bad("a body in the answer to a HEAD")
            continue
        if not content:
            if body:
                bad("a body where the document says there is none")
            continue
        ctype = headers.get("content-type", "")
        media = next((m for m in content if media_matches(m, ctype)), None)
        if media is None:
            bad(f"Content-Type {ctype!r} is not one of {sorted(content)}")
            continue
        schema = content[media].get("schema", {})
        if media.split(";")[0].strip() == "application/json":
            try:
                value = json.loads(body)
            except ValueError as e:
                bad(f"body is not JSON: {e}")
                continue
        else:
            value = body
        for e in schema_errors(doc, schema, value):
            bad(describe(e))

    # every documented operation was exercised, with at least one success
    for p, item in paths.items():
        for m in (m for m in item if m in METHODS):
            got = seen.get((p, m.upper()))
            if not got:
                fail(f"{m.upper()} {p}: no answer recorded")
            elif not any(200 <= s < 400 for s in got):
                fail(f"{m.upper()} {p}: no success answer recorded (got {sorted(got)})")
    print(f"openapi-conformance: {n} answers checked")
    for (p, m), st in sorted(seen.items()):
        print(f"  {m:6} {p}: {' '.join(str(s) for s in sorted(st))}")


def main():
    top, mode = sys.argv[1], sys.argv[2]
    if mode == "structure":
        check_structure(top)
    elif mode == "answers":
        check_answers(top, sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")
    for e in errors:
        print(f"openapi-conformance: FAIL: {e}", file=sys.stderr)
    if errors:
        print(f"openapi-conformance: {len(errors)} problem(s)", file=sys.stderr)
        sys.exit(1)
    print(f"openapi-conformance: {mode}: ok")


if __name__ == "__main__":
    main()
