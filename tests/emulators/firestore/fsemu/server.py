"""HTTP/1.1 front end: routing of the REST v1 surface, the emulator endpoints (reset, faults,
request log), keep-alive, and the JSON shapes of every response."""
import base64
import collections
import json
import re
import socket
import struct
import threading
import time
import random
import string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from . import query as Q
from . import schema
from . import values as V
from .errors import STATUS_OF_HTTP, ApiError, invalid, not_found
from .paths import check_path, parse_field_path, path_key

MAX_REQUEST_BYTES = 10 * 1024 * 1024
DRAIN_MAX_BYTES = 64 * 1024 * 1024
LOG_ENTRIES = 1000
MAX_LINE = 65536
MAX_HEADERS = 100
LOG_BODY_CHARS = 4096

_DB_RE = re.compile(r'^/(v1|v1beta1)/projects/([^/]+)/databases/([^/]+)/documents([/:].*)?$')
_RESET_RE = re.compile(r'^/emulator/v1/projects/([^/]+)/databases/([^/]+)/documents/?$')
_VERBS = {'commit', 'batchGet', 'beginTransaction', 'rollback', 'runQuery', 'runAggregationQuery',
          'listCollectionIds', 'batchWrite', 'partitionQuery', 'listen', 'write', 'listDocuments'}
_ID_CHARS = string.ascii_letters + string.digits
# What --record keeps of a request's headers (the rest is transport).
_RECORDED_HEADERS = ('content-type', 'user-agent', 'authorization')


class Faults:
    """Rules that make the next N matching requests wait, fail or lose their connection."""

    ACTIONS = ('status', 'delay', 'drop', 'reset')

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        if not isinstance(spec, dict):
            raise invalid('A fault is a JSON object.')
        known = {'match', 'method', 'times', 'skip', 'action', 'status', 'ms', 'message', 'grpcStatus',
                 'retryAfter'}
        extra = set(spec) - known
        if extra:
            raise invalid('Unknown fault field(s): %s' % ', '.join(sorted(extra)))
        action = spec.get('action', 'status')
        if action not in self.ACTIONS:
            raise invalid('action must be one of %s' % ', '.join(self.ACTIONS))
        try:
            pattern = re.compile(spec.get('match', ''))
        except re.error as e:
            raise invalid('match is not a valid regular expression: %s' % e)
        times = spec.get('times', 1)
        skip = spec.get('skip', 0)
        ms = spec.get('ms', 0)
        for k, v in (('times', times), ('skip', skip), ('ms', ms)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < (-1 if k == 'times' else 0):
                raise invalid('%s must be a non-negative number (times: -1 = unlimited)' % k)
        rule = {'id': self.next_id, 'match': spec.get('match', ''), 'method': spec.get('method'),
                'times': int(times), 'skip': int(skip), 'action': action, 'ms': ms, 'hits': 0,
                're': pattern}
        if action == 'status':
            code = spec.get('status', 503)
            if not isinstance(code, int) or not 400 <= code <= 599:
                raise invalid('status must be an HTTP error code (400-599)')
            grpc = spec.get('grpcStatus') or STATUS_OF_HTTP.get(code, 'UNKNOWN')
            rule.update(status=code, grpcStatus=grpc,
                        message=spec.get('message') or 'Injected fault: %s (emulator fault rule %d)'
                        % (grpc, self.next_id), retryAfter=spec.get('retryAfter'))
        with self.lock:
            self.next_id += 1
            self.rules.append(rule)
        return self.public(rule)

    @staticmethod
    def public(rule):
        return {k: v for k, v in rule.items() if k != 're'}

    def list(self):
        with self.lock:
            return [self.public(r) for r in self.rules]

    def clear(self):
        with self.lock:
            self.rules = []

    def take(self, method, path):
        """The rule that applies to this request, if any (consumes one of its times)."""
        if not self.rules:
            return None
        target = method + ' ' + path
        with self.lock:
            for r in self.rules:
                if r['times'] == 0:
                    continue
                if r['method'] and r['method'].upper() != method:
                    continue
                if not r['re'].search(target):
                    continue
                if r['skip'] > 0:
                    r['skip'] -= 1
                    continue
                if r['times'] > 0:
                    r['times'] -= 1
                r['hits'] += 1
                return dict(r)
        return None


class Emulator:
    def __init__(self, store, indexes, index_check=True):
        self.store = store
        self.indexes = indexes
        self.index_check = index_check
        self.faults = Faults()
        self.log = collections.deque(maxlen=LOG_ENTRIES)
        self.log_seq = 0
        self.recording = None  # a file: every API request in full, one JSON line each (--record)
        self.recording_lock = threading.Lock()

    # ---- dispatch ------------------------------------------------------------------------------

    def handle(self, method, path, qs, body, owner=True):
        """-> (http status, JSON-able object or bytes). owner: the request carries the owner
        credential (Authorization: Bearer owner), which the admin-only methods need."""
        m = _DB_RE.match(path)
        if m:
            return 200, self._api(method, m.group(2), m.group(3), m.group(4) or '', qs, body, owner)
        if path.startswith('/emulator/'):
            return self._admin(method, path, qs, body)
        if path == '/' and method == 'GET':
            return 200, b'Ok\n'
        raise not_found('Unknown path %s %s (the emulator serves /v1/projects/{p}/databases/{d}/documents...)'
                        % (method, path))

    def _api(self, method, project, database, tail, qs, body, owner=True):
        project, database = unquote(project), unquote(database)
        segs = [unquote(s) for s in tail.strip('/').split('/')] if tail.strip('/') else []
        verb = None
        if segs and ':' in segs[-1]:
            base, v = segs[-1].rsplit(':', 1)
            if v in _VERBS:
                verb = v
                segs = segs[:-1] + ([base] if base else [])
        rel = '/'.join(segs)
        nseg = len(rel.split('/')) if rel else 0
        if not owner and (verb == 'listCollectionIds' or (
                method == 'GET' and nseg % 2 == 1 and qs.get('showMissing', [''])[-1] == 'true')):
            # Firestore serves these to server credentials only (as Google's emulator does)
            raise ApiError('PERMISSION_DENIED', 'Listing collection ids or missing documents needs the owner '
                           'credential (Authorization: Bearer owner).')
        st = self.store
        with st.lock:
            db = st.db(project, database)
            if verb is not None:
                if method != 'POST':
                    raise not_found('%s is served with POST only.' % verb)
                return getattr(self, '_' + verb)(db, rel, qs, body)
            if method == 'GET':
                if nseg == 0:
                    raise invalid('A collection id is required to list documents.')
                return self._get(db, rel, qs) if nseg % 2 == 0 else self._list(db, rel, qs)
            if method == 'POST' and nseg % 2 == 1:
                return self._create(db, rel, qs, body)
            if method == 'PATCH' and nseg and nseg % 2 == 0:
                return self._patch(db, rel, qs, body)
            if method == 'DELETE' and nseg and nseg % 2 == 0:
                return self._delete(db, rel, qs)
        raise not_found('No such method: %s %s' % (method, tail or '/'))

    # ---- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _json_body(body, schema_name):
        if not body:
            return {}
        try:
            j = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            raise invalid('Invalid JSON payload received. %s' % e)
        return schema.check(schema_name, j)

    @staticmethod
    def _masks(qs):
        fps = qs.get('mask.fieldPaths')
        if fps is None:
            return None
        return [p for p in (parse_field_path(f) for f in fps) if p != ['__name__']]

    @staticmethod
    def _precondition_qs(qs):
        pre = {}
        if 'currentDocument.exists' in qs:
            v = qs['currentDocument.exists'][-1].lower()
            if v not in ('true', 'false'):
                raise invalid('Invalid value for currentDocument.exists: %s' % v)
            pre['exists'] = v == 'true'
        if 'currentDocument.updateTime' in qs:
            pre['updateTime'] = qs['currentDocument.updateTime'][-1]
        return pre or None

    def _read_txn(self, db, req, qs=None):
        """(txn or None, new transaction id or None, read time in ns or None = now) from
        transaction / newTransaction / readTime of a read request."""
        tid = req.get('transaction') if req is not None else None
        if qs is not None and 'transaction' in qs:
            tid = qs['transaction'][-1]
        new = req.get('newTransaction') if req is not None else None
        rt = req.get('readTime') if req is not None else None
        if qs is not None and 'readTime' in qs:
            rt = qs['readTime'][-1]
        if sum(x is not None for x in (tid, new, rt)) > 1:
            raise invalid('Only one of transaction, newTransaction and readTime may be set.')
        if rt is not None:
            return None, None, self.store.check_read_time(V.parse_timestamp(rt, 'readTime'))
        txn, new_id = None, None
        if tid is not None:
            txn = self.store.txn(db, tid)
        elif new is not None:
            txn = self.store.txn(db, self.store.begin(db, new))
            new_id = txn.id
        return txn, new_id, (txn.read_time if txn is not None and txn.read_only else None)

    def _read_time(self, at=None):
        return V.format_timestamp(at if at is not None else self.store.now())

    # ---- documents -------------------------------------------------------------------------------

    def _get(self, db, rel, qs):
        check_path(rel, True)
        txn, _, at = self._read_txn(db, None, qs)
        doc = db.view(at).get(rel) if at is not None else db.docs.get(rel)
        self.store.note_read(txn, rel, doc)
        if doc is None:
            raise not_found('Document "%s" not found.' % db.full(rel))
        return db.doc_json(rel, doc, self._masks(qs))

    def _list(self, db, rel, qs):
        check_path(rel, False)
        txn, _, at = self._read_txn(db, None, qs)
        docs = db.view(at)
        show_missing = qs.get('showMissing', ['false'])[-1].lower() == 'true'
        prefix = rel + '/'
        names = set()
        for path in docs:
            if path.startswith(prefix):
                rest = path[len(prefix):]
                names.add(rest.split('/', 1)[0] if '/' in rest else rest)
        items = []
        for did in names:
            path = prefix + did
            doc = docs.get(path)
            if doc is None and not show_missing:
                continue
            items.append((path, doc))
        order = qs.get('orderBy', [''])[-1].strip()
        desc = False
        if order:
            parts = [p.strip() for p in order.split(',')]
            first = parts[0].split()
            if first[0] not in ('__name__', 'name') or len(parts) > 1:
                raise invalid('listDocuments supports orderBy "__name__" only in this emulator.')
            if len(first) > 1 and first[1].lower() == 'desc':
                raise ApiError('FAILED_PRECONDITION', 'Firestore does not support descending key scans '
                               '(listDocuments orderBy "__name__ desc").')
            desc = False
        items.sort(key=lambda it: path_key(it[0]), reverse=desc)
        start = 0
        token = qs.get('pageToken', [''])[-1]
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError:
                raise invalid('Invalid page token.')
        size = qs.get('pageSize', [''])[-1]
        size = int(size) if size.isdigit() and int(size) > 0 else None
        end = len(items) if size is None else min(len(items), start + size)
        masks = self._masks(qs)
        out = []
        for path, doc in items[start:end]:
            self.store.note_read(txn, path, doc)
            out.append(db.doc_json(path, doc, masks) if doc is not None else {'name': db.full(path)})
        res = {}
        if out:
            res['documents'] = out
        if end < len(items):
            res['nextPageToken'] = base64.urlsafe_b64encode(str(end).encode()).decode()
        return res

    def _create(self, db, rel, qs, body):
        check_path(rel, False)
        req = self._json_body(body, 'Document')
        did = qs.get('documentId', [''])[-1]
        if not did:
            did = ''.join(random.choice(_ID_CHARS) for _ in range(20))
        path = rel + '/' + did
        check_path(path, True)
        if req.get('name'):
            raise invalid('Document name must not be set in createDocument; use documentId.')
        write = {'update': {'name': db.full(path), 'fields': req.get('fields') or {}},
                 'currentDocument': {'exists': False}}
        self.store.commit(db, [write])
        return db.doc_json(path, db.docs[path], self._masks(qs))

    def _patch(self, db, rel, qs, body):
        check_path(rel, True)
        req = self._json_body(body, 'Document')
        if req.get('name') and req['name'] != db.full(rel):
            raise invalid('Document name "%s" does not match the URL.' % req['name'])
        write = {'update': {'name': db.full(rel), 'fields': req.get('fields') or {}}}
        if 'updateMask.fieldPaths' in qs:
            write['updateMask'] = {'fieldPaths': qs['updateMask.fieldPaths']}
        pre = self._precondition_qs(qs)
        if pre:
            write['currentDocument'] = pre
        self.store.commit(db, [write])
        return db.doc_json(rel, db.docs[rel], self._masks(qs))

    def _delete(self, db, rel, qs):
        check_path(rel, True)
        write = {'delete': db.full(rel)}
        pre = self._precondition_qs(qs)
        if pre:
            write['currentDocument'] = pre
        self.store.commit(db, [write])
        return {}

    # ---- verbs ---------------------------------------------------------------------------------

    def _root_only(self, rel, verb):
        if rel:
            raise not_found('%s is served on the database root only.' % verb)

    def _commit(self, db, rel, qs, body):
        self._root_only(rel, 'commit')
        req = self._json_body(body, 'CommitRequest')
        results, t = self.store.commit(db, req.get('writes') or [], req.get('transaction'))
        out = {}
        if results:
            out['writeResults'] = results
        out['commitTime'] = V.format_timestamp(t)
        return out

    def _batchWrite(self, db, rel, qs, body):
        self._root_only(rel, 'batchWrite')
        req = self._json_body(body, 'BatchWriteRequest')
        writes = req.get('writes') or []
        paths = set()
        for i, w in enumerate(writes):
            name = (w or {}).get('delete') or ((w or {}).get('update') or {}).get('name')
            if name in paths:
                raise invalid('Batch write contains multiple writes to the same document: %s' % name)
            paths.add(name)
        results, statuses = [], []
        for w in writes:
            try:
                r, _ = self.store.commit(db, [w])
                results.append(r[0])
                statuses.append({})
            except ApiError as e:
                results.append({})
                statuses.append({'code': _GRPC_CODE[e.status], 'message': e.message})
        return {'writeResults': results, 'status': statuses} if writes else {}

    def _beginTransaction(self, db, rel, qs, body):
        self._root_only(rel, 'beginTransaction')
        req = self._json_body(body, 'BeginTransactionRequest')
        return {'transaction': self.store.begin(db, req.get('options'))}

    def _rollback(self, db, rel, qs, body):
        self._root_only(rel, 'rollback')
        req = self._json_body(body, 'RollbackRequest')
        self.store.rollback(db, req.get('transaction'))
        return {}

    def _batchGet(self, db, rel, qs, body):
        self._root_only(rel, 'batchGet')
        req = self._json_body(body, 'BatchGetDocumentsRequest')
        names = req.get('documents') or []
        paths = [db.relative(n, 'documents[%d]' % i) for i, n in enumerate(names)]
        masks = None
        if req.get('mask') is not None:
            masks = [p for p in (parse_field_path(f) for f in req['mask'].get('fieldPaths') or [])
                     if p != ['__name__']]
        txn, new_id, at = self._read_txn(db, req)
        docs = db.view(at)
        rt = self._read_time(at)
        out = []
        if new_id is not None:
            out.append({'transaction': new_id})  # as Google's emulator: no readTime of its own
        for path in paths:
            doc = docs.get(path)
            self.store.note_read(txn, path, doc)
            if doc is None:
                out.append({'missing': db.full(path), 'readTime': rt})
            else:
                out.append({'found': db.doc_json(path, doc, masks), 'readTime': rt})
        return out

    def _parent(self, db, rel):
        if rel:
            check_path(rel, True)
        return rel

    @staticmethod
    def _no_explain(req):
        if req.get('explainOptions') is not None:
            raise ApiError('UNIMPLEMENTED', 'Query explain (explainOptions) is not supported by this emulator.')

    def _runQuery(self, db, rel, qs, body):
        parent = self._parent(db, rel)
        req = self._json_body(body, 'RunQueryRequest')
        self._no_explain(req)
        q = Q.parse(db, parent, req.get('structuredQuery'))
        if self.index_check:
            self.indexes.check(q)
        txn, new_id, at = self._read_txn(db, req)
        rows, skipped = Q.run(db, q, db.view(at))
        rt = self._read_time(at)
        out = []
        if new_id is not None:
            out.append({'transaction': new_id})  # as Google's emulator: no readTime of its own
        for path, doc in rows:
            self.store.note_read(txn, path, doc)
            d = db.doc_json(path, doc, q.select) if q.select is not None else db.doc_json(path, doc)
            out.append({'document': d, 'readTime': rt})
        if skipped:
            if out and 'document' in out[-1]:
                first = next(e for e in out if 'document' in e)
                first['skippedResults'] = skipped
            else:
                out.append({'readTime': rt, 'skippedResults': skipped})
        elif not rows:
            out.append({'readTime': rt})
        out[-1]['done'] = True  # as Google's emulator: the stream is complete
        return out

    def _runAggregationQuery(self, db, rel, qs, body):
        parent = self._parent(db, rel)
        req = self._json_body(body, 'RunAggregationQueryRequest')
        self._no_explain(req)
        saq = req.get('structuredAggregationQuery')
        if not saq:
            raise invalid('structuredAggregationQuery is required.')
        aggs = Q.parse_aggregations(saq.get('aggregations'))
        q = Q.parse(db, parent, saq.get('structuredQuery'))
        if self.index_check:
            self.indexes.check(q, [arg for _, kind, arg in aggs if kind in ('sum', 'avg')])
        txn, new_id, at = self._read_txn(db, req)
        rows, _ = Q.run(db, q, db.view(at))
        rt = self._read_time(at)
        out = []
        if new_id is not None:
            out.append({'transaction': new_id})  # as Google's emulator: no readTime of its own
        out.append({'result': {'aggregateFields': Q.aggregate(db, rows, aggs)}, 'readTime': rt, 'done': True})
        return out

    def _listCollectionIds(self, db, rel, qs, body):
        parent = self._parent(db, rel)
        req = self._json_body(body, 'ListCollectionIdsRequest')
        prefix = parent + '/' if parent else ''
        at = self.store.check_read_time(V.parse_timestamp(req['readTime'], 'readTime')) if req.get('readTime') else None
        ids = set()
        for path in db.view(at):
            if path.startswith(prefix):
                ids.add(path[len(prefix):].split('/', 1)[0])
        ids = sorted(ids)
        start = 0
        if req.get('pageToken'):
            try:
                start = int(base64.urlsafe_b64decode(req['pageToken'].encode()).decode())
            except ValueError:
                raise invalid('Invalid page token.')
        size = req.get('pageSize') or 0
        end = len(ids) if size <= 0 else min(len(ids), start + size)
        out = {}
        if ids[start:end]:
            out['collectionIds'] = ids[start:end]
        if end < len(ids):
            out['nextPageToken'] = base64.urlsafe_b64encode(str(end).encode()).decode()
        return out

    def _partitionQuery(self, db, rel, qs, body):
        self._json_body(body, 'PartitionQueryRequest')
        return {}

    def _listen(self, db, rel, qs, body):
        raise ApiError('UNIMPLEMENTED', 'Listen (onSnapshot) needs gRPC streaming; this emulator serves REST only.')

    _write = _listen

    def _listDocuments(self, db, rel, qs, body):
        raise not_found('listDocuments is served as GET .../documents/{collection path}.')

    # ---- emulator endpoints ----------------------------------------------------------------------

    def _admin(self, method, path, qs, body):
        m = _RESET_RE.match(path)
        if m and method == 'DELETE':
            self.store.reset(unquote(m.group(1)), unquote(m.group(2)))
            self.record_line({'reset': 'projects/%s/databases/%s' % (unquote(m.group(1)), unquote(m.group(2)))})
            return 200, {}
        if path == '/emulator/v1/faults':
            if method == 'POST':
                try:
                    spec = json.loads(body or b'{}')
                except ValueError as e:
                    raise invalid('Invalid JSON: %s' % e)
                if isinstance(spec, list):
                    return 200, {'faults': [self.faults.add(s) for s in spec]}
                return 200, self.faults.add(spec)
            if method == 'GET':
                return 200, {'faults': self.faults.list()}
            if method == 'DELETE':
                self.faults.clear()
                return 200, {}
        if path == '/emulator/v1/requests':
            if method == 'GET':
                errors_only = qs.get('errors', ['0'])[-1] in ('1', 'true')
                entries = [e for e in list(self.log) if not errors_only or e['status'] >= 400]
                return 200, {'requests': entries}
            if method == 'DELETE':
                self.log.clear()
                return 200, {}
        if path == '/emulator/v1/indexes' and method == 'PUT':
            enabled = qs.get('check', [''])[-1]
            if enabled in ('on', 'off'):
                self.index_check = enabled == 'on'
                self.record_line({'indexCheck': self.index_check})
            return 200, {'indexCheck': self.index_check}
        if path == '/emulator/v1/documents' and method == 'GET':
            return 200, self.store.dump()
        raise not_found('Unknown emulator endpoint %s %s' % (method, path))

    def record_line(self, entry):
        if self.recording is None:
            return
        line = json.dumps(entry, separators=(',', ':'), ensure_ascii=False) + '\n'
        with self.recording_lock:
            self.recording.write(line)
            self.recording.flush()

    def record_exchange(self, method, target, headers, body, status, data):
        """--record: an executed request in full (faulted ones never are), with its status and the
        values of its answer a later request may carry (names, times, transaction ids): what
        tests/checks/firestore_differential.py needs to replay it."""
        if self.recording is None or target.startswith('/emulator/'):
            return
        entry = {'t': time.time(), 'method': method, 'path': target}
        hdrs = {k: v for k, v in headers.items() if k in _RECORDED_HEADERS}
        if hdrs:
            entry['headers'] = hdrs
        if body:
            try:
                entry['body'] = json.loads(body)
            except ValueError:
                entry['raw'] = body.decode('utf-8', 'replace')
        entry['status'] = status
        try:
            bind = _bound_values(json.loads(data)) if data else []
        except ValueError:
            bind = []
        # only what the client could not have known (names: the ids createDocument chose), once each
        creates = method == 'POST' and ':' not in target.split('?')[0].rsplit('/', 1)[-1]
        seen, kept = set(), []
        for p, v in bind:
            if v in seen or (p[-1] == 'name' and not creates):
                continue
            seen.add(v)
            kept.append([p, v])
        bind = kept
        if bind:
            entry['bind'] = bind
        self.record_line(entry)

    def record(self, method, target, status, body, response):
        if target.startswith('/emulator/'):
            return
        self.log_seq += 1
        entry = {'seq': self.log_seq, 'method': method, 'path': target, 'status': status}
        if body:
            entry['body'] = body[:LOG_BODY_CHARS].decode('utf-8', 'replace')
        if status >= 400 and response is not None:
            entry['response'] = response[:LOG_BODY_CHARS].decode('utf-8', 'replace')
        self.log.append(entry)


# Answer members whose values a client may send back: document names (auto ids), times
# (preconditions, readTime), transaction ids, page tokens.
_BOUND_KEYS = ('name', 'transaction', 'updateTime', 'createTime', 'readTime', 'commitTime',
               'nextPageToken')


def _bound_values(j, path=()):
    """[[path, value], ...] of the _BOUND_KEYS strings in an answer (paths of keys and indexes)."""
    out = []
    if isinstance(j, dict):
        for k, v in j.items():
            if k in _BOUND_KEYS and isinstance(v, str):
                out.append([list(path) + [k], v])
            elif isinstance(v, (dict, list)) and k != 'fields':
                out.extend(_bound_values(v, path + (k,)))
    elif isinstance(j, list):
        for i, v in enumerate(j):
            out.extend(_bound_values(v, path + (i,)))
    return out


_GRPC_CODE = {'OK': 0, 'CANCELLED': 1, 'UNKNOWN': 2, 'INVALID_ARGUMENT': 3, 'DEADLINE_EXCEEDED': 4,
              'NOT_FOUND': 5, 'ALREADY_EXISTS': 6, 'PERMISSION_DENIED': 7, 'RESOURCE_EXHAUSTED': 8,
              'FAILED_PRECONDITION': 9, 'ABORTED': 10, 'OUT_OF_RANGE': 11, 'UNIMPLEMENTED': 12,
              'INTERNAL': 13, 'UNAVAILABLE': 14, 'DATA_LOSS': 15, 'UNAUTHENTICATED': 16}

_REASONS = {200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
            409: 'Conflict', 413: 'Payload Too Large', 414: 'URI Too Long', 429: 'Too Many Requests',
            431: 'Request Header Fields Too Large',
            500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
            504: 'Gateway Timeout'}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'clipapi-firestore-emulator'
    sys_version = ''
    emulator = None  # set by make_server
    timeout = 600  # idle keep-alive connections are closed after this long

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, *args):
        pass

    def handle_one_request(self):
        """A lean HTTP/1.1 request reader (http.server's email-based header parsing costs more
        than serving a document): request line, headers into a dict with lower-case names."""
        self.close_connection = True
        try:
            line = self.rfile.readline(MAX_LINE + 1)
        except (socket.timeout, OSError):
            return
        if not line:
            return
        if len(line) > MAX_LINE:
            self._plain_error(414, 'Request line too long.')
            return
        parts = line.decode('latin-1').split()
        if len(parts) != 3 or not parts[2].startswith('HTTP/1.'):
            self._plain_error(400, 'Malformed request line.')
            return
        self.command, self.path, self.request_version = parts
        self.requestline = line.decode('latin-1').rstrip('\r\n')
        headers = {}
        for _ in range(MAX_HEADERS + 1):
            h = self.rfile.readline(MAX_LINE + 1)
            if h in (b'\r\n', b'\n', b''):
                break
            if len(h) > MAX_LINE:
                self._plain_error(431, 'Header line too long.')
                return
            name, _, value = h.decode('latin-1').partition(':')
            headers[name.strip().lower()] = value.strip()
        else:
            self._plain_error(431, 'Too many headers.')
            return
        self.headers = headers
        conn = headers.get('connection', '').lower()
        if self.request_version == 'HTTP/1.1':
            self.close_connection = conn == 'close'
        else:
            self.close_connection = conn != 'keep-alive'
        try:
            if headers.get('expect', '').lower() == '100-continue':
                self.wfile.write(b'HTTP/1.1 100 Continue\r\n\r\n')
            self._serve()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client went away (e.g. its deadline passed during a delay)

    def _plain_error(self, status, message):
        self.close_connection = True
        self._send(status, {'error': {'code': status, 'message': message, 'status': 'INVALID_ARGUMENT'}})

    def _read_body(self):
        te = self.headers.get('transfer-encoding', '')
        if te.lower() == 'chunked':
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b';', 1)[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        n = self.headers.get('content-length')
        if not n:
            return b''
        n = int(n)
        if n > MAX_REQUEST_BYTES:
            if n <= DRAIN_MAX_BYTES:  # read it so the client sees our answer, not a broken pipe
                while n > 0:
                    got = self.rfile.read(min(n, 1 << 20))
                    if not got:
                        break
                    n -= len(got)
            return None
        return self.rfile.read(n)

    def _encode(self, status, payload, extra_headers=()):
        """The answer's bytes on the wire, and its body."""
        if isinstance(payload, bytes):
            data, ctype = payload, 'text/plain; charset=utf-8'
        else:
            data = json.dumps(payload, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
            ctype = 'application/json; charset=UTF-8'
        head = ['HTTP/1.1 %d %s' % (status, _REASONS.get(status, 'Error')),
                'Content-Type: ' + ctype, 'Content-Length: %d' % len(data)]
        head.extend(extra_headers)
        if self.close_connection:
            head.append('Connection: close')
        return ('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + data, data

    def _send(self, status, payload, extra_headers=()):
        wire, data = self._encode(status, payload, extra_headers)
        self.wfile.write(wire)
        return data

    def _answer(self, method, target, body, status, payload, extra_headers=(), exchange=True):
        """Records the request, then sends its answer: the request log holds every request that
        arrived, also one whose client went away before its answer (e.g. its deadline passed
        during a delay rule), whose write may then fail."""
        emu = self.emulator
        wire, data = self._encode(status, payload, extra_headers)
        emu.record(method, target, status, body, data)
        if exchange:
            emu.record_exchange(method, target, self.headers, body, status, data)
        self.wfile.write(wire)

    def _drop(self, reset):
        if reset:
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            except OSError:
                pass
        self.close_connection = True
        try:
            if reset:
                self.connection.close()  # with SO_LINGER 0: an RST now, no FIN first
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _serve(self):
        emu = self.emulator
        method = self.command
        target = self.path
        path, _, query = target.partition('?')
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, {'error': {'code': 400, 'message': 'Malformed request body framing.',
                                       'status': 'INVALID_ARGUMENT'}})
            return
        if body is None:
            self.close_connection = True
            err = invalid('Request payload size exceeds the limit: %d bytes.' % MAX_REQUEST_BYTES)
            self._answer(method, target, b'', err.http, err.body(), exchange=False)
            return
        if not path.startswith('/emulator/'):
            rule = emu.faults.take(method, path)
            if rule is not None:
                if rule['ms']:
                    time.sleep(rule['ms'] / 1000.0)
                act = rule['action']
                if act in ('drop', 'reset'):
                    emu.record(method, target, 0, body, None)
                    self._drop(act == 'reset')
                    return
                if act == 'status':
                    err = ApiError.__new__(ApiError)
                    err.status, err.message, err.http, err.details = (rule['grpcStatus'], rule['message'],
                                                                      rule['status'], None)
                    hdrs = ['Retry-After: %s' % rule['retryAfter']] if rule.get('retryAfter') is not None else []
                    self._answer(method, target, body, err.http, err.body(), hdrs, exchange=False)
                    return
        qs = parse_qs(query, keep_blank_values=True) if query else {}
        try:
            status, payload = emu.handle(method, path, qs, body,
                                         self.headers.get('authorization', '') == 'Bearer owner')
        except ApiError as e:
            self._answer(method, target, body, e.http, e.body())
            return
        except Exception as e:  # noqa: BLE001 - a bug must answer 500, not kill the connection
            import traceback
            traceback.print_exc()
            err = ApiError('INTERNAL', 'Emulator internal error: %s: %s' % (type(e).__name__, e))
            self._answer(method, target, body, 500, err.body())
            return
        self._answer(method, target, body, status, payload)



class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


def make_server(host, port, emulator):
    handler = type('BoundHandler', (Handler,), {'emulator': emulator})
    return Server((host, port), handler)
