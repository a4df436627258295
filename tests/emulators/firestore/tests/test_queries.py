"""runQuery / runAggregationQuery: filters, implicit ordering, cursors, offset/limit, select,
collection groups, the response stream shapes, aggregations and composite-index enforcement."""
import unittest

from tests.client import AND, NULL, OR, A, B, Client, D, F, I, M, O, S, T, U


class QueryBase(unittest.TestCase):
    project = 'unit-query'

    @classmethod
    def setUpClass(cls):
        c = cls.c = Client(cls.project)
        c.reset()
        rows = {
            'i01': {'n': I(1), 'kind': S('a'), 'tags': A(S('x'), S('y')), 'm': M(k=I(3))},
            'i02': {'n': D(2.5), 'kind': S('a'), 'tags': A(S('y'))},
            'i03': {'n': I(3), 'kind': S('b'), 'tags': A()},
            'i04': {'n': NULL, 'kind': S('b')},
            'i05': {'n': D('NaN'), 'kind': S('c')},
            'i06': {'n': S('3'), 'kind': S('c')},
            'i07': {'kind': S('a')},
            'i08': {'n': I(-5), 'kind': S('a'), 'tags': A(S('x'), I(1)), 'm': M(k=I(1))},
            'i09': {'n': T('2024-01-01T00:00:00Z'), 'kind': S('b')},
            'i10': {'n': B(True), 'kind': S('c')},
        }
        for doc_id, fields in rows.items():
            c.set('items/' + doc_id, fields)
        c.set('shelves/s1/items/j1', {'n': I(10), 'kind': S('a')})
        c.set('shelves/s1/items/j2', {'n': I(0), 'kind': S('b')})
        c.set('shelves/s2/other/o1', {'n': I(1)})
        c.set('shelves/s1', {'n': I(7)})

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def q(self, where=None, order=(), parent='', coll='items', **extra):
        sq = {'from': [{'collectionId': coll}]}
        if where is not None:
            sq['where'] = where
        if order:
            sq['orderBy'] = [O(*o) if isinstance(o, tuple) else O(o) for o in order]
        sq.update(extra)
        return self.c.ids(sq, parent)

    def status_of(self, sq, parent=''):
        s, r = self.c.query(sq, parent)
        return s, (r['error'] if s != 200 else r)


class FilterTest(QueryBase):
    def test_comparisons_match_only_the_same_type(self):
        self.assertEqual(self.q(F('n', 'GREATER_THAN', I(1))), ['i02', 'i03'])
        self.assertEqual(self.q(F('n', 'GREATER_THAN_OR_EQUAL', D(1.0))), ['i01', 'i02', 'i03'])
        self.assertEqual(self.q(F('n', 'LESS_THAN', I(3))), ['i08', 'i01', 'i02'])
        self.assertEqual(self.q(F('n', 'LESS_THAN_OR_EQUAL', D(-5))), ['i08'])
        self.assertEqual(self.q(F('n', 'GREATER_THAN', S(''))), ['i06'])
        self.assertEqual(self.q(F('n', 'LESS_THAN', T('2030-01-01T00:00:00Z'))), ['i09'])

    def test_equality_in_and_numeric_enums(self):
        self.assertEqual(self.q(F('n', 'EQUAL', D(3.0))), ['i03'])
        self.assertEqual(self.q(F('n', 5, I(3))), ['i03'], 'op as a proto number')
        self.assertEqual(self.q(F('n', 'EQUAL', NULL)), ['i04'])
        self.assertEqual(self.q(F('n', 'IN', A(I(1), S('3'), NULL))), ['i01', 'i04', 'i06'])
        self.assertEqual(self.q(F('m.k', 'EQUAL', I(1))), ['i08'], 'nested field path')
        self.assertEqual(self.q(F('kind', 'EQUAL', S('zzz'))), [])

    def test_not_equal_and_not_in_skip_missing_and_null(self):
        self.assertEqual(self.q(F('n', 'NOT_EQUAL', I(1))),
                         ['i10', 'i05', 'i08', 'i02', 'i03', 'i09', 'i06'], 'ordered by n, no null, no missing')
        self.assertEqual(self.q(F('n', 'NOT_IN', A(I(1), I(3), S('3')))), ['i10', 'i05', 'i08', 'i02', 'i09'])
        self.assertEqual(self.q(F('n', 'NOT_IN', A(I(1), NULL))), [], 'NOT_IN with null matches nothing')

    def test_array_filters(self):
        self.assertEqual(self.q(F('tags', 'ARRAY_CONTAINS', S('x'))), ['i01', 'i08'])
        self.assertEqual(self.q(F('tags', 'ARRAY_CONTAINS', D(1.0))), ['i08'])
        self.assertEqual(self.q(F('tags', 'ARRAY_CONTAINS_ANY', A(S('y'), I(1)))), ['i01', 'i02', 'i08'])
        self.assertEqual(self.q(F('kind', 'ARRAY_CONTAINS', S('a'))), [], 'a non-array field never contains')

    def test_unary_filters(self):
        self.assertEqual(self.q(U('n', 'IS_NAN')), ['i05'])
        self.assertEqual(self.q(U('n', 'IS_NULL')), ['i04'])
        self.assertEqual(self.q(U('n', 3)), ['i04'], 'IS_NULL is proto number 3')
        self.assertEqual(self.q(U('n', 'IS_NOT_NULL')), ['i10', 'i05', 'i08', 'i01', 'i02', 'i03', 'i09', 'i06'])
        self.assertEqual(self.q(U('n', 'IS_NOT_NAN')), ['i10', 'i08', 'i01', 'i02', 'i03', 'i09', 'i06'])

    def test_composite_and_or(self):
        self.assertEqual(self.q(AND(F('kind', 'EQUAL', S('a')), F('tags', 'ARRAY_CONTAINS', S('y')))), ['i01', 'i02'])
        self.assertEqual(self.q(OR(F('kind', 'EQUAL', S('c')), F('n', 'EQUAL', I(1)))), ['i01', 'i05', 'i06', 'i10'])
        self.assertEqual(self.q({'compositeFilter': {'op': 2, 'filters': [
            AND(F('kind', 'EQUAL', S('b')), U('n', 'IS_NULL')), F('n', 'EQUAL', I(-5))]}}), ['i04', 'i08'])
        self.assertEqual(self.q(AND(F('kind', 'EQUAL', S('a')))), ['i01', 'i02', 'i07', 'i08'], 'one-filter composite')

    def test_name_filters(self):
        ref = {'referenceValue': self.c.name('items/i05')}
        self.assertEqual(self.q(F('__name__', 'GREATER_THAN', ref)), ['i06', 'i07', 'i08', 'i09', 'i10'])
        self.assertEqual(self.q(F('__name__', 'IN', A(ref, {'referenceValue': self.c.name('items/i01')}))),
                         ['i01', 'i05'])
        s, e = self.status_of({'from': [{'collectionId': 'items'}], 'where': F('__name__', 'EQUAL', S('i05'))})
        self.assertEqual((s, e['status']), (400, 'INVALID_ARGUMENT'))

    def test_invalid_filters(self):
        for where in (F('n', 'IN', A()), F('n', 'IN', I(1)), F('n', 'NOT_IN', A(*[I(i) for i in range(11)])),
                      F('n', 'ARRAY_CONTAINS_ANY', A(*[I(i) for i in range(31)])), U('n', 'EQUAL'),
                      {'fieldFilter': {'field': {'fieldPath': 'n'}, 'op': 'EQUAL'}},
                      {'compositeFilter': {'op': 'AND', 'filters': []}}, F('a b', 'EQUAL', I(1))):
            s, e = self.status_of({'from': [{'collectionId': 'items'}], 'where': where})
            self.assertEqual((s, e['status']), (400, 'INVALID_ARGUMENT'), where)


class OrderAndCursorTest(QueryBase):
    def test_order_by_excludes_documents_without_the_field_and_mixes_types(self):
        self.assertEqual(self.q(order=['n']), ['i04', 'i10', 'i05', 'i08', 'i01', 'i02', 'i03', 'i09', 'i06'])
        self.assertEqual(self.q(order=[('n', 'DESCENDING')]),
                         ['i06', 'i09', 'i03', 'i02', 'i01', 'i08', 'i05', 'i10', 'i04'])
        self.assertEqual(self.q(order=[('n', 2)]), self.q(order=[('n', 'DESCENDING')]), 'direction as a number')

    def test_implicit_order_is_inequality_field_then_name_in_last_direction(self):
        self.assertEqual(self.q(F('n', 'GREATER_THAN', I(-10)), order=[('kind', 'DESCENDING')]),
                         ['i03', 'i02', 'i01', 'i08'], 'kind desc, then n desc, then __name__ desc')
        self.assertEqual(self.q(order=['kind']), ['i01', 'i02', 'i07', 'i08', 'i03', 'i04', 'i09', 'i05', 'i06', 'i10'])

    def test_cursors(self):
        order = ['kind', 'n']
        all_ = self.q(order=order)
        self.assertEqual(all_, ['i08', 'i01', 'i02', 'i04', 'i03', 'i09', 'i10', 'i05', 'i06'])
        at = lambda vals, before: {'values': vals, 'before': before}  # noqa: E731
        self.assertEqual(self.q(order=order, startAt=at([S('a'), I(1)], True)), all_[1:])
        self.assertEqual(self.q(order=order, startAt=at([S('a'), I(1)], False)), all_[2:])
        self.assertEqual(self.q(order=order, startAt={'values': [S('a'), I(1)]}), all_[2:], 'before defaults to false')
        self.assertEqual(self.q(order=order, startAt=at([S('b')], True)), all_[3:], 'prefix cursor')
        self.assertEqual(self.q(order=order, endAt=at([S('b')], True)), all_[:3])
        self.assertEqual(self.q(order=order, endAt=at([S('b')], False)), all_[:6])
        self.assertEqual(self.q(order=order, startAt=at([S('a'), D(2.5), {'referenceValue': self.c.name('items/i02')}],
                                                        False)), all_[3:], 'cursor on __name__')
        self.assertEqual(self.q(order=order, startAt=at([S('a')], False), endAt=at([S('b'), I(3)], False)),
                         ['i04', 'i03'])
        self.assertEqual(self.q(order=order, startAt=at([S('a')], False), offset=1, limit=2), ['i03', 'i09'])
        s, e = self.status_of({'from': [{'collectionId': 'items'}], 'orderBy': [O('kind')],
                               'startAt': at([S('a'), S('b'), S('c')], True)})
        self.assertEqual((s, e['status']), (400, 'INVALID_ARGUMENT'), 'more cursor values than orderBy fields')

    def test_limit_offset_select(self):
        self.assertEqual(self.q(limit=3), ['i01', 'i02', 'i03'])
        self.assertEqual(self.q(offset=8), ['i09', 'i10'])
        self.assertEqual(self.q(limit=0), [])
        s, r = self.c.query({'from': [{'collectionId': 'items'}], 'where': F('kind', 'EQUAL', S('a')),
                             'select': {'fields': [{'fieldPath': 'm.k'}, {'fieldPath': 'nope'}]}, 'limit': 2})
        self.assertEqual([e['document'].get('fields') for e in r], [{'m': M(k=I(3))}, None])
        s, r = self.c.query({'from': [{'collectionId': 'items'}], 'select': {'fields': [{'fieldPath': '__name__'}]},
                             'limit': 1})
        self.assertEqual(set(r[0]['document']), {'name', 'createTime', 'updateTime'})

    def test_collection_groups_and_parents(self):
        self.assertEqual(self.q(coll='items', parent='shelves/s1'), ['j1', 'j2'])
        s, r = self.c.query({'from': [{'collectionId': 'items', 'allDescendants': True}],
                             'orderBy': [O('__name__')]})
        self.assertEqual([e['document']['name'].split('/documents/')[1] for e in r],
                         ['items/i%02d' % i for i in range(1, 11)] + ['shelves/s1/items/j1', 'shelves/s1/items/j2'])
        s, r = self.c.query({'from': [{'collectionId': 'items', 'allDescendants': True}],
                             'where': F('n', 'GREATER_THAN', I(2))})
        self.assertEqual([e['document']['name'].rsplit('/', 1)[1] for e in r], ['i02', 'i03', 'j1'])
        self.assertEqual(self.c.ids({'from': [{'collectionId': 'items', 'allDescendants': True}]}, 'shelves/s1'),
                         ['j1', 'j2'])
        self.assertEqual(self.c.ids({'from': [{'collectionId': '', 'allDescendants': True}]}, 'shelves/s1'),
                         ['j1', 'j2'], 'kindless query under a document')


class StreamShapeTest(QueryBase):
    def test_shapes(self):
        s, r = self.c.query({'from': [{'collectionId': 'items'}], 'limit': 2})
        self.assertEqual([set(e) for e in r], [{'document', 'readTime'}, {'document', 'readTime', 'done'}],
                         'the last element says done, as Google\'s emulator does')
        self.assertEqual(r[0]['readTime'], r[1]['readTime'])
        s, r = self.c.query({'from': [{'collectionId': 'nothing'}]})
        self.assertEqual(len(r), 1)
        self.assertEqual(set(r[0]), {'readTime', 'done'}, 'the lone readTime element when nothing matches')
        s, r = self.c.query({'from': [{'collectionId': 'items'}], 'offset': 20})
        self.assertEqual(len(r), 1)
        self.assertEqual(set(r[0]), {'readTime', 'skippedResults', 'done'})
        self.assertEqual(r[0]['skippedResults'], 10)
        s, r = self.c.query({'from': [{'collectionId': 'items'}], 'offset': 8})
        self.assertEqual(r[0]['skippedResults'], 8)
        self.assertEqual(len(r), 2)
        self.assertNotIn('skippedResults', r[1])

    def test_aggregation_shape(self):
        s, r = self.c.agg([{'alias': 'n', 'count': {}}], {'from': [{'collectionId': 'nothing'}]})
        self.assertEqual(s, 200)
        self.assertEqual(len(r), 1)
        self.assertEqual(set(r[0]), {'result', 'readTime', 'done'})
        self.assertEqual(r[0]['result'], {'aggregateFields': {'n': I(0)}})


class AggregationTest(QueryBase):
    def agg(self, aggs, where=None, parent='', **extra):
        sq = {'from': [{'collectionId': 'items'}]}
        if where is not None:
            sq['where'] = where
        sq.update(extra)
        s, r = self.c.agg(aggs, sq, parent)
        self.assertEqual(s, 200, r)
        return r[0]['result']['aggregateFields']

    def test_count_sum_avg(self):
        a = [{'alias': 'c', 'count': {}}, {'alias': 's', 'sum': {'field': {'fieldPath': 'n'}}},
             {'alias': 'v', 'avg': {'field': {'fieldPath': 'n'}}}]
        # with sum/avg over n, only documents that have n are aggregated, count included (Firestore;
        # Google's emulator agrees): one of the four of kind a has no n
        self.assertEqual(self.agg(a, F('kind', 'EQUAL', S('a'))), {'c': I(3), 's': D(-1.5), 'v': D(-0.5)})
        self.assertEqual(self.agg(a[:1], F('kind', 'EQUAL', S('a'))), {'c': I(4)})
        self.assertEqual(self.agg(a, F('kind', 'EQUAL', S('b'))), {'c': I(3), 's': I(3), 'v': D(3)})
        self.assertEqual(self.agg(a, F('kind', 'EQUAL', S('z'))), {'c': I(0), 's': I(0), 'v': NULL})
        r = self.agg(a, F('kind', 'EQUAL', S('c')))
        self.assertEqual((r['c'], r['s'], r['v']), (I(3), D('NaN'), D('NaN')))
        self.assertEqual(self.agg([{'count': {'upTo': '2'}}]), {'field_1': I(2)})
        self.assertEqual(self.agg([{'alias': 'c', 'count': {}}], limit=4), {'c': I(4)})

    def test_sum_overflow_becomes_double(self):
        c = Client('unit-agg')
        c.reset()
        c.set('big/a', {'n': I(2 ** 63 - 1)})
        c.set('big/b', {'n': I(1)})
        s, r = c.agg([{'alias': 's', 'sum': {'field': {'fieldPath': 'n'}}}], {'from': [{'collectionId': 'big'}]})
        self.assertEqual(r[0]['result']['aggregateFields']['s'], D(float(2 ** 63)))
        c.reset()
        c.close()

    def test_invalid_aggregations(self):
        for aggs in ([], [{'alias': 'a', 'count': {}}, {'alias': 'a', 'count': {}}],
                     [{'alias': 'x', 'count': {}, 'sum': {'field': {'fieldPath': 'n'}}}],
                     [{'count': {}}] * 6):
            s, r = self.c.agg(aggs, {'from': [{'collectionId': 'items'}]})
            self.assertEqual((s, r['error']['status']), (400, 'INVALID_ARGUMENT'), aggs)


class IndexTest(QueryBase):
    """Against tests/indexes.json (kind+n; kind+tags CONTAINS+n DESC+__name__ DESC; a+b;
    COLLECTION_GROUP kind+n; overrides: n with a COLLECTION_GROUP ascending index, `secret` unindexed)."""

    def sq(self, where=None, order=(), group=False):
        sq = {'from': [{'collectionId': 'items', 'allDescendants': group}]}
        if where is not None:
            sq['where'] = where
        if order:
            sq['orderBy'] = [O(*o) if isinstance(o, tuple) else O(o) for o in order]
        return sq

    def ok(self, *a, **kw):
        s, r = self.status_of(self.sq(*a, **kw))
        self.assertEqual(s, 200, r)

    def needs(self, *a, **kw):
        s, e = self.status_of(self.sq(*a, **kw))
        self.assertEqual((s, e['status']), (400, 'FAILED_PRECONDITION'), e)
        self.assertTrue(e['message'].startswith('The query requires an index'), e['message'])
        return e['message']

    def test_automatic_single_field_indexes(self):
        self.ok()
        self.ok(F('n', 'GREATER_THAN', I(1)))
        self.ok(F('n', 'GREATER_THAN', I(1)), order=['n'])
        self.ok(order=[('kind', 'DESCENDING')])
        self.ok(F('tags', 'ARRAY_CONTAINS', S('x')))
        self.ok(F('kind', 'EQUAL', S('a')), order=['kind', '__name__'])
        self.ok(F('__name__', 'GREATER_THAN', {'referenceValue': self.c.name('items/i01')}), order=['n'])

    def test_equality_only_merges_single_field_indexes(self):
        self.ok(AND(F('kind', 'EQUAL', S('a')), F('n', 'EQUAL', I(1)), F('tags', 'ARRAY_CONTAINS', S('x'))))
        self.ok(AND(F('kind', 'IN', A(S('a'), S('b'))), U('n', 'IS_NULL')))

    def test_composite_needed_and_declared(self):
        self.ok(F('kind', 'EQUAL', S('a')), order=['n'])
        self.ok(AND(F('kind', 'EQUAL', S('a')), F('n', 'GREATER_THAN', I(0))))
        self.ok(F('kind', 'EQUAL', S('a')), order=[('n', 'DESCENDING')])  # reverse scan of kind, n
        self.ok(AND(F('kind', 'EQUAL', S('a')), F('tags', 'ARRAY_CONTAINS', S('x'))), order=[('n', 'DESCENDING')])
        self.ok(order=['a', 'b'])
        self.ok(order=[('a', 'DESCENDING'), ('b', 'DESCENDING')])
        msg = self.needs(F('kind', 'EQUAL', S('a')), order=['tags'])
        self.assertIn('"fields":[{"fieldPath":"kind","order":"ASCENDING"},{"fieldPath":"tags","order":"ASCENDING"}]', msg)
        self.needs(order=['a', ('b', 'DESCENDING')])
        self.needs(order=['b', 'a'])
        self.needs(AND(F('kind', 'EQUAL', S('a')), F('m.k', 'EQUAL', I(1))), order=['n'])
        self.needs(AND(F('n', 'GREATER_THAN', I(0)), F('m.k', 'LESS_THAN', I(9))))

    def test_name_direction_of_a_declared_index_must_match(self):
        self.needs(AND(F('kind', 'EQUAL', S('a')), F('tags', 'ARRAY_CONTAINS', S('x'))),
                   order=[('n', 'DESCENDING'), ('__name__', 'ASCENDING')])

    def test_or_queries_check_each_disjunction(self):
        self.ok(OR(F('kind', 'EQUAL', S('a')), F('n', 'EQUAL', I(1))))
        self.ok(OR(F('kind', 'EQUAL', S('a')), F('n', 'GREATER_THAN', I(1))), order=['n'])
        self.needs(OR(F('m.k', 'EQUAL', I(1)), F('n', 'GREATER_THAN', I(1))))

    def test_field_overrides_and_collection_groups(self):
        self.needs(F('secret', 'EQUAL', I(1)))
        self.ok(F('n', 'GREATER_THAN', I(1)), group=True)
        self.needs(F('n', 'LESS_THAN', I(1)), order=[('n', 'DESCENDING')], group=True)
        msg = self.needs(F('kind', 'EQUAL', S('a')), group=True)
        self.assertIn('"queryScope":"COLLECTION_GROUP"', msg)
        self.ok(F('kind', 'EQUAL', S('a')), order=['n'], group=True)
        self.ok(group=True)

    def test_aggregations_are_checked_too(self):
        s, r = self.c.agg([{'count': {}}], self.sq(F('kind', 'EQUAL', S('a')), order=['tags']))
        self.assertEqual((s, r['error']['status']), (400, 'FAILED_PRECONDITION'))

    def test_sum_and_avg_read_their_field_from_the_index(self):
        s, r = self.c.agg([{'sum': {'field': {'fieldPath': 'n'}}}], self.sq(F('kind', 'EQUAL', S('a'))))
        self.assertEqual(s, 200, r)  # kind + n is declared
        s, r = self.c.agg([{'avg': {'field': {'fieldPath': 'm.k'}}}], self.sq(F('kind', 'EQUAL', S('a'))))
        self.assertEqual((s, r['error']['status']), (400, 'FAILED_PRECONDITION'))
        self.assertIn('"fieldPath":"m.k"', r['error']['message'])
        s, r = self.c.agg([{'avg': {'field': {'fieldPath': 'm.k'}}}, {'count': {}}], self.sq())
        self.assertEqual(s, 200, r)  # no filter: the single-field index of m.k

    def test_check_can_be_turned_off(self):
        self.assertEqual(self.c.req('PUT', '/emulator/v1/indexes?check=off'), (200, {'indexCheck': False}))
        try:
            self.ok(F('kind', 'EQUAL', S('a')), order=['tags'])
        finally:
            self.assertEqual(self.c.req('PUT', '/emulator/v1/indexes?check=on'), (200, {'indexCheck': True}))
        self.needs(F('kind', 'EQUAL', S('a')), order=['tags'])


if __name__ == '__main__':
    unittest.main()
