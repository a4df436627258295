#!/usr/bin/env bash
# sigv4-botocore: `clipctl presign` must equal Debian's botocore byte for byte on a few hundred tricky keys.
set -u
cd "$(dirname "$0")/../.."
BUILD=${CLIPAPI_BUILD:-$PWD/build}
py=/usr/bin/python3
if ! "$py" -c 'import botocore' 2>/dev/null; then
    echo "sigv4-botocore: $py cannot import botocore (apt-get install python3-botocore, or make deps)" >&2
    exit 1
fi
if [ ! -x "$BUILD/clipctl" ]; then
    echo "sigv4-botocore: $BUILD/clipctl is missing (make test-build)" >&2
    exit 1
fi
exec "$py" tests/checks/sigv4_botocore.py "$BUILD/clipctl"
