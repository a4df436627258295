#!/usr/bin/env bash
# openapi-conformance: docs/openapi.yaml agrees with the code and with the real answers.
#  (a) structure: OpenAPI 3.1, every $ref resolves, every schema is valid Draft 2020-12, every route
#      of fcgi/router.c documented with the same methods (and nothing more), path parameter
#      schemas that accept and refuse what the router does, query parameters equal to each
#      handler's allowed list, list limits equal to core's constants, security per route family,
#      every error response the contract's JSON error with the code of its status;
#  (b) answers: test_openapi_responses drives the real stack (Firestore emulator, S3 server, dev key
#      set, pool, nginx over TLS on 127.0.0.1), records one JSON line per answer, and each is
#      validated here: status documented for its operation, required headers present and valid,
#      media type documented, body valid against the schema (python3-jsonschema, Draft 2020-12);
#      every operation must have been exercised, with at least one success.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
BUILD=${CLIPAPI_BUILD:-$PWD/build}
PY=/usr/bin/python3
fail() { echo "openapi-conformance: FAIL: $*" >&2; exit 1; }

"$PY" -c 'import yaml, jsonschema' 2>/dev/null ||
    fail "python3-yaml and python3-jsonschema (Debian) are needed: make deps"
"$PY" tests/checks/openapi_conformance.py "$TOP" structure

bin=$BUILD/san/tests/integration/test_openapi_responses
[ -x "$bin" ] || fail "$bin not built (make test-build)"
tmp=$(mktemp -d /tmp/clipapi-openapi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export CLIPAPI_TOP=$TOP CLIPAPI_BUILD=$BUILD
if ! CLIPAPI_OPENAPI_RECORD=$tmp/answers.jsonl timeout --kill-after=10 600 "$bin" >"$tmp/run.log" 2>&1; then
    tail -n 60 "$tmp/run.log" >&2
    fail "recording the answers failed (the statuses asserted by $bin)"
fi
"$PY" tests/checks/openapi_conformance.py "$TOP" answers "$tmp/answers.jsonl"
