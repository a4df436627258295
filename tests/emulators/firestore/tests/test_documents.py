"""Documents over HTTP: get/create/patch/delete/list, commits (atomicity, transforms,
preconditions), batchGet and transactions, error bodies, limits and the tolerance rules."""
import json
import re
import unittest

from tests.client import NULL, A, Client, D, I, M, S, T


def millis(ts):
    """An RFC 3339 time as Firestore writes it, cut to milliseconds."""
    m = re.match(r'(.*?)(?:\.(\d+))?Z$', ts)
    frac = (m.group(2) or '')[:3].ljust(3, '0')
    return m.group(1) + ('' if frac == '000' else '.' + frac) + 'Z'


class Base(unittest.TestCase):
    project = 'unit-docs'

    def setUp(self):
        self.c = Client(self.project)
        self.c.reset()

    def tearDown(self):
        self.c.close()

    def assertError(self, resp, http, status, contains=''):
        s, body = resp
        self.assertEqual(s, http, body)
        self.assertEqual(set(body), {'error'})
        self.assertEqual(body['error']['code'], http)
        self.assertEqual(body['error']['status'], status)
        self.assertIn(contains, body['error']['message'])
        return body['error']


class DocumentMethodsTest(Base):
    def test_get_with_mask_and_not_found(self):
        self.c.set('videos/v1', {'a': I(1), 'b': M(c=S('x'), d=S('y'))})
        s, d = self.c.get('videos/v1')
        self.assertEqual(s, 200)
        self.assertEqual(d['name'], self.c.name('videos/v1'))
        self.assertEqual(d['fields'], {'a': I(1), 'b': M(c=S('x'), d=S('y'))})
        self.assertEqual(d['createTime'], d['updateTime'])
        s, d = self.c.get('videos/v1', '?mask.fieldPaths=b.c&mask.fieldPaths=zz')
        self.assertEqual(d['fields'], {'b': M(c=S('x'))})
        err = self.assertError(self.c.get('videos/none'), 404, 'NOT_FOUND')
        self.assertEqual(err['message'], 'Document "%s" not found.' % self.c.name('videos/none'))

    def test_create_document(self):
        s, d = self.c.req('POST', self.c.base + '/videos?documentId=v1', {'fields': {'a': I(1)}})
        self.assertEqual(s, 200, d)
        self.assertEqual(d['name'], self.c.name('videos/v1'))
        self.assertError(self.c.req('POST', self.c.base + '/videos?documentId=v1', {'fields': {}}),
                         409, 'ALREADY_EXISTS', 'Document already exists')
        s, d = self.c.req('POST', self.c.base + '/videos/v1/clips', {'fields': {'x': S('y')}})
        self.assertEqual(s, 200)
        self.assertRegex(d['name'], r'/videos/v1/clips/[A-Za-z0-9]{20}$')

    def test_patch_mask_and_preconditions(self):
        self.c.set('videos/v1', {'a': I(1), 'b': I(2)})
        s, d = self.c.req('PATCH', self.c.base + '/videos/v1?updateMask.fieldPaths=a&updateMask.fieldPaths=b',
                          {'fields': {'a': I(5)}})
        self.assertEqual(s, 200, d)
        self.assertEqual(d['fields'], {'a': I(5)}, 'a masked field absent from the body is deleted')
        self.assertError(self.c.req('PATCH', self.c.base + '/videos/none?currentDocument.exists=true',
                                    {'fields': {}}), 404, 'NOT_FOUND')
        self.assertError(self.c.req('PATCH', self.c.base + '/videos/v1?currentDocument.exists=false',
                                    {'fields': {}}), 409, 'ALREADY_EXISTS')
        self.assertError(self.c.req('PATCH', self.c.base + '/videos/v1?currentDocument.updateTime=2020-01-01T00:00:00Z',
                                    {'fields': {}}), 400, 'FAILED_PRECONDITION')
        s, d = self.c.req('PATCH', self.c.base + '/videos/v1?currentDocument.updateTime=' + d['updateTime']
                          + '&mask.fieldPaths=z', {'fields': {'z': S('q'), 'a': I(9)}})
        self.assertEqual(s, 200, d)
        self.assertEqual(d['fields'], {'z': S('q')})
        s, d = self.c.req('PATCH', self.c.base + '/videos/new', {'fields': {'n': NULL}})
        self.assertEqual((s, d['fields']), (200, {'n': NULL}), 'patch without precondition creates')

    def test_delete(self):
        self.c.set('videos/v1', {})
        self.assertError(self.c.req('DELETE', self.c.base + '/videos/v1?currentDocument.updateTime=2020-01-01T00:00:00Z'),
                         400, 'FAILED_PRECONDITION')
        self.assertEqual(self.c.req('DELETE', self.c.base + '/videos/v1'), (200, {}))
        self.assertEqual(self.c.req('DELETE', self.c.base + '/videos/v1'), (200, {}), 'deleting nothing is fine')
        self.assertError(self.c.req('DELETE', self.c.base + '/videos/v1?currentDocument.exists=true'), 404, 'NOT_FOUND')

    def test_list_documents_and_collection_ids(self):
        for p in ('videos/v2', 'videos/v1', 'videos/v3', 'videos/v1/clips/c1', 'videos/v9/stats/s', 'users/u'):
            self.c.set(p, {'p': S(p)})
        s, r = self.c.get('videos')
        self.assertEqual([d['name'].rsplit('/', 1)[1] for d in r['documents']], ['v1', 'v2', 'v3'])
        self.assertError(self.c.get('videos', '?showMissing=true'), 403, 'PERMISSION_DENIED', 'Bearer owner')
        self.assertError(self.c.req('POST', self.c.base + ':listCollectionIds', {}), 403, 'PERMISSION_DENIED')
        self.c.owner = True  # these two are for server credentials only
        s, r = self.c.get('videos', '?showMissing=true&mask.fieldPaths=nothing')
        self.assertEqual(r['documents'][-1], {'name': self.c.name('videos/v9')}, 'a missing document has only its name')
        self.assertNotIn('fields', r['documents'][0])
        s, r = self.c.get('videos', '?pageSize=2&orderBy=__name__')
        self.assertEqual([d['name'].rsplit('/', 1)[1] for d in r['documents']], ['v1', 'v2'])
        s, r2 = self.c.get('videos', '?pageSize=2&orderBy=__name__&pageToken=' + r['nextPageToken'])
        self.assertEqual([d['name'].rsplit('/', 1)[1] for d in r2['documents']], ['v3'])
        self.assertNotIn('nextPageToken', r2)
        self.assertError(self.c.get('videos', '?orderBy=__name__%20desc'), 400, 'FAILED_PRECONDITION',
                         'descending key scans')
        self.assertEqual(self.c.get('nothing'), (200, {}), 'an empty listing is {}')
        self.assertEqual(self.c.req('POST', self.c.base + ':listCollectionIds', {}),
                         (200, {'collectionIds': ['users', 'videos']}))
        self.assertEqual(self.c.req('POST', self.c.base + '/videos/v1:listCollectionIds', {'pageSize': 5}),
                         (200, {'collectionIds': ['clips']}))
        self.assertEqual(self.c.req('POST', self.c.base + '/videos/v9:listCollectionIds', {}),
                         (200, {'collectionIds': ['stats']}))
        self.assertEqual(self.c.req('POST', self.c.base + '/users/u:listCollectionIds', {}), (200, {}))

    def test_reset_endpoint(self):
        self.c.set('videos/v1', {})
        other = Client('unit-other')
        other.set('videos/v1', {})
        self.assertEqual(self.c.req('DELETE', '/emulator/v1/projects/%s/databases/(default)/documents' % self.project),
                         (200, {}))
        self.assertEqual(self.c.get('videos/v1')[0], 404)
        self.assertEqual(other.get('videos/v1')[0], 200, 'reset touches one database only')
        other.reset()
        other.close()


class CommitTest(Base):
    def test_commit_shape(self):
        s, r = self.c.commit([
            {'update': {'name': self.c.name('a/1'), 'fields': {'x': I(1)}}},
            {'delete': self.c.name('a/2')},
        ])
        self.assertEqual(s, 200)
        self.assertEqual(set(r), {'writeResults', 'commitTime'})
        self.assertEqual(r['writeResults'][0], {'updateTime': r['commitTime']})
        self.assertEqual(r['writeResults'][1], {}, 'a delete has no updateTime')
        s, r = self.c.commit([])
        self.assertEqual(set(r), {'commitTime'})

    def test_all_writes_or_none(self):
        self.c.set('a/keep', {'v': I(1)})
        writes = [
            {'update': {'name': self.c.name('a/new'), 'fields': {'v': I(1)}}},
            {'delete': self.c.name('a/keep')},
            {'update': {'name': self.c.name('a/new'), 'fields': {'v': I(2)}}, 'currentDocument': {'exists': False}},
        ]
        self.assertError(self.c.commit(writes), 409, 'ALREADY_EXISTS')
        self.assertEqual(self.c.get('a/new')[0], 404)
        self.assertEqual(self.c.get('a/keep')[1]['fields'], {'v': I(1)})
        # a malformed later write also keeps the earlier ones from applying
        writes[2] = {'update': {'name': self.c.name('a/x'), 'fields': {'v': {'integerValue': 'x'}}}}
        self.assertError(self.c.commit(writes), 400, 'INVALID_ARGUMENT')
        self.assertEqual(self.c.get('a/new')[0], 404)
        # writes see the effects of earlier writes of the same commit
        s, r = self.c.commit([
            {'update': {'name': self.c.name('a/n'), 'fields': {'v': I(1)}}, 'currentDocument': {'exists': False}},
            {'update': {'name': self.c.name('a/n'), 'fields': {'w': I(2)}}, 'updateMask': {'fieldPaths': ['w']},
             'currentDocument': {'exists': True}},
        ])
        self.assertEqual(s, 200, r)
        self.assertEqual(self.c.get('a/n')[1]['fields'], {'v': I(1), 'w': I(2)})

    def test_preconditions(self):
        r = self.c.set('a/1', {'v': I(1)})
        t = r['writeResults'][0]['updateTime']
        name = self.c.name('a/1')
        upd = lambda pre: self.c.commit([{'update': {'name': name, 'fields': {}}, 'updateMask': {'fieldPaths': ['v']},  # noqa: E731
                                          'currentDocument': pre}])
        self.assertError(upd({'exists': False}), 409, 'ALREADY_EXISTS', 'Document already exists: ' + name)
        self.assertError(upd({'updateTime': '2001-01-01T00:00:00Z'}), 400, 'FAILED_PRECONDITION')
        self.assertError(upd({'exists': True, 'updateTime': t}), 400, 'INVALID_ARGUMENT')
        # the same instant written with 9 digits matches (timestamps compare as values)
        nine = t[:-1] + '0' * (30 - len(t)) + 'Z' if '.' in t else t[:-1] + '.000000000Z'
        self.assertEqual(upd({'updateTime': nine})[0], 200)
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a/none'), 'fields': {}},
                                         'currentDocument': {'exists': True}}]),
                         404, 'NOT_FOUND', 'No document to update: ' + self.c.name('a/none'))
        self.assertError(self.c.commit([{'delete': self.c.name('a/none'), 'currentDocument': {'exists': True}}]),
                         404, 'NOT_FOUND')

    def test_unchanged_write_keeps_update_time(self):
        r1 = self.c.set('a/1', {'v': I(1)})
        r2 = self.c.set('a/1', {'v': I(1)})
        self.assertEqual(r2['writeResults'][0]['updateTime'], r1['writeResults'][0]['updateTime'])
        self.assertNotEqual(r2['commitTime'], r1['commitTime'])
        r3 = self.c.set('a/1', {'v': D(1.0)})
        self.assertNotEqual(r3['writeResults'][0]['updateTime'], r1['writeResults'][0]['updateTime'],
                            '1 and 1.0 are different stored values')
        d = self.c.get('a/1')[1]
        self.assertEqual(d['createTime'], r1['commitTime'])
        self.assertEqual(d['updateTime'], r3['commitTime'])

    def test_update_mask_nested_and_missing_fields(self):
        self.c.set('a/1', {'m': M(x=I(1), y=I(2)), 'keep': I(0), 'gone': I(1)})
        s, r = self.c.commit([{'update': {'name': self.c.name('a/1'), 'fields': {'m': M(x=I(5)), 'ignored': I(1)}},
                               'updateMask': {'fieldPaths': ['m.x', 'gone', 'm.z.deep']}}])
        self.assertEqual(s, 200, r)
        self.assertEqual(self.c.get('a/1')[1]['fields'], {'m': M(x=I(5), y=I(2)), 'keep': I(0)})
        # `update` with only a name (firestore/lite's deleteField) is fine
        s, r = self.c.commit([{'update': {'name': self.c.name('a/1')}, 'updateMask': {'fieldPaths': ['keep']}}])
        self.assertEqual(s, 200, r)
        self.assertEqual(self.c.get('a/1')[1]['fields'], {'m': M(x=I(5), y=I(2))})

    def transform(self, fields, transforms, path='t/1'):
        if fields is not None:
            self.c.set(path, fields)
        s, r = self.c.commit([{'update': {'name': self.c.name(path), 'fields': {}}, 'updateMask': {'fieldPaths': []},
                               'updateTransforms': transforms}])
        self.assertEqual(s, 200, r)
        return r['writeResults'][0]['transformResults'], self.c.get(path)[1].get('fields', {}), r['commitTime']

    def test_increment(self):
        res, f, _ = self.transform({'i': I(1), 'd': D(1.5), 's': S('x'), 'big': I(2 ** 63 - 2), 'neg': I(-2 ** 63 + 1)}, [
            {'fieldPath': 'i', 'increment': I(2)}, {'fieldPath': 'd', 'increment': I(1)},
            {'fieldPath': 's', 'increment': I(7)}, {'fieldPath': 'missing', 'increment': D(0.5)},
            {'fieldPath': 'big', 'increment': I(10)}, {'fieldPath': 'neg', 'increment': I(-10)},
            {'fieldPath': 'm.n', 'increment': I(1)}])
        self.assertEqual(res, [I(3), D(2.5), I(7), D(0.5), I(2 ** 63 - 1), I(-2 ** 63), I(1)])
        self.assertEqual(f['i'], I(3))
        self.assertEqual(f['big'], I(2 ** 63 - 1), 'integer overflow saturates')
        self.assertEqual(f['m'], M(n=I(1)))

    def test_maximum_minimum(self):
        res, f, _ = self.transform({'a': I(3), 'b': I(3), 'c': D(2.5), 'd': I(0), 'e': S('x'), 'n': D('NaN')}, [
            {'fieldPath': 'a', 'maximum': D(3.0)}, {'fieldPath': 'b', 'maximum': D(4.5)},
            {'fieldPath': 'c', 'minimum': I(1)}, {'fieldPath': 'd', 'maximum': D(-0.0)},
            {'fieldPath': 'e', 'minimum': I(5)}, {'fieldPath': 'n', 'maximum': I(1)},
            {'fieldPath': 'new', 'minimum': I(-1)}])
        self.assertEqual(res, [I(3), D(4.5), I(1), I(0), I(5), D('NaN'), I(-1)])
        self.assertEqual(f['a'], I(3), 'equivalent operands leave the field unchanged')
        self.assertEqual(f['c'], I(1), 'takes the type of the smaller operand')

    def test_array_transforms(self):
        res, f, _ = self.transform({'t': A(S('a'), I(1), NULL), 'x': S('no array')}, [
            {'fieldPath': 't', 'appendMissingElements': {'values': [S('a'), D(1.0), S('b'), S('b'), NULL]}},
            {'fieldPath': 'x', 'appendMissingElements': {'values': [I(1)]}},
            {'fieldPath': 'new', 'removeAllFromArray': {'values': [I(1)]}}])
        self.assertEqual(res, [NULL, NULL, NULL])
        self.assertEqual(f['t'], A(S('a'), I(1), NULL, S('b')))
        self.assertEqual(f['x'], A(I(1)))
        self.assertEqual(f['new'], {'arrayValue': {}})
        res, f, _ = self.transform(None, [{'fieldPath': 't', 'removeAllFromArray': {'values': [D(1.0), S('a'), S('zz')]}}])
        self.assertEqual(f['t'], A(NULL, S('b')))

    def test_server_time_and_numeric_enums(self):
        res, f, commit_time = self.transform({}, [{'fieldPath': 'ts', 'setToServerValue': 'REQUEST_TIME'},
                                                  {'fieldPath': 'ts2', 'setToServerValue': 1}])
        ms = millis(commit_time)  # REQUEST_TIME has millisecond precision
        self.assertEqual(res, [T(ms), T(ms)])
        self.assertEqual(f['ts'], T(ms))

    def test_legacy_transform_write_and_transform_errors(self):
        s, r = self.c.commit([{'transform': {'document': self.c.name('t/2'),
                                             'fieldTransforms': [{'fieldPath': 'n', 'increment': I(1)}]}}])
        self.assertEqual(s, 200, r)
        self.assertEqual(self.c.get('t/2')[1]['fields'], {'n': I(1)})
        bad = [[{'fieldPath': 'n', 'increment': S('1')}], [{'fieldPath': 'n'}],
               [{'fieldPath': 'n', 'increment': I(1), 'maximum': I(1)}],
               [{'fieldPath': 'n', 'increment': I(1)}, {'fieldPath': 'n', 'minimum': I(1)}],
               [{'fieldPath': 'n', 'setToServerValue': 'NOW'}], [{'fieldPath': 'a..b', 'increment': I(1)}]]
        for ts in bad:
            self.assertError(self.c.commit([{'update': {'name': self.c.name('t/2'), 'fields': {}},
                                             'updateTransforms': ts}]), 400, 'INVALID_ARGUMENT')

    def test_transform_limit_500_per_document(self):
        ts = [{'fieldPath': 'f%d' % i, 'increment': I(1)} for i in range(500)]
        s, r = self.c.commit([{'update': {'name': self.c.name('t/1'), 'fields': {}}, 'updateTransforms': ts}])
        self.assertEqual(s, 200)
        self.assertEqual(len(r['writeResults'][0]['transformResults']), 500)
        ts.append({'fieldPath': 'f500', 'increment': I(1)})
        self.assertError(self.c.commit([{'update': {'name': self.c.name('t/1'), 'fields': {}}, 'updateTransforms': ts}]),
                         400, 'INVALID_ARGUMENT', 'field transforms')


class BatchGetAndTransactionTest(Base):
    def test_batch_get_stream_shape(self):
        self.c.set('a/1', {'x': I(1), 'y': I(2)})
        s, r = self.c.req('POST', self.c.base + ':batchGet',
                          {'documents': [self.c.name('a/1'), self.c.name('a/none')], 'mask': {'fieldPaths': ['y']}})
        self.assertEqual(s, 200)
        self.assertIsInstance(r, list)
        self.assertEqual(set(r[0]), {'found', 'readTime'})
        self.assertEqual(r[0]['found']['fields'], {'y': I(2)})
        self.assertEqual(r[1], {'missing': self.c.name('a/none'), 'readTime': r[1]['readTime']})
        self.assertEqual(self.c.req('POST', self.c.base + ':batchGet', {'documents': []}), (200, []))

    def test_new_transaction_element_comes_first_and_commit_uses_it(self):
        self.c.set('a/1', {'n': I(1)})
        s, r = self.c.req('POST', self.c.base + ':batchGet',
                          {'documents': [self.c.name('a/1')], 'newTransaction': {'readWrite': {}}})
        self.assertEqual(s, 200)
        self.assertEqual(set(r[0]), {'transaction'}, 'the transaction element has no readTime of its own')
        tid = r[0]['transaction']
        self.assertIn('found', r[1])
        s, r = self.c.commit([{'update': {'name': self.c.name('a/1'), 'fields': {'n': I(2)}}}], transaction=tid)
        self.assertEqual(s, 200, r)
        self.assertError(self.c.commit([], transaction=tid), 400, 'INVALID_ARGUMENT', 'transaction has expired')
        self.assertError(self.c.commit([], transaction='bm9wZQ=='), 400, 'INVALID_ARGUMENT')

    def test_conflicting_write_aborts_the_transaction(self):
        self.c.set('a/1', {'n': I(1)})
        s, r = self.c.req('POST', self.c.base + ':beginTransaction', {})
        tid = r['transaction']
        s, r = self.c.req('POST', self.c.base + ':runQuery', {
            'transaction': tid, 'structuredQuery': {'from': [{'collectionId': 'a'}]}})
        self.assertEqual(len(r), 1)
        self.c.set('a/1', {'n': I(100)})  # another writer
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a/1'), 'fields': {'n': I(2)}}}],
                                       transaction=tid), 409, 'ABORTED')
        self.assertEqual(self.c.get('a/1')[1]['fields'], {'n': I(100)})
        self.assertEqual(self.c.req('POST', self.c.base + ':rollback', {'transaction': tid}), (200, {}),
                         'rollback after an aborted commit is harmless')

    def test_rollback_read_only_and_run_query_new_transaction(self):
        s, r = self.c.req('POST', self.c.base + ':beginTransaction', {'options': {'readOnly': {}}})
        tid = r['transaction']
        self.assertError(self.c.commit([{'delete': self.c.name('a/1')}], transaction=tid), 400, 'INVALID_ARGUMENT',
                         'read-only')
        s, r = self.c.req('POST', self.c.base + ':beginTransaction', {})
        self.assertEqual(self.c.req('POST', self.c.base + ':rollback', {'transaction': r['transaction']}), (200, {}))
        s, r = self.c.req('POST', self.c.base + ':runQuery', {
            'newTransaction': {'readWrite': {}}, 'structuredQuery': {'from': [{'collectionId': 'a'}]}})
        self.assertEqual(s, 200)
        self.assertEqual(set(r[0]), {'transaction'})
        self.assertEqual(set(r[1]), {'readTime', 'done'})
        self.assertError(self.c.req('POST', self.c.base + ':batchGet', {
            'documents': [], 'transaction': r[0]['transaction'], 'newTransaction': {}}), 400, 'INVALID_ARGUMENT')


class ErrorsAndLimitsTest(Base):
    def test_unknown_names_and_malformed_json(self):
        err = self.assertError(self.c.commit([], bogus=1), 400, 'INVALID_ARGUMENT', 'Unknown name "bogus"')
        self.assertEqual(err['details'][0]['@type'], 'type.googleapis.com/google.rpc.BadRequest')
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a/1'), 'fieldz': {}}}]), 400,
                         'INVALID_ARGUMENT', 'Unknown name "fieldz" at \'writes[0].update\'')
        self.assertError(self.c.query({'from': [{'collectionId': 'a'}], 'limt': 1}), 400, 'INVALID_ARGUMENT', 'limt')
        self.assertError(self.c.req('POST', self.c.base + ':commit', b'{"writes": ['), 400, 'INVALID_ARGUMENT')
        self.assertError(self.c.req('POST', self.c.base + ':commit', b'[]'), 400, 'INVALID_ARGUMENT')
        self.assertError(self.c.query({'from': [{'collectionId': 'a'}], 'limit': 'ten'}), 400, 'INVALID_ARGUMENT')
        self.assertError(self.c.query({'from': [{'collectionId': 'a'}],
                                       'where': {'fieldFilter': {'field': {'fieldPath': 'x'}, 'op': 'EQUALS',
                                                                 'value': I(1)}}}), 400, 'INVALID_ARGUMENT')
        self.assertError(self.c.req('GET', '/v1/nothing'), 404, 'NOT_FOUND')

    def test_tolerance_content_type_key_and_alt(self):
        body = json.dumps({'writes': [{'update': {'name': self.c.name('a/1'), 'fields': {'n': {'nullValue': 'NULL_VALUE'}}}}]})
        s, r = self.c.req('POST', self.c.base + ':commit?key=fake-api-key', body, {'Content-Type': 'text/plain'})
        self.assertEqual(s, 200, r)
        s, r = self.c.req('POST', self.c.base + ':batchGet?$alt=json%3Benum-encoding=int',
                          {'documents': [self.c.name('a/1')]}, {'Content-Type': 'application/x-anything'})
        self.assertEqual(r[0]['found']['fields'], {'n': NULL})
        s, r = self.c.req('POST', '/v1/projects/%s/databases/%%28default%%29/documents:batchGet' % self.project,
                          {'documents': [self.c.name('a/1')]})
        self.assertIn('found', r[0], 'percent-encoded database id')

    def test_document_and_request_size_limits(self):
        big = 'x' * (1_048_576 - 200)
        self.assertEqual(self.c.commit([{'update': {'name': self.c.name('a/1'), 'fields': {'s': S(big)}}}])[0], 200)
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a/1'), 'fields': {'s': S(big + 'x' * 300)}}}]),
                         400, 'INVALID_ARGUMENT', 'exceeds the maximum allowed size of 1,048,576 bytes')
        huge = json.dumps({'writes': [{'update': {'name': self.c.name('a/%d' % i), 'fields': {'s': S(big[:900_000])}}}
                                      for i in range(12)]})
        self.assertGreater(len(huge), 10 * 1024 * 1024)
        self.assertError(self.c.req('POST', self.c.base + ':commit', huge), 400, 'INVALID_ARGUMENT',
                         'Request payload size exceeds the limit')
        self.c.close()
        self.c = Client(self.project)
        self.assertEqual(self.c.get('a/0')[0], 404, 'nothing of the oversized request was written')

    def test_id_and_path_rules(self):
        for bad in ('a/__x__', 'a/..', '__c__/d', 'a/' + 'x' * 1501):
            self.assertError(self.c.commit([{'update': {'name': self.c.name(bad), 'fields': {}}}]), 400,
                             'INVALID_ARGUMENT')
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a'), 'fields': {}}}]), 400, 'INVALID_ARGUMENT')
        self.assertError(self.c.commit([{'update': {'name': 'projects/other/databases/(default)/documents/a/b',
                                                    'fields': {}}}]), 400, 'INVALID_ARGUMENT', 'not in the database')
        self.assertError(self.c.commit([{'update': {'name': self.c.name('a/b'), 'fields': {'__n__': I(1)}}}]), 400,
                         'INVALID_ARGUMENT', 'reserved')
        deep = '/'.join('c%d/d%d' % (i, i) for i in range(101))
        self.assertError(self.c.commit([{'update': {'name': self.c.name(deep), 'fields': {}}}]), 400,
                         'INVALID_ARGUMENT')
        self.assertEqual(self.c.set('a/' + 'x' * 1500 + '', {})['writeResults'][0].keys(), {'updateTime'})
        self.assertEqual(self.c.set('a/with space é', {})['writeResults'][0].keys(), {'updateTime'})
        self.assertEqual(self.c.get('a/with%20space%20%C3%A9')[0], 200)


class KeepAliveTest(Base):
    def test_many_requests_on_one_connection(self):
        self.c.set('a/1', {'n': I(1)})
        for _ in range(50):
            s, data, resp = self.c.raw('GET', self.c.base + '/a/1')
            self.assertEqual(s, 200)
            self.assertEqual(int(resp.getheader('Content-Length')), len(data))
        self.assertIsNotNone(self.c.conn.sock, 'the connection stayed open')


if __name__ == '__main__':
    unittest.main()


class ReadTimeTest(Base):
    def test_reads_at_a_past_read_time(self):
        t1 = self.c.set('h/1', {'v': I(1)})['commitTime']
        t2 = self.c.set('h/1', {'v': I(2)})['commitTime']
        self.c.set('h/2', {'v': I(9)})
        t3 = self.c.commit([{'delete': self.c.name('h/1')}])[1]['commitTime']
        s, r = self.c.req('POST', self.c.base + ':batchGet', {'documents': [self.c.name('h/1')], 'readTime': t1})
        self.assertEqual((r[0]['found']['fields'], r[0]['readTime']), ({'v': I(1)}, t1))
        s, r = self.c.req('POST', self.c.base + ':batchGet', {'documents': [self.c.name('h/1')], 'readTime': t3})
        self.assertIn('missing', r[0])
        self.assertEqual(self.c.get('h/1', '?readTime=' + t2)[1]['fields'], {'v': I(2)})
        self.assertEqual(self.c.get('h/1')[0], 404)
        s, r = self.c.query({'from': [{'collectionId': 'h'}]}, readTime=t2)
        self.assertEqual([e['document']['fields'] for e in r], [{'v': I(2)}])
        s, r = self.c.agg([{'alias': 'n', 'count': {}}], {'from': [{'collectionId': 'h'}]})
        self.assertEqual(r[0]['result']['aggregateFields']['n'], I(1))
        s, r = self.c.req('POST', self.c.base + ':beginTransaction', {'options': {'readOnly': {'readTime': t1}}})
        s, r = self.c.req('POST', self.c.base + ':batchGet', {'documents': [self.c.name('h/1'), self.c.name('h/2')],
                                                              'transaction': r['transaction']})
        self.assertEqual(r[0]['found']['fields'], {'v': I(1)})
        self.assertIn('missing', r[1])
        self.assertError(self.c.req('POST', self.c.base + ':batchGet', {'documents': [],
                                                                        'readTime': '2999-01-01T00:00:00Z'}),
                         400, 'INVALID_ARGUMENT', 'future')
        self.assertError(self.c.req('POST', self.c.base + ':batchGet', {'documents': [],
                                                                        'readTime': '2001-01-01T00:00:00Z'}),
                         400, 'FAILED_PRECONDITION')
