#!/usr/bin/python3
"""replay_record: the recording side of the bench's replay backend (bench/replay.c serves it).

  replay_record.py proxy --upstream HOST:PORT --out FILE --keys KEYSET.json --port-file F
      An HTTP/1.1 proxy on 127.0.0.1 (any free port, written to F; prints "ready"): forwards every
      request to the Firestore emulator at HOST:PORT and records the exchange (method, path with
      query, request body -> status, Content-Type, body) into FILE in replay.c's format, the first
      answer per key kept. GET /keys.json answers KEYSET.json (recorded too), as Google's key
      endpoint would, with a long max-age. FILE is rewritten after every new exchange.
  replay_record.py lua FILE PATH_REGEX OUT.lua
      A wrk script replaying, round robin, every recorded Firestore exchange whose path matches
      PATH_REGEX (re.search; for the replay backend's own latency).
"""
import http.client
import http.server
import os
import re
import sys
import threading

KEYS_PATH = '/keys.json'
KEYS_CACHE_CONTROL = 'public, max-age=21600, must-revalidate, no-transform'


class Recorder:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()
        self.entries = {}  # (method, path, body) -> rendered answer

    def add(self, method, path, body, status, reason, ctype, data, extra=()):
        head = ['HTTP/1.1 %d %s' % (status, reason or 'OK'), 'Content-Type: ' + ctype,
                'Content-Length: %d' % len(data)]
        head.extend(extra)
        resp = ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + data
        with self.lock:
            key = (method, path, body)
            if key in self.entries:
                return
            self.entries[key] = resp
            write(self.out, self.entries)


def write(path, entries):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(b'CLIPREPLAY 1\n')
        for (method, p, body), resp in entries.items():
            f.write(('%s %s %d %d\n' % (method, p, len(body), len(resp))).encode('latin-1'))
            f.write(body)
            f.write(resp)
            f.write(b'\n')
    os.replace(tmp, path)


def read(path):
    out = []
    with open(path, 'rb') as f:
        if f.readline() != b'CLIPREPLAY 1\n':
            raise SystemExit('%s: not a replay file' % path)
        while True:
            line = f.readline()
            if not line:
                return out
            method, p, bl, rl = line.decode('latin-1').split()
            body = f.read(int(bl))
            resp = f.read(int(rl))
            f.read(1)
            out.append((method, p, body, resp))


def proxy(upstream, out, keys_file, port_file):
    rec = Recorder(out)
    with open(keys_file, 'rb') as f:
        keyset = f.read()
    host, port = upstream.rsplit(':', 1)
    local = threading.local()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            pass

        def _answer(self, status, reason, ctype, data, extra=()):
            self.send_response(status, reason)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(data)))
            for h in extra:
                k, v = h.split(': ', 1)
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _forward(self):
            n = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(n) if n else b''
            if self.command == 'GET' and self.path == KEYS_PATH:
                extra = ('Cache-Control: ' + KEYS_CACHE_CONTROL,)
                rec.add('GET', self.path, b'', 200, 'OK', 'application/json; charset=UTF-8', keyset, extra)
                self._answer(200, 'OK', 'application/json; charset=UTF-8', keyset, extra)
                return
            if not getattr(local, 'conn', None):
                local.conn = http.client.HTTPConnection(host, int(port), timeout=60)
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in ('host', 'content-length', 'accept-encoding', 'connection')}
            try:
                local.conn.request(self.command, self.path, body=body if n else None, headers=hdrs)
                r = local.conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                local.conn.close()
                local.conn = None
                self._answer(502, 'Bad Gateway', 'text/plain', b'recording proxy: upstream failed\n')
                return
            ctype = r.getheader('Content-Type') or 'application/json; charset=UTF-8'
            if r.status < 500:
                rec.add(self.command, self.path, body, r.status, r.reason, ctype, data)
            self._answer(r.status, r.reason, ctype, data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    tmp = port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.replace(tmp, port_file)
    print('ready', flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def lua(path, pattern, out):
    reqs = [(m, p, b) for m, p, b, _ in read(path) if re.search(pattern, p) and p != KEYS_PATH]
    if not reqs:
        raise SystemExit('replay_record: no exchange matches %r' % pattern)
    lines = ['-- generated by bench/replay_record.py: the recorded requests, round robin', 'local reqs = {}']
    for m, p, b in reqs:
        body = b.decode('utf-8')
        if ']==]' in body or ']==]' in p:
            raise SystemExit('replay_record: cannot quote a body')
        hdr = '{["Content-Type"] = "application/json", ["Authorization"] = "Bearer owner"}'
        lines.append('reqs[#reqs + 1] = wrk.format("%s", [==[%s]==], %s, %s)'
                     % (m, p, hdr, ('[==[%s]==]' % body) if b else 'nil'))
    lines += ['local i = 0', 'request = function()', '    i = i % #reqs + 1', '    return reqs[i]', 'end', '']
    with open(out, 'w') as f:
        f.write('\n'.join(lines))


def main():
    a = sys.argv[1:]
    if a[:1] == ['proxy'] and len(a) == 9:
        opts = dict(zip(a[1::2], a[2::2]))
        return proxy(opts['--upstream'], opts['--out'], opts['--keys'], opts['--port-file'])
    if a[:1] == ['lua'] and len(a) == 4:
        return lua(a[1], a[2], a[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
