#!/usr/bin/python3
"""video_info_compare A.json B.json N: both are VideoInfoResponses of the same video with N clips and
equal field by field, presigned thumbnail URLs compared without their query (signing time differs)."""
import json
import sys


def norm(v):
    for c in v.get("clips", []):
        if c.get("thumbnail"):
            c["thumbnail"] = c["thumbnail"].split("?", 1)[0]
    return v


a, b = (norm(json.load(open(p))) for p in sys.argv[1:3])
want = int(sys.argv[3])
bad = []
for name, v in (("first", a), ("second", b)):
    if len(v.get("clips", [])) != want:
        bad.append("%s answer has %d clips, not %d" % (name, len(v.get("clips", [])), want))
for k in sorted(set(a) | set(b)):
    if k != "clips" and a.get(k) != b.get(k):
        bad.append("%s: %r != %r" % (k, a.get(k), b.get(k)))
for i, (x, y) in enumerate(zip(a.get("clips", []), b.get("clips", []))):
    if x != y:
        bad.append("clip %d: %r != %r" % (i, x, y))
        break
for line in bad[:10]:
    print("video_info_compare: " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
