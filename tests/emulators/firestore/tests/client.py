"""Test helpers: a keep-alive HTTP client for the emulator and Value builders. Uses the emulator
at FIRESTORE_EMULATOR_HOST, or starts one in this process (so `python3 -m unittest` works alone).
With FSEMU_RECORD=FILE that emulator records every request of the tests, each test's first under
its name (tests/checks/firestore-differential/record replays them on Google's emulator too)."""
import http.client
import json
import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
_server = None
_emu = None


def emulator_host():
    global _server
    h = os.environ.get('FIRESTORE_EMULATOR_HOST')
    if h:
        return h
    if _server is None:
        from fsemu.indexes import Indexes
        from fsemu.server import Emulator, make_server
        from fsemu.store import Store
        global _emu
        emu = _emu = Emulator(Store(), Indexes.from_file(os.path.join(HERE, 'indexes.json')))
        if os.environ.get('FSEMU_RECORD'):
            emu.recording = open(os.environ['FSEMU_RECORD'], 'a', encoding='utf-8')
            emu.record_line({'session': 'emulator-unit-tests', 'indexes': 'tests/emulators/firestore/tests/indexes.json',
                             'indexCheck': True})
        _server = make_server('127.0.0.1', 0, emu)
        threading.Thread(target=_server.serve_forever, daemon=True).start()
    return '127.0.0.1:%d' % _server.server_address[1]


class Client:
    def __init__(self, project, hostport=None):
        self.hostport = hostport or emulator_host()
        host, port = self.hostport.split(':')
        self.conn = http.client.HTTPConnection(host, int(port), timeout=20)
        self.project = project
        self.owner = False  # send Authorization: Bearer owner (as server clients do)
        self.root = 'projects/%s/databases/(default)/documents' % project
        self.base = '/v1/' + self.root

    def close(self):
        self.conn.close()

    def raw(self, method, path, body=None, headers=None):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        h = {'Content-Type': 'application/json'}
        if self.owner:
            h['Authorization'] = 'Bearer owner'
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data, r

    def req(self, method, path, body=None, headers=None):
        status, data, _ = self.raw(method, path, body, headers)
        return status, (json.loads(data) if data else None)

    def name(self, path):
        return self.root + '/' + path

    def reset(self):
        if _emu is not None and _emu.recording is not None:
            _emu.record_line({'test': _current_test()})
        s, _ = self.req('DELETE', '/emulator/v1/' + self.root)
        assert s == 200
        self.req('DELETE', '/emulator/v1/faults')

    def commit(self, writes, **extra):
        body = {'writes': writes}
        body.update(extra)
        return self.req('POST', self.base + ':commit', body)

    def set(self, path, fields, **extra):
        w = {'update': {'name': self.name(path), 'fields': fields}}
        w.update(extra)
        s, r = self.commit([w])
        assert s == 200, r
        return r

    def get(self, path, qs=''):
        return self.req('GET', self.base + '/' + path + qs)

    def query(self, sq, parent='', **extra):
        body = {'structuredQuery': sq}
        body.update(extra)
        return self.req('POST', self.base + (('/' + parent) if parent else '') + ':runQuery', body)

    def ids(self, sq, parent=''):
        s, r = self.query(sq, parent)
        assert s == 200, r
        return [e['document']['name'].rsplit('/', 1)[1] for e in r if 'document' in e]

    def agg(self, aggs, sq, parent=''):
        return self.req('POST', self.base + (('/' + parent) if parent else '') + ':runAggregationQuery',
                        {'structuredAggregationQuery': {'aggregations': aggs, 'structuredQuery': sq}})


def _current_test():
    f = sys._getframe(1)
    while f is not None:
        t = f.f_locals.get('self')
        if isinstance(t, unittest.TestCase):
            return t.id()
        f = f.f_back
    return None


def I(n):
    return {'integerValue': str(n)}


def D(x):
    return {'doubleValue': x}


def S(s):
    return {'stringValue': s}


def B(b):
    return {'booleanValue': b}


NULL = {'nullValue': None}


def T(ts):
    return {'timestampValue': ts}


def A(*vals):
    return {'arrayValue': {'values': list(vals)}}


def M(**fields):
    return {'mapValue': {'fields': fields}}


def F(path, op, value):
    return {'fieldFilter': {'field': {'fieldPath': path}, 'op': op, 'value': value}}


def U(path, op):
    return {'unaryFilter': {'field': {'fieldPath': path}, 'op': op}}


def AND(*fs):
    return {'compositeFilter': {'op': 'AND', 'filters': list(fs)}}


def OR(*fs):
    return {'compositeFilter': {'op': 'OR', 'filters': list(fs)}}


def O(path, direction='ASCENDING'):
    return {'field': {'fieldPath': path}, 'direction': direction}
