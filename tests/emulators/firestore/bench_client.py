#!/usr/bin/python3
"""Bounded client loop for bench/firestore-emulator.sh: small GETs and batchGets on one keep-alive
connection. Prints `name: value` lines. usage: bench_client.py HOST:PORT [SECONDS [EMULATOR_PID]]"""
import http.client
import os
import json
import sys
import time

host, port = sys.argv[1].split(':')
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
server_pid = int(sys.argv[3]) if len(sys.argv) > 3 else None
TICKS = os.sysconf('SC_CLK_TCK')
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


def server_cpu():
    """CPU seconds the emulator process has used (user + system), or None."""
    if server_pid is None:
        return None
    with open('/proc/%d/stat' % server_pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rate(name, method, path, body=None):
    """Wall-clock rate, and the rate per CPU second of the emulator (robust to a busy machine)."""
    n = 0
    cpu0 = server_cpu()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while n < max_requests:
        call(method, path, body)
        n += 1
        if n % 50 == 0 and time.perf_counter() >= deadline:
            break
    wall = time.perf_counter() - t0
    print('%s_per_s: %d' % (name, n / wall))
    if cpu0 is not None:
        cpu = server_cpu() - cpu0
        if cpu > 0:
            print('%s_per_cpu_s: %d' % (name, n / cpu))


rate('emulator_gets', 'GET', '/v1/%s/videos/v1' % root)
rate('emulator_batchgets', 'POST', '/v1/%s:batchGet' % root, json.dumps({'documents': [root + '/videos/v1']}))
conn.close()
