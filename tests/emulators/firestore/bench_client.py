#!/usr/bin/python3
"""Bounded client loop for bench/firestore-emulator.sh: small GETs and batchGets on one keep-alive
connection. Prints `name: value` lines."""
import http.client
import json
import sys
import time

host, port = sys.argv[1].split(':')
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
max_requests = 50_000
root = 'projects/demo-bench/databases/(default)/documents'
conn = http.client.HTTPConnection(host, int(port), timeout=10)


def call(method, path, body=None):
    conn.request(method, path, body=body, headers={'Content-Type': 'application/json'})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit('bench: %s %s -> %d %s' % (method, path, r.status, data[:200]))
    return data


doc = {'name': root + '/videos/v1', 'fields': {'title': {'stringValue': 'Clip A'}, 'n': {'integerValue': '1'},
                                               'tags': {'arrayValue': {'values': [{'stringValue': 'a'}]}}}}
call('POST', '/v1/%s:commit' % root, json.dumps({'writes': [{'update': doc}]}))


def rate(method, path, body=None):
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while n < max_requests:
        call(method, path, body)
        n += 1
        if n % 50 == 0 and time.perf_counter() >= deadline:
            break
    return n / (time.perf_counter() - t0)


print('emulator_gets_per_s: %d' % rate('GET', '/v1/%s/videos/v1' % root))
print('emulator_batchgets_per_s: %d' % rate('POST', '/v1/%s:batchGet' % root,
                                           json.dumps({'documents': [root + '/videos/v1']})))
conn.close()
