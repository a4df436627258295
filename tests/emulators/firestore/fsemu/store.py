"""The in-memory database: documents, atomic commits with preconditions and transforms,
transactions, and the JSON shapes of documents."""
import base64
import collections
import json
import math
import os
import threading
import time

from . import values as V
from .errors import ApiError, aborted, already_exists, failed_precondition, invalid, not_found
from .paths import (check_document_path, delete_field, format_field_path, get_field, mask_fields,
                    parse_field_path, set_field)

MAX_DOC_BYTES = 1_048_576
MAX_TRANSFORMS_PER_DOC = 500
TXN_IDLE_S = 60     # Firestore expires a transaction idle for 60 s ...
TXN_MAX_AGE_S = 270  # ... or older than 270 s
VERSION_RETENTION_NS = 3600 * 10**9  # readTime may go back one hour (Firestore without PITR)


class Doc:
    __slots__ = ('fields', 'create', 'update', '_json')

    def __init__(self, fields, create, update):
        self.fields = fields
        self.create = create
        self.update = update
        self._json = None

    def fields_json(self):
        if self._json is None:
            self._json = V.fields_to_json(self.fields)
        return self._json


class Txn:
    __slots__ = ('id', 'read_only', 'reads', 'started', 'used', 'read_time')

    def __init__(self, tid, read_only, read_time=None):
        self.id = tid
        self.read_only = read_only
        self.reads = {}  # path -> update time seen (None = missing)
        self.started = self.used = time.monotonic()
        self.read_time = read_time


class Database:
    """One (project, database). All access under Store.lock."""

    def __init__(self, project, database):
        self.project = project
        self.database = database
        self.prefix = 'projects/%s/databases/%s/documents/' % (project, database)
        self.root = self.prefix[:-1]
        self.docs = {}  # relative path -> Doc
        self.history = {}  # relative path -> [(time, Doc or None)], oldest first, for readTime reads
        self.txns = {}
        self.finished = collections.OrderedDict()  # ids of ended transactions (rollback of them is a no-op)

    def full(self, path):
        return self.prefix + path

    def relative(self, name, what='name'):
        """Full document name -> relative path, checked to belong to this database."""
        if not isinstance(name, str) or not name.startswith(self.prefix):
            if isinstance(name, str) and V.DOC_NAME_RE.match(name):
                raise invalid('Document name "%s" is not in the database of the request (%s).'
                              % (name, self.root))
            raise invalid('Invalid %s "%s": must be "%s{path}".' % (what, name, self.prefix))
        path = name[len(self.prefix):]
        check_document_path(path)
        return path

    def remember(self, path, t, doc):
        h = self.history.setdefault(path, [])
        h.append((t, doc))
        cutoff = t - VERSION_RETENTION_NS
        while len(h) > 1 and h[1][0] <= cutoff:
            del h[0]

    def view(self, t):
        """The documents as they were at time t (ns), or the live dict when t is None."""
        if t is None:
            return self.docs
        out = {}
        for path, h in self.history.items():
            doc = None
            for vt, vdoc in h:
                if vt > t:
                    break
                doc = vdoc
            if doc is not None:
                out[path] = doc
        return out

    def doc_json(self, path, doc, masks=None):
        out = {'name': self.prefix + path}
        fields = doc.fields_json() if masks is None else V.fields_to_json(mask_fields(doc.fields, masks))
        if fields:
            out['fields'] = fields
        out['createTime'] = V.format_timestamp(doc.create)
        out['updateTime'] = V.format_timestamp(doc.update)
        return out


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.dbs = {}
        self.last_time = 0

    def db(self, project, database):
        key = (project, database)
        d = self.dbs.get(key)
        if d is None:
            d = self.dbs[key] = Database(project, database)
        return d

    def now(self):
        """Strictly increasing microsecond timestamps (ns units) across the emulator."""
        t = V.truncate_micros(time.time_ns())
        if t <= self.last_time:
            t = self.last_time + 1000
        self.last_time = t
        return t

    def check_read_time(self, t):
        now = V.truncate_micros(time.time_ns())
        if t > max(now, self.last_time):
            raise invalid('readTime %s is in the future.' % V.format_timestamp(t))
        if t < now - VERSION_RETENTION_NS:
            raise failed_precondition('readTime %s is older than the oldest allowed read time (one hour ago).'
                                      % V.format_timestamp(t))
        return t

    def reset(self, project, database):
        with self.lock:
            self.dbs.pop((project, database), None)

    # ---- transactions -------------------------------------------------------------------------

    def begin(self, db, options):
        options = options or {}
        ro = options.get('readOnly')
        read_time = None
        if ro is not None:
            if options.get('readWrite') is not None:
                raise invalid('Transaction options may set only one of readOnly and readWrite.')
            if ro.get('readTime'):
                read_time = V.parse_timestamp(ro['readTime'], 'options.readOnly.readTime')
        else:
            rw = options.get('readWrite') or {}
            retry = rw.get('retryTransaction')
            if retry:
                self.end(db, retry)
        if ro is not None:
            read_time = self.check_read_time(read_time) if read_time is not None else self.now()
        tid = base64.b64encode(os.urandom(12)).decode('ascii')
        db.txns[tid] = Txn(tid, ro is not None, read_time)
        return tid

    def txn(self, db, tid, what='transaction'):
        if not isinstance(tid, str) or not tid:
            raise invalid('Invalid %s.' % what)
        t = db.txns.get(tid)
        if t is None:
            raise invalid('Invalid transaction %s: the transaction has expired or is no longer valid.' % tid)
        now = time.monotonic()
        if now - t.used > TXN_IDLE_S or now - t.started > TXN_MAX_AGE_S:
            self.end(db, tid)
            raise invalid('Invalid transaction %s: the transaction has expired or is no longer valid.' % tid)
        t.used = now
        return t

    def note_read(self, txn, path, doc):
        if txn is not None and not txn.read_only and path not in txn.reads:
            txn.reads[path] = doc.update if doc is not None else None

    def end(self, db, tid):
        db.txns.pop(tid, None)
        db.finished[tid] = True
        while len(db.finished) > 1000:
            db.finished.popitem(last=False)

    def rollback(self, db, tid):
        if isinstance(tid, str) and tid in db.finished:
            return  # the client rolls back after a failed commit; the transaction is already over
        self.txn(db, tid)
        self.end(db, tid)

    # ---- commit -------------------------------------------------------------------------------

    def commit(self, db, writes, tid=None, atomic=True):
        """Applies writes in order; all or none. Returns (writeResults, commitTime)."""
        if not isinstance(writes, list):
            writes = []
        txn = self.txn(db, tid) if tid else None
        parsed = [self._parse_write(db, w, i) for i, w in enumerate(writes)]
        if txn is not None:
            if txn.read_only and parsed:
                raise invalid('Cannot modify entities in a read-only transaction.')
            for path, seen in txn.reads.items():
                cur = db.docs.get(path)
                if (cur.update if cur is not None else None) != seen:
                    self.end(db, txn.id)
                    raise aborted('Transaction lock timeout: the document %s was changed by another '
                                  'writer after this transaction read it; retry the transaction.'
                                  % db.full(path))
            self.end(db, txn.id)
        commit_time = self.now()
        overlay = {}
        results = []
        for w in parsed:
            results.append(self._apply(db, w, overlay, commit_time))
        for path, doc in overlay.items():
            old = db.docs.get(path)
            if doc is None:
                if old is not None:
                    db.docs.pop(path)
                    db.remember(path, commit_time, None)
            elif doc is not old:
                db.docs[path] = doc
                db.remember(path, commit_time, doc)
        return results, commit_time

    def _parse_write(self, db, w, i):
        where = 'writes[%d]' % i
        if not isinstance(w, dict):
            raise invalid('Invalid value at \'%s\'.' % where)
        kinds = [k for k in ('update', 'delete', 'transform') if w.get(k) is not None]
        if len(kinds) != 1:
            raise invalid('Write at \'%s\' must set exactly one of update, delete, transform.' % where)
        kind = kinds[0]
        pw = {'kind': kind}
        if kind == 'update':
            doc = w['update']
            pw['path'] = db.relative(doc.get('name'), where + '.update.name')
            pw['fields'] = V.parse_fields(doc.get('fields') or {}, where + '.update.fields')
            for k in ('createTime', 'updateTime'):
                if doc.get(k):
                    raise invalid('%s.update.%s is output only and cannot be set.' % (where, k))
            mask = w.get('updateMask')
            pw['mask'] = None
            if mask is not None:
                pw['mask'] = [parse_field_path(p) for p in (mask.get('fieldPaths') or [])]
                for segs in pw['mask']:
                    if segs == ['__name__']:
                        raise invalid('Invalid field path "__name__" in update mask.')
            pw['transforms'] = self._parse_transforms(w.get('updateTransforms') or [], where)
        elif kind == 'delete':
            pw['path'] = db.relative(w['delete'], where + '.delete')
            if w.get('updateMask') is not None or w.get('updateTransforms'):
                raise invalid('A delete at \'%s\' cannot have an update mask or transforms.' % where)
        else:
            t = w['transform']
            pw['kind'] = 'update'
            pw['path'] = db.relative(t.get('document'), where + '.transform.document')
            pw['fields'] = {}
            pw['mask'] = []
            pw['transforms'] = self._parse_transforms(t.get('fieldTransforms') or [], where)
        pw['pre'] = self._parse_precondition(w.get('currentDocument'), where)
        return pw

    @staticmethod
    def _parse_precondition(pre, where):
        if not pre:
            return None
        has_e = pre.get('exists') is not None
        has_t = pre.get('updateTime') is not None
        if has_e and has_t:
            raise invalid('Precondition at \'%s\' may set only one of exists and updateTime.' % where)
        if has_t:
            return ('time', V.parse_timestamp(pre['updateTime'], where + '.currentDocument.updateTime'))
        if has_e:
            return ('exists', bool(pre['exists']))
        return None

    @staticmethod
    def _parse_transforms(ts, where):
        if len(ts) > MAX_TRANSFORMS_PER_DOC:
            raise invalid('A document cannot be written because it contains %d field transforms; at most '
                          '%d are allowed per document per request.' % (len(ts), MAX_TRANSFORMS_PER_DOC))
        out = []
        seen = set()
        for j, t in enumerate(ts):
            tw = '%s.updateTransforms[%d]' % (where, j)
            segs = parse_field_path(t.get('fieldPath'))
            if segs == ['__name__']:
                raise invalid('Cannot transform the field "__name__".')
            key = tuple(segs)
            if key in seen:
                raise invalid('Field "%s" was specified in multiple transforms.' % t.get('fieldPath'))
            seen.add(key)
            kinds = [k for k in ('setToServerValue', 'increment', 'maximum', 'minimum',
                                 'appendMissingElements', 'removeAllFromArray') if t.get(k) is not None]
            if len(kinds) != 1:
                raise invalid('Field transform at \'%s\' must set exactly one transform type.' % tw)
            k = kinds[0]
            if k == 'setToServerValue':
                if t[k] != 'REQUEST_TIME':
                    raise invalid('Invalid server value at \'%s\': %s.' % (tw, t[k]))
                op = None
            elif k in ('increment', 'maximum', 'minimum'):
                op = V.parse_value(t[k], tw + '.' + k)
                if op[0] not in ('i', 'd'):
                    raise invalid('%s at \'%s\' must be an integer or a double value.' % (k, tw))
            else:
                op = V.parse_value({'arrayValue': t[k]}, tw + '.' + k)[1]
            out.append((segs, k, op))
        return out

    def _apply(self, db, w, overlay, commit_time):
        path = w['path']
        name = db.full(path)
        doc = overlay[path] if path in overlay else db.docs.get(path)
        pre = w['pre']
        if pre is not None:
            if pre[0] == 'exists':
                if pre[1] and doc is None:
                    if w['kind'] == 'delete':
                        raise not_found('No document to delete: %s' % name)
                    raise not_found('No document to update: %s' % name)
                if not pre[1] and doc is not None:
                    raise already_exists('Document already exists: %s' % name)
            else:
                if doc is None:
                    raise not_found('No document to %s: %s' % ('delete' if w['kind'] == 'delete' else 'update',
                                                                name))
                if doc.update != pre[1]:
                    raise failed_precondition(
                        'The stored version (%s) of %s does not match the required base version (%s).'
                        % (V.format_timestamp(doc.update), name, V.format_timestamp(pre[1])))
        if w['kind'] == 'delete':
            overlay[path] = None
            return {}
        mask = w['mask']
        if mask is None:
            fields = dict(w['fields'])
        else:
            fields = dict(doc.fields) if doc is not None else {}
            for segs in mask:
                v = get_field(w['fields'], segs)
                if v is None:
                    delete_field(fields, segs)
                else:
                    set_field(fields, segs, v)
        tresults = []
        for segs, kind, op in w['transforms']:
            tresults.append(V.to_json(_transform(fields, segs, kind, op, commit_time)))
        size = V.document_size(path, fields)
        if size > MAX_DOC_BYTES:
            raise invalid('Document %s cannot be written because its size (%s bytes) exceeds the maximum '
                          'allowed size of 1,048,576 bytes.' % (name, format(size, ',')))
        if doc is not None and doc.fields == fields:
            new = doc  # unchanged: Firestore keeps the previous update time
        else:
            new = Doc(fields, doc.create if doc is not None else commit_time, commit_time)
        overlay[path] = new
        res = {'updateTime': V.format_timestamp(new.update)}
        if w['transforms']:
            res['transformResults'] = tresults
        return res

    # ---- persistence --------------------------------------------------------------------------

    def dump(self):
        out = {'format': 'clipapi-firestore-emulator/1', 'databases': []}
        with self.lock:
            for db in self.dbs.values():
                out['databases'].append({
                    'project': db.project, 'database': db.database,
                    'documents': [db.doc_json(p, d) for p, d in sorted(db.docs.items())]})
        return out

    def load(self, data):
        with self.lock:
            for dbj in data.get('databases', []):
                db = self.db(dbj['project'], dbj['database'])
                for dj in dbj.get('documents', []):
                    path = db.relative(dj['name'])
                    db.docs[path] = Doc(V.parse_fields(dj.get('fields') or {}),
                                        V.parse_timestamp(dj['createTime']), V.parse_timestamp(dj['updateTime']))
                    db.remember(path, db.docs[path].update, db.docs[path])
                    self.last_time = max(self.last_time, db.docs[path].update)

    def save_file(self, filename):
        tmp = filename + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.dump(), f, separators=(',', ':'))
        os.replace(tmp, filename)


def _is_num(v):
    return v is not None and v[0] in ('i', 'd')


def _transform(fields, segs, kind, op, commit_time):
    cur = get_field(fields, segs)
    if kind == 'setToServerValue':
        # "the time at which the server processed the request, with millisecond precision"
        res = ('t', commit_time - commit_time % 1000000)
    elif kind == 'increment':
        if not _is_num(cur):
            res = op
        elif cur[0] == 'i' and op[0] == 'i':
            res = ('i', max(V.INT64_MIN, min(V.INT64_MAX, cur[1] + op[1])))
        else:
            res = ('d', float(cur[1]) + float(op[1]))
    elif kind in ('maximum', 'minimum'):
        if not _is_num(cur):
            res = op
        elif isinstance(cur[1], float) and math.isnan(cur[1]):
            res = cur
        elif isinstance(op[1], float) and math.isnan(op[1]):
            res = op
        elif kind == 'maximum':
            res = op if op[1] > cur[1] else cur
        else:
            res = op if op[1] < cur[1] else cur
    elif kind == 'appendMissingElements':
        arr = list(cur[1]) if cur is not None and cur[0] == 'a' else []
        for e in op:
            if not any(V.equal(e, x) for x in arr):
                arr.append(e)
        set_field(fields, segs, ('a', arr))
        return V.NULL
    elif kind == 'removeAllFromArray':
        arr = cur[1] if cur is not None and cur[0] == 'a' else []
        arr = [x for x in arr if not any(V.equal(x, e) for e in op)]
        set_field(fields, segs, ('a', arr))
        return V.NULL
    else:
        raise AssertionError(kind)
    set_field(fields, segs, res)
    return res


__all__ = ['Store', 'Database', 'Doc', 'ApiError', 'format_field_path']
