#!/usr/bin/python3
"""The same requests to our Firestore emulator and to Google's, answers compared.

usage: firestore_differential.py run GOOGLE_HOST [--report FILE] [--verbose]
       firestore_differential.py corpus OUT [--dedupe] RECORDING...

`run` replays, in order, every session of the corpora below on our emulator (tests/emulators/
firestore, in this process, each session with the index file it was recorded with) and on Google's
emulator at GOOGLE_HOST, and compares each pair of answers: the HTTP status, the google.rpc.Status
`status` name of errors, documents and field values, query results and their order, transform
results. Times (readTime, updateTime, createTime, commitTime, server timestamps), transaction ids,
random document ids and error messages are normalized. A difference is either explained by one of
the KNOWN differences (each documented in docs/firestore.md, "Known differences") or fails the
check. It prints the counts (requests compared, differences, by known difference) on one line each.

The corpora (tests/checks/firestore-differential/, re-recorded by its `record` script):
  clipapi-requests.jsonl   every distinct request clipapi makes in its integration suites (the
                           first few of each shape per suite, with what they depend on)
  emulator-tests.jsonl     every request of our emulator's own unit tests (bad values,
                           preconditions, transactions, limits, queries)
  ../../emulators/firestore/tests/client-requests.jsonl  what Google's Node clients send (the
                           team's shared reference capture)

`corpus` turns recordings (serve --record, tests/client.py's FSEMU_RECORD) into a corpus file:
long repetitive strings run-length encoded, index file paths made relative to the repository,
and with --dedupe only the first DEDUPE_KEEP requests of each shape per session kept (plus the
requests whose answers they carry values of), bulk commits cut to their first DEDUPE_WRITES
writes. Python standard library only.
"""
import copy
import difflib
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMU_DIR = os.path.join(TOP, 'tests', 'emulators', 'firestore')
CORPUS_DIR = os.path.join(TOP, 'tests', 'checks', 'firestore-differential')
CORPORA = [
    ('clipapi', os.path.join(CORPUS_DIR, 'clipapi-requests.jsonl')),
    ('emulator-tests', os.path.join(CORPUS_DIR, 'emulator-tests.jsonl')),
    ('client-requests', os.path.join(EMU_DIR, 'tests', 'client-requests.jsonl')),
]
DEDUPE_KEEP = 3            # requests of one shape kept per recorded session
DEDUPE_WRITES = 25         # a kept bulk commit is cut to its first writes
RLE_MIN = 512              # strings at least this long are run-length encoded when that is short
REQUEST_TIMEOUT = 20       # seconds one request may take on either emulator
TIME_KEYS = ('readTime', 'updateTime', 'createTime', 'commitTime')
PROJECT_PREFIX = 'diff-'   # the projects of the replay, apart from any other test's
_TS_RE = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?Z$')

sys.path.insert(0, EMU_DIR)


# ---- the known differences (docs/firestore.md, "Known differences") ---------------------------

class Diff:
    """One request whose normalized answers differ."""

    def __init__(self, session, index, req, ours, google):
        self.session, self.index, self.req = session, index, req
        self.ours, self.google = ours, google  # (http status, normalized answer)

    def err(self, side):
        status, body = getattr(self, side)
        if isinstance(body, dict) and isinstance(body.get('error'), dict):
            return body['error'].get('status'), body['error'].get('message', '')
        return None, ''

    def verb(self):
        path = self.req['path'].split('?')[0]
        return path.rsplit(':', 1)[1] if ':' in path.rsplit('/', 1)[-1] else self.req['method']


def _index_enforcement(d):
    st, msg = d.err('ours_raw')
    return d.ours[0] == 400 and st == 'FAILED_PRECONDITION' and 'requires an index' in msg and d.google[0] == 200


def _google_says(status, *words):
    def match(d):
        st, msg = d.err('google_raw')
        return st == status and any(w in msg for w in words)
    return match


def _ours_refuses(*words):
    """Ours refuses with one of Firestore's validation errors; Google's serves it or fails oddly."""
    def match(d):
        st, msg = d.err('ours_raw')
        return (d.ours[0] == 400 and st == 'INVALID_ARGUMENT' and any(w in msg for w in words)
                and (d.google[0] == 200 or d.google[0] >= 500))
    return match


def _without(j, key):
    if isinstance(j, dict):
        return {k: _without(v, key) for k, v in j.items() if k != key}
    if isinstance(j, list):
        return [_without(v, key) for v in j]
    return j


def _skipped_results(d):
    return (d.verb() == 'runQuery' and d.ours[0] == d.google[0]
            and _without(d.ours[1], 'skippedResults') == d.google[1])


def _empty_commit(d):
    body = d.req.get('body')
    return (d.verb() == 'commit' and isinstance(body, dict) and body.get('writes') == []
            and d.ours[0] == d.google[0] == 200 and d.google[1] == {})


def _content_type(d):
    ct = next((v for k, v in (d.req.get('headers') or {}).items() if k.lower() == 'content-type'), '')
    return (d.google[0] == 404 and 'non-json' in (d.google[1] or {}) and d.req.get('body') is not None
            and ct.split(';')[0].strip() not in ('application/json', 'text/plain'))


def _unknown_path(d):
    return (not re.match(r'^/v1(beta1)?/projects/[^/]+/databases/', d.req['path'])
            and d.ours[0] == d.google[0] == 404)


def _show_missing(d):
    return d.req['method'] == 'GET' and 'showMissing=true' in d.req['path'] and d.ours[0] == d.google[0] == 200


def _paged_order(d):
    path = d.req['path']
    return (d.req['method'] == 'GET' and 'pageToken=' in path and 'orderBy=' in path
            and d.ours[0] == 200 and d.google[0] == 500)


def _null_equality(d):
    text = json.dumps(d.req.get('body'))
    return (d.verb() in ('runQuery', 'runAggregationQuery') and '"nullValue"' in text
            and re.search(r'"op": "(EQUAL|IN)"', text) is not None and d.ours[0] == d.google[0] == 200)


KNOWN = [
    ('index-enforcement',
     'ours refuses a query no declared composite index serves (400 FAILED_PRECONDITION "The query '
     'requires an index"), as Firestore does; Google\'s emulator serves every query',
     _index_enforcement),
    ('transaction-locks',
     'Google\'s emulator locks what a read-write transaction read: another write to it waits, then '
     'fails 409 ABORTED "Transaction lock timeout"; ours is optimistic (the write goes through, the '
     'transaction\'s commit is ABORTED)',
     _google_says('ABORTED', 'lock timeout')),
    ('skipped-results',
     'ours reports skippedResults when offset skipped documents, as Firestore does; Google\'s '
     'emulator leaves it out', _skipped_results),
    ('empty-commit', 'a commit of no writes: ours answers its commitTime, Google\'s emulator {}',
     _empty_commit),
    ('validation',
     'ours refuses what Firestore refuses (two transforms of one field, more than 500 transforms in '
     'a write, a document of another database, an empty composite filter, more than 5 '
     'aggregations); Google\'s emulator serves it, or answers 500 UNKNOWN',
     _ours_refuses('multiple transforms', 'field transforms', 'is not in the database of the request',
                   'at most 5 aggregations', 'must have at least one filter')),
    ('same-document-writes',
     'a commit that creates (exists=false) a document an earlier write of the same commit wrote: '
     'ours answers 409 ALREADY_EXISTS, Google\'s emulator 400 INVALID_ARGUMENT "Cannot upsert then '
     'insert an entity in the same request"',
     _google_says('INVALID_ARGUMENT', 'Cannot upsert then insert')),
    ('content-type',
     'a POST whose Content-Type is neither application/json nor text/plain: ours reads the body '
     'anyway, Google\'s emulator answers a plain-text 404', _content_type),
    ('unknown-path', 'a path outside the API: ours answers a JSON 404 NOT_FOUND, Google\'s emulator a '
     'plain-text 404', _unknown_path),
    ('show-missing',
     'listDocuments with showMissing: Google\'s emulator gives a missing document an updateTime and '
     'ignores mask.fieldPaths; ours leaves missing documents as a bare name and applies the mask',
     _show_missing),
    ('query-string-times',
     'Google\'s emulator does not read a time given as a query parameter (currentDocument.updateTime '
     'of PATCH, readTime of GET): it takes it as 0',
     _google_says('INVALID_ARGUMENT', 'Only timestamps past epoch') ),
    ('query-string-times', None,
     _google_says('FAILED_PRECONDITION', 'required base version (0)')),
    ('null-equality',
     'a fieldFilter EQUAL or IN with a null value: ours matches null fields, Google\'s emulator '
     'matches none (clients send IS_NULL for == null; clipapi never filters on null)', _null_equality),
    ('cursor-length',
     'a cursor with more values than the explicit orderBy (the extra one for the implicit '
     '__name__): ours accepts it, Google\'s emulator answers 400 "Cursor has too many values"',
     _google_says('INVALID_ARGUMENT', 'Cursor has too many values')),
    ('paged-order',
     'listDocuments with orderBy and a pageToken (its own, from the page before): Google\'s '
     'emulator answers 500 UNKNOWN; ours serves the next page', _paged_order),
    ('follows-difference',
     'a later request of the same test after one of the differences above sees other data, ids '
     'or page tokens', lambda d: False),
]


_WRITES = ('commit', 'batchWrite', 'PATCH', 'DELETE', 'POST')


def explain(d):
    for kid, _, match in KNOWN:
        if match(d):
            return kid
    return None


# ---- corpus files -------------------------------------------------------------------------------

def rle_encode(j):
    if isinstance(j, str) and len(j) >= RLE_MIN:
        runs = []
        for ch in j:
            if runs and runs[-1][0] == ch:
                runs[-1][1] += 1
            else:
                runs.append([ch, 1])
                if len(runs) > 16:
                    return j
        return {'$rle': runs}
    if isinstance(j, dict):
        return {k: rle_encode(v) for k, v in j.items()}
    if isinstance(j, list):
        return [rle_encode(v) for v in j]
    return j


def rle_decode(j):
    if isinstance(j, dict):
        if len(j) == 1 and '$rle' in j:
            return ''.join(ch * n for ch, n in j['$rle'])
        return {k: rle_decode(v) for k, v in j.items()}
    if isinstance(j, list):
        return [rle_decode(v) for v in j]
    return j


def load_recording(path):
    """A recording or corpus file -> [session dict]. A session: name, indexes, indexCheck, items."""
    sessions = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            e = rle_decode(json.loads(line))
            if 'session' in e:
                sessions.append({'name': e['session'], 'indexes': e.get('indexes'),
                                 'indexCheck': e.get('indexCheck', True), 'items': []})
                continue
            if not sessions:
                sessions.append({'name': os.path.basename(path), 'indexes': None, 'indexCheck': True,
                                 'items': []})
            sessions[-1]['items'].append(e)
    return sessions


def load_client_capture(path):
    """The shared reference capture (client, step, method, path, headers, body): one session, replayed
    as tests/emulators/firestore/tests/test_replay.py does (index check off: its queries have no
    composite indexes of their own), values of the capture session rebound by meaning."""
    items = [{'reset': 'projects/demo-clip/databases/(default)'}]
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            item = {'method': r['method'], 'path': r['path'], 'step': r['step'],
                    'headers': {k: v for k, v in r['headers'].items() if k.lower() != 'content-length'}}
            if r.get('body') is not None:
                item['body'] = r['body']
            items.append(item)
    return [{'name': 'client-requests', 'indexes': None, 'indexCheck': False, 'items': items,
             'rebind': True}]


def shape(j, depth=0):
    """What makes a request distinct for --dedupe: its structure, the names of fields and ops."""
    if isinstance(j, dict):
        keep = {}
        for k, v in sorted(j.items()):
            if k in ('op', 'direction', 'fieldPath', 'setToServerValue', 'collectionId', 'exists',
                     'allDescendants', 'alias'):
                keep[k] = v if not isinstance(v, (dict, list)) else shape(v, depth + 1)
            elif k == 'fields' and isinstance(v, dict):
                keep[k] = {fk: shape(fv, depth + 1) for fk, fv in sorted(v.items())}
            else:
                keep[k] = shape(v, depth + 1)
        return keep
    if isinstance(j, list):
        seen = []
        for v in j:
            s = shape(v, depth + 1)
            if s not in seen:
                seen.append(s)
        return seen
    return type(j).__name__


def request_shape(item):
    path, _, query = item['path'].partition('?')
    parts = path.split('/documents', 1)
    tail = parts[1] if len(parts) == 2 else ''
    verb = tail.rsplit(':', 1)[1] if ':' in tail else ''
    nseg = len([s for s in tail.split(':')[0].split('/') if s])
    params = sorted({p.split('=')[0] for p in query.split('&') if p})
    return json.dumps([item['method'], nseg, verb, params, shape(item.get('body'))], sort_keys=True)


def dedupe(session):
    items = session['items']
    keep = set()
    counts = {}
    producer = {}  # a bound value -> the index of the request whose answer carried it
    for i, it in enumerate(items):
        if 'method' not in it:
            keep.add(i)
            continue
        key = request_shape(it)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= DEDUPE_KEEP:
            keep.add(i)
        for _, v in it.get('bind', []):
            producer.setdefault(v, i)
    # the requests whose answers a kept request carries values of
    todo = sorted(keep)
    while todo:
        i = todo.pop()
        it = items[i]
        if 'method' not in it:
            continue
        text = it['path'] + json.dumps(it.get('body'))
        for v, j in producer.items():
            if j < i and j not in keep and v in text:
                keep.add(j)
                todo.append(j)
    kept = []
    for i, it in enumerate(items):
        if i not in keep:
            continue
        body = it.get('body')
        if isinstance(body, dict) and isinstance(body.get('writes'), list) and len(body['writes']) > DEDUPE_WRITES:
            it = dict(it, body=dict(body, writes=body['writes'][:DEDUPE_WRITES]))
            it['cut'] = len(body['writes'])
            it['bind'] = [b for b in it.get('bind', []) if not (b[0][:1] == ['writeResults'] and b[0][1] >= DEDUPE_WRITES)]
        kept.append(it)
    session['items'] = kept
    return session


def is_create(it):
    return it.get('method') == 'POST' and ':' not in it['path'].split('?')[0].rsplit('/', 1)[-1]


def write_corpus(out, recordings, do_dedupe):
    n_in = n_out = 0
    with open(out + '.tmp', 'w', encoding='utf-8') as f:
        for path in recordings:
            for s in load_recording(path):
                n_in += sum(1 for it in s['items'] if 'method' in it)
                if do_dedupe:
                    dedupe(s)
                n_out += sum(1 for it in s['items'] if 'method' in it)
                idx = s['indexes']
                if idx and os.path.isabs(idx) and idx.startswith(TOP + os.sep):
                    idx = os.path.relpath(idx, TOP)
                f.write(json.dumps({'session': s['name'], 'indexes': idx, 'indexCheck': s['indexCheck']},
                                   separators=(',', ':')) + '\n')
                for it in s['items']:
                    if it.get('bind') and not is_create(it):  # names only for ids the emulator chose
                        it = dict(it, bind=[b for b in it['bind'] if b[0][-1] != 'name'])
                    f.write(json.dumps(rle_encode(it), separators=(',', ':'), ensure_ascii=False) + '\n')
    os.replace(out + '.tmp', out)
    print('corpus %s: %d requests recorded, %d kept' % (os.path.relpath(out, TOP), n_in, n_out))


# ---- replaying ----------------------------------------------------------------------------------

def walk_strings(j, fn):
    if isinstance(j, str):
        return fn(j)
    if isinstance(j, dict):
        return {k: walk_strings(v, fn) for k, v in j.items()}
    if isinstance(j, list):
        return [walk_strings(v, fn) for v in j]
    return j


def get_path(j, path):
    for p in path:
        try:
            j = j[p]
        except (KeyError, IndexError, TypeError):
            return None
    return j


def parse_ts(s):
    m = _TS_RE.match(s) if isinstance(s, str) else None
    if not m:
        return None
    import calendar
    secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    frac = m.group(7) or ''
    return secs + (float(frac) if frac else 0.0), len(frac) - 1 if frac else 0


_TS_ANY_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z')


def parse_ts_ns(s):
    """An RFC 3339 UTC time -> (nanoseconds since the epoch, fraction digits), or None."""
    m = _TS_RE.match(s) if isinstance(s, str) else None
    if not m:
        return None
    import calendar
    secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    frac = (m.group(7) or '.')[1:]
    return secs * 10 ** 9 + int(frac.ljust(9, '0') or 0), len(frac)


def format_ts_ns(ns, digits):
    base = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ns // 10 ** 9))
    if digits:
        base += '.' + ('%09d' % (ns % 10 ** 9))[:digits]
    return base + 'Z'


def replay_name(s):  # replaced by Replay: the name a recorded value has in the replay
    return s


class Target:
    """One emulator as the replay sees it: a keep-alive connection and the values its answers
    carried that later requests send back."""

    def __init__(self, name, host):
        self.name, self.host = name, host
        self.conn = None
        self.binds = {}      # a recorded value -> this emulator's
        self.latest_txn = None
        self.doc_times = {}  # a document name -> its latest updateTime here (for rebinding)
        self.txns = set()    # (database path, transaction id) seen, rolled back before a reset
        self.ts_binds = {}   # a recorded time (ns since the epoch) -> this emulator's time string
        self.page_tokens = {}  # a recorded nextPageToken -> this emulator's

    def new_session(self):
        self.binds, self.latest_txn, self.doc_times, self.ts_binds = {}, None, {}, {}
        self.page_tokens = {}

    def send(self, method, path, headers, body):
        for attempt in range(2):
            if self.conn is None:
                h, p = self.host.rsplit(':', 1)
                self.conn = http.client.HTTPConnection(h, int(p), timeout=REQUEST_TIMEOUT)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader('connection', '').lower() == 'close':
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except socket.timeout:
                self.conn.close()
                self.conn = None
                return None, b'timeout'
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    return None, b'connection failed'
        return None, b'connection failed'

    def learn(self, item, path, body, answer):
        """What a later request may send back: values bound by the recording, and by meaning."""
        for where, recorded in item.get('bind', []):
            actual = get_path(answer, where)
            if isinstance(actual, str) and where[-1] == 'nextPageToken':
                self.page_tokens[recorded] = actual  # each emulator's tokens are its own
            elif isinstance(actual, str):
                self.binds[replay_name(recorded)] = actual
                p = parse_ts_ns(recorded)
                if p is not None:
                    self.ts_binds[p[0]] = actual
        m = re.search(r'/v1/(projects/[^/]+/databases/[^/:?]+)', path)
        for t in find_transactions(answer):
            self.latest_txn = t
            if m:
                self.txns.add((m.group(1), t))
        for name, ut in find_doc_times(answer):
            self.doc_times[name] = ut
        if isinstance(answer, dict) and isinstance(body, dict) and isinstance(answer.get('writeResults'), list):
            for w, res in zip(body.get('writes', []), answer['writeResults']):
                name = w.get('delete') or (w.get('update') or {}).get('name') or (w.get('transform') or {}).get('document')
                if name and isinstance(res, dict) and res.get('updateTime'):
                    self.doc_times[name] = res['updateTime']
                elif name and 'delete' in w:
                    self.doc_times.pop(name, None)


def find_transactions(j):
    if isinstance(j, dict):
        if isinstance(j.get('transaction'), str):
            yield j['transaction']
    elif isinstance(j, list):
        for v in j:
            yield from find_transactions(v)


def find_doc_times(j):
    if isinstance(j, dict):
        if isinstance(j.get('name'), str) and isinstance(j.get('updateTime'), str):
            yield j['name'], j['updateTime']
        for k, v in j.items():
            if k != 'fields' and isinstance(v, (dict, list)):
                yield from find_doc_times(v)
    elif isinstance(j, list):
        for v in j:
            yield from find_doc_times(v)


class Replay:
    def __init__(self, google_host, verbose=False):
        from fsemu.indexes import Indexes
        from fsemu.server import Emulator, make_server
        from fsemu.store import Store
        self.Indexes, self.Store = Indexes, Store
        self.emu = Emulator(Store(), Indexes())
        self.srv = make_server('127.0.0.1', 0, self.emu)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.ours = Target('ours', '127.0.0.1:%d' % self.srv.server_address[1])
        global replay_name
        replay_name = self.to_replay
        self.google = Target('google', google_host)
        self.verbose = verbose
        self.nsession = 0
        self.after = None
        self.compared = 0
        self.diffs = []
        self.by_verb = {}

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    # -- projects of the replay: P -> diff-P in requests, back in answers
    # -- projects of the replay: P -> diff<N>-P in requests (N: the session), back in answers
    def to_replay(self, s):
        if 'projects' not in s or re.search(r'projects(/|%%2F)%s\d+-' % PROJECT_PREFIX, s):
            return s
        return re.sub(r'projects(/|%2F)([^/%?&"]+)(/|%2F)databases',
                      lambda m: 'projects%s%s%d-%s%sdatabases' % (m.group(1), PROJECT_PREFIX, self.nsession,
                                                                  m.group(2), m.group(3)), s)

    @staticmethod
    def from_replay(s):
        return re.sub(r'projects(/|%%2F)%s\d+-' % PROJECT_PREFIX, r'projects\1', s)

    def reset(self, target, dbpath, final=False):
        # Google's emulator locks what a read-write transaction read until it ends: end them first
        for db, txn in sorted(target.txns):
            target.send('POST', '/v1/%s/documents:rollback' % db, {'Content-Type': 'application/json'},
                        json.dumps({'transaction': txn}).encode())
        target.txns.clear()
        status, data = target.send('DELETE', '/emulator/v1/' + self.to_replay(dbpath) + '/documents', {}, None)
        if status != 200 and not final:
            raise SystemExit('firestore-differential: reset of %s on %s failed: %s %s'
                             % (dbpath, target.name, status, data[:200]))

    def session(self, s):
        self.nsession += 1
        self.after = None  # the known difference this test has already seen
        self.emu.store = self.Store()
        idx = s['indexes']
        self.emu.indexes = self.Indexes.from_file(os.path.join(TOP, idx)) if idx else self.Indexes()
        self.emu.index_check = s['indexCheck']
        dbs = set()
        for it in s['items']:
            if 'reset' in it:
                dbs.add(it['reset'])
            elif 'method' in it:
                m = re.search(r'(projects/[^/]+/databases/[^/:?]+)', it['path'])
                if m:
                    dbs.add(m.group(1))
        for t in (self.ours, self.google):
            t.new_session()
            for db in sorted(dbs):
                self.reset(t, db)
        t0 = None
        note = None
        for i, it in enumerate(s['items']):
            if 'test' in it:
                note = it['test']
                self.after = None
                continue
            if 'reset' in it:
                self.after = None
                for t in (self.ours, self.google):
                    self.reset(t, it['reset'])
                continue
            if 'indexCheck' in it:
                self.emu.index_check = it['indexCheck']
                continue
            if t0 is None:
                t0 = it.get('t')
            self.compare(s, i, it, note)
        for db in sorted(dbs):
            self.reset(self.google, db, final=True)  # the shared emulator keeps nothing of the replay

    def prepare(self, target, s, it):
        """The request as this emulator gets it: projects renamed, values of the recorded answers
        replaced by this emulator's (times matched by value, also inside query strings), other
        times of the recording shifted by as long as the recording is old."""
        binds = target.binds
        shift_ns = int((time.time() - it['t']) * 1e9) if it.get('t') else 0

        def retime(m):
            ts = m.group(0)
            p = parse_ts_ns(ts)
            if p is None:
                return ts
            if p[0] in target.ts_binds:
                actual = parse_ts_ns(target.ts_binds[p[0]])
                return format_ts_ns(actual[0], max(p[1], actual[1])) if actual else ts
            if shift_ns and abs(p[0] - int(it['t'] * 1e9)) < 86400 * 10 ** 9:
                return format_ts_ns(p[0] + shift_ns - (p[0] + shift_ns) % 1000, p[1])
            return ts

        def sub(v):
            v = self.to_replay(v)
            if v in binds:
                return binds[v]
            for rec, act in binds.items():
                if '/documents/' in rec and rec in v:
                    v = v.replace(rec, act)
            return _TS_ANY_RE.sub(retime, v) if 'T' in v else v

        body = it.get('body')
        if body is not None:
            body = walk_strings(copy.deepcopy(body), sub)
            if s.get('rebind'):
                body = self.rebind(target, body)
        path = sub(it['path'])
        for rec, act in target.page_tokens.items():
            for form in (rec, urllib.parse.quote(rec, safe='')):
                path = path.replace('pageToken=' + form, 'pageToken=' + urllib.parse.quote(act, safe='/='))
        for rec, act in binds.items():
            if '/documents/' in rec:
                path = path.replace(rec.split('/documents/', 1)[1], act.split('/documents/', 1)[1])
        if body is not None:
            data = json.dumps(body).encode('utf-8')
        elif 'raw' in it:
            data = self.to_replay(it['raw']).encode('utf-8')
        else:
            data = None
        headers = {k: self.to_replay(v) for k, v in (it.get('headers') or {}).items()}
        if data is not None and not any(k.lower() == 'content-type' for k in headers):
            headers['Content-Type'] = 'application/json'
        if data is None:
            headers = {k: v for k, v in headers.items() if k.lower() != 'content-type'}
        return it['method'], path, headers, data, body

    @staticmethod
    def rebind(target, body):
        """The capture carries ids and times of its own session: the latest of this emulator's."""
        if isinstance(body, dict):
            if isinstance(body.get('transaction'), str) and target.latest_txn:
                body['transaction'] = target.latest_txn
            for w in body.get('writes', []) if isinstance(body.get('writes'), list) else []:
                cd = w.get('currentDocument') if isinstance(w, dict) else None
                name = w.get('delete') or (w.get('update') or {}).get('name')
                if isinstance(cd, dict) and 'updateTime' in cd and name in target.doc_times:
                    cd['updateTime'] = target.doc_times[name]
        return body

    def compare(self, s, i, it, note):
        answers = {}
        raw = {}
        for t in (self.ours, self.google):
            method, path, headers, data, body = self.prepare(t, s, it)
            status, out = t.send(method, path, headers, data)
            try:
                answer = json.loads(out) if out else None
            except ValueError:
                answer = {'non-json': out[:200].decode('utf-8', 'replace')}
            if status is not None and answer is not None:
                t.learn(it, path, body, answer)
            raw[t.name] = (status, answer)
            answers[t.name] = (status, self.normalize(t, answer, status))
        self.compared += 1
        verb = Diff(s['name'], i, it, None, None).verb()
        st = self.by_verb.setdefault(verb, [0, 0])
        st[0] += 1
        if answers['ours'] != answers['google']:
            st[1] += 1
            d = Diff(s['name'], i, it, answers['ours'], answers['google'])
            d.ours_raw, d.google_raw = raw['ours'], raw['google']
            d.note = note
            d.known = explain(d)
            if d.known is None and self.after is not None:
                d.known = 'follows-difference'
            elif d.known is not None and d.known != 'follows-difference' and (
                    (d.ours[0] == 200) != (d.google[0] == 200) or d.verb() in _WRITES):
                self.after = d.known  # what later requests of the test see may differ from here on
            self.diffs.append(d)

    def normalize(self, target, answer, status):
        inverse = {v: k for k, v in target.binds.items()}
        now = time.time()

        def norm(j, key=None):
            if isinstance(j, dict):
                if status is not None and status >= 400 and 'error' in j and isinstance(j['error'], dict):
                    e = j['error']
                    return {'error': {'code': e.get('code'), 'status': e.get('status')}}
                out = {}
                for k, v in j.items():
                    if k in TIME_KEYS and isinstance(v, str):
                        out[k] = '<time>' if parse_ts(v) else v
                    elif k == 'nextPageToken' and isinstance(v, str):
                        out[k] = '<page-token>'
                    elif k == 'transaction' and isinstance(v, str):
                        out[k] = '<transaction>'
                    elif k == 'timestampValue' and isinstance(v, str):
                        p = parse_ts(v)
                        out[k] = '<now>' if p and abs(p[0] - now) < 86400 else v
                    elif k == 'doubleValue' and isinstance(v, (int, float)):
                        out[k] = float(v)
                    else:
                        out[k] = norm(v, k)
                return out
            if isinstance(j, list):
                return [norm(v) for v in j]
            if isinstance(j, str):
                if j in inverse:
                    return self.from_replay(inverse[j])
                for act, rec in inverse.items():
                    if '/documents/' in act and act in j:
                        j = j.replace(act, rec)
                return self.from_replay(j)
            return j
        return norm(answer)


# ---- report ---------------------------------------------------------------------------------

def show(j):
    return json.dumps(j, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def describe(d, limit=40):
    lines = ['%s #%d%s: %s %s' % (d.session, d.index, ' (%s)' % d.note if d.note else '', d.req['method'],
                                  d.req['path'][:160])]
    if d.req.get('body') is not None:
        b = json.dumps(d.req['body'], ensure_ascii=False)
        lines.append('  body: ' + (b if len(b) < 600 else b[:600] + '...'))
    for side in ('ours', 'google'):
        st, msg = d.err(side + '_raw')
        if st:
            lines.append('  %s: %s %s' % (side, st, msg[:300]))
    diff = list(difflib.unified_diff(show(d.ours), show(d.google), 'ours', 'google', n=2, lineterm=''))
    lines.extend('  ' + x for x in diff[:limit])
    if len(diff) > limit:
        lines.append('  ... %d more lines' % (len(diff) - limit))
    return '\n'.join(lines)


def check_docs():
    """Every known difference is listed in docs/firestore.md by its id."""
    with open(os.path.join(TOP, 'docs', 'firestore.md'), encoding='utf-8') as f:
        doc = f.read()
    return sorted({kid for kid, _, _ in KNOWN if '`%s`' % kid not in doc})


def run(google_host, report=None, verbose=False):
    sessions = []
    for name, path in CORPORA:
        if not os.path.exists(path):
            print('firestore-differential: corpus %s missing (%s): run tests/checks/firestore-differential/record'
                  % (name, os.path.relpath(path, TOP)))
            return 1
        loaded = load_client_capture(path) if name == 'client-requests' else load_recording(path)
        sessions.extend((name, s) for s in loaded)
    rp = Replay(google_host, verbose)
    t0 = time.time()
    per_corpus = {}
    try:
        for corpus, s in sessions:
            before = (rp.compared, len(rp.diffs))
            rp.session(s)
            c = per_corpus.setdefault(corpus, [0, 0])
            c[0] += rp.compared - before[0]
            c[1] += len(rp.diffs) - before[1]
    finally:
        rp.close()
    unexplained = [d for d in rp.diffs if not d.known]
    by_known = {}
    for d in rp.diffs:
        if d.known:
            by_known[d.known] = by_known.get(d.known, 0) + 1
    lines = []
    for corpus, (n, nd) in per_corpus.items():
        lines.append('firestore-differential: %s: %d requests compared, %d answers differ' % (corpus, n, nd))
    for kid in dict.fromkeys(kid for kid, _, _ in KNOWN):
        lines.append('firestore-differential: known difference %s: %d requests' % (kid, by_known.get(kid, 0)))
    lines.append('firestore-differential: %d requests compared in %.1f s, %d differ: %d known (docs/firestore.md), %d unexplained'
                 % (rp.compared, time.time() - t0, len(rp.diffs), len(rp.diffs) - len(unexplained), len(unexplained)))
    print('\n'.join(lines))
    missing = check_docs()
    if report:
        with open(report, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + '\n\n')
            for d in rp.diffs:
                f.write(('[known: %s] ' % d.known if d.known else '[UNEXPLAINED] ') + describe(d, 200) + '\n\n')
    if unexplained:
        print('\nunexplained differences (ours vs google, normalized):')
        for d in unexplained[:25 if not verbose else len(unexplained)]:
            print(describe(d))
        if len(unexplained) > 25 and not verbose:
            print('... %d more (--verbose, or --report FILE)' % (len(unexplained) - 25))
    if missing:
        print('firestore-differential: known differences not in docs/firestore.md: %s' % ', '.join(missing))
    return 1 if unexplained or missing else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == 'run':
        report = argv[argv.index('--report') + 1] if '--report' in argv else None
        return run(argv[1], report, '--verbose' in argv)
    if len(argv) >= 2 and argv[0] == 'corpus':
        args = [a for a in argv[2:] if a != '--dedupe']
        write_corpus(argv[1], args, '--dedupe' in argv)
        return 0
    print(__doc__.split('\n\n')[1], file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
